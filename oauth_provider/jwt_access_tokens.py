"""JWT access tokens (RFC 9068): how they are built and validated.

A client whose ``access_token_format`` is ``"jwt"``, or a token meant for a
resource that declares that format (``resources.access_token_format``), gets
as access token a JWT signed with this server's managed signing keys
(``signing_keys``: the OpenID Connect keys, their rotation and JWKS). A
resource server validates it by its signature and claims alone, with no
query and no network (``local_claims`` here, ``decode`` with the keys of a
remote issuer's JWKS elsewhere). The same token is also stored as an
``AccessToken`` row whose ``token_hash`` is the hash of the whole JWT, so
introspection, revocation, the admin and ``cleartokens`` treat it like an
opaque token.

Validation follows RFC 9068 §4: the ``typ`` header is ``at+jwt`` (or
``application/at+jwt``, compared case-insensitively), the signature verifies
with a key of the issuer that names itself in ``kid`` and an algorithm of
``OIDC_SIGNING_ALGORITHMS`` (never ``none`` or HMAC, whatever the header
says), ``iss`` is the issuer, ``aud`` contains the resource, and the token
is within ``exp`` (and ``nbf``, ``iat``), with ``ACCESS_TOKEN_LEEWAY_SECONDS``
for clocks a little apart. Every failure is one exception,
``InvalidAccessToken``.

No model is imported at module level: a resource server on another machine
(``RESOURCE_SERVER_ISSUER``) uses ``decode`` without this app installed.
"""

from __future__ import annotations

import functools
import json
import secrets
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry, extract_compact, validate_compact

from . import clock
from .settings import oauth_settings

if TYPE_CHECKING:
    from .models import AccessToken

# RFC 9068 §2.1: "Resource servers MUST verify that the typ header value is
# at+jwt or application/at+jwt"; media types compare case-insensitively
# (RFC 7515 §4.1.9).
TYPE = "at+jwt"
ACCEPTED_TYPES = frozenset({TYPE, "application/at+jwt"})
# RFC 9068 §2.1: "[...] MUST include RS256" among the algorithms; our
# OIDC_SIGNING_ALGORITHMS always has it (checks.py E025).
ALGORITHM = "RS256"
# The algorithms a JWT access token may be signed with: those of signing_keys
# (never "none" or HMAC), further limited by OIDC_SIGNING_ALGORITHMS.
SIGNATURE_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
# RFC 9068 §2.2: claims every JWT access token carries.
REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
# As long as the token endpoint's "token" parameter may be (payload.MAX_LENGTHS).
MAX_LENGTH = 4096
# joserfc flags "EdDSA" as deprecated by RFC 9864 (signing_keys.EDDSA_WARNING).
EDDSA_WARNING = "EdDSA is deprecated"


class InvalidAccessToken(Exception):
    """The value is no valid JWT access token for this resource server:
    malformed, of another ``typ``, signed with an unknown key or a refused
    algorithm, with a signature that does not verify, or claims that do not
    fit (issuer, audience, times). The message says which, for logs; never
    show it to the client."""


class UnknownKey(InvalidAccessToken):
    """The token names a ``kid`` the key set does not have: a caller whose
    keys may be out of date (a key made since) can read them again once."""


def looks_like_jwt(value: str) -> bool:
    """Whether ``value`` has the shape of a compact JWS (three dot-separated
    parts); cheap, so opaque tokens take their own path at once."""
    return value.count(".") == 2


def audience_of(resources: Iterable[str], issuer: str) -> str | list[str]:
    """The ``aud`` of a JWT access token for ``resources``.

    RFC 9068 §3: "If the request does not include a resource parameter, the
    authorization server MUST use a default resource indicator in the aud
    claim." The token already names the default resources
    (``DEFAULT_RESOURCES``); when that leaves none, its audience is this
    server itself (the ``issuer``, whose UserInfo endpoint accepts it). No
    declared resource is ever added: a token without resources is refused by
    a resource server that enforces one, opaque or JWT alike. One audience is
    a string, several an array (RFC 7519 §4.1.3).
    """
    audience = list(resources) or [issuer]
    return audience[0] if len(audience) == 1 else audience


def encode(
    token: AccessToken,
    *,
    sub: str,
    issuer: str,
    auth_time: datetime | None = None,
    acr: str = "",
) -> str:
    """The compact JWT of ``token`` (not yet saved: its hash is the row's
    ``token_hash``), signed with the active ``ALGORITHM`` key, header
    ``{"typ": "at+jwt", "alg", "kid"}`` (RFC 9068 §2.1).

    Claims (§2.2): ``iss``; ``exp`` and ``iat`` from the row (seconds since
    the epoch); ``aud`` (``audience_of``); ``sub``, which the caller works
    out (§2.2: the user's subject identifier as the client knows it, or for a
    client acting for itself "the corresponding client application"'s
    identifier); ``client_id``; a random ``jti``; ``scope`` (§2.2.3); and,
    when the user signed in through OpenID Connect, ``auth_time`` and ``acr``
    (§2.2.1). ``signing_keys.KeyUnavailable`` if no key can sign.
    """
    from .signing_keys import sign

    claims: dict[str, Any] = {
        "iss": issuer,
        "exp": int(token.expires_at.timestamp()),
        "aud": audience_of(token.audience, issuer),
        "sub": sub,
        "client_id": token.client.client_id,
        "iat": int(token.created_at.timestamp()),
        "jti": secrets.token_urlsafe(16),
        "scope": token.scope,
    }
    if auth_time is not None:
        claims["auth_time"] = int(auth_time.timestamp())
    if acr:
        claims["acr"] = acr
    return sign(claims, ALGORITHM, typ=TYPE)


@functools.cache
def _registry(algorithm: str) -> JWSRegistry:
    """A joserfc registry that accepts ``algorithm`` only."""
    return JWSRegistry(algorithms=[algorithm])


def _header(value: str) -> tuple[Any, dict[str, Any]]:
    """The parsed (unverified) JWS and its header; refuses what we never sign."""
    if len(value) > MAX_LENGTH or not looks_like_jwt(value):
        raise InvalidAccessToken("not a compact JWS")
    try:
        compact = extract_compact(value.encode("ascii"))
        header = dict(compact.headers())
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidAccessToken(f"malformed: {error}") from None
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCEPTED_TYPES:
        raise InvalidAccessToken("typ is not at+jwt")
    algorithm = header.get("alg")
    # Any JSON value may stand there: a list or object is unhashable.
    if (
        not isinstance(algorithm, str)
        or algorithm not in SIGNATURE_ALGORITHMS
        or algorithm not in oauth_settings.OIDC_SIGNING_ALGORITHMS
    ):
        raise InvalidAccessToken("algorithm not accepted")
    # We never sign with critical extensions (RFC 7515 §4.1.11) nor an
    # unencoded payload (RFC 7797): a token that has them is not ours.
    if "crit" in header or "b64" in header:
        raise InvalidAccessToken("unsupported header parameter")
    if not isinstance(header.get("kid"), str):
        raise InvalidAccessToken("no kid")
    return compact, header


def check_header(value: str) -> None:
    """``InvalidAccessToken`` unless ``value`` is a compact JWS whose header
    an access token can have (``typ``, an accepted ``alg``, a ``kid``):
    cheap, and needing no key, so a resource server can refuse what no
    issuer made before fetching any."""
    _header(value)


def _verify(compact: Any, header: dict[str, Any], keys: KeySet) -> dict[str, Any]:
    algorithm, kid = header["alg"], header["kid"]
    key = next((key for key in keys.keys if key.kid == kid), None)
    if key is None:
        raise UnknownKey("unknown kid")
    # joserfc refuses a key of another type than the algorithm's, or
    # published for another algorithm (its "alg"): no algorithm confusion.
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=EDDSA_WARNING)
            verified = validate_compact(compact, key, registry=_registry(algorithm))
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidAccessToken(f"signature: {error}") from None
    if not verified:
        raise InvalidAccessToken("bad signature")
    try:
        claims = json.loads(compact.payload)
    except (TypeError, ValueError):
        raise InvalidAccessToken("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise InvalidAccessToken("payload is not a JSON object")
    return claims


# 9999-12-31T23:59:59Z: the last second a datetime holds.
MAX_TIMESTAMP = 253_402_300_799


def is_time(value: Any, *, whole: bool = False) -> bool:
    """Whether ``value`` is an RFC 7519 §2 NumericDate a datetime can hold
    (seconds since the epoch, 0 to ``MAX_TIMESTAMP``; milliseconds are out of
    range); ``whole``: an integer only. JSON true/false are not numbers."""
    kinds = int if whole else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool) and 0 <= value <= MAX_TIMESTAMP


def _check_claims(claims: dict[str, Any], *, issuer: str | None, audience: str | None, leeway: int) -> None:
    """RFC 9068 §4's checks after the signature's, in its order."""
    missing = [name for name in REQUIRED_CLAIMS if name not in claims]
    if missing:
        raise InvalidAccessToken(f"missing claims: {', '.join(missing)}")
    for name in ("iss", "sub", "client_id", "jti"):
        if not isinstance(claims[name], str):
            raise InvalidAccessToken(f"{name} is not a string")
    if "scope" in claims and not isinstance(claims["scope"], str):
        raise InvalidAccessToken("scope is not a string")
    if issuer is not None and claims["iss"] != issuer:
        raise InvalidAccessToken("wrong issuer")
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not audiences or not all(isinstance(a, str) for a in audiences):
        raise InvalidAccessToken("aud is not a string or an array of strings")
    if audience is not None and audience not in audiences:
        raise InvalidAccessToken("not meant for this audience")
    for name in ("exp", "iat", "nbf", "auth_time"):
        if name in claims and not is_time(claims[name]):
            raise InvalidAccessToken(f"{name} is not a time")
    now = clock.now().timestamp()
    if now >= claims["exp"] + leeway:
        raise InvalidAccessToken("expired")
    if claims.get("nbf", now) > now + leeway:
        raise InvalidAccessToken("not valid yet")
    if claims["iat"] > now + leeway:
        raise InvalidAccessToken("issued in the future")


def decode(
    value: str, *, keys: KeySet, issuer: str | None, audience: str | None, leeway: int
) -> dict[str, Any]:
    """The claims of the JWT access token ``value`` after RFC 9068 §4's
    validation; ``InvalidAccessToken`` otherwise (``UnknownKey``, a subclass,
    when its ``kid`` is not in ``keys``).

    ``keys``: the issuer's public keys (its JWKS). ``issuer``: the ``iss``
    required; None only for tokens checked with this server's own keys when
    ``ISSUER`` is not set (only we sign with them, under whatever host name
    the token endpoint was reached). ``audience``: a resource identifier
    ``aud`` must contain; None: not checked. ``leeway``: seconds of clock
    skew allowed on ``exp``, ``nbf`` and ``iat``.
    """
    compact, header = _header(value)
    claims = _verify(compact, header, keys)
    _check_claims(claims, issuer=issuer, audience=audience, leeway=leeway)
    return claims


# Tokens whose signature this process verified: value -> (the key set it
# was verified with, claims). A client presents one token many times while
# it lives, and verifying an RS256 signature is most of the cost of
# validating it (about 100 µs, against 6 µs without). An entry counts only
# with the key set it was verified with (a reload, a rotation or a dropped
# key empties it in effect); the claims are checked again on every use
# (exp, audience...). Bounded: the oldest entries go first.
VERIFIED_MAX_TOKENS = 10_000
_verified: OrderedDict[str, tuple[KeySet, dict[str, Any]]] = OrderedDict()


def _remember(keys: KeySet, value: str, claims: dict[str, Any]) -> None:
    _verified[value] = (keys, claims)
    while len(_verified) > VERIFIED_MAX_TOKENS:
        try:
            _verified.popitem(last=False)
        except KeyError:  # Emptied by another thread meanwhile.
            break


def verified_claims(
    value: str, *, keys: KeySet, issuer: str | None, audience: str | None, leeway: int
) -> dict[str, Any]:
    """``decode``, without verifying the signature again for a token this
    process verified before with this very ``keys`` object (its claims are
    checked every time). Used with this server's keys (``local_claims``)
    and a remote issuer's (``remote_resource_server``): a key set read again
    is a new object, so what was verified with the old one no longer counts."""
    options = {"issuer": issuer, "audience": audience, "leeway": leeway}
    verified = _verified.get(value)
    if verified is not None and verified[0] is keys:
        _check_claims(verified[1], **options)
        return dict(verified[1])
    claims = decode(value, keys=keys, **options)
    _remember(keys, value, claims)
    return dict(claims)


def local_claims(value: str, *, audience: str | None) -> dict[str, Any]:
    """``decode`` with this server's own published keys and issuer
    (``ISSUER``), and ``ACCESS_TOKEN_LEEWAY_SECONDS``.

    No query once this process has read the keys
    (``signing_keys.published_key_set``), and no signature verification for
    a token it verified before with the same keys (``verified_claims``); a
    token signed by a key another process made since, which this one does
    not know yet, makes it read them again (at most once a second), so
    rotation needs no restart. A token signed by a key that is retiring
    keeps validating until it expires: the key stays published that long.
    """
    from .signing_keys import published_key_set, refresh_published_key_set

    options = {
        "issuer": oauth_settings.ISSUER,
        "audience": audience,
        "leeway": oauth_settings.ACCESS_TOKEN_LEEWAY_SECONDS,
    }
    try:
        return verified_claims(value, keys=published_key_set(), **options)
    except UnknownKey:
        refreshed = refresh_published_key_set()
        if refreshed is None:
            raise
        return verified_claims(value, keys=refreshed, **options)
