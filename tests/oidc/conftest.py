"""OpenID Connect end to end: our provider on a live server, real relying-party code against it.

The live server runs in a thread of this process on the test database, so the
``settings`` and ``frozen_clock`` fixtures reach it; everything else a
relying party does goes over HTTP. Tests that use it need ``transactional_db``
(the ``op`` fixture asks for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from oauth_provider.models import Client
from oauth_provider.settings import AUTHORIZATION_CODE, REFRESH_TOKEN
from tests.factories import ClientFactory, UserFactory

from .support import POST_LOGOUT_REDIRECT_URI, REDIRECT_URI, SCOPES, CodeFlow, Provider, UserAgent


@pytest.fixture
def op(live_server, settings, transactional_db) -> Provider:
    """The OpenID Provider: the live server, as issuer, with the OIDC scopes."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": live_server.url, "SCOPES": SCOPES}
    return Provider(live_server.url)


@pytest.fixture
def person(transactional_db):
    """The person signing in, with the claims Django's user model has."""
    return UserFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")


@pytest.fixture
def user_agent(op, person) -> Iterator[UserAgent]:
    agent = UserAgent(op, person)
    yield agent
    agent.close()


@pytest.fixture
def make_rp(op) -> Callable[..., Client]:
    """Registers a confidential relying party (``.secret`` holds its secret)."""

    def make(**kwargs: object) -> Client:
        values = {
            "name": "Relying Party",
            "redirect_uris": REDIRECT_URI,
            "post_logout_redirect_uris": POST_LOGOUT_REDIRECT_URI,
            "grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN],
            **kwargs,
        }
        return ClientFactory(**values)

    return make


@pytest.fixture
def flow(op, make_rp, user_agent) -> CodeFlow:
    """The certification suite's static client (client_secret_basic) and its code flow."""
    return CodeFlow(op, make_rp(), user_agent)
