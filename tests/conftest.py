import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from oauth_provider import clock
from oauth_provider.models import Client

from .factories import ClientFactory, PublicClientFactory, UserFactory
from .helpers import missing_service
from .registration_helpers import metadata, post_json
from .stream_helpers import any_stream, redis_stream  # noqa: F401 - fixtures


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

    def fetch(uri: str, *, private_allowed: bool) -> bytes:
        return json.dumps(listed).encode()

    monkeypatch.setattr(sector_identifiers, "fetch", fetch)
    return listed


@pytest.fixture
def staff_client(client):
    """A staff user's browser in the admin; ``staff_client.grant("view_client", ...)``
    gives them permissions by codename."""
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)

    def grant(*codenames):
        staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))

    client.grant = grant
    client.force_login(staff)
    return client


CHROMIUM = Path("/usr/bin/chromium")
# Keeps Chromium off the network this machine does not have (see the env notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright, one per test session (tests/browser, tests/oidc)."""
    if not CHROMIUM.exists():
        missing_service("Chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop, which Django's async-safety check would see.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    # Every page here answers in milliseconds: a wait that takes longer has failed.
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _forget_signing_keys():
    """Which key signs is kept per process (signing_keys); a test's keys are
    rolled back with its database, so no test sees another's."""
    from oauth_provider import signing_keys

    signing_keys.forget_signing_keys()


# Dynamic client registration (tests/registration_helpers.py has the request builders).


@pytest.fixture
def registration_settings(settings):
    """Sets ``OAUTH_PROVIDER`` members on top of the test settings."""

    def configure(**members):
        settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, **members}

    return configure


@pytest.fixture
def open_registration(registration_settings):
    registration_settings(REGISTRATION_POLICY="open")


@pytest.fixture
def registered(db, api_client, open_registration):
    """Registers a confidential client; returns the 201 body, with the ``Client`` under "client"."""

    def register(**members):
        response = post_json(api_client, metadata(**members))
        assert response.status_code == 201, response.content
        body = response.json()
        body["client"] = Client.objects.get(client_id=body["client_id"])
        return body

    return register


# A real local HTTPS server (tests/https_site.py), for what the server fetches.


@pytest.fixture(scope="module")
def authority():
    """A throwaway certificate authority (trustme)."""
    import trustme

    return trustme.CA()


@pytest.fixture
def site():
    """What the test server answers: fill ``site.routes``."""
    from .https_site import Site

    return Site()


@pytest.fixture
def https(site, authority):
    """The base URL of an HTTPS server answering from ``site``."""
    from .https_site import https_server

    server, url = https_server(site, authority)
    yield url
    server.shutdown()
    server.server_close()
