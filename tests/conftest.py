import json
import os
from datetime import datetime, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from oauth_provider import clock

from .factories import ClientFactory, PublicClientFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgresql`` need row locks and real concurrency.

    On SQLite they are skipped, unless REQUIRE_POSTGRESQL=1 (set by .ci/run for
    its PostgreSQL run): then the whole run stops with an error instead.
    """
    if connection.vendor == "postgresql":
        return
    if os.environ.get("REQUIRE_POSTGRESQL") == "1":
        raise pytest.UsageError(
            f"REQUIRE_POSTGRESQL=1 but the test database is {connection.vendor}: set DATABASE_URL."
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if item.get_closest_marker("postgresql"):
            item.add_marker(skip)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def oauth_client(db):
    """A confidential client; ``oauth_client.secret`` is its raw secret."""
    return ClientFactory()


@pytest.fixture
def public_client(db):
    return PublicClientFactory()


@pytest.fixture
def api_client():
    return APIClient()


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Time stands still until the test calls ``frozen_clock.advance(seconds=...)``."""
    frozen = FrozenClock(clock.now())
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


@pytest.fixture(autouse=True)
def _empty_throttle_cache():
    """Throttling counters (oauth_provider.throttling) start empty in every test."""
    from django.core.cache import caches

    from oauth_provider.settings import oauth_settings

    caches[oauth_settings.THROTTLE_CACHE].clear()


@pytest.fixture
def sector_document(monkeypatch):
    """Sector identifier URIs (fetched when a client is saved; tested with a
    real HTTPS server in tests/test_sector_identifier.py) answer with the
    list this fixture returns: add the redirect URIs it should list."""
    from oauth_provider import sector_identifiers

    listed: list[str] = []

    def fetch(uri: str) -> bytes:
        return json.dumps(listed).encode()

    monkeypatch.setattr(sector_identifiers, "fetch", fetch)
    return listed
