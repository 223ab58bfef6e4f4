"""ID tokens (OpenID Connect Core 1.0 §2): the one place they are built.

Every ID token of an authorization is built from its ``SignIn``: from the
authorization endpoint (implicit and hybrid responses, §3.2.2.10,
§3.3.2.11), from the token endpoint on the code's redemption (§3.1.3.6) and on
each refresh (§12.2), so they all carry the same ``sub``, ``auth_time`` and
``sid``. Each is signed (``signing_keys.sign``) with the algorithm its client
registered (``id_token_signed_response_alg``).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from . import clock
from .claims import AUTHENTICATION_CLAIMS, OPENID, release, requested_claims
from .issuance import TokenResponse
from .metadata import issuer
from .models import Client, SignIn
from .models.base import get_or_none
from .settings import oauth_settings
from .signing_keys import EDDSA, ES256, RS256, InvalidJWT, sign, verify

# What an ID token's header says it is (RFC 7519 §5.1): every one signed here
# says "JWT". Logout tokens ("logout+jwt", Back-Channel Logout 1.0 §2.4) and
# JWT access tokens ("at+jwt", RFC 9068 §2.1) are signed with the same keys
# and are no ID token.
ID_TOKEN_TYPE = "JWT"  # noqa: S105 - a media type, not a secret

# §3.1.3.6 at_hash: "hash the octets of the ASCII representation of the
# access_token with the hash algorithm used for the alg Header Parameter of
# the ID Token's JOSE Header". RS256 and ES256 name SHA-256. EdDSA names
# none; Ed25519 signs with SHA-512, which OpenID Connect relying parties
# (Authlib's create_half_hash among them) take for it.
HASHES: dict[str, Callable[[bytes], Any]] = {
    RS256: hashlib.sha256,
    ES256: hashlib.sha256,
    EDDSA: hashlib.sha512,
}


def half_hash(value: str, algorithm: str) -> str:
    """``at_hash`` / ``c_hash`` (§3.1.3.6, §3.3.2.11): "the base64url encoding
    of the left-most half of the hash of the octets of the ASCII
    representation" of ``value``."""
    digest = HASHES[algorithm](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def build(
    sign_in: SignIn,
    *,
    client: Client,
    user: AbstractBaseUser,
    scopes: list[str],
    issuer: str,
    access_token: str | None = None,
    code: str | None = None,
    nonce: bool = True,
    scope_claims: bool = False,
) -> str:
    """The signed ID token of ``sign_in`` for ``client``, issued now.

    ``access_token`` and ``code``, issued in the same response, are bound by
    ``at_hash`` and ``c_hash``. ``nonce`` is false on refresh (§12.2: it
    "SHOULD NOT have a nonce Claim"). Claims about the user are those the
    ``claims`` request asked in the ID token (§5.5), or with ``scope_claims``
    every claim of the granted ``scopes`` (§5.4, when no access token is
    issued); either way only those the granted scopes cover.
    """
    algorithm = client.id_token_signed_response_alg
    names = None if scope_claims else requested_claims(sign_in.claims, "id_token") - AUTHENTICATION_CLAIMS
    released = release(user, client, scopes, names=names)
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": released.pop("sub"),
        "aud": [client.client_id],
        "exp": now + oauth_settings.ID_TOKEN_EXPIRE_SECONDS,
        "iat": now,
        # Always: §3.1.2.1 requires it after max_age, and a client can tell
        # from it whether prompt=login led to a fresh login.
        "auth_time": int(sign_in.auth_time.timestamp()),
    }
    if nonce and sign_in.nonce:
        claims["nonce"] = sign_in.nonce
    claims["azp"] = client.client_id
    if access_token is not None:
        claims["at_hash"] = half_hash(access_token, algorithm)
    if code is not None:
        claims["c_hash"] = half_hash(code, algorithm)
    # Back-Channel Logout 1.0 §2.1: the session a later logout token names.
    claims["sid"] = sign_in.sid
    if sign_in.acr:
        claims["acr"] = sign_in.acr
    if sign_in.amr:
        claims["amr"] = sign_in.amr
    claims.update(released)
    return sign(claims, algorithm)


def add_to_token_response(
    response: TokenResponse,
    *,
    client: Client,
    family_id: uuid.UUID,
    http_request: HttpRequest | None,
    refreshed: bool = False,
) -> TokenResponse:
    """Add the ``id_token`` of a token endpoint response (§3.1.3.3, §12.2)
    when the access token's scope includes ``openid`` and the authorization
    was an authentication (it has a ``SignIn``) whose session has not ended;
    return ``response``.

    An ended sign-in gets no ID token: its client was sent a logout token
    for its ``sid`` (Back-Channel Logout 1.0 §2.5), and a new ID token would
    assert that session again. A refresh token granted ``offline_access``
    outlives the session (§2.7, Core §11: access "when the End-User is not
    logged in") and keeps getting access tokens, with no ``id_token``, which
    §12.2 allows ("it might not contain an id_token"). (A code of an ended
    session is never redeemed: ``backchannel_logout`` ends it.)

    One query: the sign-in, with its user (never the password hash) and the
    user's subject identifier.
    """
    scopes = response["scope"].split()
    if not oauth_settings.OIDC_ENABLED or OPENID not in scopes:
        return response
    sign_in = get_or_none(
        SignIn.objects.select_related("user__oauth_subject")
        .defer("user__password")
        .filter(family_id=family_id)
    )
    if sign_in is None or sign_in.ended_at is not None:
        return response
    if http_request is None:
        raise ValueError("An ID token names its issuer, which may depend on the HTTP request.")
    response["id_token"] = build(
        sign_in,
        client=client,
        user=sign_in.user,
        scopes=scopes,
        issuer=issuer(http_request),
        access_token=response["access_token"],
        nonce=not refreshed,
    )
    return response


def verify_hint(token: str, *, issuer: str) -> dict[str, Any]:
    """The claims of ``token`` if it is an ID token this server issued, as
    an ``id_token_hint`` names one; ``InvalidJWT`` otherwise.

    Checked: the signature, by a key this server still publishes; ``typ``
    (no logout token or access token passes for an ID token); ``iss``; a
    string ``sub``; and an ``aud`` that is a string or a non-empty list of
    strings (``audiences``), whose client the caller checks. Not ``exp``: a
    hint is about a past session, to be accepted "even if the ID Token has
    expired" (Core §3.1.2.1), "even when the exp time has passed"
    (RP-Initiated Logout 1.0 §2).
    """
    header, claims = verify(token)
    if (
        header.get("typ") != ID_TOKEN_TYPE
        or claims.get("iss") != issuer
        or not isinstance(claims.get("sub"), str)
        or not audiences(claims)
    ):
        raise InvalidJWT("not an ID token of this issuer")
    return claims


def audiences(claims: Mapping[str, Any]) -> list[str]:
    """The ``aud`` of ID token ``claims`` as a list (Core §2: a string, or an
    array of strings); empty when it is neither."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(item, str) for item in aud):
        return aud
    return []
