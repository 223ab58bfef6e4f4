"""Signal receivers that keep every process truthful about clients and users,
and the CORS origins (``cors.registered_origins``).

- A client or user **deactivated** (``is_active`` turned False) or
  **deleted** ends its grants (``revocation.end_grants``: codes, device
  approvals and tokens end in the database), which tells every process a
  not-before time for it (``revocation_stream``): the database path and the
  processes' memory agree, and its tokens are refused on the very next
  request everywhere (RFC 6750 §3.1 ``invalid_token``). Reactivating it
  later brings none of them back.
- **Any other change** to a client or user drops its remembered rows in
  every process (they carry the client's and user's fields, say
  ``is_staff``), revoking nothing. A save of ``last_login`` alone (every
  sign-in) changes nothing a token's row holds, and is not sent.

``QuerySet.update()`` and ``bulk_update()`` send no signals: after
deactivating clients or users that way, call
``revocation.end_grants(client=..., reason=RevocationReason.CLIENT_DEACTIVATED)``
(or ``user=``) for each, and ``cors.forget_registered_origins()`` once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import cors, revocation_stream
from .models import Client
from .revocation import RevocationReason, end_grants

# Set on an instance between pre_save and post_save when the save deactivates it.
_DEACTIVATED = "_oauth_provider_deactivated"
# Fields no token row holds: a save of only these tells nobody.
UNREMEMBERED_FIELDS = frozenset({"last_login"})


def _deactivating(instance: models.Model, using: str) -> bool:
    """Whether saving ``instance`` turns a stored ``is_active`` True to False
    (one query, only when saving an inactive instance that exists)."""
    if instance._state.adding or getattr(instance, "is_active", True):
        return False
    try:
        instance._meta.get_field("is_active")
    except FieldDoesNotExist:
        return False  # a user model whose is_active is not a column: it cannot change
    stored = type(instance)._base_manager.using(using).filter(pk=instance.pk, is_active=True)
    return stored.exists()


def _saved(holder: str, instance: models.Model, *, created: bool, update_fields: Any, reason: str) -> None:
    if created:
        return  # a new row has no tokens yet
    if instance.__dict__.pop(_DEACTIVATED, False):
        end_grants(reason=reason, **{holder: instance})
    elif update_fields is None or not set(update_fields) <= UNREMEMBERED_FIELDS:
        revocation_stream.publish_changed(**{holder: instance})


@receiver(pre_save, sender=Client, dispatch_uid="oauth_provider.client_saving")
@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.user_saving")
def holder_saving(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    if _deactivating(instance, using):
        setattr(instance, _DEACTIVATED, True)


@receiver(post_save, sender=Client, dispatch_uid="oauth_provider.client_saved")
def client_saved(
    sender: type[Client], instance: Client, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    _saved(
        "client",
        instance,
        created=created,
        update_fields=update_fields,
        reason=RevocationReason.CLIENT_DEACTIVATED,
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.user_saved")
def user_saved(
    sender: type[models.Model], instance: models.Model, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    _saved(
        "user",
        instance,
        created=created,
        update_fields=update_fields,
        reason=RevocationReason.USER_DEACTIVATED,
    )


# pre_delete: the tokens are deleted with their owner (CASCADE) right after;
# ending them first sends the same not-before as a deactivation.
@receiver(pre_delete, sender=Client, dispatch_uid="oauth_provider.client_deleted")
def client_deleted(sender: type[Client], instance: Client, **kwargs: Any) -> None:
    end_grants(client=instance, reason=RevocationReason.CLIENT_DELETED)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.user_deleted")
def user_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    end_grants(user=instance, reason=RevocationReason.USER_DELETED)


@receiver(post_save, sender=Client, dispatch_uid="oauth_provider.client_origins_saved")
@receiver(post_delete, sender=Client, dispatch_uid="oauth_provider.client_origins_deleted")
def client_origins_changed(sender: type[Client], using: str, **kwargs: Any) -> None:
    """Drop the cached set of origins that CORS preflights pass (``cors``):
    now, and once more after commit, since a preflight in another process
    may rebuild it from the rows as they were before."""
    cors.forget_registered_origins()
    transaction.on_commit(cors.forget_registered_origins, using=using)
