"""The primary database: where a model's writes go, and the reads that must
see them.

Django's routers may send reads to a replica (``router.db_for_read``), which
can lag behind the primary. Whatever writes, locks rows, or reads to decide a
write (a code's redemption, a consent's update) uses the alias the routers
choose for writing (``router.db_for_write``) explicitly, and its transactions
are opened on that alias, which need not be ``default``. Without routers
both are ``default``.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from types import TracebackType
from typing import Any, TypeVar

from django.db import models, router, transaction

M = TypeVar("M", bound=Any)


def alias(model: type[models.Model]) -> str:
    """The database alias ``model``'s writes go to."""
    return router.db_for_write(model)


class Atomic(ContextDecorator):
    """``transaction.atomic`` on the alias ``model``'s writes go to, asked of
    the routers on entering (not when decorating, at import time)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.blocks: list[transaction.Atomic] = []  # one per nested entry

    def _recreate_cm(self) -> Atomic:
        # As a decorator: a fresh one per call, so recursive calls nest.
        return Atomic(self.model)

    def __enter__(self) -> None:
        block = transaction.atomic(using=alias(self.model))
        block.__enter__()
        self.blocks.append(block)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.blocks.pop().__exit__(kind, error, traceback)


def atomic(model: type[models.Model]) -> Atomic:
    """A transaction (or savepoint) on the database ``model``'s writes go to,
    as a context manager or a decorator."""
    return Atomic(model)


def first_or_from_primary(queryset: models.QuerySet[M]) -> M | None:
    """``queryset.first()`` where the routers send its reads and, if that
    finds nothing and is not the primary, once more on the primary: a row
    written a moment ago may not have reached a replica yet. For lookups by
    a unique key (``compiled_lookup`` does the same for its own)."""
    found = queryset.first()
    write_alias = alias(queryset.model)
    if found is None and queryset.db != write_alias:
        found = queryset.using(write_alias).first()
    return found
