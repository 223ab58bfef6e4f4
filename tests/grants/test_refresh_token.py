"""Refresh token grant: rotation, reuse detection, narrowing (RFC 6749 §6, RFC 9700 §4.14.2)."""

import pytest

from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, RefreshToken
from tests.factories import AccessTokenFactory, ClientFactory, RefreshTokenFactory
from tests.helpers import basic_auth, post_token

pytestmark = pytest.mark.django_db


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


def test_rotation_costs_six_statements(api_client, refresh_token, django_assert_num_queries):
    # client, refresh token, rotate UPDATE, old access UPDATE, two INSERTs (+ SAVEPOINT/RELEASE in tests)
    with django_assert_num_queries(8):
        assert refresh(api_client, refresh_token).status_code == 200
