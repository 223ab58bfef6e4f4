"""Issuer identifier and authorization server metadata (RFC 8414, RFC 9207),
which is also the OpenID Provider metadata (OpenID Connect Discovery 1.0 §3).

One function writes both documents: RFC 8414 §2 registers the OpenID
Connect members for the OAuth document too, and a relying party that reads
either must learn the same endpoints and capabilities.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import reverse

from .claims import OPENID, SCOPE_CLAIMS
from .client_assertions import ALGORITHMS as ASSERTION_ALGORITHMS
from .client_assertions import PRIVATE_KEY_JWT
from .client_auth import CLIENT_AUTH_METHODS
from .models import Client
from .settings import DEVICE_CODE, IMPLICIT, REGISTRATION_OFF, oauth_settings
from .ui_locales import supported_languages

# Client authentication at the revocation and introspection endpoints. Public
# clients may revoke their own tokens (RFC 7009 §2.1) but not introspect.
REVOCATION_AUTH_METHODS = CLIENT_AUTH_METHODS
INTROSPECTION_AUTH_METHODS = tuple(method for method in CLIENT_AUTH_METHODS if method != "none")

# OpenID Connect Core 1.0 §3.2 and §3.3: the implicit and hybrid flows'
# response types, answered only while the legacy implicit grant is enabled.
OIDC_IMPLICIT_RESPONSE_TYPES = (
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
)
# Claims of the ID token itself (Core §2, Back-Channel Logout 1.0 §2.1 "sid"),
# whatever the scopes; the scopes' claims (§5.4) follow them.
ID_TOKEN_CLAIMS = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "sid",
    "acr",
    "amr",
)
# Core §3.1.2.1.
PROMPT_VALUES = ("none", "login", "consent", "select_account")


def issuer(request: HttpRequest) -> str:
    """The issuer identifier: ``ISSUER``, or this request's scheme and host."""
    return oauth_settings.ISSUER or f"{request.scheme}://{request.get_host()}"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def endpoint_url(request: HttpRequest, name: str) -> str:
    """Absolute URL of one of our endpoints, on the issuer's origin."""
    return origin(issuer(request)) + reverse(f"oauth_provider:{name}")


def assertion_audiences(request: HttpRequest) -> tuple[str, str]:
    """What a client assertion's ``aud`` may be (RFC 7523 §3): the issuer,
    or the token endpoint URL."""
    return issuer(request), endpoint_url(request, "token")


def is_openid_provider() -> bool:
    """Whether the server answers OpenID Connect requests: ``OIDC_ENABLED``
    and the ``openid`` scope offered (Core §3.1.2.1)."""
    scopes = oauth_settings.SCOPES
    return oauth_settings.OIDC_ENABLED is True and isinstance(scopes, dict) and OPENID in scopes


def server_metadata(request: HttpRequest) -> dict[str, Any]:
    """RFC 8414 §2, generated from settings so it always says what is enabled;
    with the OpenID Provider members (Discovery 1.0 §3) when ``is_openid_provider``."""
    grant_types = list(oauth_settings.GRANT_TYPES)
    implicit = IMPLICIT in grant_types
    metadata = {
        "issuer": issuer(request),
        "authorization_endpoint": endpoint_url(request, "authorize"),
        "token_endpoint": endpoint_url(request, "token"),
        "revocation_endpoint": endpoint_url(request, "revoke"),
        "introspection_endpoint": endpoint_url(request, "introspect"),
        "response_types_supported": ["code", "token"] if implicit else ["code"],
        "response_modes_supported": ["query", "fragment"] if implicit else ["query"],
        "grant_types_supported": grant_types,
        "scopes_supported": list(oauth_settings.SCOPES),
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(REVOCATION_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(INTROSPECTION_AUTH_METHODS),
        "code_challenge_methods_supported": list(oauth_settings.PKCE_CODE_CHALLENGE_METHODS),
        "authorization_response_iss_parameter_supported": True,
    }
    if DEVICE_CODE in grant_types:
        metadata["device_authorization_endpoint"] = endpoint_url(request, "device_authorization")
    if oauth_settings.CLIENT_ID_METADATA_DOCUMENTS is True:
        # draft-ietf-oauth-client-id-metadata-document's server metadata; such clients may
        # use private_key_jwt (RFC 7523 §2.2), the only clients with keys.
        metadata["client_id_metadata_document_supported"] = True
        for endpoint in ("token", "revocation"):
            metadata[f"{endpoint}_endpoint_auth_methods_supported"].append(PRIVATE_KEY_JWT)
            # RFC 8414 §2: "MUST be present if" private_key_jwt is among the endpoint's methods.
            metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] = list(ASSERTION_ALGORITHMS)
    if oauth_settings.OIDC_ENABLED is True:
        # RFC 8414 §2: the keys JWT access tokens (RFC 9068) are signed with,
        # which resource servers of this issuer read, OpenID Provider or not.
        metadata["jwks_uri"] = endpoint_url(request, "jwks")
    if oauth_settings.REGISTRATION_POLICY != REGISTRATION_OFF:
        # RFC 8414 §2 and Discovery 1.0 §3: where clients register (RFC 7591).
        metadata["registration_endpoint"] = endpoint_url(request, "register")
    if is_openid_provider():
        metadata.update(openid_provider_metadata(request))
        if implicit:
            metadata["response_types_supported"] += list(OIDC_IMPLICIT_RESPONSE_TYPES)
    return metadata


def openid_provider_metadata(request: HttpRequest) -> dict[str, Any]:
    """The members OpenID Connect Discovery 1.0 §3 adds to RFC 8414's.

    ``request_uri_parameter_supported`` defaults to true there, so it is
    stated; ``claims_supported`` lists the claims of the scopes offered.
    """
    scopes = oauth_settings.SCOPES
    scope_claims = [name for scope, names in SCOPE_CLAIMS.items() if scope in scopes for name in names]
    return {
        "userinfo_endpoint": endpoint_url(request, "userinfo"),
        "end_session_endpoint": endpoint_url(request, "logout"),
        "subject_types_supported": list(Client.SubjectType.values),
        "id_token_signing_alg_values_supported": list(oauth_settings.OIDC_SIGNING_ALGORITHMS),
        "claims_supported": list(dict.fromkeys([*ID_TOKEN_CLAIMS, *scope_claims])),
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": list(PROMPT_VALUES),
        "ui_locales_supported": supported_languages(),
        # Back-Channel Logout 1.0 §2.1; no front-channel logout (its iframes).
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
