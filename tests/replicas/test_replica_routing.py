"""The protocol against a real PostgreSQL hot standby, reads routed to it.

``tests.replicas.router`` sends every read to the standby (``replica``) and
every write to ``primary`` (a second connection to the primary server, so that
a transaction opened on ``default`` instead does not cover the writes). The
standby refuses writes and row locks, so a write or a ``SELECT ... FOR UPDATE``
that went by the read route fails the flow.

Each flow runs twice: with the standby replaying as it goes (``streaming``),
and with its replay paused once the test's users and clients exist
(``paused``), so that every read that must see the flow's own writes (a code
issued a moment ago, a consent just given) fails unless it goes to the
primary or falls back to it. What a revocation changes reaches reads served
by the standby only once it has replayed it (``settle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from oauth_provider.models import AccessToken, AuthorizationCode, Client, Consent
from oauth_provider.settings import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, REFRESH_TOKEN
from tests.factories import AccessTokenFactory, ClientFactory, PublicClientFactory, UserFactory
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, pkce_pair, post_token, redirect_params
from tests.id_token_helpers import enable_openid

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ACCESS_TOKEN_TABLE = AccessToken._meta.db_table
CODE_TABLE = AuthorizationCode._meta.db_table


class Lag:
    """How far behind the standby is during a flow (see the module docstring)."""

    def __init__(self, replication, mode: str) -> None:
        self.replication = replication
        self.mode = mode

    def start(self) -> None:
        """From now on the standby replays as it goes, or not at all."""
        self.replication.caught_up()
        if self.mode == "paused":
            self.replication.pause()

    def settle(self) -> None:
        """Let the standby replay everything written so far."""
        self.replication.resume()
        self.replication.caught_up()


@pytest.fixture(params=["streaming", "paused"])
def lag(request, replication):
    return Lag(replication, request.param)


@pytest.fixture(autouse=True)
def _openid(settings):
    enable_openid(settings)


@pytest.fixture
def resource_server():
    """A client allowed to introspect tokens (RFC 7662 §2.1)."""
    return ClientFactory(allow_introspection=True, grant_types=[CLIENT_CREDENTIALS], redirect_uris="")


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


@dataclass
class ClientWithSecret:
    client_id: str
    secret: str
    is_confidential: bool = True


def token_request(api_client, app, **data):
    """POST to the token endpoint as ``app``; the response's JSON, which must be a success."""
    if app.is_confidential:
        response = post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret))
    else:
        response = post_token(api_client, {**data, "client_id": app.client_id})
    assert response.status_code == 200, response.content
    return response.json()


def form_post(api_client, url: str, data: dict, **headers):
    return api_client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded", **headers)


def introspect(api_client, resource_server, token: str) -> dict:
    authorization = basic_auth(resource_server.client_id, resource_server.secret)
    response = form_post(api_client, "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 200, response.content
    return response.json()


def revoke(api_client, app, token: str) -> None:
    authorization = basic_auth(app.client_id, app.secret)
    response = form_post(api_client, "/o/revoke/", {"token": token}, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 200, response.content


def api_status(api_client, token: str) -> int:
    """The status of a protected API request (the example project's /api/me/) with ``token``."""
    return api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def authorize_and_redeem(browser, api_client, app, scope: str = "openid read") -> dict:
    """The user approves on the consent screen; the code is redeemed with PKCE."""
    verifier, challenge = pkce_pair()
    url = authorize_url(app, scope=scope, code_challenge=challenge, code_challenge_method="S256")
    assert browser.get(url).status_code == 200  # the consent screen
    code = redirect_params(browser.post(url, {"action": "allow"}))["code"]
    return token_request(
        api_client,
        app,
        grant_type=AUTHORIZATION_CODE,
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )


def queries_on(captured: CaptureQueriesContext, table: str) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if table in query["sql"]]


# -- whole flows --------------------------------------------------------------


def test_code_flow_with_refresh_introspection_userinfo_and_revocation(
    lag, browser, api_client, resource_server
):
    app = ClientFactory(grant_types=[AUTHORIZATION_CODE, REFRESH_TOKEN])
    lag.start()
    tokens = authorize_and_redeem(browser, api_client, app)
    assert "id_token" in tokens
    assert api_status(api_client, tokens["access_token"]) == 200
    userinfo = api_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert userinfo.status_code == 200, userinfo.content
    assert introspect(api_client, resource_server, tokens["access_token"])["active"] is True

    refreshed = token_request(
        api_client, app, grant_type=REFRESH_TOKEN, refresh_token=tokens["refresh_token"]
    )
    assert "id_token" in refreshed
    assert api_status(api_client, refreshed["access_token"]) == 200
    assert introspect(api_client, resource_server, refreshed["refresh_token"])["active"] is True
    # RFC 7009 §2.1: the refresh token takes its whole family with it.
    revoke(api_client, app, refreshed["refresh_token"])

    lag.settle()
    assert api_status(api_client, tokens["access_token"]) == 401  # rotated away
    assert api_status(api_client, refreshed["access_token"]) == 401  # revoked with its family
    assert introspect(api_client, resource_server, refreshed["refresh_token"]) == {"active": False}


def test_a_replayed_refresh_token_revokes_the_tokens_issued_a_moment_ago(lag, browser, api_client):
    app = ClientFactory(grant_types=[AUTHORIZATION_CODE, REFRESH_TOKEN])
    lag.start()
    tokens = authorize_and_redeem(browser, api_client, app, scope="read")
    refreshed = token_request(
        api_client, app, grant_type=REFRESH_TOKEN, refresh_token=tokens["refresh_token"]
    )
    replay = post_token(
        api_client,
        {"grant_type": REFRESH_TOKEN, "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )
    assert replay.json()["error"] == "invalid_grant"
    lag.settle()
    # The family, found on the primary, lost the tokens the rotation had just issued.
    assert api_status(api_client, refreshed["access_token"]) == 401


def test_client_credentials_for_a_client_registered_a_moment_ago(lag, api_client, resource_server):
    lag.start()
    # Made after the pause: only the primary has it, so client authentication falls back.
    app = ClientFactory(grant_types=[CLIENT_CREDENTIALS])
    tokens = token_request(api_client, app, grant_type=CLIENT_CREDENTIALS, scope="read")
    assert introspect(api_client, resource_server, tokens["access_token"])["client_id"] == app.client_id
    revoke(api_client, app, tokens["access_token"])
    lag.settle()
    assert introspect(api_client, resource_server, tokens["access_token"]) == {"active": False}


def test_a_client_registered_a_moment_ago_is_authorized_at_once(replication, browser, api_client):
    replication.pause()
    app = ClientFactory(grant_types=[AUTHORIZATION_CODE])  # on the primary only
    tokens = authorize_and_redeem(browser, api_client, app, scope="read")
    assert api_status(api_client, tokens["access_token"]) == 200


def test_a_secret_rotated_a_moment_ago_authenticates_the_client(replication, api_client):
    app = ClientFactory(grant_types=[CLIENT_CREDENTIALS])
    replication.caught_up()
    replication.pause()
    secret = app.set_secret()
    app.save(update_fields=["client_secret_hash"])
    # The replica still holds the old secret's hash: the refusal is checked on the primary.
    tokens = token_request(api_client, ClientWithSecret(app.client_id, secret), grant_type=CLIENT_CREDENTIALS)
    assert tokens["token_type"] == "Bearer"


def test_device_flow(lag, browser, api_client):
    tv = PublicClientFactory(grant_types=[DEVICE_CODE, REFRESH_TOKEN])
    lag.start()
    started = form_post(api_client, "/o/device_authorization/", {"client_id": tv.client_id, "scope": "read"})
    assert started.status_code == 200, started.content
    grant = started.json()
    consent_screen = browser.post("/o/device/", {"user_code": grant["user_code"]})
    assert consent_screen.status_code == 200
    decided = browser.post("/o/device/", {"user_code": grant["user_code"], "action": "allow"})
    assert decided.status_code == 200, decided.content
    tokens = token_request(api_client, tv, grant_type=DEVICE_CODE, device_code=grant["device_code"])
    assert api_status(api_client, tokens["access_token"]) == 200
    again = post_token(
        api_client,
        {"grant_type": DEVICE_CODE, "device_code": grant["device_code"], "client_id": tv.client_id},
    )
    assert again.json()["error"] == "invalid_grant"  # exchanged already, as the primary says


def test_consent_withdrawn_at_once_ends_the_grant(lag, browser, api_client, user):
    app = ClientFactory(grant_types=[AUTHORIZATION_CODE, REFRESH_TOKEN])
    lag.start()
    tokens = authorize_and_redeem(browser, api_client, app)
    # Given a moment ago: the withdrawal page finds it on the primary.
    consent = Consent.objects.using("primary").get(user=user, client=app)
    withdrawn = browser.post(f"/o/authorized-apps/{consent.pk}/withdraw/")
    assert withdrawn.status_code == 302
    refused = post_token(
        api_client,
        {"grant_type": REFRESH_TOKEN, "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )
    assert refused.json()["error"] == "invalid_grant"
    lag.settle()
    assert api_status(api_client, tokens["access_token"]) == 401
    assert not Consent.objects.filter(pk=consent.pk).exists()


# -- where the reads went -------------------------------------------------------


def test_a_protected_request_reads_its_token_from_the_replica(replication, api_client):
    token = AccessTokenFactory()
    replication.caught_up()
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["primary"]) as primary,
    ):
        assert api_status(api_client, token.value) == 200
    assert len(queries_on(replica, ACCESS_TOKEN_TABLE)) == 1
    assert queries_on(primary, ACCESS_TOKEN_TABLE) == []


def test_a_token_the_replica_does_not_have_yet_is_found_on_the_primary(
    replication, api_client, resource_server
):
    replication.pause()
    token = AccessTokenFactory()
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["primary"]) as primary,
    ):
        assert api_status(api_client, token.value) == 200
    # One miss on the replica, then the row from the primary.
    assert len(queries_on(replica, ACCESS_TOKEN_TABLE)) == 1
    assert len(queries_on(primary, ACCESS_TOKEN_TABLE)) == 1
    # Introspection's lookup (token_lookup) falls back the same way.
    assert introspect(api_client, resource_server, token.value)["active"] is True


def test_an_unknown_token_is_looked_for_on_both(replication, api_client):
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["primary"]) as primary,
    ):
        assert api_status(api_client, "opat_unknown") == 401
    assert len(queries_on(replica, ACCESS_TOKEN_TABLE)) == 1
    assert len(queries_on(primary, ACCESS_TOKEN_TABLE)) == 1


def test_a_code_is_redeemed_on_what_the_primary_holds(replication, browser, api_client):
    app = ClientFactory(grant_types=[AUTHORIZATION_CODE])
    verifier, challenge = pkce_pair()
    url = authorize_url(app, code_challenge=challenge, code_challenge_method="S256")
    code = redirect_params(browser.post(url, {"action": "allow"}))["code"]
    replication.caught_up()  # the replica has the code too
    with CaptureQueriesContext(connections["replica"]) as replica:
        token_request(
            api_client,
            app,
            grant_type=AUTHORIZATION_CODE,
            code=code,
            redirect_uri=REDIRECT_URI,
            code_verifier=verifier,
        )
    assert queries_on(replica, CODE_TABLE) == []


def test_the_client_of_a_token_request_is_read_from_the_replica(replication, api_client):
    app = ClientFactory(grant_types=[CLIENT_CREDENTIALS])
    replication.caught_up()
    with CaptureQueriesContext(connections["replica"]) as replica:
        token_request(api_client, app, grant_type=CLIENT_CREDENTIALS)
    assert len(queries_on(replica, Client._meta.db_table)) == 1
