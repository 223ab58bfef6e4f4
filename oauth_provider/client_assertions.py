"""``private_key_jwt`` client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2).

A client whose public keys are known (``Client.jwks``; today only clients
described by a client ID metadata document, ``client_metadata_documents``)
authenticates by sending ``client_assertion_type`` =
``urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and a
``client_assertion``: a JWT it signed with its private key, in place of a
secret. RFC 7523 §3: ``iss`` and ``sub`` are its client_id, ``aud``
identifies this server (its issuer or its token endpoint URL), ``exp`` is
required, and a ``jti`` lets the server refuse a replay: each is accepted
once until its ``exp`` (recorded in ``THROTTLE_CACHE``, which must be shared
by every process, as for the other limits).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from typing import Any

from django.core.cache import caches
from django.utils.translation import gettext_lazy as _
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from . import clock
from .errors import InvalidClient
from .models import Client
from .settings import oauth_settings

# The RFC 7591 name of the method; offered (metadata) when clients with keys
# can exist: CLIENT_ID_METADATA_DOCUMENTS.
PRIVATE_KEY_JWT = "private_key_jwt"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Asymmetric only: a client's keys are public, so an HMAC "signature" with
# one would prove nothing (and "none" proves nothing at all).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# An assertion may not be valid for longer than this: its jti is remembered
# until it expires, so a far-off exp would be kept that long.
MAX_LIFETIME_SECONDS = 600
# Clock skew allowed on exp, nbf and iat.
LEEWAY_SECONDS = 30
INVALID_ASSERTION = _("The client assertion is not valid.")
UNSUPPORTED_ASSERTION = _(
    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer, "
    "with a client_assertion."
)
ASSERTION_REQUIRED = _("This client authenticates with a client assertion (private_key_jwt).")


def claimed_client_id(assertion: str) -> str | None:
    """The ``sub`` of an assertion, unverified: RFC 7521 §4.2 lets the
    client_id parameter be left out, and the assertion names the client
    whose keys verify it. None when it cannot be read."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject if isinstance(subject, str) else None


def public_key_set(jwks: Any) -> KeySet | None:
    """``jwks`` (RFC 7517 §5) as keys to verify with, or None unless it
    holds only public asymmetric keys."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        return None
    if not all(isinstance(key, dict) and key.get("kty") in ("RSA", "EC", "OKP") for key in jwks["keys"]):
        return None
    try:
        key_set = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError):
        return None
    return None if any(key.is_private for key in key_set) else key_set


def verify(client: Client, assertion: str, audiences: Collection[str]) -> None:
    """Raise ``InvalidClient`` unless ``assertion`` is a JWT signed by one
    of the client's keys with the claims of RFC 7523 §3, not seen before."""
    key_set = public_key_set(client.jwks)
    if key_set is None:
        raise InvalidClient(INVALID_ASSERTION)
    now = int(clock.now().timestamp())
    try:
        token = jwt.decode(assertion, key_set, algorithms=list(ALGORITHMS))
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": client.client_id},
            sub={"essential": True, "value": client.client_id},
            aud={"essential": True, "values": list(audiences)},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError, RecursionError):
        raise InvalidClient(INVALID_ASSERTION) from None
    expires, jti = token.claims["exp"], token.claims["jti"]
    if not isinstance(jti, str) or not isinstance(expires, int) or expires - now > MAX_LIFETIME_SECONDS:
        raise InvalidClient(INVALID_ASSERTION)
    # §3 item 7: "The authorization server MAY ensure that JWTs are not
    # replayed": add() is atomic, so of two concurrent uses one fails.
    key = "oauth_provider:assertion:" + hashlib.sha256(f"{client.client_id}\n{jti}".encode()).hexdigest()
    if not caches[oauth_settings.THROTTLE_CACHE].add(key, True, timeout=expires - now + LEEWAY_SECONDS + 1):
        raise InvalidClient(_("The client assertion was used before."))
