"""Refresh token grant: rotation, reuse detection, narrowing (RFC 6749 §6, RFC 9700 §4.14.2)."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth_provider.consents import withdraw_consent
from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, RefreshToken
from oauth_provider.signals import refresh_token_reused
from tests.factories import AccessTokenFactory, ClientFactory, ConsentFactory, RefreshTokenFactory
from tests.helpers import basic_auth, post_token, request_cost

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def refresh_token(oauth_client, user):
    access = AccessTokenFactory(client=oauth_client, user=user, scope="read write")
    return RefreshTokenFactory(
        client=oauth_client, user=user, scope="read write", access_token=access, family_id=access.family_id
    )


def refresh(api_client, token, client=None, **params):
    client = client or token.client
    data = {"grant_type": "refresh_token", "refresh_token": token.value, **params}
    return post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))


def assert_error(response, error):
    assert response.status_code == 400, response.content
    assert response.json()["error"] == error


def stored(model, value):
    return model.objects.get(token_hash=hash_secret(value))


def test_refresh_rotates_both_tokens(api_client, refresh_token):
    response = refresh(api_client, refresh_token)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["scope"] == "read write"
    assert body["refresh_token"] != refresh_token.value
    new_refresh = stored(RefreshToken, body["refresh_token"])
    assert new_refresh.family_id == refresh_token.family_id
    assert new_refresh.revoked_at is None
    refresh_token.refresh_from_db()
    assert refresh_token.revoked_at is not None
    assert refresh_token.access_token.revoked_at is not None  # the old access token stops working


def test_old_access_token_stops_working_after_rotation(api_client, refresh_token):
    old_access = refresh_token.access_token.value
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {old_access}").status_code == 200
    new_access = refresh(api_client, refresh_token).json()["access_token"]
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {old_access}").status_code == 401
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {new_access}").status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(api_client, refresh_token):
    body = refresh(api_client, refresh_token).json()
    assert_error(refresh(api_client, refresh_token), "invalid_grant")
    assert stored(AccessToken, body["access_token"]).revoked_at is not None
    assert stored(RefreshToken, body["refresh_token"]).revoked_at is not None
    # The newest refresh token of the family is dead too.
    newest = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    client = refresh_token.client
    response = post_token(api_client, newest, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))
    assert_error(response, "invalid_grant")


def test_narrower_scope_may_be_requested(api_client, refresh_token):
    body = refresh(api_client, refresh_token, scope="read").json()
    assert body["scope"] == "read"
    assert stored(AccessToken, body["access_token"]).scope == "read"
    # §6: the new refresh token keeps the original scope.
    assert stored(RefreshToken, body["refresh_token"]).scope == "read write"


@pytest.mark.parametrize("scope", ["read write admin", "admin", "unknown", "bad\\scope"])
def test_broader_or_unknown_scope_is_invalid_scope(api_client, refresh_token, scope):
    assert_error(refresh(api_client, refresh_token, scope=scope), "invalid_scope")
    refresh_token.refresh_from_db()
    assert refresh_token.revoked_at is None


def test_refresh_token_of_another_client_is_invalid_grant(api_client, refresh_token):
    other = ClientFactory()
    assert_error(refresh(api_client, refresh_token, client=other), "invalid_grant")
    refresh_token.refresh_from_db()
    assert refresh_token.revoked_at is None


def test_expired_refresh_token_is_invalid_grant(api_client, refresh_token, frozen_clock):
    frozen_clock.advance(days=30, seconds=1)
    assert_error(refresh(api_client, refresh_token), "invalid_grant")


def test_unknown_or_missing_refresh_token(api_client, oauth_client):
    auth = basic_auth(oauth_client.client_id, oauth_client.secret)
    assert_error(
        post_token(
            api_client, {"grant_type": "refresh_token", "refresh_token": "oprt_x"}, HTTP_AUTHORIZATION=auth
        ),
        "invalid_grant",
    )
    assert_error(
        post_token(api_client, {"grant_type": "refresh_token"}, HTTP_AUTHORIZATION=auth), "invalid_request"
    )


def test_inactive_user_cannot_refresh(api_client, refresh_token, user):
    user.is_active = False
    user.save()
    assert_error(refresh(api_client, refresh_token), "invalid_grant")


def test_client_without_refresh_grant_is_unauthorized_client(api_client, user):
    app = ClientFactory(grant_types=["authorization_code"])
    token = RefreshTokenFactory(client=app, user=user)
    assert_error(refresh(api_client, token), "unauthorized_client")


def test_rotation_costs_six_statements_in_one_transaction(api_client, refresh_token):
    # The client and the refresh token, read; then the rotation UPDATE, the old
    # access token's UPDATE and both INSERTs, committed together.
    with CaptureQueriesContext(connection) as queries:
        assert refresh(api_client, refresh_token).status_code == 200
    assert request_cost(queries) == (6, 1)


def test_rotation_records_the_previous_token(api_client, refresh_token):
    body = refresh(api_client, refresh_token).json()
    assert stored(RefreshToken, body["refresh_token"]).previous_id == refresh_token.pk


# The optional grace period (REFRESH_TOKEN_GRACE_PERIOD_SECONDS): one retry of a lost rotation.


@pytest.fixture
def grace(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 10}


@pytest.mark.usefixtures("grace")
def test_retry_within_grace_period_gets_new_tokens_and_revokes_the_lost_ones(
    api_client, refresh_token, frozen_clock
):
    lost = refresh(api_client, refresh_token).json()
    frozen_clock.advance(seconds=5)

    retried = refresh(api_client, refresh_token)

    assert retried.status_code == 200, retried.content
    body = retried.json()
    assert stored(RefreshToken, body["refresh_token"]).revoked_at is None
    # The response the client never saw is dead; the family otherwise lives on.
    assert stored(RefreshToken, lost["refresh_token"]).revoked_at is not None
    assert stored(AccessToken, lost["access_token"]).revoked_at is not None
    assert stored(AccessToken, body["access_token"]).revoked_at is None
    assert (
        refresh(api_client, RefreshTokenValue(body["refresh_token"], refresh_token.client)).status_code == 200
    )


class RefreshTokenValue:
    """A refresh token as the client holds it: the raw value and its client."""

    def __init__(self, value, client):
        self.value, self.client = value, client


@pytest.mark.usefixtures("grace")
def test_grace_retry_is_allowed_once(api_client, refresh_token, frozen_clock):
    refresh(api_client, refresh_token)
    second = refresh(api_client, refresh_token).json()

    assert_error(refresh(api_client, refresh_token), "invalid_grant")
    # The third presentation is reuse: the whole family is revoked.
    assert stored(RefreshToken, second["refresh_token"]).revoked_at is not None


@pytest.mark.usefixtures("grace")
def test_token_revoked_by_a_retry_gets_no_retry_of_its_own(api_client, refresh_token):
    lost = refresh(api_client, refresh_token).json()
    kept = refresh(api_client, refresh_token).json()

    assert_error(
        refresh(api_client, RefreshTokenValue(lost["refresh_token"], refresh_token.client)), "invalid_grant"
    )
    assert stored(RefreshToken, kept["refresh_token"]).revoked_at is not None


@pytest.mark.usefixtures("grace")
def test_retry_after_grace_period_is_reuse(api_client, refresh_token, frozen_clock):
    first = refresh(api_client, refresh_token).json()
    frozen_clock.advance(seconds=11)

    assert_error(refresh(api_client, refresh_token), "invalid_grant")
    assert stored(RefreshToken, first["refresh_token"]).revoked_at is not None


@pytest.mark.usefixtures("grace")
def test_retry_after_the_successor_was_used_is_reuse(api_client, refresh_token):
    first = refresh(api_client, refresh_token).json()
    third = refresh(api_client, RefreshTokenValue(first["refresh_token"], refresh_token.client)).json()

    assert_error(refresh(api_client, refresh_token), "invalid_grant")
    assert stored(RefreshToken, third["refresh_token"]).revoked_at is not None


@pytest.mark.usefixtures("grace")
def test_explicitly_revoked_token_gets_no_grace(api_client, refresh_token):
    RefreshToken.objects.filter(pk=refresh_token.pk).update(revoked_at=refresh_token.created_at)
    assert_error(refresh(api_client, refresh_token), "invalid_grant")


def test_grace_period_is_off_by_default(api_client, refresh_token):
    first = refresh(api_client, refresh_token).json()
    assert_error(refresh(api_client, refresh_token), "invalid_grant")
    assert stored(RefreshToken, first["refresh_token"]).revoked_at is not None


def withdraw(api_client, token):
    withdraw_consent(ConsentFactory(user=token.user, client=token.client))


def change_password(api_client, token):
    token.user.set_password("a new password 123")
    token.user.save()


def revoke_by_the_client(api_client, token):
    client = token.client
    auth = basic_auth(client.client_id, client.secret)
    body = urlencode({"token": token.value})
    response = api_client.post("/o/revoke/", body, content_type=FORM, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200


@pytest.mark.parametrize("end", [withdraw, change_password, revoke_by_the_client])
def test_a_refresh_token_ended_otherwise_than_by_rotation_is_no_replay(api_client, refresh_token, end):
    """What a client holds after its user withdrew consent or changed the
    password, or after it revoked its own token, is simply no longer valid.
    Only a rotated token coming back is a replay (refresh_token_reused
    announces theft); else every withdrawal would raise a false alarm."""
    end(api_client, refresh_token)
    replays = []
    refresh_token_reused.connect(lambda **kw: replays.append(kw), weak=False, dispatch_uid="replays")
    try:
        response = refresh(api_client, refresh_token)
    finally:
        refresh_token_reused.disconnect(dispatch_uid="replays")
    assert_error(response, "invalid_grant")
    assert response.json()["error_description"] == "The refresh token is no longer valid."
    assert replays == []
