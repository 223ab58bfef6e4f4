"""The one place where access and refresh tokens are created (RFC 6749 §5.1)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from . import clock
from .models import AccessToken, Client, RefreshToken
from .scopes import format_scope
from .settings import REFRESH_TOKEN, oauth_settings

TokenResponse = dict[str, Any]


def issue_tokens(
    *,
    client: Client,
    user: AbstractBaseUser | None,
    scopes: list[str],
    family_id: uuid.UUID,
    refresh_scopes: list[str] | None = None,
) -> TokenResponse:
    """Create an access token (and a refresh token when the client may use one).

    ``refresh_scopes`` is the refresh token's scope when it differs from the
    access token's (a narrowed refresh, RFC 6749 §6). Returns the §5.1
    response body; the raw values exist only in it.
    """
    now = clock.now()
    scope = format_scope(scopes)
    lifetime = oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    access_token, access_value = AccessToken.issue(
        client=client,
        user=user,
        scope=scope,
        family_id=family_id,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    response: TokenResponse = {
        "access_token": access_value,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope,
    }
    if client.allows_grant_type(REFRESH_TOKEN):
        _refresh_token, refresh_value = RefreshToken.issue(
            client=client,
            user=user,
            scope=format_scope(refresh_scopes) if refresh_scopes is not None else scope,
            family_id=family_id,
            access_token=access_token,
            created_at=now,
            expires_at=now + timedelta(seconds=oauth_settings.REFRESH_TOKEN_EXPIRE_SECONDS),
        )
        response["refresh_token"] = refresh_value
    return response
