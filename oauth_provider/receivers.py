"""Signal receivers that keep the token cache (``TOKEN_CACHE``) and the CORS
origins (``cors.registered_origins``) truthful.

A cached access token carries its client and user, so a change to either
must reach every process at once: a deactivated user or client, or a
deleted one, is refused on the very next request (RFC 6750 §3.1
``invalid_token``), not when the cache entry times out. Saving or deleting a
client or user marks its live tokens stale (see ``token_cache``).

``QuerySet.update()`` and ``bulk_update()`` send no signals: after changing
clients or users that way, call ``invalidate_tokens(client=...)`` or
``invalidate_tokens(user=...)`` for each, and ``cors.forget_registered_origins()``
once.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import clock, cors, primary, token_cache
from .models import AccessToken, Client
from .settings import oauth_settings

# Hashes sent to the cache per call, so a client with many live tokens costs
# bounded memory.
CHUNK_SIZE = 1000


def invalidate_tokens(**owner: models.Model) -> None:
    """Mark stale every cached copy of the live access tokens of ``client=`` or ``user=``."""
    if not oauth_settings.TOKEN_CACHE:
        return
    # From the primary: a token issued a moment ago may be cached already.
    hashes = (
        AccessToken.objects.using(primary.alias(AccessToken))
        .filter(**owner, revoked_at__isnull=True, expires_at__gt=clock.now())
        .values_list("token_hash", flat=True)
    )
    chunk: list[str] = []
    for token_hash in hashes.iterator(chunk_size=CHUNK_SIZE):
        chunk.append(token_hash)
        if len(chunk) == CHUNK_SIZE:
            token_cache.invalidate(chunk)
            chunk = []
    token_cache.invalidate(chunk)


def _invalidate_saved(owner: dict[str, models.Model], *, created: bool, using: str) -> None:
    if created:
        return  # a new row has no tokens yet
    invalidate_tokens(**owner)
    if transaction.get_connection(using).in_atomic_block:
        # Once more after commit: a token issued, read and cached by another
        # process between the first pass and the commit still carries the old
        # client or user, and the first pass could not see it.
        transaction.on_commit(functools.partial(invalidate_tokens, **owner), using=using)


@receiver(post_save, sender=Client, dispatch_uid="oauth_provider.client_saved")
def client_saved(sender: type[Client], instance: Client, created: bool, using: str, **kwargs: Any) -> None:
    _invalidate_saved({"client": instance}, created=created, using=using)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.user_saved")
def user_saved(
    sender: type[models.Model], instance: models.Model, created: bool, using: str, **kwargs: Any
) -> None:
    _invalidate_saved({"user": instance}, created=created, using=using)


# pre_delete, not post_delete: the tokens are deleted with their owner (CASCADE),
# and their hashes are needed while the rows still exist.
@receiver(pre_delete, sender=Client, dispatch_uid="oauth_provider.client_deleted")
def client_deleted(sender: type[Client], instance: Client, **kwargs: Any) -> None:
    invalidate_tokens(client=instance)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="oauth_provider.user_deleted")
def user_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    invalidate_tokens(user=instance)


@receiver(post_save, sender=Client, dispatch_uid="oauth_provider.client_origins_saved")
@receiver(post_delete, sender=Client, dispatch_uid="oauth_provider.client_origins_deleted")
def client_origins_changed(sender: type[Client], using: str, **kwargs: Any) -> None:
    """Drop the cached set of origins that CORS preflights pass (``cors``):
    now, and once more after commit, since a preflight in another process
    may rebuild it from the rows as they were before."""
    cors.forget_registered_origins()
    transaction.on_commit(cors.forget_registered_origins, using=using)
