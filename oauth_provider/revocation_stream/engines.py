"""The two messaging engines: Redis pub/sub and PostgreSQL LISTEN/NOTIFY.

Each engine sends a revocation's messages (``send``) and opens a
subscription for a process's listener (``subscribe``). A subscription hears
the shared channel and a private ping channel of its own: the listener's
heartbeat goes there, so a heartbeat proves this process's subscription
end to end without every process hearing every other's pings.

The trade-off between them (README, "Revocation that reaches every process"):

- PostgreSQL: NOTIFY is transactional. It is sent inside the revoking
  transaction, on the database that holds the tokens, so it is delivered if
  and only if the revocation commits, and never before: no event is lost to
  a process dying between commit and publish, and none announces a
  revocation that was rolled back. Costs: one listening connection per
  process (mind ``max_connections`` and transaction-mode poolers, which do
  not support LISTEN), and committing transactions that notified are
  serialised on the server's notification queue.
- Redis: publishing is not transactional, so it happens after commit
  (``transaction.on_commit``); a process dying in between loses the event,
  and other processes then keep refusing-by-database only what they look
  up (a remembered row lives on for up to ``IN_PROCESS_CACHE_SECONDS``, a
  JWT until its expiry). Costs nothing on the database.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

from django.db import connections, transaction

from .events import PING

# Options of a Django PostgreSQL DATABASES entry that are Django's, not libpq's.
DJANGO_DATABASE_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "pool", "assume_role", "cursor_factory", "prepare_threshold"}
)
# How the listening connections are named on the server (Redis CLIENT LIST,
# PostgreSQL pg_stat_activity.application_name): an operator can see them.
CONNECTION_NAME = "oauth_provider-revocations"
# Seconds a revoking request waits for Redis, at most, to connect or to publish.
PUBLISH_TIMEOUT_SECONDS = 5


class SubscriptionLost(Exception):
    """The subscription ended or can no longer be trusted (a reconnection
    we did not make, silence): the listener must start again."""


class Subscription(Protocol):
    def messages(self, timeout: float) -> Iterator[str]:
        """The payloads received within ``timeout`` seconds (0: those already here).
        Raises the engine's connection errors, or ``SubscriptionLost``."""

    def ping(self) -> None:
        """Send a heartbeat to this subscription's own ping channel."""

    def close(self) -> None: ...


class Engine(Protocol):
    channel: str

    def send(self, messages: list[str], *, using: str) -> None:
        """Send ``messages`` to every process once the revoking transaction on
        database ``using`` commits (at once outside a transaction)."""

    def subscribe(self) -> Subscription:
        """Subscribe to the channel; return once the server confirmed it."""


def ping_channel(channel: str) -> str:
    return f"{channel}_ping_{uuid.uuid4().hex[:16]}"


class RedisEngine:
    """Redis pub/sub at ``location`` (a ``redis://`` URL) on ``channel``."""

    def __init__(self, location: str, channel: str) -> None:
        self.location = location
        self.channel = channel

    @functools.cached_property
    def publisher(self) -> Any:
        import redis

        # One client (and pool) per engine: redis-py clients are thread-safe.
        # Bounded: publishing runs in the revoking request (after its commit),
        # which an unreachable Redis must not hold for the OS's TCP timeout.
        return redis.Redis.from_url(
            self.location,
            socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
            socket_timeout=PUBLISH_TIMEOUT_SECONDS,
        )

    def send(self, messages: list[str], *, using: str) -> None:
        # Redis knows nothing of the database's transaction: publish after
        # commit, or a process could deny a token whose revocation rolls back.
        # A lambda, not functools.partial: a robust hook that fails is logged
        # by its __qualname__, which a partial lacks (the log call would raise).
        transaction.on_commit(lambda: self.publish(messages), using=using, robust=True)

    def publish(self, messages: list[str]) -> None:
        pipeline = self.publisher.pipeline(transaction=False)
        for message in messages:
            pipeline.publish(self.channel, message)
        pipeline.execute()

    def subscribe(self) -> RedisSubscription:
        return RedisSubscription(self.location, self.channel)


class RedisSubscription:
    def __init__(self, location: str, channel: str) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: redis-py would otherwise reconnect and resubscribe on
        # its own, silently skipping whatever was published in between.
        self.client = redis.Redis.from_url(
            location, retry=Retry(NoBackoff(), 0), client_name=CONNECTION_NAME, socket_connect_timeout=5
        )
        self.ping_channel = ping_channel(channel)
        self.pubsub = self.client.pubsub()
        try:
            self.pubsub.subscribe(channel, self.ping_channel)
            deadline = time.monotonic() + 10
            confirmed = 0
            while confirmed < 2:
                if time.monotonic() > deadline:
                    raise SubscriptionLost("Redis did not confirm the subscription")
                message = self.pubsub.get_message(timeout=1)
                confirmed += message is not None and message["type"] == "subscribe"
        except BaseException:
            self.close()
            raise

    def messages(self, timeout: float) -> Iterator[str]:
        deadline = time.monotonic() + timeout
        while True:
            message = self.pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is None:
                if time.monotonic() >= deadline:
                    return
                continue
            if message["type"] == "message":
                yield message["data"].decode()
            elif message["type"] in ("subscribe", "unsubscribe"):
                # A subscription we did not ask for now: messages may be missing.
                raise SubscriptionLost(f"unexpected {message['type']}")

    def ping(self) -> None:
        self.client.publish(self.ping_channel, PING)

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


class PostgresEngine:
    """PostgreSQL LISTEN/NOTIFY on the server of the Django database ``alias``."""

    def __init__(self, alias: str, channel: str) -> None:
        self.alias = alias
        self.channel = channel

    def send(self, messages: list[str], *, using: str) -> None:
        if using == self.alias:
            # In the revoking transaction itself: PostgreSQL delivers a NOTIFY
            # only when (and if) its transaction commits, so no process hears
            # of a revocation before the database shows it, or of one rolled back.
            self.notify(messages)
        else:
            # Tokens on another database: that transaction's commit is what counts.
            transaction.on_commit(lambda: self.notify(messages), using=using, robust=True)

    def notify(self, messages: list[str]) -> None:
        with connections[self.alias].cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, m) FROM unnest(%s::text[]) AS m", [self.channel, messages])

    def connection_params(self) -> dict[str, Any]:
        """libpq parameters for a connection of our own to ``alias``'s server.

        Read when subscribing, so a test database's name (set by the test
        runner after settings load) is the one used."""
        settings_dict = connections[self.alias].settings_dict
        params: dict[str, Any] = {
            key: value
            for key, value in (settings_dict.get("OPTIONS") or {}).items()
            if key not in DJANGO_DATABASE_OPTIONS
        }
        for setting, param in (
            ("NAME", "dbname"),
            ("USER", "user"),
            ("PASSWORD", "password"),
            ("HOST", "host"),
        ):
            if settings_dict.get(setting):
                params[param] = settings_dict[setting]
        if settings_dict.get("PORT"):
            params["port"] = int(settings_dict["PORT"])
        return params

    def subscribe(self) -> PostgresSubscription:
        return PostgresSubscription(self.connection_params(), self.channel)


class PostgresSubscription:
    def __init__(self, params: dict[str, Any], channel: str) -> None:
        import psycopg
        from psycopg import sql

        # Our own connection, never one of Django's: a LISTEN holds its
        # connection for good, and Django's are per request thread, closed
        # and reopened at will, and may sit behind a pooler.
        params = {"connect_timeout": 5, **params, "application_name": CONNECTION_NAME}
        self.connection = psycopg.connect(**params, autocommit=True)
        self.ping_channel = ping_channel(channel)
        try:
            for name in (channel, self.ping_channel):
                # LISTEN returns once the server registered it: subscribed.
                self.connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
        except BaseException:
            self.close()
            raise

    def messages(self, timeout: float) -> Iterator[str]:
        for notification in self.connection.notifies(timeout=timeout):
            yield notification.payload

    def ping(self) -> None:
        self.connection.execute("SELECT pg_notify(%s, %s)", [self.ping_channel, PING])

    def close(self) -> None:
        self.connection.close()
