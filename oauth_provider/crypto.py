"""The one place to generate, hash and compare credentials.

Client secrets, authorization codes and tokens are high-entropy values made
by ``secrets``, so a single SHA-256 is enough to make a stored hash useless to
whoever reads the database; a slow password hasher would only slow every
request down (RFC 9700 §4.14 and §2.5 recommend hashing, not stretching).
Every value carries a short prefix so secret scanners can recognise a leak.
"""

import hashlib
import hmac
import secrets

from django.utils.crypto import salted_hmac

# Prefixes: "op" for oauth_provider, then what the value is.
CLIENT_SECRET_PREFIX = "opcs_"  # noqa: S105 - a prefix, not a secret
AUTHORIZATION_CODE_PREFIX = "opac_"
ACCESS_TOKEN_PREFIX = "opat_"  # noqa: S105
REFRESH_TOKEN_PREFIX = "oprt_"  # noqa: S105
DEVICE_CODE_PREFIX = "opdc_"

# 32 random bytes = 256 bits, URL-safe base64 (43 characters).
TOKEN_BYTES = 32


def generate_token(prefix: str) -> str:
    """A new random credential: ``prefix`` + 256 bits of URL-safe randomness."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def generate_client_id() -> str:
    """A public client identifier (RFC 6749 §2.2): unique, not secret."""
    return secrets.token_urlsafe(24)


def hash_secret(value: str) -> str:
    """The stored form of a credential: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def hash_user_code(normalized: str) -> str:
    """The stored form of a device flow user code (RFC 8628 §6.1).

    A user code is short enough to type (about 34 bits), so a plain hash
    could be reversed by trying every code; keyed with ``SECRET_KEY``, a
    database dump alone does not reveal it.
    """
    return salted_hmac("oauth_provider.user_code", normalized, algorithm="sha256").hexdigest()


def secrets_match(value: str, stored_hash: str) -> bool:
    """Whether ``value`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(hash_secret(value), stored_hash)
