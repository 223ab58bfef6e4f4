"""Token introspection (RFC 7662): who may ask, and what they are told.

RFC 7662 §4: "the authorization server MUST require authentication of
protected resources that need to access the introspection endpoint and SHOULD
require protected resources to be specifically authorized to call the
introspection endpoint." Callers are therefore either confidential clients
flagged ``allow_introspection``, or (when ``INTROSPECTION_SCOPE`` is set)
bearers of an active access token holding that scope. A caller that is refused
is refused before any token is looked up, so it learns nothing about tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .client_auth import authenticate_client
from .errors import (
    InsufficientScope,
    IntrospectionNotAllowed,
    InvalidBearerToken,
    InvalidClient,
    InvalidRequest,
)
from .metadata import issuer
from .models import AccessToken
from .models.tokens import Token
from .rest_framework.authentication import BearerTokenAuthentication
from .settings import oauth_settings
from .subjects import subject

INACTIVE: dict[str, Any] = {"active": False}


def authorize_caller(request: Request, params: Mapping[str, str]) -> None:
    """Let the call through (§2.1) or raise why not.

    A Bearer header is only looked at when ``INTROSPECTION_SCOPE`` is set;
    otherwise the caller must authenticate as a client.
    """
    scope = oauth_settings.INTROSPECTION_SCOPE
    if scope is not None:
        try:
            bearer = BearerTokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            raise InvalidBearerToken from None
        if bearer is not None:
            # RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
            if "client_id" in params or "client_secret" in params:
                raise InvalidRequest(_("Use only one client authentication method."))
            if scope not in bearer[1].scopes:
                raise InsufficientScope(scope)
            return
    client = authenticate_client(request.META, params)
    # "none" is not an introspection_endpoint_auth_method (metadata.py): a
    # client_id alone proves nothing, and §4 requires authentication.
    if not client.is_confidential:
        raise InvalidClient(_("Public clients cannot introspect tokens."))
    if not client.allow_introspection:
        raise IntrospectionNotAllowed


def is_active(token: Token) -> bool:
    """Not revoked or expired, and its client and user (if any) still active."""
    return token.is_active() and token.client.is_active and (token.user is None or token.user.is_active)


def introspection_response(token: Token | None, request: Request) -> dict[str, Any]:
    """The §2.2 response body for ``token`` (None: no such token).

    §2.2: "If the introspection call is properly authorized but the token is
    not active, does not exist on this server, or the protected resource is
    not allowed to introspect this particular token, then the authorization
    server MUST return an introspection response with the "active" field set
    to false [...] and SHOULD NOT include any additional information".
    """
    if token is None or not is_active(token):
        return dict(INACTIVE)
    body: dict[str, Any] = {
        "active": True,
        "scope": token.scope,
        "client_id": token.client.client_id,
        "exp": int(token.expires_at.timestamp()),
        "iat": int(token.created_at.timestamp()),
        "iss": issuer(request),
    }
    audience = token.audience
    if audience:
        # §2.2 "aud", as a JWT writes it (RFC 7519 §4.1.3): one string for
        # one audience, else an array.
        body["aud"] = audience[0] if len(audience) == 1 else audience
    if isinstance(token, AccessToken):
        # A refresh token is not presented to resource servers, so it has no token_type to report.
        body["token_type"] = "Bearer"  # noqa: S105 - a token type name, not a secret
    if token.user is not None:
        body["username"] = token.user.get_username()
        # The sub the token's client knows the user by (its ID tokens, UserInfo):
        # never the database key, and pairwise for a pairwise client.
        body["sub"] = subject(token.user, token.client)
    return body
