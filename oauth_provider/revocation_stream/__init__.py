"""Revocation that reaches every process (``REVOCATION_STREAM``).

Each process keeps a deny list of revoked token hashes, not-before times per
client, user and ``sub``, and a bounded LRU of validated opaque token rows
(``state``), kept in step by a listener thread subscribed to Redis pub/sub
or PostgreSQL LISTEN/NOTIFY (``engines``, ``listener``). ``bearer`` uses it:

    if revocation_stream.trusted():
        row = revocation_stream.cached(token_hash)          # None: look it up
        ...
        revocation_stream.is_revoked(token_hash=..., issued_at=..., client_id=..., user_pk=..., sub=...)
        revocation_stream.remember(token_hash, row, expires_at, client_id=..., user_pk=...)

and ``revocation`` publishes: ``publish_revoked`` (token hashes) and
``publish_not_before`` (a client, or a user with its subjects).

Without a stream (``REVOCATION_STREAM`` None) nothing is kept: ``trusted``
is always False and every token is checked against the database. A process
whose subscription is lost is not trusted until it has resynchronised
(``listener``): fail closed, never stale.

State belongs to a process: it is keyed by ``os.getpid()``, so a worker
forked from a parent that had started a listener (gunicorn ``--preload``)
starts its own instead of trusting a copy nobody updates.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.signals import setting_changed
from django.db import models, router, transaction
from django.dispatch import receiver

from .. import clock
from ..settings import oauth_settings
from . import events
from .engines import Engine, PostgresEngine, RedisEngine
from .listener import Listener
from .state import Row, State

REDIS = "redis"
POSTGRESQL = "postgresql"
ENGINES = (REDIS, POSTGRESQL)
DEFAULT_CHANNEL = "oauth_provider_revocations"
DEFAULT_HEARTBEAT_SECONDS = 1.0


@dataclass(frozen=True)
class Stream:
    """This process's state and the listener keeping it."""

    pid: int
    state: State
    listener: Listener


_lock = threading.Lock()
_stream: Stream | None = None
_engine: Engine | None = None  # to publish on; made again when the settings change


def make_engine(config: dict[str, Any]) -> Engine:
    """The engine ``REVOCATION_STREAM`` (checked by ``checks``) names."""
    channel = config.get("CHANNEL", DEFAULT_CHANNEL)
    if config["ENGINE"] == REDIS:
        return RedisEngine(config["LOCATION"], channel)
    return PostgresEngine(config.get("DATABASE", "default"), channel)


def engine() -> Engine | None:
    """The engine to publish on; None without a stream. Publishing starts no listener."""
    global _engine
    config = oauth_settings.REVOCATION_STREAM
    if not config:
        return None
    if _engine is None:
        _engine = make_engine(config)
    return _engine


def stream() -> Stream | None:
    """This process's stream, its listener started on first need; None without one."""
    global _stream
    current = _stream
    if current is not None and current.pid == os.getpid():
        return current
    if not oauth_settings.REVOCATION_STREAM:
        return None
    with _lock:
        if _stream is None or _stream.pid != os.getpid():
            config = oauth_settings.REVOCATION_STREAM
            state = State(
                max_rows=oauth_settings.IN_PROCESS_CACHE_MAX_TOKENS,
                max_seconds=oauth_settings.IN_PROCESS_CACHE_SECONDS,
                grace=_setting("ACCESS_TOKEN_LEEWAY_SECONDS", 0),
            )
            listener = Listener(
                make_engine(config),
                state,
                heartbeat=config.get("HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS),
            )
            _stream = Stream(os.getpid(), state, listener)
            listener.start()
        return _stream


def stop() -> None:
    """Stop this process's listener and forget its state (settings changed)."""
    global _stream, _engine
    with _lock:
        if _stream is not None and _stream.pid == os.getpid():
            _stream.listener.stop()
        _stream = None
        _engine = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "OAUTH_PROVIDER":
        stop()


# -- What bearer asks ----------------------------------------------------------------------


def trusted() -> bool:
    """Whether this process's state is subscribed, resynchronised and hearing
    its heartbeat, so that a remembered row or a local JWT check needs no
    database. Starts the listener on first call; False until it is ready."""
    current = stream()
    return current is not None and current.listener.trusted()


def heard_since(moment: datetime) -> bool:
    """Whether this process is trusted and heard every event sent since
    ``moment``: a token issued before its subscription must be checked
    against the database once (then ``remember`` it), since its holder may
    have been deleted, rows and all, with an event this process never heard."""
    current = stream()
    return current is not None and current.listener.heard_since(moment.timestamp())


def is_revoked(
    *, token_hash: str, issued_at: datetime, client_id: str, user_pk: Any, sub: str | None
) -> bool:
    """Whether an event revoked this token: its hash is denied, or it was
    issued before a not-before time of its client (public ``client_id``),
    its user (``user_pk``, None for a client-only token) or its ``sub``.
    Meaningful only while ``trusted()``; False without a stream."""
    current = stream()
    return current is not None and current.state.is_revoked(
        token_hash=token_hash, issued_at=issued_at, client_id=client_id, user_pk=user_pk, sub=sub
    )


def cached(token_hash: str) -> Row | None:
    """The row remembered for this token hash while trusted; None otherwise.
    A hit is never a denied token, but the caller must still ask
    ``is_revoked`` (not-before times) and check expiry and activity."""
    current = stream()
    if current is None or not current.listener.trusted():
        return None
    return current.state.cached(token_hash)


def forgotten() -> int:
    """A count of the changes that dropped remembered rows: read it before
    reading a row from the database, and pass it to ``remember`` as ``seen``."""
    current = stream()
    return 0 if current is None else current.state.forgotten


def remember(
    token_hash: str,
    row: Row,
    expires_at: datetime,
    *,
    client_id: str | None = None,
    user_pk: Any = None,
    seen: int | None = None,
) -> None:
    """Keep ``row`` (validated just now) until ``expires_at``, at most
    ``IN_PROCESS_CACHE_SECONDS``; only while trusted. ``client_id`` (public)
    and ``user_pk`` say whose it is, so a change to that client or user drops
    only its rows (without them, any such change drops it). ``seen``:
    ``forgotten()`` before the row was read; a change heard since (a user's
    ``is_staff``, say) may not be in the row, which is then not kept."""
    current = stream()
    if current is not None and current.listener.trusted():
        current.state.remember(token_hash, row, expires_at, client_id=client_id, user_pk=user_pk, seen=seen)


# -- What revocation publishes ---------------------------------------------------------------


def _send(messages: list[str], using: str | None) -> None:
    """Send ``messages`` on the stream and apply them here, both when the
    transaction on ``using`` (default: where access tokens are written) commits."""
    current_engine = engine()
    if current_engine is None or not messages:
        return
    from ..models import AccessToken  # not at import: this package imports no model (see listener)

    using = using or router.db_for_write(AccessToken)
    current_engine.send(messages, using=using)
    # This process too, at commit rather than when its own event comes
    # back: its next request must not answer from a remembered row.
    transaction.on_commit(lambda: _apply_here(messages), using=using)


def _apply_here(messages: list[str]) -> None:
    current = _stream
    if current is not None and current.pid == os.getpid():
        for message in messages:
            events.apply(current.state, message)


def publish_revoked(tokens: Iterable[Any], *, using: str | None = None) -> None:
    """Deny these access tokens (rows with ``token_hash`` and ``expires_at``) in every process."""
    _send(list(events.revoked((token.token_hash, token.expires_at.timestamp()) for token in tokens)), using)


def not_before_time() -> tuple[float, float]:
    """``(at, until)`` for a not-before set now: ``at`` in whole seconds, as a
    JWT's ``iat`` is (a token issued later in the same second must pass; the
    caller denies by hash those issued earlier in it), and ``until`` when the
    longest-lived access token issued before it has expired."""
    moment = clock.now().timestamp()
    return float(math.floor(moment)), moment + longest_access_token_lifetime()


def _setting(name: str, default: int) -> int:
    """A setting of JWT access tokens (helper ``jwt``), or ``default`` where
    this release has none."""
    return getattr(oauth_settings, name) if name in oauth_settings.defaults else default


def longest_access_token_lifetime() -> int:
    """Seconds: the longest any access token may live under the settings."""
    lifetimes = [oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS, _setting("JWT_ACCESS_TOKEN_EXPIRE_SECONDS", 0)]
    for resource in (oauth_settings.RESOURCES or {}).values():
        if isinstance(resource, dict) and resource.get("access_token_expire_seconds"):
            lifetimes.append(resource["access_token_expire_seconds"])
    return max(lifetimes)


def publish_not_before(
    *, client: Any = None, user: Any = None, subs: Iterable[str] = (), using: str | None = None
) -> float | None:
    """Refuse, in every process, the tokens of ``client`` (a ``Client`` or its
    public ``client_id``) or of ``user`` (a user or its primary key; known to
    JWTs by ``subs``) issued before now. Returns the not-before time (Unix
    seconds, whole), or None without a stream."""
    if engine() is None:
        return None
    at, until = not_before_time()
    messages = list(
        events.not_before(at=at, until=until, client_id=_client_id(client), user=_user_pk(user), subs=subs)
    )
    _send(messages, using)
    return at


def publish_changed(*, client: Any = None, user: Any = None, using: str | None = None) -> None:
    """Drop, in every process, the remembered rows of ``client`` or ``user``
    (as for ``publish_not_before``), whose fields changed: nothing is revoked."""
    if engine() is None:
        return
    if client is not None:
        _send([events.changed(client_id=_client_id(client))], using)
    if user is not None:
        _send([events.changed(user=_user_pk(user))], using)


def _client_id(client: Any) -> str | None:
    return client if client is None or isinstance(client, str) else client.client_id


def _user_pk(user: Any) -> str | None:
    if user is None:
        return None
    return str(user.pk if isinstance(user, models.Model) else user)
