"""The two hooks the relying party's settings name."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest


def username(email: str, claims: dict[str, Any]) -> str:
    """``OIDC_USERNAME_ALGO``: the user created on first sign-in is named after
    the provider's ``preferred_username`` (scope ``profile``)."""
    return claims["preferred_username"]


def provider_logout_url(request: HttpRequest) -> str:
    """``OIDC_OP_LOGOUT_URL_METHOD``: where mozilla-django-oidc sends the
    browser after signing out locally, the provider's end_session_endpoint
    with the ID token as hint and this site as post-logout redirect URI
    (registered with the client)."""
    query = urlencode(
        {
            "id_token_hint": request.session["oidc_id_token"],
            "post_logout_redirect_uri": request.build_absolute_uri(settings.LOGOUT_REDIRECT_URL),
        }
    )
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"
