"""UserInfo (OpenID Connect Core 1.0 §5.3): whose token it is, and what its client may learn.

The endpoint is a protected resource of the server's own: it takes an access
token as RFC 6750 says (the ``Authorization`` header, §2.1, or a form body,
§2.2; never the query string, §2.3, which RFC 9700 §4.3.2 advises against),
refuses it as RFC 6750 §3.1 says, and answers with the claims the token's
scopes and the authorization's ``claims`` request (Core §5.5) allow.

It is called after every sign-in and often by relying parties that keep no
session of their own, so it costs one query besides the token's own
(``bearer.authenticate``: none for a JWT or an opaque token held in memory): the client, the user's
subject identifiers and the sign-in's claims request come back together.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from . import bearer
from .bearer import BearerToken
from .claims import OPENID, release, requested_claims, scope_claims
from .compiled_lookup import CompiledLookup, Join
from .errors import BearerTokenMissing, InvalidBearerRequest, InvalidBearerToken, OpenIDScopeRequired
from .models import AccessToken, Client, SignIn
from .models.base import get_or_none
from .payload import single_values
from .rest_framework.authentication import bearer_token

# RFC 6750 §2.2: the form body parameter that carries the token.
ACCESS_TOKEN = "access_token"  # noqa: S105 - a parameter name, not a secret
PARAMETERS = frozenset({ACCESS_TOKEN})


def presented_token(request: Request, *, body: bool) -> str:
    """The raw access token of the request: from the ``Authorization``
    header or, when ``body`` (a form POST), the ``access_token`` parameter.

    RFC 6750 §3.1: ``invalid_request`` for a request that "uses more than one
    method to include the access token"; a token in the query string is
    refused the same way rather than ignored, so that its developer learns why.
    """
    if ACCESS_TOKEN in request.query_params:
        raise InvalidBearerRequest(_("Send the access token in the Authorization header, not in the URL."))
    try:
        header = bearer_token(request)
    except AuthenticationFailed:
        raise InvalidBearerToken from None
    form = single_values(request.data, PARAMETERS).get(ACCESS_TOKEN) if body else None
    if header is not None and form is not None:
        raise InvalidBearerRequest(_("Send the access token in one place only."))
    if form is not None:
        return form
    if header is None:
        raise BearerTokenMissing
    try:
        return header.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidBearerToken from None


def authorized_token(value: str) -> BearerToken:
    """The valid access token ``value``, issued to a user with ``openid``.

    Validated as every protected request's token is (``bearer.authenticate``),
    so an expired or revoked token, or one whose client or user is inactive,
    is ``invalid_token`` (401). A token without ``openid``, or a client's own
    (client credentials), authorizes no UserInfo: ``insufficient_scope`` (403).
    """
    token = bearer.authenticate(value)
    if token.user is None or OPENID not in token.scopes:
        raise OpenIDScopeRequired
    return token


# The sign-in of the token's grant family, with its client (every column:
# the subject type, and whatever the claims provider reads): one statement
# built once (compiled_lookup), as every UserInfo request runs it.
SIGN_IN = CompiledLookup(SignIn, "family_id", joins=[Join("client")])


def userinfo_claims(token: BearerToken) -> dict[str, Any]:
    """The UserInfo response body (Core §5.3.2): ``sub`` and the claims of
    the token's scopes (§5.4), with any the sign-in's ``claims`` request
    asked for in its ``userinfo`` member (§5.5), as far as those scopes
    allow (``claims.release``).

    One query: the sign-in, whose ``subject`` is the ``sub`` its ID tokens
    carried. A token with ``openid`` but no sign-in (the device or password
    grant asked for it) reads its client, and the ``sub`` is worked out.
    """
    family_id = token.family_id
    if family_id is None:
        # A JWT access token names no family: its row does.
        family_id = AccessToken.objects.filter(token_hash=token.token_hash).values_list("family_id").first()
        family_id = family_id and family_id[0]
    sign_in = SIGN_IN.get(family_id) if family_id is not None else None
    if sign_in is not None:
        client, claims_request, sub = sign_in.client, sign_in.claims, sign_in.subject
    else:
        client = get_or_none(Client.objects.filter(client_id=token.client_id))
        claims_request, sub = None, None
    if client is None:
        # Deleted since its token was read (from the token cache, say): so is the token.
        raise InvalidBearerToken
    scopes = token.scopes
    names = scope_claims(scopes) | requested_claims(claims_request, "userinfo")
    return release(token.user, client, scopes, names=names, sub=sub)
