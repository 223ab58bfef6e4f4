"""A bounded, expiring, thread-safe map kept in this process's memory, for
what the resource server learnt about tokens (introspection answers,
verified JWT claims), keyed by the token's hash: never the token itself."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

# Entries kept per map, at most; a token's claims or answer is a few hundred bytes.
MAX_ENTRIES = 10_000


class ExpiringCache:
    """Values by token hash, each with the moment it stops being used; past
    ``max_entries``, the least recently used is dropped."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Any, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token_hash: str, now: datetime) -> Any | None:
        """The value kept for ``token_hash`` until after ``now``, else None."""
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None:
                return None
            if now >= entry[1]:
                del self._entries[token_hash]
                return None
            self._entries.move_to_end(token_hash)
            return entry[0]

    def put(self, token_hash: str, value: Any, until: datetime) -> None:
        with self._lock:
            self._entries[token_hash] = (value, until)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
