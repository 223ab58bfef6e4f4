"""Device code grant: the device's polling (RFC 8628 §3.4-§3.5)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth_provider.models import AccessToken, DeviceAuthorization, RefreshToken
from oauth_provider.settings import AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN
from oauth_provider.signals import token_issued
from tests.factories import ClientFactory, DeviceAuthorizationFactory, PublicClientFactory
from tests.helpers import basic_auth, post_token

pytestmark = pytest.mark.django_db

Status = DeviceAuthorization.Status


@pytest.fixture
def device_client():
    return ClientFactory(grant_types=[DEVICE_CODE, REFRESH_TOKEN])


@pytest.fixture
def pending(device_client, frozen_clock):
    return DeviceAuthorizationFactory(client=device_client, scope="read write")


@pytest.fixture
def approved(device_client, user, frozen_clock):
    return DeviceAuthorizationFactory(
        client=device_client, user=user, status=Status.APPROVED, decided_at=frozen_clock.current
    )


def poll(api_client, authorization, client=None, **extra):
    client = client or authorization.client
    data = {"grant_type": DEVICE_CODE, "device_code": authorization.value, **extra}
    return post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))


def assert_error(response, error, status=400):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"


def writes(queries):
    return [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]


# -- authorization_pending and slow_down (§3.5) ----------------------------------------------------


def test_pending_is_authorization_pending(api_client, pending, frozen_clock):
    assert_error(poll(api_client, pending), "authorization_pending")
    pending.refresh_from_db()
    assert pending.last_polled_at == frozen_clock.current
    assert pending.interval == 5


def test_polling_at_the_interval_stays_pending(api_client, pending, frozen_clock):
    assert_error(poll(api_client, pending), "authorization_pending")
    frozen_clock.advance(seconds=5)
    assert_error(poll(api_client, pending), "authorization_pending")
    pending.refresh_from_db()
    assert pending.last_polled_at == frozen_clock.current
    assert pending.interval == 5


def test_polling_sooner_than_the_interval_is_slow_down_and_adds_5_seconds(api_client, pending, frozen_clock):
    poll(api_client, pending)
    frozen_clock.advance(seconds=4)
    assert_error(poll(api_client, pending), "slow_down")
    pending.refresh_from_db()
    assert pending.interval == 10
    assert pending.last_polled_at == frozen_clock.current


def test_the_raised_interval_applies_to_every_later_poll(api_client, pending, frozen_clock):
    poll(api_client, pending)
    frozen_clock.advance(seconds=1)
    assert_error(poll(api_client, pending), "slow_down")  # interval now 10
    frozen_clock.advance(seconds=9)
    assert_error(poll(api_client, pending), "slow_down")  # interval now 15
    frozen_clock.advance(seconds=15)
    assert_error(poll(api_client, pending), "authorization_pending")
    pending.refresh_from_db()
    assert pending.interval == 15


def test_slow_down_applies_to_decided_authorizations_too(api_client, approved, frozen_clock):
    DeviceAuthorization.objects.filter(pk=approved.pk).update(last_polled_at=frozen_clock.current)
    frozen_clock.advance(seconds=2)
    assert_error(poll(api_client, approved), "slow_down")
    approved.refresh_from_db()
    assert approved.used_at is None
    assert not AccessToken.objects.exists()


def test_pending_poll_writes_one_column_once(api_client, pending):
    with CaptureQueriesContext(connection) as queries:
        poll(api_client, pending)
    [update] = writes(queries)
    assert "last_polled_at" in update
    assert "interval" not in update
    assert "status" not in update


# -- access_denied, expired_token (§3.5) ---------------------------------------------------------


def test_denied_is_access_denied(api_client, device_client, user):
    denied = DeviceAuthorizationFactory(client=device_client, user=user, status=Status.DENIED)
    assert_error(poll(api_client, denied), "access_denied")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("status", [Status.DENIED, Status.APPROVED])
def test_polls_that_change_nothing_write_nothing(api_client, device_client, user, status):
    authorization = DeviceAuthorizationFactory(client=device_client, user=user, status=status)
    poll(api_client, authorization)  # approved: redeemed now
    with CaptureQueriesContext(connection) as queries:
        poll(api_client, authorization)
    assert writes(queries) == []


def test_expired_is_expired_token(api_client, pending, frozen_clock):
    frozen_clock.advance(seconds=600)
    assert_error(poll(api_client, pending), "expired_token")
    pending.refresh_from_db()
    assert pending.last_polled_at is None


def test_expired_approval_is_expired_token(api_client, approved, frozen_clock):
    frozen_clock.advance(minutes=11)
    assert_error(poll(api_client, approved), "expired_token")
    assert not AccessToken.objects.exists()


def test_expired_is_answered_before_slow_down(api_client, pending, frozen_clock):
    poll(api_client, pending)
    frozen_clock.advance(seconds=600)
    assert_error(poll(api_client, pending), "expired_token")


# -- tokens, once (§3.5) -------------------------------------------------------------------------


def test_approved_gets_tokens(api_client, approved, user, frozen_clock):
    response = poll(api_client, approved)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"
    assert body["expires_in"] == 3600
    assert body["refresh_token"]
    assert response["Cache-Control"] == "no-store"
    token = AccessToken.objects.get()
    assert token.user == user
    assert token.client == approved.client
    assert token.family_id == approved.family_id
    assert RefreshToken.objects.get().family_id == approved.family_id
    approved.refresh_from_db()
    assert approved.used_at == frozen_clock.current


def test_no_refresh_token_unless_the_client_may_refresh(api_client, user):
    client = ClientFactory(grant_types=[DEVICE_CODE])
    authorization = DeviceAuthorizationFactory(client=client, user=user, status=Status.APPROVED)
    body = poll(api_client, authorization).json()
    assert "refresh_token" not in body
    assert body["access_token"]


def test_tokens_are_issued_with_the_device_grant_type(api_client, approved):
    received = []

    def receiver(sender, token, grant_type, **kwargs):
        received.append(grant_type)

    token_issued.connect(receiver)
    try:
        poll(api_client, approved)
    finally:
        token_issued.disconnect(receiver)
    assert received == [DEVICE_CODE, DEVICE_CODE]


def test_second_exchange_is_invalid_grant(api_client, approved, frozen_clock):
    assert poll(api_client, approved).status_code == 200
    frozen_clock.advance(seconds=10)
    assert_error(poll(api_client, approved), "invalid_grant")
    assert AccessToken.objects.count() == 1
    # The tokens already issued keep working: a device retrying is not an attack.
    assert AccessToken.objects.get().revoked_at is None


def test_second_exchange_after_expiry_is_still_invalid_grant(api_client, approved, frozen_clock):
    poll(api_client, approved)
    frozen_clock.advance(minutes=11)
    assert_error(poll(api_client, approved), "invalid_grant")


def test_public_client_polls_with_client_id(api_client, user):
    client = PublicClientFactory(grant_types=[DEVICE_CODE])
    authorization = DeviceAuthorizationFactory(client=client, user=user, status=Status.APPROVED)
    data = {"grant_type": DEVICE_CODE, "device_code": authorization.value, "client_id": client.client_id}
    assert post_token(api_client, data).status_code == 200


def test_inactive_user_is_invalid_grant(api_client, approved, user):
    # By update(), which sends no signal: saving would end its grants (receivers),
    # the approval included, and the poll would be told access_denied.
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert_error(poll(api_client, approved), "invalid_grant")
    assert not AccessToken.objects.exists()


# -- invalid_grant, client and request errors ----------------------------------------------------


def test_unknown_device_code_is_invalid_grant(api_client, device_client):
    data = {"grant_type": DEVICE_CODE, "device_code": "opdc_unknown"}
    auth = basic_auth(device_client.client_id, device_client.secret)
    assert_error(post_token(api_client, data, HTTP_AUTHORIZATION=auth), "invalid_grant")


def test_another_clients_device_code_is_invalid_grant(api_client, approved):
    other = ClientFactory(grant_types=[DEVICE_CODE])
    assert_error(poll(api_client, approved, client=other), "invalid_grant")
    approved.refresh_from_db()
    assert approved.used_at is None


def test_missing_device_code_is_invalid_request(api_client, device_client):
    auth = basic_auth(device_client.client_id, device_client.secret)
    assert_error(
        post_token(api_client, {"grant_type": DEVICE_CODE}, HTTP_AUTHORIZATION=auth), "invalid_request"
    )


def test_repeated_device_code_is_invalid_request(api_client, approved):
    data = [("grant_type", DEVICE_CODE), ("device_code", approved.value), ("device_code", approved.value)]
    auth = basic_auth(approved.client.client_id, approved.client.secret)
    assert_error(post_token(api_client, data, HTTP_AUTHORIZATION=auth), "invalid_request")
    assert not AccessToken.objects.exists()


def test_client_without_the_device_grant_is_unauthorized_client(api_client, user):
    client = ClientFactory(grant_types=[AUTHORIZATION_CODE])
    authorization = DeviceAuthorizationFactory(client=client, user=user, status=Status.APPROVED)
    assert_error(poll(api_client, authorization), "unauthorized_client")


def test_server_without_the_device_grant_is_unsupported_grant_type(api_client, approved, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": [AUTHORIZATION_CODE, REFRESH_TOKEN]}
    assert_error(poll(api_client, approved), "unsupported_grant_type")


def test_wrong_client_secret_is_invalid_client(api_client, approved):
    data = {"grant_type": DEVICE_CODE, "device_code": approved.value}
    auth = basic_auth(approved.client.client_id, "wrong")
    assert_error(post_token(api_client, data, HTTP_AUTHORIZATION=auth), "invalid_client", status=401)


@pytest.mark.parametrize("raw", ["%00", "%ff%fe", "a" * 5000, "%e2%80%ae", "%", "opdc_" + "x" * 43])
def test_malformed_device_code_is_answered_not_500(api_client, device_client, raw):
    auth = basic_auth(device_client.client_id, device_client.secret)
    body = f"grant_type={DEVICE_CODE}&device_code={raw}"
    response = api_client.post(
        "/o/token/", body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}
