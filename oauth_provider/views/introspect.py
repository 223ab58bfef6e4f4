"""Placeholder until the endpoint is built."""

from .base import ProtocolView


class IntrospectView(ProtocolView):
    pass
