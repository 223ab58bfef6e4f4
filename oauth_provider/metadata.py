"""Issuer identifier and authorization server metadata (RFC 8414, RFC 9207)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import reverse

from .client_auth import CLIENT_AUTH_METHODS
from .settings import oauth_settings


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
    return {
        "issuer": issuer(request),
        "authorization_endpoint": endpoint_url(request, "authorize"),
        "token_endpoint": endpoint_url(request, "token"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(oauth_settings.GRANT_TYPES),
        "scopes_supported": list(oauth_settings.SCOPES),
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "code_challenge_methods_supported": list(oauth_settings.PKCE_CODE_CHALLENGE_METHODS),
        "authorization_response_iss_parameter_supported": True,
    }
