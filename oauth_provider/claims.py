"""Claims about the signed-in user (OpenID Connect Core 1.0 §5).

What a client may learn is decided here, in one place: the claims of the
scopes it was granted (§5.4), narrowed or placed by a ``claims`` request
(§5.5), always with ``sub``. Where the values come from is the claims
provider's business: ``OIDC_CLAIMS_PROVIDER`` names a class like
``UserClaims``; subclass it to add claims (say ``phone_number`` from a
profile model) or to say which e-mail addresses the site has verified::

    class SiteClaims(UserClaims):
        def get_claims(self, user, client):
            claims = super().get_claims(user, client)
            profile = user.profile
            claims.update(
                phone_number=profile.phone,                   # scope "phone"
                address={"country": profile.country},         # scope "address" (§5.1.1)
                updated_at=profile.modified,                  # a datetime: sent as seconds
            )
            return claims

        def email_verified(self, user):
            return user.emailaddress_set.filter(verified=True, primary=True).exists()

    OAUTH_PROVIDER = {..., "OIDC_CLAIMS_PROVIDER": "mysite.claims.SiteClaims"}

A provider returns every claim it knows; which of them a client sees is not
its concern. It is asked only when the client may see at least one claim
besides ``sub``, and never learns what was released.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.module_loading import import_string

from .models import Client
from .settings import oauth_settings
from .subjects import subject

OPENID = "openid"
# Core §5.4: the claims each scope asks for.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
# The claims about the authentication itself, not the user (Core §2); a
# ``claims`` request may ask for them in the ID token, never for UserInfo.
AUTHENTICATION_CLAIMS = frozenset({"auth_time", "acr", "amr"})


class UserClaims:
    """The default claims provider: what Django's user model knows.

    ``get_claims`` returns every claim it has for ``user`` (standard names,
    Core §5.1); ``claims.release`` then keeps only what the client may see.
    A value of None or "" is left out. ``email_verified`` is given only when
    ``email_verified`` says the site knows (default: it does not).

    Any user model works: ``preferred_username`` is ``get_username()``;
    the names come from ``first_name``, ``last_name`` and ``get_full_name()``
    and ``email`` from the model's ``EMAIL_FIELD``, each only where the model
    has it (an e-mail-only ``AbstractBaseUser`` gives no names). Nothing is
    guessed: Django's user has no ``updated_at``, ``locale`` or ``picture``,
    so they are left to a subclass that knows them.
    """

    def get_claims(self, user: AbstractBaseUser, client: Client) -> dict[str, Any]:
        claims: dict[str, Any] = {"preferred_username": user.get_username()}
        first, last = getattr(user, "first_name", ""), getattr(user, "last_name", "")
        get_full_name = getattr(user, "get_full_name", None)
        full_name = get_full_name() if callable(get_full_name) else f"{first or ''} {last or ''}".strip()
        claims.update(name=full_name, given_name=first, family_name=last)
        email = getattr(user, user.get_email_field_name(), None)
        if email:
            claims["email"] = str(email)
            verified = self.email_verified(user)
            if verified is not None:
                claims["email_verified"] = verified
        return claims

    def email_verified(self, user: AbstractBaseUser) -> bool | None:
        """Whether the site has verified the user's e-mail address; None
        (the default) when it does not know, and the claim is left out."""
        return None


@functools.cache
def _provider_class(path: str) -> type:
    return import_string(path)


def provider() -> UserClaims:
    """An instance of ``OIDC_CLAIMS_PROVIDER`` (checked by ``manage.py check``)."""
    return _provider_class(oauth_settings.OIDC_CLAIMS_PROVIDER)()


def scope_claims(scopes: list[str]) -> set[str]:
    """The claim names ``scopes`` grant (Core §5.4)."""
    return {name for scope in scopes for name in SCOPE_CLAIMS.get(scope, ())}


def release(
    user: AbstractBaseUser,
    client: Client,
    scopes: list[str],
    *,
    names: set[str] | None = None,
) -> dict[str, Any]:
    """The claims ``client`` may see for ``user``: ``sub`` and those of
    ``names`` (default: every claim of the granted ``scopes``) that the
    granted scopes cover and the provider has a value for.

    A claim outside the granted scopes is never released, even when a
    ``claims`` request names it: the user consented to scopes.
    """
    allowed = scope_claims(scopes)
    wanted = allowed if names is None else names & allowed
    values = provider().get_claims(user, client) if wanted else {}
    released = {
        name: claim_value(value)
        for name, value in values.items()
        if name in wanted and value not in (None, "")
    }
    return {"sub": subject(user, client), **released}


def claim_value(value: Any) -> Any:
    """``value`` as JSON carries it (Core §5.1): a datetime (``updated_at``)
    as whole seconds since the epoch, a date (``birthdate``) as YYYY-MM-DD."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def requested_claims(claims: dict[str, Any] | None, member: str) -> set[str]:
    """The claim names a §5.5 ``claims`` request asks for in ``member``
    (``"userinfo"`` or ``"id_token"``)."""
    if not claims:
        return set()
    return set((claims.get(member) or {}).keys())
