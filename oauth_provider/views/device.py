"""Placeholder until the endpoint is built."""

from django.views import View

from .base import ProtocolView


class DeviceAuthorizationView(ProtocolView):
    pass


class DeviceVerificationView(View):
    pass
