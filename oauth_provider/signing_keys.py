"""The one place that signs and verifies JSON Web Tokens (RFC 7515, RFC 7519):
ID tokens (OpenID Connect Core 1.0 §2), logout tokens (Back-Channel Logout
1.0 §2.4) and JWT access tokens (RFC 9068, ``jwt_access_tokens``), with the
keys published at JWKS (RFC 7517).

Keys live in the database (``SigningKey``), one active key per algorithm in
``OIDC_SIGNING_ALGORITHMS``; the first ones are made on ``migrate`` or, failing
that, on first use. ``rotate`` makes a pending key that JWKS publishes at
once and that signs only after ``OIDC_KEY_ACTIVATION_DELAY_SECONDS``; the key
it replaces retires at that moment and stays published until every token it
signed has expired. Teams that manage keys outside Django list them in
``OIDC_SIGNING_KEYS`` instead, and the database keys are not used.

Only signing needs a private part: JWKS and ``verify`` read the public key
stored beside it, so a private part that no configured secret decrypts
(``SECRET_KEY`` changed with no fallback) fails signing alone, with
``KeyUnavailable`` saying what to do, and ``manage.py check --database
default`` reports it first (``checks.py``, E026).

Every JOSE operation goes through joserfc; ``alg=none`` and HMAC are never
accepted, whatever a token's header says.
"""

from __future__ import annotations

import functools
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.db.models import Q, QuerySet
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from . import clock, primary
from .crypto import decrypt, encrypt, encrypted_with_current_secret, reencrypt
from .models import SigningKey
from .settings import oauth_settings

RS256, ES256, EDDSA = SigningKey.Algorithm.values
ALGORITHMS = (RS256, ES256, EDDSA)
RSA_KEY_SIZE = 2048
# Logout tokens are short-lived (Back-Channel Logout §2.4 recommends minutes).
LOGOUT_TOKEN_EXPIRE_SECONDS = 120

JoseKey = RSAKey | ECKey | OKPKey
KEY_TYPES: dict[str, type[JoseKey]] = {RS256: RSAKey, ES256: ECKey, EDDSA: OKPKey}
# The curve each algorithm signs with (RFC 7518 §3.4, RFC 8037 §3.1).
CURVES = {ES256: "P-256", EDDSA: "Ed25519"}


class InvalidJWT(Exception):
    """A JWT that is malformed, signed with an unknown key or algorithm, or
    whose signature does not verify."""


class KeyUnavailable(LookupError):
    """No key can sign with an algorithm: ``OIDC_SIGNING_KEYS`` has no active
    one, or the private part of the database key cannot be decrypted."""


@dataclass(frozen=True)
class Key:
    """A key: its ``kid``, algorithm and joserfc key, which holds the private
    part only when it comes from ``signing_key`` (published keys are public)."""

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
    return KEY_TYPES[algorithm].import_key(pem, parameters={"kid": kid, "alg": algorithm, "use": "sig"})


def create_key(algorithm: str, *, activates_at: datetime, using: str | None = None) -> SigningKey:
    """Generate a key for ``algorithm`` and store it, private part encrypted,
    on the database ``using`` (default: where the routers send writes)."""
    kid = secrets.token_urlsafe(16)
    key = _generate(algorithm, kid)
    return SigningKey.objects.db_manager(using).create(
        kid=kid,
        algorithm=algorithm,
        private_key=encrypt(key.as_pem(private=True)),
        public_jwk=key.as_dict(private=False),
        activates_at=activates_at,
    )


def longest_token_lifetime() -> timedelta:
    """How long after signing a token may still be checked against its key
    (a JWT access token: while it lives, and the leeway its ``exp`` gets)."""
    access_token = oauth_settings.JWT_ACCESS_TOKEN_EXPIRE_SECONDS + oauth_settings.ACCESS_TOKEN_LEEWAY_SECONDS
    return timedelta(
        seconds=max(oauth_settings.ID_TOKEN_EXPIRE_SECONDS, LOGOUT_TOKEN_EXPIRE_SECONDS, access_token)
    )


def not_retired_at(moment: datetime) -> Q:
    """Keys signing at ``moment`` or that will (pending)."""
    return Q(retired_at__isnull=True) | Q(retired_at__gt=moment)


def signing_at(moment: datetime) -> Q:
    """Keys signing at ``moment``."""
    return Q(activates_at__lte=moment) & not_retired_at(moment)


def published_at(moment: datetime) -> Q:
    """Keys in JWKS at ``moment``: not yet past ``expires_at``."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=moment)


def ensure_keys(algorithms: Iterable[str] | None = None, *, using: str | None = None) -> list[SigningKey]:
    """Make an active key for each algorithm (default: ``OIDC_SIGNING_ALGORITHMS``)
    that has none, on the database ``using`` (default: where the routers send
    writes; ``migrate`` names the one it migrated); return the keys made.
    Nothing with ``OIDC_SIGNING_KEYS``."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        return []
    using = using or primary.alias(SigningKey)
    now = clock.now()
    algorithms = list(algorithms if algorithms is not None else oauth_settings.OIDC_SIGNING_ALGORITHMS)
    made = []
    with transaction.atomic(using=using):
        # Serialized, so two processes starting at once make one key, not two.
        present = set(
            SigningKey.objects.using(using)
            .select_for_update()
            .filter(signing_at(now), algorithm__in=algorithms)
            .values_list("algorithm", flat=True)
        )
        for algorithm in algorithms:
            if algorithm not in present:
                made.append(create_key(algorithm, activates_at=now, using=using))
    forget_signing_keys()
    return made


def rotate(algorithms: Iterable[str] | None = None, *, delay: timedelta | None = None) -> list[SigningKey]:
    """Make a new key for each algorithm (default: ``OIDC_SIGNING_ALGORITHMS``),
    signing after ``delay`` (default ``OIDC_KEY_ACTIVATION_DELAY_SECONDS``);
    the keys signing now retire at that moment and stay published until the
    tokens they signed have expired. Return the new keys.

    Keys already pending for an algorithm are replaced: they never signed.
    A key already retiring at the replaced key's activation now retires at
    the new key's, so some key always signs. ``delay`` zero replaces the keys
    at once (a compromised key; see ``drop_retired``).
    """
    if delay is None:
        delay = timedelta(seconds=oauth_settings.OIDC_KEY_ACTIVATION_DELAY_SECONDS)
    now = clock.now()
    activates_at = now + delay
    algorithms = list(algorithms if algorithms is not None else oauth_settings.OIDC_SIGNING_ALGORITHMS)
    with primary.atomic(SigningKey):
        SigningKey.objects.filter(algorithm__in=algorithms, activates_at__gt=now).delete()
        SigningKey.objects.filter(signing_at(now), algorithm__in=algorithms).update(
            retired_at=activates_at, expires_at=activates_at + longest_token_lifetime()
        )
        made = [create_key(algorithm, activates_at=activates_at) for algorithm in algorithms]
    forget_signing_keys()
    return made


def drop_retired(algorithms: Iterable[str] | None = None) -> int:
    """Stop publishing the retired keys of ``algorithms`` (default: all) now,
    rather than when the tokens they signed expire: those tokens stop
    validating. For a compromised key, after ``rotate(delay=timedelta(0))``.
    Return how many keys left JWKS."""
    now = clock.now()
    keys = SigningKey.objects.filter(published_at(now), retired_at__lte=now)
    if algorithms is not None:
        keys = keys.filter(algorithm__in=list(algorithms))
    dropped = keys.update(expires_at=now)
    forget_signing_keys()
    return dropped


@functools.lru_cache(maxsize=32)
def _settings_key(kid: str, algorithm: str, pem: bytes | str) -> tuple[JoseKey, JoseKey]:
    """An ``OIDC_SIGNING_KEYS`` entry's (private, public) keys; parsed once per value."""
    private = _import(algorithm, kid, pem)
    return private, KEY_TYPES[algorithm].import_key(private.as_dict(private=False))


@functools.lru_cache(maxsize=4)
def _settings_key_set(entries: tuple[tuple[str, str, bytes | str], ...]) -> KeySet:
    """The public keys of ``OIDC_SIGNING_KEYS`` entries (kid, algorithm, PEM);
    one ``KeySet`` per value, so tokens verified with it are remembered."""
    return KeySet([_settings_key(*entry)[1] for entry in entries])


def _settings_keys(*, private: bool) -> list[Key]:
    keys = []
    for entry in oauth_settings.OIDC_SIGNING_KEYS:
        pair = _settings_key(entry["kid"], entry["algorithm"], entry["private_key"])
        keys.append(
            Key(entry["kid"], entry["algorithm"], pair[0 if private else 1], entry.get("active", True))
        )
    return keys


# kid -> joserfc key. A kid's material never changes, so parsed (and
# decrypted) keys are kept for the life of the process; only which kids are
# current is read from the database on each use.
_public: dict[str, JoseKey] = {}
_private: dict[str, JoseKey] = {}


def _public_key(row: SigningKey) -> JoseKey:
    key = _public.get(row.kid)
    if key is None:
        key = _public[row.kid] = KEY_TYPES[row.algorithm].import_key(row.public_jwk)
    return key


def _private_key(row: SigningKey) -> JoseKey:
    key = _private.get(row.kid)
    if key is None:
        if "private_key" in row.get_deferred_fields():
            # From where the row was read: a key the primary made a moment
            # ago may not be on the replica the routers would read it from.
            row.refresh_from_db(using=row._state.db, fields=["private_key"])
        try:
            pem = decrypt(row.private_key)
        except InvalidToken:
            raise KeyUnavailable(
                f"The private part of signing key {row.kid} ({row.algorithm}) cannot be decrypted: no "
                "configured secret encrypted it (OIDC_KEY_ENCRYPTION_SECRET, else SECRET_KEY, changed "
                "without the old value among its fallbacks). Put the old secret back in "
                "OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS or SECRET_KEY_FALLBACKS, or replace the key "
                "with `manage.py rotatekeys --now`."
            ) from None
        key = _private[row.kid] = _import(row.algorithm, row.kid, pem)
    return key


def published_keys() -> list[Key]:
    """The keys JWKS publishes: pending, active, and retired ones whose
    tokens may still be valid, newest first; public parts only."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        return _settings_keys(private=False)
    now = clock.now()
    rows = SigningKey.objects.filter(published_at(now), algorithm__in=ALGORITHMS)
    return [
        Key(row.kid, row.algorithm, _public_key(row), row.state_at(now) == SigningKey.State.ACTIVE)
        for row in rows
    ]


# Which key signs, per algorithm: (kid, algorithm, pk, until). It changes
# only at moments the rows name (a key's retired_at, a pending key's
# activates_at) or when keys are rotated, so it is read once and kept until
# the first of those moments, or SIGNING_KEY_CACHE_SECONDS. Another
# process's rotatekeys --now reaches this one within that time (the keys it
# replaces stay published meanwhile); a rotation in this process clears it.
# It saves a query per ID token (benchmarks/run.py: code exchange with an
# ID token, about a fifth of the request on SQLite).
SIGNING_KEY_CACHE_SECONDS = 60
_signing: dict[str, tuple[SigningKey, datetime, datetime]] = {}


def forget_signing_keys() -> None:
    """Drop what this process remembers of which keys sign and which are
    published (after a rotation, or a test database rolled back)."""
    global _published
    _signing.clear()
    _published = None


@dataclass(frozen=True)
class PublishedKeySet:
    """The published keys as read at ``loaded_at``, valid until ``until``."""

    keys: KeySet
    loaded_at: datetime
    until: datetime


# The published keys (public parts), for validating JWT access tokens in
# process with no query (``jwt_access_tokens.local_claims``). Kept like
# ``_signing``: until a key among them leaves JWKS (its ``expires_at``, so a
# token signed with it stops validating then), or SIGNING_KEY_CACHE_SECONDS,
# after which a key another process dropped (``rotatekeys --drop-retired``)
# is gone here too. A key another process made in the meantime is found on
# the first token naming its kid (``refresh_published_key_set``).
_published: PublishedKeySet | None = None
# Tokens naming an unknown kid make this process read the keys again at most
# this often, so made-up kids cannot cost a query each.
UNKNOWN_KID_REFRESH_SECONDS = 1


def _load_published_key_set(now: datetime) -> KeySet:
    global _published
    rows = list(
        SigningKey.objects.filter(published_at(now), algorithm__in=ALGORITHMS).only(
            "kid", "algorithm", "public_jwk", "expires_at"
        )
    )
    ends = [now + timedelta(seconds=SIGNING_KEY_CACHE_SECONDS)]
    ends += [row.expires_at for row in rows if row.expires_at is not None]
    keys = KeySet([_public_key(row) for row in rows])
    _published = PublishedKeySet(keys, now, min(ends))
    return keys


def published_key_set() -> KeySet:
    """The keys JWKS publishes, as a joserfc ``KeySet`` of public keys; read
    from the database at most once per ``SIGNING_KEY_CACHE_SECONDS`` in this
    process (no query in between), and again as soon as one of them stops
    being published."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        entries = oauth_settings.OIDC_SIGNING_KEYS
        return _settings_key_set(
            tuple((entry["kid"], entry["algorithm"], entry["private_key"]) for entry in entries)
        )
    now = clock.now()
    cached = _published
    if cached is not None and cached.loaded_at <= now < cached.until:
        return cached.keys
    return _load_published_key_set(now)


def refresh_published_key_set() -> KeySet | None:
    """The published keys read again now, for a token whose kid this
    process does not know (a key another process just made); None when they
    were read less than ``UNKNOWN_KID_REFRESH_SECONDS`` ago, or come from
    ``OIDC_SIGNING_KEYS`` (nothing to read again)."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        return None
    now = clock.now()
    cached = _published
    if cached is not None and cached.loaded_at <= now < cached.loaded_at + timedelta(
        seconds=UNKNOWN_KID_REFRESH_SECONDS
    ):
        return None
    return _load_published_key_set(now)


def _signing_row(algorithm: str, now: datetime, using: str | None = None) -> SigningKey | None:
    cached = _signing.get(algorithm)
    if cached is not None and cached[1] <= now < cached[2]:
        return cached[0]
    rows = list(
        SigningKey.objects.db_manager(using)
        .filter(not_retired_at(now), algorithm=algorithm)
        .only("kid", "algorithm", "activates_at", "retired_at")
        .order_by("-activates_at")
    )
    current = next((row for row in rows if row.activates_at <= now), None)
    if current is None:
        return None
    # Until it retires, a newer key takes over, or the cache is due a check.
    ends = [now + timedelta(seconds=SIGNING_KEY_CACHE_SECONDS)]
    ends += [row.activates_at for row in rows if row.activates_at > now]
    if current.retired_at is not None:
        ends.append(current.retired_at)
    _signing[algorithm] = (current, now, min(ends))
    return current


def signing_key(algorithm: str) -> Key:
    """The key that signs with ``algorithm`` now, private part included; made
    on first use. ``KeyUnavailable`` if there is none or it cannot be decrypted."""
    if oauth_settings.OIDC_SIGNING_KEYS:
        for key in _settings_keys(private=True):
            if key.algorithm == algorithm and key.signing:
                return key
        raise KeyUnavailable(f"OIDC_SIGNING_KEYS has no active {algorithm} key.")
    now = clock.now()
    row = _signing_row(algorithm, now)
    if row is None:
        ensure_keys([algorithm])
        # From the primary: a key made a moment ago may not be on a replica yet.
        row = _signing_row(algorithm, now, using=primary.alias(SigningKey))
    return Key(row.kid, row.algorithm, _private_key(row), True)


def jwks() -> dict[str, Any]:
    """The JWK Set document (RFC 7517 §5): public members only."""
    return {"keys": [key.jose_key.as_dict(private=False) for key in published_keys()]}


# Whether the configured secrets can decrypt a key's private part.
READABLE, READABLE_WITH_FALLBACK, UNREADABLE = "readable", "readable with a fallback secret", "unreadable"


def readability(row: SigningKey) -> str:
    """``READABLE`` (the current secret decrypts ``row``'s private part),
    ``READABLE_WITH_FALLBACK`` (only a fallback does), or ``UNREADABLE``."""
    if encrypted_with_current_secret(row.private_key):
        return READABLE
    try:
        decrypt(row.private_key)
    except InvalidToken:
        return UNREADABLE
    return READABLE_WITH_FALLBACK


def signing_and_pending_keys() -> QuerySet[SigningKey]:
    """The keys that sign now or will: the ones whose private part matters."""
    return SigningKey.objects.filter(not_retired_at(clock.now()))


def reencrypt_keys() -> tuple[int, list[SigningKey]]:
    """Encrypt every stored private part again with the current secret, so
    that an old ``SECRET_KEY`` (or ``OIDC_KEY_ENCRYPTION_SECRET``) can leave
    the fallbacks. Return how many were re-encrypted, and the keys no
    configured secret decrypts (left as they are)."""
    done, unreadable = 0, []
    for row in SigningKey.objects.using(primary.alias(SigningKey)).order_by("pk"):
        if encrypted_with_current_secret(row.private_key):
            continue
        try:
            token = reencrypt(row.private_key)
        except InvalidToken:
            unreadable.append(row)
            continue
        # Only this column: a concurrent rotation may have changed the times.
        done += SigningKey.objects.filter(pk=row.pk, private_key=row.private_key).update(private_key=token)
    return done, unreadable


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
