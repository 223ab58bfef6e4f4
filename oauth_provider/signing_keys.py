"""The one place that signs and verifies JSON Web Tokens (RFC 7515, RFC 7519):
ID tokens (OpenID Connect Core 1.0 §2) and logout tokens (Back-Channel
Logout 1.0 §2.4), with the keys published at JWKS (RFC 7517).

Keys live in the database (``SigningKey``), one active key per algorithm in
``OIDC_SIGNING_ALGORITHMS``; the first ones are made on ``migrate`` or, failing
that, on first use. ``rotate`` makes a pending key that JWKS publishes at
once and that signs only after ``OIDC_KEY_ACTIVATION_DELAY_SECONDS``; the key
it replaces retires at that moment and stays published until every token it
signed has expired. Teams that manage keys outside Django list them in
``OIDC_SIGNING_KEYS`` instead, and the database keys are not used.

Every JOSE operation goes through joserfc; ``alg=none`` and HMAC are never
accepted, whatever a token's header says.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from . import clock
from .crypto import decrypt, encrypt
from .models import SigningKey
from .settings import oauth_settings

RS256, ES256, EDDSA = SigningKey.Algorithm.values
ALGORITHMS = (RS256, ES256, EDDSA)
RSA_KEY_SIZE = 2048
# Logout tokens are short-lived (Back-Channel Logout §2.4 recommends minutes).
LOGOUT_TOKEN_EXPIRE_SECONDS = 120

JoseKey = RSAKey | ECKey | OKPKey


class InvalidJWT(Exception):
    """A JWT that is malformed, signed with an unknown key or algorithm, or
    whose signature does not verify."""


@dataclass(frozen=True)
class Key:
    """A usable key: its ``kid``, algorithm and joserfc key (private part included)."""

    kid: str
    algorithm: str
    jose_key: JoseKey
    signing: bool


def _generate(algorithm: str, kid: str) -> JoseKey:
    parameters = {"kid": kid, "alg": algorithm, "use": "sig"}
    if algorithm == RS256:
        return RSAKey.generate_key(RSA_KEY_SIZE, parameters=parameters, private=True)
    if algorithm == ES256:
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    return OKPKey.generate_key("Ed25519", parameters=parameters, private=True)


def _import(algorithm: str, kid: str, pem: bytes | str) -> JoseKey:
    key_type = {RS256: RSAKey, ES256: ECKey, EDDSA: OKPKey}[algorithm]
    return key_type.import_key(pem, parameters={"kid": kid, "alg": algorithm, "use": "sig"})


def create_key(algorithm: str, *, activates_at: datetime) -> SigningKey:
    """Generate a key for ``algorithm`` and store it, private part encrypted."""
    kid = secrets.token_urlsafe(16)
    key = _generate(algorithm, kid)
    return SigningKey.objects.create(
        kid=kid,
        algorithm=algorithm,
        private_key=encrypt(key.as_pem(private=True)),
        public_jwk=key.as_dict(private=False),
        activates_at=activates_at,
    )


def longest_token_lifetime() -> timedelta:
    """How long after signing a token may still be checked against its key."""
    return timedelta(seconds=max(oauth_settings.ID_TOKEN_EXPIRE_SECONDS, LOGOUT_TOKEN_EXPIRE_SECONDS))


def _current(moment: datetime) -> Q:
    """Keys signing at ``moment``."""
    return Q(activates_at__lte=moment) & (Q(retired_at__isnull=True) | Q(retired_at__gt=moment))


def _published(moment: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=moment)


def ensure_keys(algorithms: Iterable[str] | None = None) -> list[SigningKey]:
    """Make an active key for each algorithm (default: ``OIDC_SIGNING_ALGORITHMS``)
    that has none; return the keys made. Nothing with ``OIDC_SIGNING_KEYS``."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        return []
    now = clock.now()
    algorithms = list(algorithms if algorithms is not None else oauth_settings.OIDC_SIGNING_ALGORITHMS)
    made = []
    with transaction.atomic():
        # Serialized, so two processes starting at once make one key, not two.
        present = set(
            SigningKey.objects.select_for_update()
            .filter(_current(now), algorithm__in=algorithms)
            .values_list("algorithm", flat=True)
        )
        for algorithm in algorithms:
            if algorithm not in present:
                made.append(create_key(algorithm, activates_at=now))
    return made


def rotate(algorithms: Iterable[str] | None = None, *, delay: timedelta | None = None) -> list[SigningKey]:
    """Make a new key for each algorithm (default: ``OIDC_SIGNING_ALGORITHMS``),
    signing after ``delay`` (default ``OIDC_KEY_ACTIVATION_DELAY_SECONDS``);
    the keys signing now retire at that moment and stay published until the
    tokens they signed have expired. Return the new keys.

    Keys already pending for an algorithm are replaced: they never signed.
    """
    if delay is None:
        delay = timedelta(seconds=oauth_settings.OIDC_KEY_ACTIVATION_DELAY_SECONDS)
    now = clock.now()
    activates_at = now + delay
    algorithms = list(algorithms if algorithms is not None else oauth_settings.OIDC_SIGNING_ALGORITHMS)
    with transaction.atomic():
        SigningKey.objects.filter(algorithm__in=algorithms, activates_at__gt=now).delete()
        SigningKey.objects.filter(_current(now), algorithm__in=algorithms, retired_at__isnull=True).update(
            retired_at=activates_at, expires_at=activates_at + longest_token_lifetime()
        )
        return [create_key(algorithm, activates_at=activates_at) for algorithm in algorithms]


def _settings_keys() -> list[Key]:
    return [
        Key(
            entry["kid"],
            entry["algorithm"],
            _import(entry["algorithm"], entry["kid"], entry["private_key"]),
            entry.get("active", True),
        )
        for entry in oauth_settings.OIDC_SIGNING_KEYS
    ]


# kid -> Key. A kid's material never changes, so parsed (and decrypted) keys
# are kept for the life of the process; only which kids are current is
# read from the database on each use.
_parsed: dict[str, Key] = {}


def _key(row: SigningKey, signing: bool) -> Key:
    cached = _parsed.get(row.kid)
    if cached is None:
        cached = Key(row.kid, row.algorithm, _import(row.algorithm, row.kid, decrypt(row.private_key)), False)
        _parsed[row.kid] = cached
    return Key(cached.kid, cached.algorithm, cached.jose_key, signing)


def published_keys() -> list[Key]:
    """The keys JWKS publishes: pending, active, and retired ones whose
    tokens may still be valid, newest first."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        return _settings_keys()
    now = clock.now()
    rows = SigningKey.objects.filter(_published(now), algorithm__in=ALGORITHMS)
    return [_key(row, row.state_at(now) == SigningKey.State.ACTIVE) for row in rows]


def signing_key(algorithm: str) -> Key:
    """The key that signs with ``algorithm`` now; made on first use."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        for key in _settings_keys():
            if key.algorithm == algorithm and key.signing:
                return key
        raise LookupError(f"OIDC_SIGNING_KEYS has no active {algorithm} key.")
    now = clock.now()
    row = SigningKey.objects.filter(_current(now), algorithm=algorithm).order_by("-activates_at").first()
    if row is None:
        ensure_keys([algorithm])
        row = SigningKey.objects.filter(_current(now), algorithm=algorithm).order_by("-activates_at").first()
    return _key(row, True)


def jwks() -> dict[str, Any]:
    """The JWK Set document (RFC 7517 §5): public members only."""
    return {"keys": [key.jose_key.as_dict(private=False) for key in published_keys()]}


# joserfc flags "EdDSA" as deprecated by RFC 9864 in favour of "Ed25519";
# OpenID Connect relying parties know it by the older name.
EDDSA_WARNING = "EdDSA is deprecated"


def sign(claims: dict[str, Any], algorithm: str, *, typ: str = "JWT") -> str:
    """``claims`` as a compact JWS signed with the active ``algorithm`` key;
    the header carries ``kid`` (and ``typ``, e.g. ``logout+jwt``)."""
    key = signing_key(algorithm)
    header = {"alg": key.algorithm, "kid": key.kid, "typ": typ}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=EDDSA_WARNING)
        return jwt.encode(header, claims, key.jose_key, algorithms=[key.algorithm])


def verify(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, claims)`` of a JWT this server signed with a key it still
    publishes; ``InvalidJWT`` otherwise. Claims (``exp``, ``aud``...) are not
    checked here: that is for the caller, who knows what it needs."""
    keys = published_keys()
    key_set = KeySet([key.jose_key for key in keys])
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=EDDSA_WARNING)
            decoded = jwt.decode(token, key_set, algorithms=list({key.algorithm for key in keys}))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidJWT(str(error)) from None
    return dict(decoded.header), dict(decoded.claims)
