"""Optional cache of access token lookups for protected APIs (``TOKEN_CACHE``).

A cached lookup costs no query. Entries are the token's row as ``bearer``
reads it (plain values, without the user's password hash), keyed by the
token's hash (never its value) and live at most ``TOKEN_CACHE_TIMEOUT_SECONDS``, never past the
token's expiry. Each entry carries the fingerprint of its row's layout
(``compiled_lookup.Layout``) and is used only by code that reads that layout:
during a deploy that adds, removes or reorders the user's or token's columns,
the old and new code share the cache, and each takes the other's entries for
misses (a query) instead of building an instance from values meant for other
columns. The layout is in the entry, not the key, so that one marker per token
still reaches every version's reader (below). Revocation does not delete an entry but overwrites it with a
marker that means "ask the database": entries are only ever written with
``cache.add``, so a process that read the token just before it was revoked
cannot put the stale row back. With a shared cache (Redis) revocation,
rotation and deactivation therefore take effect at once in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.cache import BaseCache, caches

from . import clock
from .settings import oauth_settings

KEY_PREFIX = "oauth_provider:token:"
# Stored in place of a token whose cached copy must no longer be used.
STALE = "stale"


def _cache() -> BaseCache | None:
    alias = oauth_settings.TOKEN_CACHE
    return caches[alias] if alias else None


def _key(token_hash: str) -> str:
    return KEY_PREFIX + token_hash


def get(token_hash: str, layout: str) -> tuple[Any, ...] | None:
    """The cached row of the token with this hash (see ``bearer``), if the
    cache is on and holds a usable copy written for ``layout`` (a fingerprint)."""
    cache = _cache()
    if cache is None:
        return None
    entry = cache.get(_key(token_hash))
    # A dict, so that code from before layouts existed (which took any tuple
    # for a row) reads it as a miss too.
    if isinstance(entry, dict) and entry.get("layout") == layout:
        return entry["row"]
    return None


def add(token_hash: str, layout: str, row: tuple[Any, ...], expires_at: datetime) -> None:
    """Cache a token's row of ``layout`` just read from the database (unless
    an entry is already there: a stale marker, or another layout's row)."""
    cache = _cache()
    if cache is None:
        return
    remaining = int((expires_at - clock.now()).total_seconds())
    timeout = min(remaining, oauth_settings.TOKEN_CACHE_TIMEOUT_SECONDS)
    if timeout > 0:
        cache.add(_key(token_hash), {"layout": layout, "row": row}, timeout)


def invalidate(token_hashes: Iterable[str]) -> None:
    """Make every process go back to the database for these tokens."""
    cache = _cache()
    hashes = list(token_hashes)
    if cache is None or not hashes:
        return
    cache.set_many(
        {_key(token_hash): STALE for token_hash in hashes}, oauth_settings.TOKEN_CACHE_TIMEOUT_SECONDS
    )
