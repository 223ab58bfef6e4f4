"""Placeholder until the revocation stream lands: no stream, so nothing is trusted."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def trusted() -> bool:
    return False


def is_revoked(
    *, token_hash: str, issued_at: datetime, client_id: str, user_pk: Any, sub: str | None
) -> bool:
    return True


def cached(token_hash: str) -> tuple | None:
    return None


def remember(token_hash: str, row: tuple, expires_at: datetime) -> None:
    return None
