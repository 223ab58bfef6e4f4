"""Proof Key for Code Exchange (RFC 7636)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from django.utils.translation import gettext_lazy as _

from .errors import InvalidGrant, InvalidRequest
from .settings import oauth_settings

# §4.1: code-verifier = 43*128unreserved; §4.2: the S256 challenge has the same form.
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
S256 = "S256"
PLAIN = "plain"


def validate_challenge(challenge: str | None, method: str | None, *, required: bool) -> str:
    """Check the authorization request's PKCE parameters; return the method.

    §4.3: code_challenge_method "defaults to plain if not present in the
    request", so a challenge without a method is refused unless plain is on.
    """
    if challenge is None:
        if required:
            raise InvalidRequest(_("This client must use PKCE: code_challenge is required."))
        if method is not None:
            raise InvalidRequest(_("code_challenge_method was sent without code_challenge."))
        return ""
    method = method or PLAIN
    if method not in oauth_settings.PKCE_CODE_CHALLENGE_METHODS:
        raise InvalidRequest(_("The code_challenge_method is not supported."))
    if not VERIFIER.fullmatch(challenge):
        raise InvalidRequest(_("The code_challenge is malformed."))
    return method


def s256(verifier: str) -> str:
    """BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_code_verifier(verifier: str | None, challenge: str, method: str) -> None:
    """§4.6: the token request's verifier must transform to the stored challenge.

    A verifier for a code issued without a challenge is refused as well: that is
    the PKCE downgrade attack of RFC 9700 §4.8.2.
    """
    if not challenge:
        if verifier is not None:
            raise InvalidGrant(_("A code_verifier was sent for a code issued without PKCE."))
        return
    if verifier is None or not VERIFIER.fullmatch(verifier):
        raise InvalidGrant(_("The code_verifier is missing or malformed."))
    computed = s256(verifier) if method == S256 else verifier
    if not hmac.compare_digest(computed, challenge):
        raise InvalidGrant(_("The code_verifier does not match the code_challenge."))
