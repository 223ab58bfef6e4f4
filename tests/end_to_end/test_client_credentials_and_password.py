"""The client credentials and password grants over HTTP, driven by a real OAuth 2 client (Authlib).

Authlib's ``OAuth2Session`` plays the client: it fetches the token from the
live server, then calls the example API with it, as any third-party app would.
The live server runs in a thread of this process, so the ``settings`` fixture
reaches it.
"""

import pytest
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from example_project.api.models import Note
from oauth_provider.models import AccessToken, RefreshToken

from ..factories import PASSWORD, ClientFactory, UserFactory

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def make_app():
    """Builds the client's ``OAuth2Session``; closes them all afterwards so no
    keep-alive connection outlives the live server."""
    apps = []

    def make(client, **kwargs: object) -> OAuth2Session:
        app = OAuth2Session(client.client_id, client_secret=client.secret, **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def password_enabled(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": ["authorization_code", "client_credentials", "refresh_token", "password"],
    }


# -- client credentials (RFC 6749 §4.4) ----------------------------------------------------------


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_token_calls_the_api(live_server, make_app, auth_method):
    service = ClientFactory(grant_types=["client_credentials", "refresh_token"], redirect_uris="")
    app = make_app(service, token_endpoint_auth_method=auth_method, scope="read write")

    token = app.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read write"
    assert token["expires_in"] == 3600
    assert "refresh_token" not in token
    assert AccessToken.objects.get().user is None
    assert not RefreshToken.objects.exists()
    created = app.post(f"{live_server.url}/api/notes/", json={"text": "from a service"})
    assert created.status_code == 201
    listed = app.get(f"{live_server.url}/api/notes/")
    assert listed.status_code == 200
    assert [note["text"] for note in listed.json()] == ["from a service"]
    note = Note.objects.get()
    assert (note.user, note.client) == (None, service)
    # A client-only token has no user to describe.
    assert app.get(f"{live_server.url}/api/me/").status_code == 403


def test_client_credentials_with_wrong_secret_is_invalid_client(live_server, make_app):
    service = ClientFactory(grant_types=["client_credentials"], redirect_uris="")
    service.secret = "wrong"
    app = make_app(service)

    with pytest.raises(OAuthError, match="invalid_client"):
        app.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")

    assert not AccessToken.objects.exists()


def test_client_credentials_for_a_client_without_the_grant_is_unauthorized_client(live_server, make_app):
    app = make_app(ClientFactory())  # authorization_code and refresh_token only

    with pytest.raises(OAuthError, match="unauthorized_client"):
        app.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")


# -- password (RFC 6749 §4.3) --------------------------------------------------------------------


def test_password_grant_token_calls_the_api_and_refreshes(live_server, make_app, password_enabled):
    user = UserFactory()
    first_party = ClientFactory(grant_types=["password", "refresh_token"], redirect_uris="")
    app = make_app(first_party, scope="read write")

    token = app.fetch_token(f"{live_server.url}/o/token/", username=user.username, password=PASSWORD)

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read write"
    assert token["refresh_token"]
    me = app.get(f"{live_server.url}/api/me/")
    assert me.status_code == 200
    assert me.json() == {"username": user.username}
    assert app.post(f"{live_server.url}/api/notes/", json={"text": "mine"}).status_code == 201
    assert Note.objects.get().user == user

    refreshed = app.refresh_token(f"{live_server.url}/o/token/")

    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert [note["text"] for note in app.get(f"{live_server.url}/api/notes/").json()] == ["mine"]


def test_password_grant_with_wrong_password_is_invalid_grant(live_server, make_app, password_enabled):
    user = UserFactory()
    app = make_app(ClientFactory(grant_types=["password"], redirect_uris=""))

    with pytest.raises(OAuthError, match="invalid_grant"):
        app.fetch_token(f"{live_server.url}/o/token/", username=user.username, password="wrong")

    assert app.token is None
    assert not AccessToken.objects.exists()


def test_password_grant_is_off_by_default(live_server, make_app):
    user = UserFactory()
    app = make_app(ClientFactory(grant_types=["password"], redirect_uris=""))

    with pytest.raises(OAuthError, match="unsupported_grant_type"):
        app.fetch_token(f"{live_server.url}/o/token/", username=user.username, password=PASSWORD)
