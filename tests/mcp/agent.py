"""An MCP client as an AI agent runs it: the official SDK's
``OAuthClientProvider`` with in-memory storage, whose redirect and callback
handlers are a person's browser (``tests.oidc.support.UserAgent``) logging in
and approving at our authorization endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from tests.oidc.support import Arrival, UserAgent

# A native app's loopback redirect URI (RFC 8252 §7.3); the browser stops there.
REDIRECT_URI = "http://127.0.0.1/callback"
CLIENT_NAME = "Test agent"

T = TypeVar("T")


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """``anyio.run(main)`` in a thread of its own: Playwright's sync API (the
    session's browser fixtures) leaves an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


def client_metadata() -> OAuthClientMetadata:
    """What the agent registers (RFC 7591 §2), or publishes as its Client ID
    Metadata Document: a public client using PKCE."""
    return OAuthClientMetadata(
        client_name=CLIENT_NAME,
        redirect_uris=[AnyUrl(REDIRECT_URI)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )


class MemoryStorage:
    """The SDK's ``TokenStorage``, kept in memory so the test can read it."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Agent:
    """Connects to an MCP server knowing only its URL, and calls a tool.

    ``arrivals`` records each trip of the person's browser (the pages seen:
    login, consent)."""

    def __init__(self, user_agent: UserAgent, client_metadata_url: str | None = None) -> None:
        self.user_agent = user_agent
        self.client_metadata_url = client_metadata_url
        self.storage = MemoryStorage()
        self.arrivals: list[Arrival] = []

    async def open_browser(self, authorization_url: str) -> None:
        """The redirect handler: the person's browser, off the event loop."""
        self.arrivals.append(await anyio.to_thread.run_sync(self.user_agent.visit, authorization_url))

    async def read_callback(self) -> AuthorizationCodeResult:
        """The callback handler: what reached the redirect URI."""
        params = self.arrivals[-1].params
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    def call_tool(self, url: str, name: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run the whole flow (discovery, registration, authorization, token)
        and call ``name``; returns the tool's structured result."""

        async def run() -> Any:
            oauth = OAuthClientProvider(
                server_url=url,
                client_metadata=client_metadata(),
                storage=self.storage,
                redirect_handler=self.open_browser,
                callback_handler=self.read_callback,
                client_metadata_url=self.client_metadata_url,
            )
            async with (
                httpx2.AsyncClient(auth=oauth, timeout=20) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                result = await client.call_tool(name, arguments or {})
            assert not result.is_error, result.content
            return result.structured_content

        return run_async(run)
