"""The client registration endpoint (RFC 7591 §3) and the client
configuration endpoint (RFC 7592 §2): JSON in, JSON out, ``no-store``.

``REGISTRATION_POLICY`` ``"off"`` (the default): both are 404. RFC 7591 §3
leaves the server free to refuse registration; with nothing published in the
metadata (RFC 8414 ``registration_endpoint``) the endpoint does not exist, as
UserInfo does not when OpenID Connect is off, rather than existing and
answering 403 to everyone.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from rest_framework.request import Request
from rest_framework.response import Response

from .. import cors, registration, throttling
from ..errors import (
    InitialAccessTokenMissing,
    InvalidInitialAccessToken,
    InvalidRegistrationAccessToken,
    RegistrationAccessTokenMissing,
    RequestTooLarge,
)
from ..models import Client
from ..payload import REGISTRATION_MAX_BODY_BYTES
from ..responses import NO_STORE
from ..settings import REGISTRATION_INITIAL_ACCESS_TOKEN, REGISTRATION_OFF, oauth_settings
from .base import ProtocolView

# Readable from any origin: MCP clients and other software that runs in a web
# page register themselves from it (RFC 9700 §2.6 allows CORS here). Safe
# with "*": nothing here authenticates with what a browser attaches by itself
# (no cookies; the initial or registration access token is sent by the
# script), and the per-address rate limit applies to pages as to anyone.
REGISTRATION_CORS = cors.any_origin(
    methods="GET, POST, PUT, DELETE",
    allow_headers="Authorization, Content-Type",
    expose_headers="WWW-Authenticate",
)


@method_decorator(REGISTRATION_CORS, name="dispatch")
class RegistrationEndpoint(ProtocolView):
    """What both endpoints share: off unless the policy says so, bodies read here."""

    # The body is JSON, read by registration.parse_body, never by DRF's parsers.
    parser_classes = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if oauth_settings.REGISTRATION_POLICY == REGISTRATION_OFF:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def metadata(self, request: Request) -> dict[str, Any]:
        """The body's JSON object, counted against the address's registration limit."""
        # Every write counts (a rate, not a guess), before the body is read.
        throttling.count_request(throttling.REGISTRATION, None, request.META)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > REGISTRATION_MAX_BODY_BYTES:
            raise RequestTooLarge
        return registration.parse_body(request.body, request.META.get("CONTENT_TYPE", ""))


@method_decorator(sensitive_variables(), name="post")
class RegistrationView(RegistrationEndpoint):
    """RFC 7591 §3: ``POST /o/register/``; 201 with the client information (§3.2.1)."""

    def post(self, request: Request) -> Response:
        initial = None
        if oauth_settings.REGISTRATION_POLICY == REGISTRATION_INITIAL_ACCESS_TOKEN:
            initial = registration.initial_access_token(
                registration.presented_token(request, InitialAccessTokenMissing, InvalidInitialAccessToken)
            )
        client, credentials = registration.register(self.metadata(request), initial)
        body = registration.client_information(request, client, credentials)
        return Response(body, status=201, headers=NO_STORE)


@method_decorator(sensitive_variables(), name="initial")
class RegistrationClientView(RegistrationEndpoint):
    """RFC 7592 §2: read (GET), replace (PUT) and delete (DELETE) one
    registration, with its registration access token as a bearer token."""

    client: Client

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        token = registration.presented_token(
            request, RegistrationAccessTokenMissing, InvalidRegistrationAccessToken
        )
        self.client = registration.find_client(kwargs["client_id"], token)

    def get(self, request: Request, client_id: str) -> Response:
        """§2.1: the client's current registration."""
        return Response(registration.client_information(request, self.client, {}), headers=NO_STORE)

    def put(self, request: Request, client_id: str) -> Response:
        """§2.2: replace its metadata; a new secret if it became confidential."""
        secret = registration.update(self.client, self.metadata(request))
        credentials = {} if secret is None else {"client_secret": secret}
        return Response(registration.client_information(request, self.client, credentials), headers=NO_STORE)

    def delete(self, request: Request, client_id: str) -> Response:
        """§2.3: "the authorization server MUST immediately invalidate the
        client identifier, client secret, and registration access token";
        its codes, tokens and consents are deleted with it."""
        self.client.delete()
        return Response(status=204, headers=NO_STORE)
