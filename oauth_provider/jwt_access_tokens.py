"""Placeholder until wt-jwt merges (contract in COMMON13.md)."""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError


class InvalidAccessToken(Exception):
    pass


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2


def decode(value: str, *, keys: Any, issuer: str, audience: str | None, leeway: int) -> dict:
    try:
        token = jwt.decode(value, keys, algorithms=["RS256", "ES256", "EdDSA"])
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidAccessToken(str(error)) from None
    claims = dict(token.claims)
    if token.header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
        raise InvalidAccessToken("typ")
    if claims.get("iss") != issuer:
        raise InvalidAccessToken("iss")
    aud = claims.get("aud")
    if audience is not None and audience not in ([aud] if isinstance(aud, str) else aud or []):
        raise InvalidAccessToken("aud")
    if not isinstance(claims.get("exp"), int) or claims["exp"] + leeway < time.time():
        raise InvalidAccessToken("exp")
    return claims
