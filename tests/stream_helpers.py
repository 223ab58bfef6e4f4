"""A real revocation stream for tests in this process (``REVOCATION_STREAM``).

Each test gets its own channel on the local Redis (db 2) or PostgreSQL
server, so concurrent runs do not hear each other. Waiting for the listener
to be trusted waits on an event it sets, not on a clock.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from oauth_provider import revocation_stream

from .helpers import require_redis

STREAM_REDIS_URL = "redis://127.0.0.1:6379/2"
# Longer than any listener takes to subscribe and resynchronise on this machine.
READY_TIMEOUT = 30


def channel() -> str:
    return f"test_{uuid.uuid4().hex[:20]}"


def redis_config(**extra: object) -> dict[str, object]:
    require_redis(STREAM_REDIS_URL)
    return {"ENGINE": "redis", "LOCATION": STREAM_REDIS_URL, "CHANNEL": channel(), **extra}


def postgresql_config(**extra: object) -> dict[str, object]:
    from django.db import connection

    if connection.vendor != "postgresql":
        # As for tests marked postgresql (conftest): skipped on SQLite unless PostgreSQL is required.
        message = "the PostgreSQL engine needs DATABASE_URL=postgres://..."
        if os.environ.get("REQUIRE_POSTGRESQL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return {"ENGINE": "postgresql", "DATABASE": "default", "CHANNEL": channel(), **extra}


def use_stream(settings, config: dict[str, object]) -> revocation_stream.Stream:
    """Turn the stream on with ``config`` and wait until this process trusts it."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REVOCATION_STREAM": config}
    revocation_stream.trusted()  # starts the listener
    current = revocation_stream.stream()
    assert current.listener.resynchronised.wait(READY_TIMEOUT), "the listener never became trusted"
    return current


@pytest.fixture
def redis_stream(settings):
    """This process on a Redis stream, trusted."""
    yield use_stream(settings, redis_config())
    revocation_stream.stop()


@pytest.fixture(params=["redis", "postgresql"])
def any_stream(request, settings):
    """This process on each engine in turn, trusted."""
    config = redis_config() if request.param == "redis" else postgresql_config()
    yield use_stream(settings, config)
    revocation_stream.stop()


def kill_redis_subscriptions() -> int:
    """Close, on the server, every revocation listener's Redis connection
    (``CLIENT KILL`` by ID: only ours, never other programs' subscribers)."""
    client = redis.Redis.from_url(STREAM_REDIS_URL)
    ours = [c["id"] for c in client.client_list(_type="pubsub") if c["name"] == "oauth_provider-revocations"]
    for client_id in ours:
        client.client_kill_filter(_id=client_id)
    return len(ours)
