"""OpenID Provider configuration (OpenID Connect Discovery 1.0 §3-4) at
/.well-known/openid-configuration: the RFC 8414 document, one generator."""

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from oic.oic.message import ProviderConfigurationResponse

pytestmark = pytest.mark.django_db

URL = "/.well-known/openid-configuration"
OAUTH_URL = "/.well-known/oauth-authorization-server"
ISSUER = "https://auth.example.com"
OIDC_SCOPES = {
    "openid": "Sign you in",
    "profile": "Your name",
    "email": "Your e-mail address",
    "read": "Read your data",
}
ID_TOKEN_CLAIMS = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "sid",
    "acr",
    "amr",
]
PROFILE_CLAIMS = [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
]


@pytest.fixture
def openid(settings):
    """An OpenID Provider: the test settings with the OpenID Connect scopes."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": OIDC_SCOPES}
    settings.LANGUAGES = [("en", "English"), ("fr", "French")]


def test_lists_what_discovery_requires_and_what_the_server_does(api_client, openid):
    response = api_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/o/authorize/",
        "token_endpoint": f"{ISSUER}/o/token/",
        "revocation_endpoint": f"{ISSUER}/o/revoke/",
        "introspection_endpoint": f"{ISSUER}/o/introspect/",
        "device_authorization_endpoint": f"{ISSUER}/o/device_authorization/",
        "jwks_uri": f"{ISSUER}/o/jwks/",
        "userinfo_endpoint": f"{ISSUER}/o/userinfo/",
        "end_session_endpoint": f"{ISSUER}/o/logout/",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "scopes_supported": ["openid", "profile", "email", "read"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "claims_supported": [*ID_TOKEN_CLAIMS, *PROFILE_CLAIMS, "email", "email_verified"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ["en", "fr"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }


def test_the_oauth_document_is_the_same_document(api_client, openid):
    """RFC 8414 §2 registers the OpenID Connect members too: one source of truth."""
    oauth, openid = api_client.get(OAUTH_URL), api_client.get(URL)

    assert oauth.status_code == openid.status_code == 200
    assert "jwks_uri" in openid.json()
    assert oauth.json() == openid.json()


def test_relying_party_libraries_accept_it(api_client, openid):
    document = api_client.get(URL).json()

    OpenIDProviderMetadata(document).validate()
    AuthorizationServerMetadata(document).validate()
    assert ProviderConfigurationResponse(**document).verify()


def test_issuer_is_exactly_the_one_in_id_tokens(api_client, openid, settings):
    # Discovery §4.3: the issuer "MUST be identical to the iss Claim value in ID Tokens".
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": "https://id.example.org/tenant"}

    document = api_client.get(URL).json()

    assert document["issuer"] == "https://id.example.org/tenant"
    assert document["jwks_uri"] == "https://id.example.org/o/jwks/"


def test_every_listed_oidc_endpoint_is_served(api_client, openid):
    document = api_client.get(URL).json()

    jwks = api_client.get(document["jwks_uri"].removeprefix(ISSUER))
    assert jwks.status_code == 200
    assert jwks.json()["keys"]
    for name in ("userinfo_endpoint", "end_session_endpoint"):
        assert api_client.get(document[name].removeprefix(ISSUER)).status_code != 404, name


def test_not_an_openid_provider_without_the_openid_scope(api_client):
    # tests/settings.py offers read, write and admin only.
    assert api_client.get(URL).status_code == 404
    assert "userinfo_endpoint" not in api_client.get(OAUTH_URL).json()


def test_not_an_openid_provider_with_oidc_disabled(api_client, settings, openid):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_ENABLED": False}

    assert api_client.get(URL).status_code == 404
    document = api_client.get(OAUTH_URL).json()
    # No keys are published either (the JWKS endpoint answers 404).
    assert "userinfo_endpoint" not in document and "jwks_uri" not in document


def test_implicit_grant_adds_the_implicit_and_hybrid_response_types(api_client, settings, openid):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["authorization_code", "implicit"]}

    document = api_client.get(URL).json()

    assert document["response_types_supported"] == [
        "code",
        "token",
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
    ]
    assert document["response_modes_supported"] == ["query", "fragment"]


def test_follows_the_signing_algorithms_and_the_offered_scopes(api_client, settings, openid):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": {"openid": "Sign you in", "email": "Your e-mail address"},
        "OIDC_SIGNING_ALGORITHMS": ["RS256"],
    }

    document = api_client.get(URL).json()

    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    # Claims of scopes the server does not offer could never be released.
    assert document["claims_supported"] == [*ID_TOKEN_CLAIMS, "email", "email_verified"]


def test_readable_from_any_origin(api_client, openid):
    for url in (URL, OAUTH_URL):
        response = api_client.get(url, HTTP_ORIGIN="https://spa.example.org")
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response


def test_ui_locales_supported_are_the_languages_the_pages_are_translated_into(client, settings, openid):
    """Django's default LANGUAGES lists about a hundred; the pages exist in
    English and in the languages a catalog translates them into."""
    settings.LANGUAGES = [("en", "English"), ("en-gb", "British English"), ("fr", "French"), ("de", "German")]

    config = client.get(URL).json()

    assert config["ui_locales_supported"] == ["en", "en-gb", "fr"]


def test_a_language_the_site_translates_in_locale_paths_is_supported(client, settings, tmp_path, openid):
    catalog = tmp_path / "de" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    (catalog / "django.mo").write_bytes(b"")
    settings.LANGUAGES = [("en", "English"), ("de", "German")]
    settings.LOCALE_PATHS = [tmp_path]

    assert client.get(URL).json()["ui_locales_supported"] == ["en", "de"]
