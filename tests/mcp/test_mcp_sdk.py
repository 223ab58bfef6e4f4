"""The official ``mcp`` SDK's OAuth client, given only the example MCP
server's URL, discovers our provider (RFC 9728 then RFC 8414), registers
(RFC 7591 dynamic registration, or a Client ID Metadata Document), runs the
code flow with PKCE and ``resource`` (RFC 8707) through the person's login and
consent, and calls a tool with the audience-restricted token it got. The MCP
server checks every token by introspection (RFC 7662) and refuses one issued
for another resource."""

from __future__ import annotations

import json
import ssl

import httpx2
import pytest
import requests
import trustme
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from oauth_provider.models import AccessToken
from oauth_provider.models import Client as OAuthClient
from tests.factories import AccessTokenFactory, PublicClientFactory
from tests.https_site import Site, serve

from .agent import CLIENT_NAME, REDIRECT_URI, Agent, client_metadata, run_async

pytestmark = pytest.mark.usefixtures("transactional_db")

TIMEOUT = 10


def test_unauthenticated_call_points_to_the_resource_metadata(issuer, mcp_server):
    """RFC 9728 §5.1: the 401 names the metadata, which names our issuer (§2)."""
    response = requests.post(mcp_server, json={}, timeout=TIMEOUT)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
    metadata = requests.get(metadata_url, timeout=TIMEOUT).json()
    assert metadata["resource"] == mcp_server
    assert metadata["authorization_servers"] == [issuer.url]
    assert metadata["scopes_supported"] == ["read"]


def test_agent_registers_dynamically_and_calls_a_tool(issuer, mcp_server, user_agent):
    agent = Agent(user_agent)
    result = agent.call_tool(mcp_server, "whoami")

    assert result["username"] == "ada"
    assert result["scopes"] == ["read"]
    # The person logged in and approved the agent: nobody else was asked.
    assert [arrival.pages for arrival in agent.arrivals] == [["login", "consent"]]
    registered = OAuthClient.objects.get(client_id=result["client_id"])
    assert registered.name == CLIENT_NAME
    assert not registered.is_confidential
    # RFC 8707: the token is for the MCP server only.
    assert AccessToken.objects.get(client=registered).resources == mcp_server


@pytest.fixture
def authority():
    return trustme.CA()


@pytest.fixture
def metadata_document(authority, monkeypatch):
    """The agent's Client ID Metadata Document, served over HTTPS with a
    certificate from a test authority that the fetcher is told to trust
    (production verification plus that authority: the only seam is
    ``client_metadata_documents.ssl_context``)."""
    from oauth_provider import client_metadata_documents

    production = client_metadata_documents.ssl_context

    def test_context() -> ssl.SSLContext:
        trusting = production()
        authority.configure_trust(trusting)
        return trusting

    monkeypatch.setattr(client_metadata_documents, "ssl_context", test_context)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    site = Site()
    server, base = serve(site, context)
    url = f"{base}/agent/client.json"
    document = {"client_id": url, **client_metadata().model_dump(mode="json", exclude_none=True)}
    body = json.dumps(document).encode()
    site.routes["/agent/client.json"] = (200, {"Content-Type": "application/json"}, body)
    yield url
    server.shutdown()
    server.server_close()


def test_agent_with_a_client_id_metadata_document_calls_a_tool(
    issuer, mcp_server, user_agent, metadata_document, settings
):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "CLIENT_ID_METADATA_DOCUMENTS": True,
        # The document is served from 127.0.0.1, which the fetcher refuses by default.
        "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True,
    }
    agent = Agent(user_agent, client_metadata_url=metadata_document)
    result = agent.call_tool(mcp_server, "whoami")

    assert result["client_id"] == metadata_document
    assert result["username"] == "ada"
    assert [arrival.pages for arrival in agent.arrivals] == [["login", "consent"]]
    token = AccessToken.objects.get(client__client_id=metadata_document)
    assert token.resources == mcp_server


def bearer_call(url: str, token: str) -> dict:
    """Call ``whoami`` with the SDK client, presenting ``token`` as is."""

    async def run() -> dict:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=20) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            return (await client.call_tool("whoami", {})).structured_content

    return run_async(run)


def test_token_for_another_resource_is_refused(issuer, mcp_server, person):
    """RFC 8707 §2: the MCP server accepts a token whose audience is itself,
    and refuses one the person granted for another API."""
    client = PublicClientFactory(redirect_uris=REDIRECT_URI)
    ours = AccessTokenFactory(client=client, user=person, resources=mcp_server)
    theirs = AccessTokenFactory(client=client, user=person, resources=f"{issuer.url}/api/")

    assert bearer_call(mcp_server, ours.value)["username"] == "ada"
    response = requests.post(
        mcp_server, json={}, headers={"Authorization": f"Bearer {theirs.value}"}, timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
