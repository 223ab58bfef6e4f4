"""Authorization server metadata (RFC 8414) and the issuer identifier (RFC 9207)."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/.well-known/oauth-authorization-server"


def test_metadata_lists_endpoints_and_capabilities(api_client):
    response = api_client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "issuer": "https://auth.example.com",
        "authorization_endpoint": "https://auth.example.com/o/authorize/",
        "token_endpoint": "https://auth.example.com/o/token/",
        "revocation_endpoint": "https://auth.example.com/o/revoke/",
        "introspection_endpoint": "https://auth.example.com/o/introspect/",
        "device_authorization_endpoint": "https://auth.example.com/o/device_authorization/",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "scopes_supported": ["read", "write", "admin"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        # RFC 8414 §2, for resource servers checking JWT access tokens (not an OpenID Provider here).
        "jwks_uri": "https://auth.example.com/o/jwks/",
    }


def test_every_listed_endpoint_is_served(api_client):
    """No endpoint in the document may 404: each answers its own protocol error or page."""
    body = api_client.get(URL).json()
    for name in ("token", "revocation", "introspection", "device_authorization"):
        path = body[f"{name}_endpoint"].removeprefix("https://auth.example.com")
        assert api_client.post(path).status_code in (400, 401), name
    assert api_client.get(body["jwks_uri"].removeprefix("https://auth.example.com")).status_code == 200


def test_metadata_follows_settings(api_client, settings):
    settings.OAUTH_PROVIDER = {
        "SCOPES": {"profile": "Your profile"},
        "GRANT_TYPES": ["authorization_code"],
        "PKCE_CODE_CHALLENGE_METHODS": ["S256", "plain"],
        "ISSUER": "https://id.example.org",
    }
    body = api_client.get(URL).json()
    assert body["issuer"] == "https://id.example.org"
    assert body["token_endpoint"] == "https://id.example.org/o/token/"
    assert body["grant_types_supported"] == ["authorization_code"]
    assert body["scopes_supported"] == ["profile"]
    assert body["code_challenge_methods_supported"] == ["S256", "plain"]
    # Without the device grant there is no device authorization endpoint to list.
    assert "device_authorization_endpoint" not in body
    assert body["response_types_supported"] == ["code"]


def test_legacy_grants_appear_only_when_enabled(api_client, settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": ["authorization_code", "implicit", "password"],
    }
    body = api_client.get(URL).json()
    assert body["grant_types_supported"] == ["authorization_code", "implicit", "password"]
    assert body["response_types_supported"] == ["code", "token"]
    assert body["response_modes_supported"] == ["query", "fragment"]


def test_issuer_defaults_to_the_request_origin(api_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}
    body = api_client.get(URL, HTTP_HOST="localhost").json()
    assert body["issuer"] == "http://localhost"
    assert body["authorization_endpoint"] == "http://localhost/o/authorize/"


def test_metadata_ignores_host_authentication(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    }
    assert api_client.get(URL, HTTP_AUTHORIZATION="Bearer nonsense").status_code == 200
