"""MCP end to end: our provider on a live server, the example MCP server
(example_project/mcp_server.py) in a thread, and the official ``mcp`` SDK's
OAuth client given only the MCP server's URL.

The live server runs in a thread of this process on the test database, so
``settings`` reach it; tests need ``transactional_db`` (``issuer`` asks for it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from example_project.mcp_server import REQUIRED_SCOPES, build_server
from tests.factories import ClientFactory, UserFactory
from tests.oidc.support import Provider, UserAgent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mcp_url() -> str:
    """The MCP server's URL: also its resource identifier (RFC 8707 §2)."""
    return f"http://127.0.0.1:{free_port()}/mcp"


@pytest.fixture
def issuer(live_server, settings, transactional_db, mcp_url) -> Provider:
    """The authorization server: the live server, with the MCP server declared
    as a resource and self-registration open, as in the example project."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "ISSUER": live_server.url,
        "SCOPES": {"read": "Read your notes", "write": "Change your notes"},
        "RESOURCES": {mcp_url: {"scopes": REQUIRED_SCOPES, "name": "Example notes"}},
        "REGISTRATION_POLICY": "open",
        # As in the example project: a registered agent works at once; the
        # person's consent is the only approval.
        "REGISTRATION_APPROVAL_REQUIRED": False,
    }
    return Provider(live_server.url)


@pytest.fixture
def person(transactional_db):
    return UserFactory(username="ada")


@pytest.fixture
def user_agent(issuer, person) -> Iterator[UserAgent]:
    agent = UserAgent(issuer, person)
    yield agent
    agent.close()


@pytest.fixture
def mcp_server(issuer, mcp_url) -> Iterator[str]:
    """The example MCP server on ``mcp_url``, introspecting with a client allowed to."""
    introspector = ClientFactory(
        name="MCP server", grant_types=["client_credentials"], redirect_uris="", allow_introspection=True
    )
    app = build_server(issuer.url, mcp_url, introspector.client_id, introspector.secret).streamable_http_app()
    port = int(mcp_url.split(":")[2].split("/")[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the MCP server did not start"
        time.sleep(0.02)
    yield mcp_url
    server.should_exit = True
    thread.join(10)
