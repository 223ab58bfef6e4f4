"""Dynamic registration end to end: software registers itself over HTTP
(RFC 7591; Authlib has no registration client, its rfc7591 module is a
server, so ``requests`` posts the JSON), then runs the authorization code
flow with PKCE through Authlib's ``OAuth2Session`` with what it was given,
then manages its registration (RFC 7592)."""

import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from oauth_provider.models import Client
from tests.factories import UserFactory
from tests.helpers import query_params
from tests.test_end_to_end import decide, log_in

pytestmark = pytest.mark.usefixtures("transactional_db")

REDIRECT_URI = "http://127.0.0.1/callback"


@pytest.fixture
def open_without_approval(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "REGISTRATION_POLICY": "open",
        "REGISTRATION_APPROVAL_REQUIRED": False,
    }


@pytest.mark.parametrize("method", ["client_secret_basic", "none"])
def test_register_then_authorize_then_delete(live_server, open_without_approval, method):
    base_url = live_server.url
    metadata = requests.get(f"{base_url}/.well-known/oauth-authorization-server", timeout=10).json()
    registration = requests.post(
        base_url + metadata["registration_endpoint"].removeprefix("https://auth.example.com"),
        json={
            "client_name": "Self-registered agent",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": method,
            "scope": "read",
        },
        timeout=10,
    )
    assert registration.status_code == 201, registration.text
    registered = registration.json()

    user = UserFactory()
    with (
        requests.Session() as browser,
        OAuth2Session(
            registered["client_id"],
            code_challenge_method="S256",
            client_secret=registered.get("client_secret"),
            token_endpoint_auth_method=registered["token_endpoint_auth_method"],
            redirect_uri=REDIRECT_URI,
            scope="read",
        ) as app,
    ):
        run_code_flow(base_url, browser, app, user)

        management = base_url + registered["registration_client_uri"].removeprefix("https://auth.example.com")
        headers = {"Authorization": f"Bearer {registered['registration_access_token']}"}
        read = requests.get(management, headers=headers, timeout=10)
        assert read.json()["client_name"] == "Self-registered agent"
        assert requests.delete(management, headers=headers, timeout=10).status_code == 204
        assert not Client.objects.filter(client_id=registered["client_id"]).exists()
        # Its tokens went with it.
        assert app.get(f"{base_url}/api/me/").status_code == 401


def run_code_flow(base_url, browser, app, user):
    """Sign in, approve on the consent screen, redeem the code, call the API."""
    log_in(browser, base_url, user.username)
    verifier = secrets.token_urlsafe(48)
    authorization_url, state = app.create_authorization_url(
        f"{base_url}/o/authorize/", code_verifier=verifier
    )
    consent, location = decide(browser, authorization_url, "allow")
    assert "Self-registered agent" in consent
    assert "error" not in query_params(location)
    token = app.fetch_token(
        f"{base_url}/o/token/", authorization_response=location, state=state, code_verifier=verifier
    )
    assert token["scope"] == "read"
    assert app.get(f"{base_url}/api/me/").json() == {"username": user.username}
