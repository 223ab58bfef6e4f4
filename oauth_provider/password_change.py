"""Credentials end with the password (RFC 6819 §5.2.2.3).

When a user's password changes (``set_password`` or ``set_unusable_password``
followed by ``save()``, which is what Django's password forms and admin do),
everything clients hold for that user ends: access and refresh tokens are
revoked (``token_revoked`` reason ``password_changed``), unredeemed codes end
and approved device requests still polling are denied. Someone who learnt the
old password and got tokens with it keeps nothing. The user's consents stay:
they are the user's own decisions, and the next authorization is quick.

The user's OpenID Connect sign-ins end too, and each client with a
``backchannel_logout_uri`` is sent a logout token (Back-Channel Logout 1.0):
Django ends the user's other browser sessions with the password (their
session hash no longer matches), and every client session of the user has
just lost its tokens. There is no request here, so the tokens name the
``ISSUER`` setting as their issuer; without it none is sent.

``REVOKE_TOKENS_ON_PASSWORD_CHANGE = False`` turns this off. Deactivating a
user ends their grants as well (``receivers``), whatever this setting, and
reactivating resumes none of them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import get_hasher, identify_hasher, is_password_usable
from django.db import models
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .backchannel_logout import end_sign_ins
from .models import SignIn
from .revocation import RevocationReason, end_grants
from .settings import oauth_settings

_CHANGED = "_oauth_provider_password_changed"


def password_changed(instance: models.Model, using: str, update_fields: frozenset[str] | None) -> bool:
    """Whether saving ``instance`` stores a password other than the one in the database.

    No query when the save cannot touch the password: a new user, a save
    limited to other fields (such as ``last_login`` at each login), or a user
    loaded without its password (the protocol's lookups never read it).

    A new hash of the same password is no change: when a hasher's work factor
    went up (every Django release raises PBKDF2's), ``check_password``
    rehashes the password at the next login, saving exactly
    ``update_fields=["password"]`` with ``_password`` cleared ("Password hash
    upgrades shouldn't be considered password changes", Django's comment
    there), whereas ``set_password`` keeps the raw password in ``_password``
    until the save is over.
    """
    if instance._state.adding or instance.pk is None:
        return False
    if update_fields is not None and "password" not in update_fields:
        return False
    if "password" in instance.get_deferred_fields():
        return False
    stored = (
        type(instance)
        ._base_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    if stored is None or stored == instance.password:
        return False
    return not _rehashed(instance, stored, update_fields)


def _rehashed(instance: models.Model, stored: str, update_fields: frozenset[str] | None) -> bool:
    """Whether this save is ``check_password`` storing a new hash of the
    password ``stored`` holds: saved as it saves one, over a hash it would
    replace (another hasher than the preferred one, or outdated parameters)."""
    return (
        getattr(instance, "_password", None) is None
        and update_fields is not None
        and set(update_fields) == {"password"}
        and is_password_usable(instance.password)
        and _outdated(stored)
    )


def _outdated(encoded: str) -> bool:
    """Whether ``check_password`` would rehash ``encoded`` (Django's own test there)."""
    if not is_password_usable(encoded):
        return False
    try:
        hasher = identify_hasher(encoded)
    except ValueError:
        return False
    preferred = get_hasher("default")
    return hasher.algorithm != preferred.algorithm or preferred.must_update(encoded)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.password_changing")
def password_changing(
    sender: type[models.Model],
    instance: models.Model,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    if oauth_settings.REVOKE_TOKENS_ON_PASSWORD_CHANGE:
        setattr(instance, _CHANGED, password_changed(instance, using, update_fields))


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.password_saved")
def password_saved(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    # Popped, so a later save of the same instance is judged afresh.
    if instance.__dict__.pop(_CHANGED, False):
        end_grants(user=instance, reason=RevocationReason.PASSWORD_CHANGED)
        if oauth_settings.OIDC_ENABLED:
            # Every token is revoked above: the sign-ins end without revoking.
            end_sign_ins(SignIn.objects.filter(user=instance), issuer=oauth_settings.ISSUER, revoke=False)
