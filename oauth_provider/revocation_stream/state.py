"""What one process knows about revocations, and the token rows it keeps.

Three things, all in memory, all for this process only:

- the deny list: hashes of revoked access tokens, each kept until the
  token's own expiry (after which the token is refused for expiring anyway);
- not-before times per public ``client_id``, per user primary key and per
  ``sub``: a token of that holder issued before the time is revoked, which
  ends any number of tokens (a password change, a deactivated client) with
  one small event instead of a list;
- a bounded LRU of validated access token rows (``remember``/``cached``),
  each kept no longer than the token's expiry nor ``IN_PROCESS_CACHE_SECONDS``,
  and dropped when an event names the token or its holder.

The listener thread writes, request threads read. Reads of the deny list
and not-before maps are single dictionary lookups (atomic under the GIL);
the maps are replaced, never pruned in place, so a reader never sees one
changing size under it. The LRU reorders on every hit and takes a lock.

Times are Unix seconds (floats) read from ``clock.now()``, so tests can move
the clock; the LRU's ``IN_PROCESS_CACHE_SECONDS`` counts on the same clock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import clock

Row = tuple[Any, ...]
# The holders a not-before time can be set for (the keys of ``NotBefore`` events).
CLIENT, USER, SUB = "client_id", "user", "sub"


@dataclass(frozen=True, slots=True)
class Entry:
    """A remembered row: usable until ``deadline`` (Unix seconds); ``client_id``
    and ``user_pk`` (a string, or None) say whose, so that an event about a
    client or a user can drop it. None for both: dropped by any such event."""

    row: Row
    deadline: float
    client_id: str | None
    user_pk: str | None

    def belongs_to(self, client_id: str | None, user_pk: str | None) -> bool:
        if self.client_id is None and self.user_pk is None:
            return True
        return (client_id is not None and self.client_id == client_id) or (
            user_pk is not None and self.user_pk == user_pk
        )


def now() -> float:
    return clock.now().timestamp()


class State:
    """One process's deny list, not-before times and remembered rows.

    ``max_rows`` bounds the LRU (``IN_PROCESS_CACHE_MAX_TOKENS``);
    ``max_seconds`` bounds each row's stay (``IN_PROCESS_CACHE_SECONDS``);
    ``grace`` is how long past its ``exp`` a token may still be accepted (a
    JWT's leeway, ``ACCESS_TOKEN_LEEWAY_SECONDS``): revocations are kept
    that much longer.
    """

    def __init__(self, *, max_rows: int, max_seconds: float, grace: float = 0) -> None:
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self.grace = grace
        self.denied: dict[str, float] = {}  # token hash -> its expiry
        # (CLIENT | USER | SUB, value) -> (not before, kept until)
        self.not_before: dict[tuple[str, str], tuple[float, float]] = {}
        self.rows: OrderedDict[str, Entry] = OrderedDict()
        # How many times rows were forgotten for a change: a row read before
        # one must not be remembered after it (``remember``'s ``seen``).
        self.forgotten = 0
        self.lock = threading.Lock()

    # -- Revocations ------------------------------------------------------------------------

    def deny(self, tokens: Iterable[tuple[str, float]]) -> None:
        """Add ``(token hash, expiry)`` pairs to the deny list and forget their rows."""
        tokens = list(tokens)
        self.denied.update(tokens)
        with self.lock:
            for token_hash, _exp in tokens:
                self.rows.pop(token_hash, None)

    def set_not_before(self, holders: Iterable[tuple[str, str]], at: float, until: float) -> None:
        """Refuse the tokens of these ``(kind, value)`` holders issued before
        ``at``, until ``until`` (when every such token has expired)."""
        for holder in holders:
            earlier = self.not_before.get(holder)
            if earlier is None or earlier[0] < at:
                self.not_before[holder] = (at, max(until, earlier[1] if earlier else until))

    def is_revoked(
        self, *, token_hash: str, issued_at: datetime, client_id: str, user_pk: Any, sub: str | None
    ) -> bool:
        """Whether the token with this hash, issued at ``issued_at`` to
        ``client_id`` for user ``user_pk`` (None: client-only) and known as
        ``sub`` (None: unknown), was revoked by an event this process heard."""
        if token_hash in self.denied:
            return True
        if not self.not_before:
            return False
        issued = issued_at.timestamp()
        holders = [(CLIENT, client_id)]
        if user_pk is not None:
            holders.append((USER, str(user_pk)))
        if sub:
            holders.append((SUB, sub))
        for holder in holders:
            entry = self.not_before.get(holder)
            if entry is not None and issued < entry[0]:
                return True
        return False

    def prune(self) -> None:
        """Drop deny list entries and not-before times that can no longer
        refuse anything (their tokens have expired)."""
        moment = now() - self.grace
        self.denied = {token_hash: exp for token_hash, exp in self.denied.items() if exp > moment}
        self.not_before = {holder: entry for holder, entry in self.not_before.items() if entry[1] > moment}

    def load_denied(self, tokens: Iterable[tuple[str, float]]) -> None:
        """Replace the deny list by ``tokens`` plus whatever events added
        meanwhile (a resynchronisation: see ``listener``)."""
        loaded = dict(tokens)
        loaded.update(self.denied)
        self.denied = loaded

    # -- Remembered rows --------------------------------------------------------------------

    def cached(self, token_hash: str) -> Row | None:
        """The row remembered for this hash, unless gone, past its deadline or denied."""
        with self.lock:
            entry = self.rows.get(token_hash)
            if entry is None:
                return None
            if entry.deadline <= now() or token_hash in self.denied:
                del self.rows[token_hash]
                return None
            self.rows.move_to_end(token_hash)
            return entry.row

    def remember(
        self,
        token_hash: str,
        row: Row,
        expires_at: datetime,
        *,
        client_id: str | None = None,
        user_pk: Any = None,
        seen: int | None = None,
    ) -> None:
        """Keep ``row`` until ``expires_at`` or ``max_seconds`` from now,
        whichever is first; the least recently used row goes when full.
        ``seen``: ``forgotten`` when the row was read; if rows were forgotten
        since, the row may predate that change and is not kept."""
        moment = now()
        deadline = min(expires_at.timestamp(), moment + self.max_seconds)
        if deadline <= moment or token_hash in self.denied:
            return
        entry = Entry(row, deadline, client_id, None if user_pk is None else str(user_pk))
        with self.lock:
            if seen is not None and seen != self.forgotten:
                return
            self.rows[token_hash] = entry
            self.rows.move_to_end(token_hash)
            while len(self.rows) > self.max_rows:
                self.rows.popitem(last=False)

    def forget_holders(self, *, client_id: str | None = None, user_pk: str | None = None) -> None:
        """Drop the rows of this client or user (and those remembered without a holder)."""
        with self.lock:
            self.forgotten += 1
            for token_hash in [h for h, entry in self.rows.items() if entry.belongs_to(client_id, user_pk)]:
                del self.rows[token_hash]

    def forget_rows(self) -> None:
        with self.lock:
            self.forgotten += 1
            self.rows.clear()
