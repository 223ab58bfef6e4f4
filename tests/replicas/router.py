"""The router of the read-replica tests, as a site with one replica would write it."""

from __future__ import annotations

from typing import Any


class PrimaryReplicaRouter:
    """Reads from ``replica``, writes to ``default`` (the primary)."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: type, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Both aliases hold the same data.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == "default"
