"""``manage.py cleartokens``: delete credentials that can never be used again.

Safe to run (from cron, say) while the site serves traffic. What goes:

* access tokens once expired, revoked or not. A revoked, unexpired one is
  kept: a process that (re)subscribes to the revocation stream loads its
  deny list from these rows, since a JWT access token is valid by its
  signature until it expires;
* refresh tokens once expired, revoked or not. A revoked, unexpired refresh
  token is kept: presenting a rotated token again is how reuse is detected
  and its family revoked (RFC 9700 §4.14.2), so it stays until it could not
  have been used anyway;
* authorization codes once expired, used or not: a used code is kept for
  its (short) lifetime so that a replay still revokes the tokens issued
  from it (RFC 6749 §4.1.2);
* device authorizations once expired, whatever their status: until then a
  polling device is owed its ``access_denied`` or a replay its refusal;
* OpenID Connect sign-ins once nothing of their grant family is live (no
  unexpired, unrevoked token, no unused code or device request), when the
  user has signed out, or else once older than ``REFRESH_TOKEN_EXPIRE_SECONDS``
  (and Django's ``SESSION_COOKIE_AGE``): until then a refresh needs its
  ``auth_time`` for the new ID token (Core §12.2), and a logout of the
  browser session it belongs to needs its ``sid`` to tell the client
  (Back-Channel Logout 1.0 §2.5);
* signing keys no longer published (past ``expires_at``): every token they
  signed has expired, so their private part is of no more use.

Rows are not kept for the sake of their family. A revoked refresh token
presented after its expiry fails with ``invalid_grant`` whether or not its
row is still there; only the defensive revocation of the family is lost, and
only for a replay more than ``REFRESH_TOKEN_EXPIRE_SECONDS`` after the token
was issued. Keeping every rotated token of a live family instead would grow
the table by one row per rotation for as long as the family lives.

Deletion walks each table in primary-key order, newest first,
``--batch-size`` rows per short transaction, so memory stays constant and
no lock is held for long.
Tokens are deleted without loading them (``delete_batch``) unless a
``pre_delete`` or ``post_delete`` receiver listens for them: 200,000
expired access tokens and their refresh tokens take a few seconds
(``python -m benchmarks.cleartokens``).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections, models, transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_delete, pre_delete

from ... import clock, primary
from ...models import AccessToken, AuthorizationCode, DeviceAuthorization, RefreshToken, SignIn, SigningKey
from ...settings import oauth_settings

# What a batch costs is mostly its commit and the index pages it rewrites
# (token hashes and family ids are random, so each row touches its own): on
# SQLite, whose commits are dearest, 10,000 rows take half the time of ten
# batches of 1,000, and still well under a second. See benchmarks/cleartokens.py.
DEFAULT_BATCH_SIZE = 10_000


def deletable(now: datetime) -> list[tuple[type[models.Model], models.Q]]:
    """Each model with the condition under which its rows may go, in deletion order.

    Refresh tokens go before access tokens: an access token's deletion
    updates the refresh token pointing at it (SET_NULL), wasted on a
    refresh token about to go too.
    """
    expired = models.Q(expires_at__lte=now)
    return [
        (RefreshToken, expired),
        (AccessToken, expired),
        (AuthorizationCode, expired),
        (DeviceAuthorization, expired),
        (SignIn, finished_sign_ins(now)),
        (SigningKey, expired),
    ]


def finished_sign_ins(now: datetime) -> models.Q:
    """Sign-ins whose grant family has nothing live left, once signed out or
    older than a refresh token or browser session can live."""
    family = OuterRef("family_id")
    unrevoked = models.Q(family_id=family, revoked_at__isnull=True, expires_at__gt=now)
    unused = models.Q(family_id=family, used_at__isnull=True, expires_at__gt=now)
    live = [
        Exists(AccessToken.objects.filter(unrevoked)),
        Exists(RefreshToken.objects.filter(unrevoked)),
        Exists(AuthorizationCode.objects.filter(unused)),
        Exists(DeviceAuthorization.objects.filter(unused)),
    ]
    age = max(oauth_settings.REFRESH_TOKEN_EXPIRE_SECONDS, settings.SESSION_COOKIE_AGE)
    over = models.Q(ended_at__isnull=False) | models.Q(created_at__lte=now - timedelta(seconds=age))
    return models.Q(*(~exists for exists in live)) & over


def nulled_on_delete(model: type[models.Model], using: str) -> list[models.ForeignKey] | None:
    """The foreign keys to ``model`` that deleting its rows sets to NULL, when
    that is all it involves; None when it needs Django's deletion collector.

    The collector loads every row it deletes as a model instance (to send
    ``pre_delete``/``post_delete``, to follow cascades): most of what
    deleting a token cost. It is needed only when someone listens to those
    signals or a relation does more than SET_NULL (CASCADE, PROTECT, a
    custom ``on_delete``, a parent link, a generic relation); DO_NOTHING
    relations are left to the database, as the collector leaves them. The
    foreign keys are set to NULL after the DELETE (``delete_batch``), so
    the database must check constraints at commit, as Django creates them
    on SQLite and PostgreSQL.
    """
    if pre_delete.has_listeners(model) or post_delete.has_listeners(model):
        return None
    if not connections[using].features.can_defer_constraint_checks:
        return None
    opts = model._meta
    if opts.concrete_model._meta.parents or any(
        hasattr(field, "bulk_related_objects") for field in opts.private_fields
    ):
        return None
    # The relations the collector follows (Django's get_candidate_relations_to_delete).
    relations = [
        field
        for field in opts.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_one or field.one_to_many)
    ]
    if any(rel.on_delete is not models.DO_NOTHING and not nulls_pk(rel) for rel in relations):
        return None
    return [rel.field for rel in relations if rel.on_delete is models.SET_NULL]


def nulls_pk(rel: models.ForeignObjectRel) -> bool:
    """A SET_NULL foreign key to its model's primary key."""
    return rel.on_delete is models.SET_NULL and rel.field.target_field == rel.model._meta.pk


def delete_batch(rows: models.QuerySet, nulled: list[models.ForeignKey], low: Any, high: Any) -> int:
    """Delete ``rows`` (their primary keys between ``low`` and ``high``),
    then set to NULL the ``nulled`` foreign keys left pointing at nothing;
    return how many rows went. Call it in a transaction.

    What the collector would do, without loading a row: one DELETE, and
    one UPDATE per foreign key. The UPDATE comes after so that it misses
    no row the DELETE took, even one revoked in between, and skips those
    that went in the same DELETE (a rotated refresh token and the one it
    replaced); until it runs, the references are dangling, which deferred
    constraints allow within the transaction.
    """
    model, using = rows.model, rows.db
    # The collector's own DELETE for rows nothing else depends on (what
    # QuerySet.delete() runs when it can skip the collector).
    deleted = rows._raw_delete(using)
    for field in nulled:
        # The range lets the database find them by the foreign key's index.
        gone = ~Exists(model._base_manager.using(using).filter(pk=OuterRef(field.attname)))
        dangling = field.model._base_manager.using(using).filter(
            gone, **{f"{field.attname}__gte": low, f"{field.attname}__lte": high}
        )
        dangling.update(**{field.attname: None})
    return deleted


def delete_in_batches(model: type[models.Model], condition: models.Q, batch_size: int) -> int:
    """Delete ``model`` rows matching ``condition``, ``batch_size`` at a time; return how many.

    Primary keys are read in descending order from where the last batch
    stopped, so each batch costs an index range scan however many rows
    precede it, and a row referring to an older one of the same table (a
    rotated refresh token to the one it replaced) has gone before it, so
    its reference need not be set to NULL. Each batch is then the range
    from its lowest to its highest primary key, deleted in one short
    transaction with the condition re-applied: every condition only ever
    becomes true for a row (a token is never un-revoked, ``now`` is
    fixed), so a row of the range that became deletable in between merely
    goes too.

    Where ``nulled_on_delete`` allows, a batch is one DELETE and one UPDATE
    per foreign key to the model (``delete_batch``); else ``QuerySet.delete()``,
    signals and all.
    """
    using = primary.alias(model)
    rows = model._default_manager.using(using).filter(condition)
    nulled = nulled_on_delete(model, using)
    label = model._meta.label
    deleted = 0
    last_pk: Any = None
    while True:
        batch = rows if last_pk is None else rows.filter(pk__lt=last_pk)
        # Read before the transaction, which then starts with its first
        # write: SQLite waits for a busy lock then, not after a read.
        pks = list(batch.order_by("-pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        # The range rather than the list: a thousand parameters cost more
        # to send and plan than the rows cost to delete.
        low, high = pks[-1], pks[0]
        doomed = batch.filter(pk__gte=low, pk__lte=high)
        with transaction.atomic(using=using):
            if nulled is None:
                deleted += doomed.delete()[1].get(label, 0)
            else:
                deleted += delete_batch(doomed, nulled, low, high)
        last_pk = low


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return number


class Command(BaseCommand):
    help = (
        "Delete expired or revoked access tokens, expired refresh tokens, expired authorization "
        "codes and expired device authorizations, finished sign-ins and signing keys no longer "
        "published, in batches. Revoked refresh tokens and used codes are kept until they expire: "
        "a replay of one still revokes its token family."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows deleted per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the rows that would be deleted."
        )

    def handle(self, *args: Any, batch_size: int, dry_run: bool, **options: Any) -> None:
        # One instant for the whole run, so every table is cut at the same time.
        now = clock.now()
        for model, condition in deletable(now):
            if dry_run:
                count = model._default_manager.filter(condition).count()
                verb = "Would delete"
            else:
                count = delete_in_batches(model, condition, batch_size)
                verb = "Deleted"
            opts = model._meta
            name = opts.verbose_name if count == 1 else opts.verbose_name_plural
            self.stdout.write(f"{verb} {count} {name}.")
