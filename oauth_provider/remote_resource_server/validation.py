"""Validating a bearer token of a remote issuer: ``authenticate(value)``.

A JWT access token (RFC 9068) is checked here, with the issuer's published
keys (``jwks``): no request to the issuer once the keys are known. Any other
token is opaque to this server and is introspected (``introspection``).
Either way the result is the same ``bearer.BearerToken`` a local token
gives, with ``client`` None and ``user`` a ``TokenUser`` (or None for a
token with no user, such as one from the client credentials grant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import bearer, clock, jwt_access_tokens
from ..crypto import hash_secret
from ..errors import InvalidBearerToken
from ..payload import MAX_LENGTHS
from ..settings import oauth_settings
from .documents import IssuerUnavailable
from .introspection import NotIntrospectable, introspect
from .jwks import key_set, refreshed_key_set

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 6750 §1 / RFC 7662 §2.2 token_type, compared without regard to case (RFC 6749 §5.1).
BEARER = "bearer"


@dataclass(frozen=True)
class TokenUser:
    """``request.user`` for a remote issuer's token: the user is known by
    the token's ``sub`` only (no row in this project's database). It is
    authenticated and active for as long as the token is; ``pk`` is None."""

    sub: str
    pk: None = None
    id: None = None
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    @property
    def username(self) -> str:
        return self.sub

    def get_username(self) -> str:
        return self.sub

    def __str__(self) -> str:
        return self.sub


def authenticate(value: str) -> bearer.BearerToken:
    """The token ``value`` of ``RESOURCE_SERVER_ISSUER`` as a ``BearerToken``.

    ``InvalidBearerToken`` when it is not one: not RFC 6750 token syntax
    or too long, a bad signature, ``typ``,
    ``iss`` or expiry, an inactive introspection answer, or an opaque token
    while this server cannot introspect. ``documents.IssuerUnavailable`` when
    the issuer was needed and could not be asked: the token is then neither
    accepted nor called invalid. The audience is the caller's to check
    (each view may protect its own resource).
    """
    # What no issuer made is refused here, not sent to it: an introspection
    # endpoint would answer 400 (ours does past this length), which reads
    # as the issuer failing.
    if len(value) > MAX_LENGTHS["token"] or not B64TOKEN.fullmatch(value):
        raise InvalidBearerToken
    token_hash = hash_secret(value)
    if jwt_access_tokens.looks_like_jwt(value):
        return _from_claims(token_hash, _jwt_claims(value))
    try:
        answer = introspect(value, token_hash)
    except NotIntrospectable:
        raise InvalidBearerToken from None
    return _from_claims(token_hash, _active_claims(answer))


def _jwt_claims(value: str) -> dict[str, Any]:
    """The claims of a JWT access token the issuer signed (RFC 9068 §4),
    checked with its published keys (a token already verified with the
    same key set is not verified again: ``jwt_access_tokens.verified_claims``).
    A ``kid`` they lack (the issuer made a key since) reads them again, as
    often as ``jwks.refreshed_key_set`` allows, and tries once more."""
    options = {
        "issuer": oauth_settings.RESOURCE_SERVER_ISSUER,
        # The caller checks the audience: each view may protect its own resource.
        "audience": None,
        "leeway": oauth_settings.ACCESS_TOKEN_LEEWAY_SECONDS,
    }
    try:
        try:
            keys = key_set()
        except IssuerUnavailable:
            # What no issuer could have made is invalid whatever the issuer's
            # state: a 503 would tell the client to try it again.
            jwt_access_tokens.check_header(value)
            raise
        try:
            return jwt_access_tokens.verified_claims(value, keys=keys, **options)
        except jwt_access_tokens.UnknownKey:
            return jwt_access_tokens.verified_claims(value, keys=refreshed_key_set(), **options)
    except jwt_access_tokens.InvalidAccessToken:
        raise InvalidBearerToken from None


def _active_claims(answer: dict[str, Any]) -> dict[str, Any]:
    """An introspection answer that describes a usable access token, or
    ``InvalidBearerToken``. RFC 7662 §2.2 leaves most members optional;
    these are required here: ``token_type`` Bearer (a refresh token's
    answer has none, and must not open an API), an ``exp`` (nothing is
    cached or accepted without an end), and ``iss``, if given, the issuer."""
    if answer.get("active") is not True:
        raise InvalidBearerToken
    token_type = answer.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != BEARER:
        raise InvalidBearerToken
    if answer.get("iss", oauth_settings.RESOURCE_SERVER_ISSUER) != oauth_settings.RESOURCE_SERVER_ISSUER:
        raise InvalidBearerToken
    exp = answer.get("exp")
    if (
        not jwt_access_tokens.is_time(exp, whole=True)
        or exp + oauth_settings.ACCESS_TOKEN_LEEWAY_SECONDS < clock.now().timestamp()
    ):
        raise InvalidBearerToken
    return answer


def _from_claims(token_hash: str, claims: dict[str, Any]) -> bearer.BearerToken:
    """A ``BearerToken`` from JWT claims (RFC 9068 §2.2) or an introspection
    answer (RFC 7662 §2.2), which share their names, both checked already
    (expiry included, with ``ACCESS_TOKEN_LEEWAY_SECONDS``). A ``sub`` that
    is the token's ``client_id`` names the client (RFC 9068 §2.2, client
    credentials), not a user."""
    now = clock.now()
    expires_at = datetime.fromtimestamp(claims["exp"], tz=now.tzinfo)
    issued_at = (
        datetime.fromtimestamp(claims["iat"], tz=now.tzinfo)
        if jwt_access_tokens.is_time(claims.get("iat"), whole=True)
        else now
    )
    client_id = _string(claims.get("client_id")) or ""
    sub = _string(claims.get("sub"))
    audience = claims.get("aud")
    if isinstance(audience, str):
        audience = [audience]
    return bearer.BearerToken(
        token_hash=token_hash,
        scope=_string(claims.get("scope")) or "",
        audience=tuple(a for a in audience if isinstance(a, str)) if isinstance(audience, list) else (),
        client_id=client_id,
        sub=sub,
        expires_at=expires_at,
        issued_at=issued_at,
        jti=_string(claims.get("jti")),
        family_id=None,
        client=None,
        user=TokenUser(sub) if sub is not None and sub != client_id else None,
    )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
