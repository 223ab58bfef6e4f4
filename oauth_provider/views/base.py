"""What every protocol endpoint built on DRF shares, and what every account page shares."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..responses import error_json
from ..settings import oauth_settings
from .decorators import SensitivePageMixin


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Always answer JSON: protocol responses have one format, whatever Accept says."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class ProtocolView(APIView):
    """A DRF view speaking OAuth: form-encoded in, JSON out, OAuth errors.

    Authentication, permission and throttling defaults of the host project
    do not apply: these endpoints authenticate clients themselves. Errors are
    rendered here rather than through the host's ``EXCEPTION_HANDLER``.
    """

    authentication_classes: tuple = ()
    permission_classes: tuple = ()
    throttle_classes: tuple = ()
    parser_classes = (FormParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONOnlyNegotiation

    def handle_exception(self, exc: Exception) -> Response:
        return error_json(self.request, exc)


class AccountPageMixin(SensitivePageMixin, LoginRequiredMixin):
    """A page of the signed-in user's own things (authorized apps, own clients)."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # For the navigation between the account pages.
        return super().get_context_data(self_service=oauth_settings.SELF_SERVICE_CLIENTS, **kwargs)
