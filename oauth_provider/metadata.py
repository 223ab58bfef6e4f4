"""Issuer identifier and authorization server metadata (RFC 8414, RFC 9207)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import reverse

from .client_auth import CLIENT_AUTH_METHODS
from .settings import DEVICE_CODE, IMPLICIT, oauth_settings

# Client authentication at the revocation and introspection endpoints. Public
# clients may revoke their own tokens (RFC 7009 §2.1) but not introspect.
REVOCATION_AUTH_METHODS = CLIENT_AUTH_METHODS
INTROSPECTION_AUTH_METHODS = tuple(method for method in CLIENT_AUTH_METHODS if method != "none")


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


def server_metadata(request: HttpRequest) -> dict[str, Any]:
    """RFC 8414 §2, generated from settings so it always says what is enabled."""
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
    return metadata
