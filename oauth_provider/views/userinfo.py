"""The UserInfo endpoint (OpenID Connect Core 1.0 §5.3)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.request import Request
from rest_framework.response import Response

from .. import cors
from ..metadata import issuer, origin
from ..resources import metadata_url, resource_at
from ..responses import NO_STORE
from ..settings import oauth_settings
from ..userinfo import ACCESS_TOKEN, authorized_token, presented_token, userinfo_claims
from .base import ProtocolView


# Readable from any origin, so that a relying party running in the browser
# (a single-page app) can call UserInfo. This is safe because nothing here
# authenticates with what a browser attaches by itself: the access token is
# sent by the calling script, which therefore already holds everything the
# answer reveals, and without Access-Control-Allow-Credentials a browser
# sends no cookies with such a request (and "*" forbids them anyway). Only
# the origins of the token's client would add nothing: whoever holds the
# token can call from anywhere but a browser. The preflight admits the
# Authorization header (RFC 6750 §2.1); the challenge header is exposed, so
# the script can tell an expired token (invalid_token) from a missing scope.
@method_decorator(
    cors.any_origin(methods="GET, POST", allow_headers="Authorization", expose_headers="WWW-Authenticate"),
    name="dispatch",
)
# Error reports (e.g. Django's AdminEmailHandler) must not carry credentials.
@method_decorator(sensitive_post_parameters(ACCESS_TOKEN), name="dispatch")
class UserInfoView(ProtocolView):
    """Claims about the user who authorized the access token (§5.3.1: "The
    Client sends the UserInfo Request using either HTTP GET or HTTP POST").

    The answer is JSON (§5.3.2) and never cached: it holds personal data
    (RFC 6749 §5.1's reason for ``no-store`` applies as much).
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Not an OpenID Provider: no such endpoint (nor in the metadata).
        if not oauth_settings.OIDC_ENABLED:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: Request) -> Response:
        return self.answer(presented_token(request, body=False))

    def post(self, request: Request) -> Response:
        # RFC 6750 §2.2: a form-encoded body may carry the token instead.
        return self.answer(presented_token(request, body=True))

    def answer(self, value: str) -> Response:
        return Response(userinfo_claims(authorized_token(value)), headers=NO_STORE)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # RFC 9728 §5.1, when the site declares a resource at its root (the
        # one the bare well-known URL describes), which UserInfo lies in.
        if response.status_code == 401:
            root = resource_at("", origin(issuer(request._request)))
            if root is not None:
                response["WWW-Authenticate"] += f', resource_metadata="{metadata_url(root)}"'
        return response
