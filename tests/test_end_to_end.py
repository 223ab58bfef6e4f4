"""The whole authorization code flow over HTTP, driven by a real OAuth 2 client (Authlib).

A ``requests`` session plays the user's browser (real login form, CSRF token,
consent form); Authlib's ``OAuth2Session`` plays the third-party app, builds
the authorization URL with PKCE, redeems the code and calls the API.
"""

import re
import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from oauth_provider.models import AuthorizationCode, Consent

from .factories import PASSWORD, ClientFactory, PublicClientFactory, UserFactory
from .helpers import query_params

pytestmark = pytest.mark.usefixtures("transactional_db")

ISSUER = "https://auth.example.com"  # tests/settings.py
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the form"
    return match.group(1)


@pytest.fixture
def browser():
    """The user's browser. Closed at the end so no keep-alive connection
    outlives the live server."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def make_app():
    """Builds the third-party app's ``OAuth2Session``; closes them all afterwards."""
    apps = []

    def make(client_id: str, **kwargs: object) -> OAuth2Session:
        app = OAuth2Session(client_id, code_challenge_method="S256", **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def log_in(browser: requests.Session, base_url: str, username: str) -> None:
    """Sign in through the real login form, as a browser would."""
    form = browser.get(f"{base_url}/accounts/login/")
    assert form.status_code == 200
    response = browser.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(form.text)},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    assert "sessionid" in browser.cookies


def decide(browser: requests.Session, authorization_url: str, action: str) -> tuple[str, str]:
    """Open the consent screen and press a button; return the screen's HTML
    and the Location the decision redirects to."""
    consent = browser.get(authorization_url, allow_redirects=False)
    assert consent.status_code == 200, consent.text
    response = browser.post(
        authorization_url,
        data={"action": action, "csrfmiddlewaretoken": csrf_token(consent.text)},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return consent.text, response.headers["Location"]


def test_confidential_client_flow(live_server, browser, make_app):
    user = UserFactory()
    oauth_client = ClientFactory(redirect_uris="http://127.0.0.1/callback")
    log_in(browser, live_server.url, user.username)
    app = make_app(
        oauth_client.client_id,
        client_secret=oauth_client.secret,
        token_endpoint_auth_method="client_secret_basic",
        redirect_uri="http://127.0.0.1/callback",
        scope="read write",
    )
    verifier = secrets.token_urlsafe(48)
    authorization_url, state = app.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=verifier
    )

    consent, location = decide(browser, authorization_url, "allow")

    assert oauth_client.name in consent
    assert user.username in consent
    assert location.startswith("http://127.0.0.1/callback?")
    params = query_params(location)
    assert params["state"] == state
    assert params["iss"] == ISSUER  # RFC 9207
    assert "error" not in params

    # Authlib checks the state and sends client_secret_basic, redirect_uri and the verifier.
    token = app.fetch_token(
        f"{live_server.url}/o/token/", authorization_response=location, state=state, code_verifier=verifier
    )

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read write"
    assert token["expires_in"] > 0
    assert token["refresh_token"]
    me = app.get(f"{live_server.url}/api/me/")
    assert me.status_code == 200
    assert me.json() == {"username": user.username}
    created = app.post(f"{live_server.url}/api/notes/", json={"text": "written through Authlib"})
    assert created.status_code == 201
    assert [note["text"] for note in app.get(f"{live_server.url}/api/notes/").json()] == [
        "written through Authlib"
    ]
    assert Consent.objects.get(user=user, client=oauth_client).scopes == ["read", "write"]


def test_public_client_flow_with_loopback_port(live_server, browser, make_app):
    user = UserFactory()
    oauth_client = PublicClientFactory()  # registers http://127.0.0.1/callback
    log_in(browser, live_server.url, user.username)
    # A native app listens on an ephemeral port; RFC 8252 §7.3 lets the port vary.
    redirect_uri = "http://127.0.0.1:53219/callback"
    app = make_app(
        oauth_client.client_id,
        token_endpoint_auth_method="none",
        redirect_uri=redirect_uri,
        scope="read",
    )
    verifier = secrets.token_urlsafe(48)
    authorization_url, state = app.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=verifier
    )

    _consent, location = decide(browser, authorization_url, "allow")

    assert location.startswith(f"{redirect_uri}?")
    params = query_params(location)
    assert params["state"] == state
    assert params["iss"] == ISSUER

    token = app.fetch_token(
        f"{live_server.url}/o/token/", authorization_response=location, state=state, code_verifier=verifier
    )

    assert token["scope"] == "read"
    me = app.get(f"{live_server.url}/api/me/")
    assert me.status_code == 200
    assert me.json() == {"username": user.username}
    # read only: writing is refused with insufficient_scope.
    refused = app.post(f"{live_server.url}/api/notes/", json={"text": "nope"})
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]


def test_public_client_without_verifier_gets_invalid_grant(live_server, browser, make_app):
    user = UserFactory()
    oauth_client = PublicClientFactory()
    log_in(browser, live_server.url, user.username)
    app = make_app(
        oauth_client.client_id,
        token_endpoint_auth_method="none",
        redirect_uri="http://127.0.0.1/callback",
        scope="read",
    )
    authorization_url, state = app.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=secrets.token_urlsafe(48)
    )
    _consent, location = decide(browser, authorization_url, "allow")

    # Authlib raises the token endpoint's error as an OAuthError.
    with pytest.raises(OAuthError, match="invalid_grant"):
        app.fetch_token(f"{live_server.url}/o/token/", authorization_response=location, state=state)

    assert app.token is None


def test_user_denies(live_server, browser, make_app):
    user = UserFactory()
    oauth_client = ClientFactory(redirect_uris="http://127.0.0.1/callback")
    log_in(browser, live_server.url, user.username)
    app = make_app(
        oauth_client.client_id,
        client_secret=oauth_client.secret,
        redirect_uri="http://127.0.0.1/callback",
        scope="read",
    )
    authorization_url, state = app.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=secrets.token_urlsafe(48)
    )

    _consent, location = decide(browser, authorization_url, "deny")

    assert location.startswith("http://127.0.0.1/callback?")
    params = query_params(location)
    assert params["error"] == "access_denied"
    assert params["state"] == state
    assert params["iss"] == ISSUER
    assert "code" not in params
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()
