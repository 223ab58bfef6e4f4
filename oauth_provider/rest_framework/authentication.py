"""DRF authentication with our bearer tokens (RFC 6750 §2.1).

    REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth_provider.rest_framework.authentication.BearerTokenAuthentication",
    ]}

Only the ``Authorization`` header is read: RFC 9700 §4.3.2 advises against
tokens in query strings, which end up in logs and Referer headers.

A view protects a resource (RFC 8707) named by its ``oauth_resource``
attribute, else by ``RESOURCE_SERVER_RESOURCE``; None: any audience is
accepted. Its 401 challenges then point at the resource's metadata (RFC 9728 §5.1)::

    class NotesView(APIView):
        oauth_resource = "https://api.example.com/"
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .. import bearer
from ..bearer import BearerToken
from ..errors import InvalidBearerToken
from ..resources import metadata_url
from ..settings import oauth_settings

KEYWORD = b"bearer"


class InvalidToken(AuthenticationFailed):
    default_detail = _("The access token is invalid, expired or revoked.")
    default_code = "invalid_token"


# The view attribute naming the resource a view protects.
RESOURCE_ATTRIBUTE = "oauth_resource"


def protected_resource(request: Request) -> str | None:
    """The resource identifier the request's view protects: its
    ``oauth_resource``, else ``RESOURCE_SERVER_RESOURCE``; None: not enforced."""
    view = request.parser_context.get("view") if request.parser_context else None
    return getattr(view, RESOURCE_ATTRIBUTE, oauth_settings.RESOURCE_SERVER_RESOURCE)


def bearer_token(request: Request) -> bytes | None:
    """The raw token of an ``Authorization: Bearer`` header, if one was sent."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() != KEYWORD:
        return None
    if len(parts) != 2:
        raise InvalidToken(_("The Authorization header must be 'Bearer <token>'."))
    return parts[1]


class BearerTokenAuthentication(BaseAuthentication):
    """``request.user`` is the token's user (``AnonymousUser`` for a
    client-only token) and ``request.auth`` its ``bearer.BearerToken``.

    Returns None without a Bearer header so other authenticators may run;
    raises ``InvalidToken`` on a bad one. The token is validated by
    ``bearer.authenticate``: with no query and no network for a JWT access
    token or an opaque one held in memory, else one indexed query (or, on a
    resource server of another issuer, its JWKS or introspection).
    """

    def authenticate(self, request: Request) -> tuple[object, BearerToken] | None:
        raw = bearer_token(request)
        if raw is None:
            return None
        try:
            token = bearer.authenticate(raw.decode("ascii"))
        except (UnicodeDecodeError, InvalidBearerToken):
            raise InvalidToken from None
        # RFC 8707 §2: tokens are "audience-restricted"; one meant for other
        # resources is refused as RFC 6750 §3.1 says ("invalid for other reasons").
        resource = protected_resource(request)
        if resource is not None and resource not in token.audience:
            raise InvalidToken(_("The access token is not meant for this resource."))
        return (AnonymousUser() if token.user is None else token.user), token

    def authenticate_header(self, request: Request) -> str:
        """RFC 6750 §3: name the error only when a token was sent and refused
        ("If the request lacks any authentication information [...] the
        resource server SHOULD NOT include an error code"). With a protected
        resource, RFC 9728 §5.1's ``resource_metadata`` tells a client that
        knows only this URL where to learn the rest."""
        try:
            presented = bearer_token(request) is not None
        except InvalidToken:
            presented = True
        resource = protected_resource(request)
        return bearer.challenge(
            error="invalid_token" if presented and not isinstance(request.auth, BearerToken) else None,
            resource_metadata=None if resource is None else metadata_url(resource),
        )
