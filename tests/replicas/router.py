"""The router of the read-replica tests, as a site with one replica would write it."""

from __future__ import annotations

from typing import Any

PRIMARY = "primary"
REPLICA = "replica"
# Read where they are written: a session is read back on the very next request.
READ_FROM_PRIMARY = frozenset({"sessions"})


class PrimaryReplicaRouter:
    """Reads from ``replica``, writes to ``primary``.

    ``primary`` is not ``default`` (both name the primary server, on two
    connections): a transaction opened on ``default`` by code that should
    have asked the routers does not cover the writes, and a row lock taken
    outside it fails ("select_for_update cannot be used outside of a
    transaction"), so the tests catch it.
    """

    def db_for_read(self, model: type, **hints: Any) -> str:
        return PRIMARY if model._meta.app_label in READ_FROM_PRIMARY else REPLICA

    def db_for_write(self, model: type, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Every alias holds the same data.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == "default"
