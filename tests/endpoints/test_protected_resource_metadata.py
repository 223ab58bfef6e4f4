"""Protected resource metadata (RFC 9728 §2-§3)."""

import pytest

from oauth_provider.resources import metadata_url

ISSUER = "https://auth.example.com"
ROOT = "https://auth.example.com/"
API = "https://auth.example.com/api/v1/"


@pytest.fixture(autouse=True)
def declared(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "RESOURCES": {
            API: {
                "scopes": ["read", "write"],
                "name": "Notes API",
                "documentation": "https://docs.example.com/",
            },
            ROOT: {"scopes": ["admin"]},
        },
    }


def test_path_suffixed_document_describes_the_resource_at_that_path(client):
    response = client.get("/.well-known/oauth-protected-resource/api/v1/")
    assert response.status_code == 200
    assert response.json() == {
        "resource": API,
        "authorization_servers": [ISSUER],
        "scopes_supported": ["read", "write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Notes API",
        "resource_documentation": "https://docs.example.com/",
    }
    # Public, like the authorization server's own metadata.
    assert response["Access-Control-Allow-Origin"] == "*"


def test_bare_document_describes_the_resource_at_the_site_root(client):
    response = client.get("/.well-known/oauth-protected-resource")
    assert response.json()["resource"] == ROOT
    assert response.json()["scopes_supported"] == ["admin"]
    assert "resource_name" not in response.json()


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/api/v1", "/.well-known/oauth-protected-resource/other/"]
)
def test_undeclared_resource_is_404(client, path):
    assert client.get(path).status_code == 404


def test_bare_document_is_404_without_a_resource_at_the_root(client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": {API: {"scopes": ["read"]}}}
    assert client.get("/.well-known/oauth-protected-resource").status_code == 404


def test_resources_sharing_a_path_are_told_apart_by_host(client, settings):
    other = "https://testserver/api/v1/"
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "RESOURCES": {API: {"scopes": ["read"]}, other: {"scopes": ["write"]}},
    }
    response = client.get("/.well-known/oauth-protected-resource/api/v1/", secure=True)
    assert response.json()["resource"] == other


def test_a_percent_encoded_identifier_is_served_where_its_challenge_points(client, settings):
    # The URL RFC 9728 §3.1 builds keeps the identifier's percent-encoding; the
    # server sees that path decoded, and must still find the resource.
    encoded = "https://testserver/files/a%20b%2Fc"
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": {encoded: {"scopes": ["read"]}}}
    url = metadata_url(encoded)
    assert url == "https://testserver/.well-known/oauth-protected-resource/files/a%20b%2Fc"

    response = client.get(url.removeprefix("https://testserver"))

    assert response.status_code == 200
    assert response.json()["resource"] == encoded
