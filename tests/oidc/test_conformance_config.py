"""The OpenID Foundation's Config OP certification plan
(``oidcc-config-certification-test-plan``), replicated: its one module,
``oidcc-discovery-endpoint-verification``, fetches
``/.well-known/openid-configuration`` and runs a list of conditions on it
and on the JWKS it names. Each test below is one condition (or a few that
belong together), named after it, against the live server.

The "every endpoint is https" conditions need an https issuer, which the
live test server is not: that test reads the document a deployment with an
https ``ISSUER`` serves.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests

from oauth_provider.settings import AUTHORIZATION_CODE, IMPLICIT, REFRESH_TOKEN

from .support import DISCOVERY_PATH, SCOPES, TIMEOUT

pytestmark = pytest.mark.usefixtures("transactional_db")

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# RFC 5646 language tags, as CheckDiscEndpointLocalesSyntax checks them (roughly).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


@pytest.fixture
def discovery(op) -> dict:
    """GetDynamicServerConfiguration, EnsureDiscoveryEndpointResponseStatusCodeIs200,
    CheckDiscoveryEndpointReturnedJsonContentType (Discovery 1.0 §4)."""
    response = requests.get(op.discovery_url, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_discovery_url_and_issuer(op, discovery):
    """CheckDiscEndpointDiscoveryUrl, CheckDiscEndpointIssuer,
    CheckDiscEndpointIssuerIsValidUrl: the issuer is the URL the document
    hangs under (Discovery §4.3), without query or fragment."""
    assert op.discovery_url.endswith("/.well-known/openid-configuration")
    assert discovery["issuer"] + DISCOVERY_PATH == op.discovery_url
    parts = urlsplit(discovery["issuer"])
    assert parts.scheme in ("http", "https") and parts.netloc and not parts.query and not parts.fragment


def test_response_types_supported(discovery):
    """OIDCCCheckDiscEndpointResponseTypesSupported, with the default
    settings: the code flow. (The static-client variant of the condition
    also wants the implicit ones; see the next test.)"""
    assert discovery["response_types_supported"] == ["code"]


def test_response_types_and_grant_types_supported_with_implicit(op, settings):
    """OIDCCCheckDiscEndpointResponseTypesSupported ("code", "id_token",
    "token id_token") and OIDCCCheckDiscEndpointGrantTypesSupported
    ("authorization_code", "implicit") pass once the legacy implicit grant
    is enabled. Response types are space-separated sets (OAuth 2.0 Multiple
    Response Type Encoding Practices §2), compared as such."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": [AUTHORIZATION_CODE, REFRESH_TOKEN, IMPLICIT],
    }

    discovery = requests.get(op.discovery_url, timeout=TIMEOUT).json()

    offered = {frozenset(value.split()) for value in discovery["response_types_supported"]}
    assert {frozenset({"code"}), frozenset({"id_token"}), frozenset({"token", "id_token"})} <= offered
    assert {"authorization_code", "implicit"} <= set(discovery["grant_types_supported"])


def test_grant_types_supported(discovery):
    """OIDCCCheckDiscEndpointGrantTypesSupported, default settings: the code
    flow and refresh; implicit only when enabled (test above)."""
    assert {"authorization_code", "refresh_token"} <= set(discovery["grant_types_supported"])
    assert "implicit" not in discovery["grant_types_supported"]


def test_subject_types_supported(discovery):
    """CheckDiscEndpointSubjectTypesSupported (Discovery §3: REQUIRED)."""
    assert set(discovery["subject_types_supported"]) == {"public", "pairwise"}


def test_id_token_signing_alg_values_supported(discovery):
    """OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported: RS256 (Core
    §15.1), and never "none"."""
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert set(discovery["id_token_signing_alg_values_supported"]) == {"RS256", "ES256", "EdDSA"}


def test_userinfo_signing_alg_values_supported(discovery):
    """OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported, skipped by
    the suite when absent: UserInfo answers plain JSON, so it is absent."""
    assert "userinfo_signing_alg_values_supported" not in discovery


def test_endpoints(op, discovery):
    """CheckDiscEndpointAuthorizationEndpoint, CheckDiscEndpointTokenEndpoint,
    CheckDiscEndpointUserinfoEndpoint and CheckDiscEndpointRegistrationEndpoint
    (skipped when absent): absolute URLs on the issuer's origin that answer."""
    assert discovery["authorization_endpoint"] == f"{op.url}/o/authorize/"
    assert discovery["token_endpoint"] == f"{op.url}/o/token/"
    assert discovery["userinfo_endpoint"] == f"{op.url}/o/userinfo/"
    assert "registration_endpoint" not in discovery or discovery["registration_endpoint"].startswith(op.url)
    unauthenticated = requests.get(discovery["userinfo_endpoint"], timeout=TIMEOUT)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")


def test_jwks_uri_and_server_keys(op, discovery):
    """CheckJwksUri, FetchServerKeys, ValidateServerJWKs,
    EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys (RFC 7517 §5,
    RFC 7518 §6): public signing keys only, each with a unique kid."""
    assert discovery["jwks_uri"] == f"{op.url}/o/jwks/"
    response = requests.get(discovery["jwks_uri"], timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(("application/json", "application/jwk-set+json"))
    keys = response.json()["keys"]
    assert {key["kty"] for key in keys} == {"RSA", "EC", "OKP"}
    assert len({key["kid"] for key in keys}) == len(keys)
    for key in keys:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k", "oth"} & set(key), key
        assert key.get("use", "sig") == "sig"


def test_request_and_request_uri_parameter_supported(discovery):
    """CheckDiscEndpointRequestParameterSupported and
    CheckDiscEndpointRequestUriParameterSupported (informational): neither
    is supported, and the document says so rather than relying on defaults
    (request_uri_parameter_supported defaults to true, Discovery §3)."""
    assert discovery.get("request_parameter_supported", False) is False
    assert discovery["request_uri_parameter_supported"] is False
    assert "request_object_signing_alg_values_supported" not in discovery


def test_claims_parameter_and_claims_supported(discovery):
    """CheckDiscEndpointClaimsParameterSupported and
    OIDCCCheckDiscEndpointClaimsSupported: the §5.5 claims parameter is
    supported and the claims the scopes give are listed."""
    assert discovery["claims_parameter_supported"] is True
    assert {"sub", "iss", "auth_time", "name", "preferred_username", "email", "email_verified"} <= set(
        discovery["claims_supported"]
    )


def test_scopes_supported(discovery):
    """CheckDiscEndpointScopesSupportedContainsOpenId and
    CheckDiscEndpointScopesSupportedSyntax (RFC 6749 §3.3)."""
    assert "openid" in discovery["scopes_supported"]
    assert set(discovery["scopes_supported"]) == set(SCOPES)
    assert all(SCOPE_TOKEN.fullmatch(scope) for scope in discovery["scopes_supported"])


def test_locales(discovery):
    """CheckDiscEndpointLocalesSyntax and CheckDiscEndpointLocalesCanonicalCasing
    (RFC 8414 §2): ui_locales_supported and claims_locales_supported, when
    present, are language tags."""
    for member in ("ui_locales_supported", "claims_locales_supported"):
        for tag in discovery.get(member, []):
            assert LANGUAGE_TAG.fullmatch(tag), tag
            primary, *_subtags = tag.split("-")
            assert primary == primary.lower()


def test_code_challenge_methods_supported(discovery):
    """EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray (RFC 8414 §2, RFC 7636 §4.3)."""
    assert discovery["code_challenge_methods_supported"] == ["S256"]


def test_all_endpoints_are_https(client, settings):
    """CheckDiscEndpointAllEndpointsAreHttps, with the https issuer of a
    deployment (here tests/settings.py's): every endpoint and the jwks_uri."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": SCOPES}

    discovery = client.get(DISCOVERY_PATH).json()

    assert discovery["issuer"].startswith("https://")
    urls = {name: value for name, value in discovery.items() if name.endswith(("_endpoint", "_uri"))}
    assert {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} <= set(urls)
    assert "end_session_endpoint" in urls
    for name, url in urls.items():
        assert url.startswith("https://"), name


def test_openid_configuration_agrees_with_oauth_authorization_server_metadata(op, discovery):
    """Not a suite check, but what keeps the two documents honest: RFC 8414
    metadata and OpenID Discovery come from one generator, so every member
    they share has the same value."""
    metadata = requests.get(f"{op.url}/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()

    shared = set(metadata) & set(discovery)
    assert {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "scopes_supported"} <= shared
    assert {name: metadata[name] for name in shared} == {name: discovery[name] for name in shared}
