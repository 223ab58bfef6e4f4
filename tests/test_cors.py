"""CORS for browser clients (oauth_provider.cors): which endpoints answer
which origins, the preflight, never credentials, and what it costs.

The real browser test is tests/browser/test_spa_cors.py."""

from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oauth_provider import cors
from oauth_provider.models import Client
from oauth_provider.urls import well_known
from tests.factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    PublicClientFactory,
    UserFactory,
)
from tests.helpers import pkce_pair, post_token

pytestmark = pytest.mark.django_db

SPA = "https://spa.example.net"
OTHER = "https://other.example.org"
CREDENTIALS = "Access-Control-Allow-Credentials"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


@pytest.fixture
def spa():
    """A public client whose page runs at SPA (its redirect URI's origin)."""
    return PublicClientFactory(redirect_uris=f"{SPA}/callback", grant_types=["authorization_code"])


def vary(response):
    return [name.strip() for name in response["Vary"].split(",")]


def preflight(api_client, url, origin=SPA, method="POST", headers=None):
    extra = {"HTTP_ACCESS_CONTROL_REQUEST_HEADERS": headers} if headers else {}
    return api_client.options(url, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method, **extra)


def redeem(api_client, client, origin=SPA, **extra):
    """Redeem a fresh code of ``client`` (a public one, with PKCE) from ``origin``."""
    verifier, challenge = pkce_pair()
    code = AuthorizationCodeFactory(
        client=client,
        redirect_uri=f"{SPA}/callback",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    data = {
        "grant_type": "authorization_code",
        "code": code.value,
        "redirect_uri": f"{SPA}/callback",
        "client_id": client.client_id,
        "code_verifier": verifier,
        **extra,
    }
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return post_token(api_client, data, **headers)


# -- origins: derived from redirect URIs, or listed ---------------------------------------------


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://app.example.com/callback?x=1", "https://app.example.com"),
        ("https://app.example.com:443/cb", "https://app.example.com"),
        ("https://app.example.com:8443/cb", "https://app.example.com:8443"),
        ("http://127.0.0.1:5173/cb", "http://127.0.0.1:5173"),
        ("http://localhost/cb", "http://localhost"),
        ("http://[::1]:8080/cb", "http://[::1]:8080"),
        # No web origin: plain http elsewhere, a native app's private-use scheme.
        ("http://app.example.com/cb", None),
        ("com.example.app:/callback", None),
    ],
)
def test_origin_of_a_redirect_uri(uri, origin):
    assert cors.origin_of(uri) == origin


def test_client_origins_are_its_redirect_uris_and_its_listed_ones():
    client = ClientFactory(
        redirect_uris="https://app.example.com/a\nhttps://app.example.com/b\ncom.example.app:/cb",
        allowed_origins=OTHER,
    )

    assert client.cors_origins == {"https://app.example.com", OTHER}


def test_a_client_under_review_keeps_its_approved_origins():
    client = ClientFactory(redirect_uris=f"{SPA}/callback")
    approved = client.reviewed_values()
    client.redirect_uris, client.allowed_origins = "https://evil.example/cb", "https://evil.example"
    client.request_review(approved)
    client.save()

    assert client.cors_origins == {SPA}


@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com",
        "https://app.example.com:8443\nhttp://localhost:3000",
        "http://127.0.0.1:5173",
        "",
    ],
)
def test_valid_allowed_origins(value):
    cors.validate_allowed_origins(value)


@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com/",  # a path, even "/": an origin has none
        "https://app.example.com/spa",
        "https://*.example.com",
        "*",
        "null",
        "https://App.example.com",  # browsers send the host in lowercase
        "https://app.example.com:443",  # ... and no default port
        "http://app.example.com",  # plain http off loopback
        "https://user@app.example.com",
        "https://app.example.com?x",
        "https://app.example.com#x",
        "https://bücher.example",
        "https://app example.com",
        "ftp://app.example.com",
        "app.example.com",
        "https://" + "a." * 253 + "example.com",  # longer than a redirect URI may be
    ],
)
def test_invalid_allowed_origins(value):
    with pytest.raises(ValidationError):
        cors.validate_allowed_origins(value)


def test_at_most_twenty_allowed_origins():
    with pytest.raises(ValidationError, match="at most 20"):
        cors.validate_allowed_origins("\n".join(f"https://app{n}.example.com" for n in range(21)))


def test_the_model_validates_allowed_origins():
    client = ClientFactory.build(allowed_origins="https://app.example.com/callback")
    with pytest.raises(ValidationError) as raised:
        client.full_clean()
    assert "allowed_origins" in raised.value.error_dict


def test_self_service_form_saves_allowed_origins(client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_CLIENTS": True}
    owner = UserFactory()
    client.force_login(owner)
    data = {
        "name": "SPA",
        "client_type": "public",
        "redirect_uris": f"{SPA}/callback",
        "allowed_origins": f" {OTHER}\n\n{OTHER}\n",
        "grant_types": ["authorization_code"],
    }

    response = client.post(reverse("oauth_provider:client_create"), data)

    assert response.status_code == 302, response.content
    assert Client.objects.get(owner=owner).allowed_origins == OTHER


def test_self_service_form_refuses_a_path(client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_CLIENTS": True}
    client.force_login(UserFactory())
    data = {
        "name": "SPA",
        "client_type": "public",
        "redirect_uris": f"{SPA}/callback",
        "allowed_origins": f"{OTHER}/app",
        "grant_types": ["authorization_code"],
    }

    response = client.post(reverse("oauth_provider:client_create"), data)

    assert response.status_code == 200
    assert "without a path" in response.context["form"].errors["allowed_origins"][0]


def test_createclient_allowed_origin(capsys):
    call_command(
        "createclient",
        "--name=SPA",
        "--type=public",
        f"--redirect-uri={SPA}/callback",
        f"--allowed-origin={OTHER}",
        "--allowed-origin=http://localhost:3000",
        "--json",
    )

    assert Client.objects.get(name="SPA").allowed_origins == f"{OTHER}\nhttp://localhost:3000"


def test_createclient_refuses_a_malformed_origin():
    with pytest.raises(Exception, match="--allowed-origin"):
        call_command("createclient", "--name=SPA", f"--redirect-uri={SPA}/cb", f"--allowed-origin={OTHER}/")


# -- the token and revocation endpoints: registered origins only ---------------------------------


@pytest.mark.parametrize("url", ["/o/token/", "/o/revoke/"])
def test_preflight_passes_an_origin_a_client_registered(api_client, spa, url):
    response = preflight(api_client, url, headers="authorization")

    assert response.status_code == 204
    assert response[ALLOW_ORIGIN] == SPA
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert response["Access-Control-Allow-Headers"] == "Authorization"
    assert "Origin" in vary(response)
    assert CREDENTIALS not in response


def test_preflight_passes_an_explicitly_listed_origin(api_client):
    PublicClientFactory(allowed_origins=OTHER)

    assert preflight(api_client, "/o/token/", origin=OTHER)[ALLOW_ORIGIN] == OTHER


@pytest.mark.parametrize("url", ["/o/token/", "/o/revoke/"])
def test_preflight_refuses_an_origin_no_client_registered(api_client, spa, url):
    response = preflight(api_client, url, origin=OTHER)

    # Answered here (not by DRF's OPTIONS, which describes the view), without CORS headers.
    assert response.status_code == 204
    assert ALLOW_ORIGIN not in response
    assert not response.content
    assert "Origin" in vary(response)


def test_preflight_refuses_the_origins_of_an_inactive_client(api_client):
    PublicClientFactory(redirect_uris=f"{SPA}/callback", is_active=False)

    assert ALLOW_ORIGIN not in preflight(api_client, "/o/token/")


def test_a_new_or_changed_client_reaches_the_preflight_at_once(api_client, spa):
    assert ALLOW_ORIGIN not in preflight(api_client, "/o/token/", origin=OTHER)  # cached now

    spa.allowed_origins = OTHER
    spa.save()
    assert preflight(api_client, "/o/token/", origin=OTHER)[ALLOW_ORIGIN] == OTHER

    spa.delete()
    assert ALLOW_ORIGIN not in preflight(api_client, "/o/token/", origin=OTHER)


def test_token_response_is_readable_by_the_clients_origin(api_client, spa):
    response = redeem(api_client, spa)

    assert response.status_code == 200, response.content
    assert response[ALLOW_ORIGIN] == SPA
    assert "Origin" in vary(response)
    assert CREDENTIALS not in response


def test_token_response_is_readable_by_a_listed_origin(api_client, spa):
    spa.allowed_origins = OTHER
    spa.save()

    assert redeem(api_client, spa, origin=OTHER)[ALLOW_ORIGIN] == OTHER


def test_token_response_is_not_readable_by_another_clients_origin(api_client, spa):
    # OTHER passes the preflight (some client registered it), not this client's answer.
    PublicClientFactory(allowed_origins=OTHER)

    response = redeem(api_client, spa, origin=OTHER)

    assert response.status_code == 200
    assert ALLOW_ORIGIN not in response
    assert "Origin" in vary(response)


def test_token_response_without_origin_still_varies_on_it(api_client, spa):
    response = redeem(api_client, spa, origin=None)

    assert response.status_code == 200
    assert ALLOW_ORIGIN not in response
    assert "Origin" in vary(response)


def test_an_error_after_client_authentication_is_readable(api_client, spa):
    response = redeem(api_client, spa, code_verifier="x" * 43)

    assert response.json()["error"] == "invalid_grant"
    assert response[ALLOW_ORIGIN] == SPA


def test_an_error_before_client_authentication_is_not(api_client, spa):
    response = redeem(api_client, spa, client_id="unknown")

    assert response.json()["error"] == "invalid_client"
    assert ALLOW_ORIGIN not in response


def test_revocation_is_readable_by_the_clients_origin(api_client, spa):
    token = AccessTokenFactory(client=spa)
    response = api_client.post(
        "/o/revoke/",
        urlencode({"token": token.value, "client_id": spa.client_id}),
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN=SPA,
    )

    assert response.status_code == 200
    assert response[ALLOW_ORIGIN] == SPA
    assert "Origin" in vary(response)
    assert CREDENTIALS not in response


def test_introspection_answers_no_browser(api_client, spa):
    # Resource servers introspect, from their back ends.
    response = preflight(api_client, "/o/introspect/")

    assert ALLOW_ORIGIN not in response


# -- public documents: any origin --------------------------------------------------------------


@pytest.mark.parametrize("url", ["/.well-known/oauth-authorization-server", "/o/jwks/"])
def test_public_documents_answer_any_origin(api_client, url):
    response = api_client.get(url, HTTP_ORIGIN=OTHER)

    assert response.status_code == 200
    assert response[ALLOW_ORIGIN] == "*"
    assert CREDENTIALS not in response


def test_every_well_known_document_answers_a_preflight_with_any_header(api_client):
    """Every route at /.well-known/ (RFC 8615), those added later included
    (RFC 9728 protected resource metadata): MCP clients send a header of
    their own (MCP-Protocol-Version), which needs a preflight."""
    paths = [f"/{pattern.pattern}" for pattern in well_known.urlpatterns if not pattern.pattern.converters]
    assert len(paths) >= 2
    for path in paths:
        response = preflight(api_client, path, method="GET", headers="mcp-protocol-version")

        assert response.status_code == 204, path
        assert response[ALLOW_ORIGIN] == "*", path
        assert response["Access-Control-Allow-Headers"] == "*", path
        assert CREDENTIALS not in response, path


def test_userinfo_preflight_names_the_authorization_header(api_client):
    # "*" in Access-Control-Allow-Headers does not cover Authorization (Fetch §3.2.3).
    response = preflight(api_client, "/o/userinfo/", method="GET", headers="authorization")

    assert response[ALLOW_ORIGIN] == "*"
    assert response["Access-Control-Allow-Headers"] == "Authorization"
    assert CREDENTIALS not in response


# -- never on the authorization endpoint or people's pages --------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "authorize",
        "device",
        "authorized_apps",
        "client_list",
        "client_create",
        "logout",
        "device_authorization",
    ],
)
def test_no_cors_on_pages_people_use(client, name, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_CLIENTS": True}
    PublicClientFactory(redirect_uris=f"{SPA}/callback")
    client.force_login(UserFactory())
    url = reverse(f"oauth_provider:{name}")

    for response in (client.get(url, HTTP_ORIGIN=SPA), preflight(client, url, method="POST")):
        assert not any(header.lower().startswith("access-control-") for header in response.headers), name


# -- cost -----------------------------------------------------------------------------------------


def test_preflight_reads_the_clients_once_then_the_cache(api_client, spa, django_assert_num_queries):
    with django_assert_num_queries(1):
        preflight(api_client, "/o/token/")
    with django_assert_num_queries(0):
        assert preflight(api_client, "/o/token/")[ALLOW_ORIGIN] == SPA


def test_an_origin_costs_the_token_request_no_query(api_client, spa):
    counts = []
    for origin in (None, SPA):
        with CaptureQueriesContext(connection) as queries:
            assert redeem(api_client, spa, origin=origin).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


# -- the registration endpoints (RFC 7591, RFC 7592) ---------------------------------------------


@pytest.mark.parametrize("path", ["/o/register/", "/o/register/some-client/"])
def test_registration_answers_pages_on_any_origin_without_credentials(client, settings, path):
    """Software in a web page (an MCP client) registers itself from it."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REGISTRATION_POLICY": "open"}

    preflight = client.options(
        path,
        HTTP_ORIGIN="https://agent.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    response = client.post(path, "{}", content_type="application/json", HTTP_ORIGIN="https://agent.example")

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in {**preflight.headers, **response.headers}
