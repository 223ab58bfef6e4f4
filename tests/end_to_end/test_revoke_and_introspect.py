"""Revocation (RFC 7009) and introspection (RFC 7662) over HTTP, driven by a real OAuth 2 client (Authlib).

Authlib's ``OAuth2Session`` plays both the client that holds the token
(``revoke_token``) and the resource server that asks about it
(``introspect_token``), against the live server.
"""

import pytest
from authlib.integrations.requests_client import OAuth2Session

from oauth_provider.issuance import issue_tokens
from oauth_provider.models import AccessToken, RefreshToken
from oauth_provider.subjects import subject

from ..factories import ClientFactory, PublicClientFactory, UserFactory

pytestmark = pytest.mark.usefixtures("transactional_db")

ISSUER = "https://auth.example.com"  # tests/settings.py


@pytest.fixture
def make_session():
    """Builds ``OAuth2Session``s; closes them all afterwards so no keep-alive
    connection outlives the live server."""
    sessions = []

    def make(client_id: str, **kwargs: object) -> OAuth2Session:
        session = OAuth2Session(client_id, **kwargs)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def resource_server(make_session):
    """A protected resource allowed to introspect, as an Authlib session."""
    client = ClientFactory(allow_introspection=True, grant_types=["client_credentials"], redirect_uris="")
    return make_session(client.client_id, client_secret=client.secret)


def test_client_credentials_token_introspected_revoked_and_refused(
    live_server, make_session, resource_server
):
    service = ClientFactory(grant_types=["client_credentials"], redirect_uris="")
    app = make_session(service.client_id, client_secret=service.secret, scope="read")
    token = app.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")
    introspect_url = f"{live_server.url}/o/introspect/"

    active = resource_server.introspect_token(introspect_url, token=token["access_token"])

    assert active.status_code == 200
    assert active.headers["Cache-Control"] == "no-store"
    body = active.json()
    assert body["active"] is True
    assert body["client_id"] == service.client_id
    assert body["scope"] == "read"
    assert body["token_type"] == "Bearer"
    assert body["iss"] == ISSUER
    assert body["exp"] - body["iat"] == 3600
    assert "sub" not in body
    assert app.get(f"{live_server.url}/api/notes/").status_code == 200

    revoked = app.revoke_token(
        f"{live_server.url}/o/revoke/", token=token["access_token"], token_type_hint="access_token"
    )

    assert revoked.status_code == 200
    assert resource_server.introspect_token(introspect_url, token=token["access_token"]).json() == {
        "active": False
    }
    refused = app.get(f"{live_server.url}/api/notes/")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_public_client_revokes_its_refresh_token_and_the_grant_ends(
    live_server, make_session, resource_server
):
    user = UserFactory()
    native_app = PublicClientFactory(grant_types=["authorization_code", "refresh_token"])
    # Tokens as the authorization code grant would issue them.
    token = issue_tokens(
        client=native_app, user=user, scopes=["read"], resources=[], grant_type="authorization_code"
    )
    app = make_session(native_app.client_id, token=token, revocation_endpoint_auth_method="none")
    introspect_url = f"{live_server.url}/o/introspect/"
    assert app.get(f"{live_server.url}/api/me/").json() == {"username": user.username}
    described = resource_server.introspect_token(
        introspect_url, token=token["refresh_token"], token_type_hint="refresh_token"
    ).json()
    assert described["active"] is True
    assert described["username"] == user.username
    assert described["sub"] == subject(user, native_app)
    assert "token_type" not in described

    # With no token given, Authlib revokes the session's refresh token, sending only the client_id.
    revoked = app.revoke_token(f"{live_server.url}/o/revoke/", token_type_hint="refresh_token")

    assert revoked.status_code == 200
    for value in (token["access_token"], token["refresh_token"]):
        assert resource_server.introspect_token(introspect_url, token=value).json() == {"active": False}
    assert app.get(f"{live_server.url}/api/me/").status_code == 401
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()


def test_another_clients_revocation_is_refused_and_changes_nothing(
    live_server, make_session, resource_server
):
    service = ClientFactory(grant_types=["client_credentials"], redirect_uris="")
    token = make_session(service.client_id, client_secret=service.secret).fetch_token(
        f"{live_server.url}/o/token/", grant_type="client_credentials"
    )
    intruder = ClientFactory(grant_types=["client_credentials"], redirect_uris="")
    intruder_app = make_session(intruder.client_id, client_secret=intruder.secret)

    response = intruder_app.revoke_token(f"{live_server.url}/o/revoke/", token=token["access_token"])

    # RFC 7009 §2.1: refused, and the client is told.
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    introspected = resource_server.introspect_token(
        f"{live_server.url}/o/introspect/", token=token["access_token"]
    )
    assert introspected.json()["active"] is True


def test_client_not_allowed_to_introspect_is_refused(live_server, make_session):
    service = ClientFactory(grant_types=["client_credentials"], redirect_uris="")
    app = make_session(service.client_id, client_secret=service.secret)
    token = app.fetch_token(f"{live_server.url}/o/token/", grant_type="client_credentials")

    response = app.introspect_token(f"{live_server.url}/o/introspect/", token=token["access_token"])

    assert response.status_code == 403
    assert response.json()["error"] == "unauthorized_client"
    assert "active" not in response.json()
