"""The one place to generate, hash and compare credentials.

Client secrets, authorization codes and tokens are high-entropy values made
by ``secrets``, so a single SHA-256 is enough to make a stored hash useless to
whoever reads the database; a slow password hasher would only slow every
request down (RFC 9700 §4.14 and §2.5 recommend hashing, not stretching).
Every value carries a short prefix so secret scanners can recognise a leak.

Signing keys' private parts are the one thing stored that must be read back:
they are encrypted (``encrypt``/``decrypt``) rather than hashed.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.crypto import salted_hmac

from .settings import oauth_settings

# Prefixes: "op" for oauth_provider, then what the value is.
CLIENT_SECRET_PREFIX = "opcs_"  # noqa: S105 - a prefix, not a secret
AUTHORIZATION_CODE_PREFIX = "opac_"
ACCESS_TOKEN_PREFIX = "opat_"  # noqa: S105
REFRESH_TOKEN_PREFIX = "oprt_"  # noqa: S105
DEVICE_CODE_PREFIX = "opdc_"
# RFC 7591 §3 initial access token and RFC 7592 §3 registration access token.
INITIAL_ACCESS_TOKEN_PREFIX = "opia_"  # noqa: S105
REGISTRATION_ACCESS_TOKEN_PREFIX = "opra_"  # noqa: S105

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


def _fernet_key(secret: str) -> bytes:
    # HKDF: the secret may be any string; Fernet wants 32 random-looking bytes.
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"oauth_provider.signing-keys").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(derived)


def _secrets() -> list[str]:
    """The secrets that encrypt signing keys, current first: ``OIDC_KEY_ENCRYPTION_SECRET``
    and its fallbacks, else ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``."""
    secret = oauth_settings.OIDC_KEY_ENCRYPTION_SECRET
    if secret:
        return [secret, *oauth_settings.OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _encryption() -> MultiFernet:
    """Fernet keyed by the current secret, the fallbacks still decrypting: rotating
    the secret keeps stored keys readable until they are re-encrypted
    (``reencrypt``, run by ``manage.py rotatekeys --reencrypt``)."""
    return MultiFernet([Fernet(_fernet_key(value)) for value in _secrets()])


def encrypt(data: bytes) -> str:
    """``data`` encrypted and authenticated (Fernet: AES-128-CBC + HMAC-SHA256), as text."""
    return _encryption().encrypt(data).decode("ascii")


def decrypt(token: str) -> bytes:
    """The data ``encrypt`` was given; ``cryptography.fernet.InvalidToken``
    when no configured secret encrypted it or it was altered."""
    return _encryption().decrypt(token.encode("ascii"))


def encrypted_with_current_secret(token: str) -> bool:
    """Whether the current secret (not a fallback) decrypts ``token``."""
    try:
        Fernet(_fernet_key(_secrets()[0])).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def reencrypt(token: str) -> str:
    """``token``'s data encrypted again with the current secret, so that the
    fallback it was encrypted with can be dropped; ``InvalidToken`` as ``decrypt``."""
    return _encryption().rotate(token.encode("ascii")).decode("ascii")
