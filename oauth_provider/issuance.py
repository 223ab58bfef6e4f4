"""The one place where access and refresh tokens are created (RFC 6749 §5.1)."""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from . import clock, jwt_access_tokens
from .errors import InvalidScope
from .models import AccessToken, Client, RefreshToken, SignIn
from .models.base import get_or_none
from .resources import access_token_format, access_token_lifetime, declared_only
from .scopes import allowed_scopes, format_scope
from .settings import JWT, REFRESH_TOKEN, oauth_settings
from .signals import token_issued
from .subjects import subject

TokenResponse = dict[str, Any]


def issue_tokens(
    *,
    client: Client,
    user: AbstractBaseUser | None,
    scopes: list[str],
    resources: list[str],
    grant_type: str,
    family_id: uuid.UUID | None = None,
    refresh: bool = True,
    refresh_scopes: list[str] | None = None,
    refresh_resources: list[str] | None = None,
    previous: RefreshToken | None = None,
    issuer: str | None = None,
) -> TokenResponse:
    """Create an access token, and a refresh token when ``refresh`` is true and
    the client may use one.

    ``family_id`` links the tokens to the authorization they descend from (a
    new family when None). ``refresh_scopes`` is the refresh token's scope when
    it differs from the access token's (a narrowed refresh, RFC 6749 §6),
    ``resources`` the access token's audience and ``refresh_resources`` the
    refresh token's when narrowed (RFC 8707 §2.2), and ``previous`` the
    refresh token this one replaces. Returns the §5.1 response body; the raw
    values exist only in it.

    The access token gets only the ``scopes`` the client may still have
    (``scopes.allowed_scopes``): what a code, an approved device request or a
    refresh token carries was granted earlier, and an admin may since have
    taken a (privileged) scope away; the response's ``scope`` says what was
    given (§5.1). ``InvalidScope`` when nothing is left. Likewise the
    audience names only resources still declared. The access token lives
    as long as its shortest-lived resource allows.

    When the client's or the resources' format is JWT
    (``resources.access_token_format``), the access token is an RFC 9068
    JWT whose ``iss`` is ``issuer`` (default: the ``ISSUER`` setting), living
    at most ``JWT_ACCESS_TOKEN_EXPIRE_SECONDS``; its row is stored by the
    JWT's hash like any token's.
    """
    permitted = allowed_scopes(client)
    scopes = [scope for scope in scopes if scope in permitted]
    if not scopes:
        raise InvalidScope
    now = clock.now()
    family_id = family_id or uuid.uuid4()
    scope = format_scope(scopes)
    resources = declared_only(resources)
    lifetime = access_token_lifetime(resources)
    value_of = None
    if access_token_format(client.access_token_format, resources) == JWT:
        lifetime = min(lifetime, oauth_settings.JWT_ACCESS_TOKEN_EXPIRE_SECONDS)
        value_of = functools.partial(jwt_value, issuer=issuer)
    access_token, access_value = AccessToken.issue(
        value_of=value_of,
        client=client,
        user=user,
        scope=scope,
        resources=format_scope(resources),
        family_id=family_id,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    token_issued.send(sender=AccessToken, token=access_token, grant_type=grant_type)
    response: TokenResponse = {
        "access_token": access_value,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope,
    }
    if refresh and client.allows_grant_type(REFRESH_TOKEN):
        refresh_token, refresh_value = RefreshToken.issue(
            client=client,
            user=user,
            scope=format_scope(refresh_scopes) if refresh_scopes is not None else scope,
            resources=format_scope(refresh_resources if refresh_resources is not None else resources),
            family_id=family_id,
            access_token=access_token,
            previous=previous,
            created_at=now,
            expires_at=now + timedelta(seconds=oauth_settings.REFRESH_TOKEN_EXPIRE_SECONDS),
        )
        token_issued.send(sender=RefreshToken, token=refresh_token, grant_type=grant_type)
        response["refresh_token"] = refresh_value
    return response


def jwt_value(token: AccessToken, *, issuer: str | None = None) -> str:
    """The RFC 9068 JWT of the unsaved ``token``, naming ``issuer`` (default:
    ``ISSUER``); for ``AccessToken.issue(value_of=...)``.

    ``sub`` (§2.2): the client's ``client_id`` when it acts for itself;
    else the user's subject identifier as this client knows it (public or
    pairwise, OpenID Connect Core §8), the one its ID tokens carry. The
    grant's OpenID Connect sign-in, if any, gives that ``sub`` and the
    ``auth_time`` and ``acr`` of §2.2.1 (one query).
    """
    issuer = issuer or oauth_settings.ISSUER
    if issuer is None:
        raise ValueError("A JWT access token names its issuer: pass issuer, or set OAUTH_PROVIDER['ISSUER'].")
    if token.user is None:
        return jwt_access_tokens.encode(token, sub=token.client.client_id, issuer=issuer)
    sign_ins = SignIn.objects.filter(family_id=token.family_id).only("subject", "auth_time", "acr")
    sign_in = get_or_none(sign_ins)
    if sign_in is None:
        return jwt_access_tokens.encode(token, sub=subject(token.user, token.client), issuer=issuer)
    return jwt_access_tokens.encode(
        token, sub=sign_in.subject, issuer=issuer, auth_time=sign_in.auth_time, acr=sign_in.acr
    )
