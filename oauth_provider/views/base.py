"""What every protocol endpoint built on DRF shares, and what every account page shares."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Mapping
from typing import IO, Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import QueryDict
from django.utils.decorators import method_decorator
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, get_encoding
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import cors
from ..responses import error_json
from ..settings import oauth_settings
from .decorators import SensitivePageMixin


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Always answer JSON: protocol responses have one format, whatever Accept says."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


# A "%" that does not start a percent-encoded octet (RFC 3986 §2.1).
STRAY_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class StrictFormParser(FormParser):
    """``application/x-www-form-urlencoded`` in UTF-8, well formed, or ``ParseError``.

    RFC 6749 Appendix B: parameters are UTF-8, then percent-encoded. Python's
    parser would take a stray "%" literally and read a body that is not UTF-8
    as Latin-1, turning a broken request into other values; it is refused instead.
    """

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> QueryDict:
        if codecs.lookup(get_encoding(parser_context or {})).name != "utf-8":
            raise ParseError
        body = stream.read()
        if STRAY_PERCENT.search(body):
            raise ParseError
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError from None
        return super().parse(io.BytesIO(body), media_type, parser_context)


class ProtocolView(APIView):
    """A DRF view speaking OAuth: form-encoded in, JSON out, OAuth errors.

    Authentication, permission and throttling defaults of the host project
    do not apply: these endpoints authenticate clients themselves. Errors are
    rendered here rather than through the host's ``EXCEPTION_HANDLER``.
    """

    authentication_classes: tuple = ()
    permission_classes: tuple = ()
    throttle_classes: tuple = ()
    parser_classes = (StrictFormParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONOnlyNegotiation
    # The server's own endpoints are no declared resource: a bearer token
    # they read (introspection's INTROSPECTION_SCOPE) is not checked against
    # RESOURCE_SERVER_RESOURCE (rest_framework.authentication).
    oauth_resource = None

    def handle_exception(self, exc: Exception) -> Response:
        return error_json(self.request, exc)


@method_decorator(cors.any_origin(), name="dispatch")
class PublicDocumentView(ProtocolView):
    """A document anyone may read, from any web origin (metadata, JWKS,
    protected resource metadata).

    ``Access-Control-Allow-Origin: *`` lets relying parties and agents
    running in a browser fetch it (Discovery 1.0 §4, RFC 7517, RFC 9728 §3):
    it holds nothing private and is read without credentials, so any origin
    is safe. Preflights are answered too: MCP clients add their own header
    (``MCP-Protocol-Version``) to these requests.
    """


class AccountPageMixin(SensitivePageMixin, LoginRequiredMixin):
    """A page of the signed-in user's own things (authorized apps, own clients)."""

    # Forms are posted; Django's form and delete views would also take PUT and DELETE.
    http_method_names = ["get", "head", "post"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # For the navigation between the account pages.
        return super().get_context_data(self_service=oauth_settings.SELF_SERVICE_CLIENTS, **kwargs)
