"""The events on the stream: small JSON objects, one per message.

    {"type": "revoked", "tokens": [["<token hash>", <exp>], ...]}
    {"type": "not_before", "at": <t>, "until": <t>, "client_id": "<public client_id>"}
    {"type": "not_before", "at": <t>, "until": <t>, "user": "<pk>", "subs": ["<sub>", ...]}
    {"type": "changed", "client_id": "<public client_id>"}   (or "user": "<pk>")
    {"type": "ping"}

Times are Unix seconds. ``revoked`` denies tokens by hash until their
``exp``; ``not_before`` refuses every token of a client, or of a user (known
by primary key to opaque tokens and by ``sub`` to JWTs), issued before
``at``, until ``until`` (when the longest-lived such token has expired);
``changed`` drops remembered rows of a client or user whose fields changed
without revoking anything (say ``is_staff``); ``ping`` is a listener's
heartbeat (``listener``). Lists are cut into messages of ``CHUNK`` entries:
a PostgreSQL NOTIFY payload must stay under 8000 bytes, and a hash entry
takes about 80.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .state import CLIENT, SUB, USER, State

CHUNK = 64


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


def revoked(tokens: Iterable[tuple[str, float]]) -> Iterator[str]:
    """``revoked`` messages for ``(token hash, exp)`` pairs, ``CHUNK`` to a message."""
    tokens = list(tokens)
    for start in range(0, len(tokens), CHUNK):
        yield encode({"type": "revoked", "tokens": tokens[start : start + CHUNK]})


def not_before(
    *,
    at: float,
    until: float,
    client_id: str | None = None,
    user: str | None = None,
    subs: Iterable[str] = (),
) -> Iterator[str]:
    """``not_before`` messages for a client, or for a user and its ``subs``."""
    if client_id is not None:
        yield encode({"type": "not_before", "at": at, "until": until, CLIENT: client_id})
    if user is not None:
        subs = list(subs)
        for start in range(0, max(len(subs), 1), CHUNK):
            yield encode(
                {
                    "type": "not_before",
                    "at": at,
                    "until": until,
                    USER: user,
                    "subs": subs[start : start + CHUNK],
                }
            )


def changed(*, client_id: str | None = None, user: str | None = None) -> str:
    holder = {CLIENT: client_id} if client_id is not None else {USER: user}
    return encode({"type": "changed", **holder})


PING = encode({"type": "ping"})


def apply(state: State, message: str | bytes) -> None:
    """Apply one message to ``state``. Raises ``ValueError`` (``KeyError``
    and ``TypeError`` included) for a message this code did not write."""
    event = json.loads(message)
    kind = event["type"]
    if kind == "revoked":
        state.deny((str(token_hash), float(exp)) for token_hash, exp in event["tokens"])
    elif kind == "not_before":
        client_id, user = event.get(CLIENT), event.get(USER)
        holders = [(CLIENT, str(client_id))] if client_id is not None else []
        if user is not None:
            holders += [(USER, str(user)), *((SUB, str(sub)) for sub in event.get("subs", ()))]
        state.set_not_before(holders, float(event["at"]), float(event["until"]))
        state.forget_holders(client_id=client_id, user_pk=user)
    elif kind == "changed":
        state.forget_holders(client_id=event.get(CLIENT), user_pk=event.get(USER))
    elif kind != "ping":
        raise ValueError(f"unknown event type {kind!r}")
