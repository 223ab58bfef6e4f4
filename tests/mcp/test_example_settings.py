"""The example project's settings for MCP: agents can register themselves
both ways MCP clients do, its MCP server is a declared resource (RFC 8707),
and a token requested without ``resource`` is for the site's API only, so no
pre-RFC 8707 client's token works at the MCP server."""

from __future__ import annotations

import pytest

from example_project import settings as example
from oauth_provider.models import AccessToken
from tests.factories import ClientFactory
from tests.helpers import basic_auth, post_token

pytestmark = pytest.mark.django_db

API = example.env("OAUTH_PROVIDER_ISSUER") + "/api/"
MCP_SERVER = example.env("MCP_SERVER_URL")


@pytest.fixture(autouse=True)
def example_settings(settings):
    settings.OAUTH_PROVIDER = example.OAUTH_PROVIDER


def token_request(api_client, **params: str):
    """A client_credentials token request for ``read`` with ``params``; returns (response, client)."""
    client = ClientFactory(grant_types=["client_credentials"], redirect_uris="")
    data = {"grant_type": "client_credentials", "scope": "read", **params}
    response = post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))
    return response, client


def audience(api_client, **params: str) -> str:
    """The audience of the token issued for ``params``."""
    response, client = token_request(api_client, **params)
    assert response.status_code == 200, response.content
    return AccessToken.objects.get(client=client).resources


def test_token_without_resource_is_for_the_api_only(api_client):
    assert audience(api_client) == API


def test_token_for_the_mcp_server_is_for_it_only(api_client):
    assert audience(api_client, resource=MCP_SERVER) == MCP_SERVER


def test_mcp_server_accepts_only_the_scope_its_tools_need(api_client):
    response, _ = token_request(api_client, resource=MCP_SERVER, scope="write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_agents_can_register_both_ways(client):
    """What the mcp SDK looks for in RFC 8414 metadata before registering."""
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["registration_endpoint"].endswith("/o/register/")
    assert metadata["client_id_metadata_document_supported"] is True
    assert "S256" in metadata["code_challenge_methods_supported"]
