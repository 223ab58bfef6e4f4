"""The device authorization endpoint (RFC 8628 §3.1-§3.2)."""

import re
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from oauth_provider import device
from oauth_provider.crypto import hash_secret, hash_user_code
from oauth_provider.models import DeviceAuthorization
from oauth_provider.settings import AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN
from tests.factories import ClientFactory, DeviceAuthorizationFactory, PublicClientFactory
from tests.helpers import basic_auth

pytestmark = pytest.mark.django_db

URL = "/o/device_authorization/"
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")


@pytest.fixture
def device_client():
    return ClientFactory(grant_types=[DEVICE_CODE, REFRESH_TOKEN])


@pytest.fixture
def public_device_client():
    return PublicClientFactory(grant_types=[DEVICE_CODE])


def post(api_client, data, **headers):
    """POST form-encoded ``data`` (a dict, or a list of pairs for repeats)."""
    return api_client.post(
        URL, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", **headers
    )


def authorize(api_client, client, **data):
    return post(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"


# -- success (§3.2) -----------------------------------------------------------------------------


def test_response_has_every_rfc_8628_field(api_client, device_client):
    response = authorize(api_client, device_client, scope="read write")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert body["device_code"].startswith("opdc_")
    assert USER_CODE.fullmatch(body["user_code"])
    assert body["verification_uri"] == "https://auth.example.com/o/device/"
    assert (
        body["verification_uri_complete"]
        == f"https://auth.example.com/o/device/?user_code={body['user_code']}"
    )
    assert body["expires_in"] == 600
    assert body["interval"] == 5


def test_response_is_not_cached(api_client, device_client):
    response = authorize(api_client, device_client)
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_only_hashes_of_the_codes_are_stored(api_client, device_client, frozen_clock):
    body = authorize(api_client, device_client, scope="write").json()
    row = DeviceAuthorization.objects.get()
    assert row.token_hash == hash_secret(body["device_code"])
    user_code = body["user_code"].replace("-", "")
    # Keyed: the short user code can't be recovered by hashing every candidate.
    assert row.user_code_hash == hash_user_code(user_code) != hash_secret(user_code)
    assert row.client == device_client
    assert row.scope == "write"
    assert row.status == DeviceAuthorization.Status.PENDING
    assert row.user is None
    assert row.interval == 5
    assert row.expires_at == frozen_clock.current + timedelta(seconds=600)
    stored = " ".join(str(value) for value in DeviceAuthorization.objects.values_list().get())
    assert body["device_code"] not in stored
    assert body["user_code"].replace("-", "") not in stored


def test_lifetime_and_interval_come_from_settings(api_client, device_client, settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "DEVICE_CODE_EXPIRE_SECONDS": 300,
        "DEVICE_CODE_INTERVAL": 8,
    }
    body = authorize(api_client, device_client).json()
    assert (body["expires_in"], body["interval"]) == (300, 8)
    assert DeviceAuthorization.objects.get().interval == 8


def test_every_request_gets_new_codes(api_client, device_client):
    first = authorize(api_client, device_client).json()
    second = authorize(api_client, device_client).json()
    assert first["device_code"] != second["device_code"]
    assert first["user_code"] != second["user_code"]


def test_verification_uri_follows_the_request_host_without_issuer(api_client, device_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}
    body = authorize(api_client, device_client).json()
    assert body["verification_uri"] == "http://testserver/o/device/"


def test_public_client_sends_client_id_only(api_client, public_device_client):
    response = post(api_client, {"client_id": public_device_client.client_id})
    assert response.status_code == 200
    assert DeviceAuthorization.objects.get().client == public_device_client


def test_client_secret_post(api_client, device_client):
    data = {"client_id": device_client.client_id, "client_secret": device_client.secret}
    assert post(api_client, data).status_code == 200


def test_user_code_collision_draws_a_new_code(api_client, device_client, monkeypatch):
    taken = DeviceAuthorizationFactory(client=device_client)
    codes = iter([taken.user_code, "ZZZZXXXX"])
    monkeypatch.setattr(device, "generate_user_code", lambda: next(codes))
    response = authorize(api_client, device_client)
    assert response.status_code == 200
    assert response.json()["user_code"] == "ZZZZ-XXXX"
    assert DeviceAuthorization.objects.count() == 2


# -- scope (RFC 6749 §3.3) ----------------------------------------------------------------------


def test_missing_scope_uses_default_scopes(api_client, device_client):
    assert authorize(api_client, device_client).status_code == 200
    assert DeviceAuthorization.objects.get().scope == "read"


def test_unknown_scope_is_invalid_scope(api_client, device_client):
    assert_error(authorize(api_client, device_client, scope="read delete"), 400, "invalid_scope")
    assert not DeviceAuthorization.objects.exists()


def test_scope_not_allowed_for_client_is_invalid_scope(api_client):
    limited = ClientFactory(grant_types=[DEVICE_CODE], scopes=["read"])
    assert_error(authorize(api_client, limited, scope="write"), 400, "invalid_scope")


def test_missing_scope_without_defaults_is_invalid_scope(api_client, device_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "DEFAULT_SCOPES": []}
    assert_error(authorize(api_client, device_client), 400, "invalid_scope")


# -- client and grant type (§3.1, RFC 6749 §5.2) -------------------------------------------------


def test_client_without_the_device_grant_is_unauthorized_client(api_client):
    web_app = ClientFactory(grant_types=[AUTHORIZATION_CODE, REFRESH_TOKEN])
    assert_error(authorize(api_client, web_app), 400, "unauthorized_client")
    assert not DeviceAuthorization.objects.exists()


def test_server_without_the_device_grant_is_unsupported_grant_type(api_client, device_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": [AUTHORIZATION_CODE, REFRESH_TOKEN]}
    assert_error(authorize(api_client, device_client), 400, "unsupported_grant_type")
    assert not DeviceAuthorization.objects.exists()


def test_wrong_secret_is_invalid_client_with_www_authenticate(api_client, device_client):
    response = post(api_client, {}, HTTP_AUTHORIZATION=basic_auth(device_client.client_id, "wrong"))
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "data", [{}, {"client_id": "unknown"}, {"client_id": "unknown", "client_secret": "x"}]
)
def test_missing_or_unknown_client_is_invalid_client(api_client, device_client, data):
    assert_error(post(api_client, data), 401, "invalid_client")


def test_confidential_client_without_secret_is_invalid_client(api_client, device_client):
    assert_error(post(api_client, {"client_id": device_client.client_id}), 401, "invalid_client")


def test_public_client_sending_a_secret_is_invalid_client(api_client, public_device_client):
    data = {"client_id": public_device_client.client_id, "client_secret": "guess"}
    assert_error(post(api_client, data), 401, "invalid_client")


def test_inactive_client_is_invalid_client(api_client):
    inactive = PublicClientFactory(grant_types=[DEVICE_CODE], is_active=False)
    assert_error(post(api_client, {"client_id": inactive.client_id}), 401, "invalid_client")


# -- malformed requests -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["client_id", "scope"])
def test_repeated_parameter_is_invalid_request(api_client, public_device_client, name):
    data = [("client_id", public_device_client.client_id), ("scope", "read"), (name, "read")]
    assert_error(post(api_client, data), 400, "invalid_request")
    assert not DeviceAuthorization.objects.exists()


@pytest.mark.parametrize(
    "raw", ["%00", "%ff%fe", "a" * 5000, "%e2%80%ae", "%0d%0aSet-Cookie:x=1", "'%3B drop table x%3B--", "%"]
)
@pytest.mark.parametrize("name", ["client_id", "client_secret", "scope"])
def test_malformed_parameters_are_answered_not_500(api_client, device_client, name, raw):
    params = {"client_id": device_client.client_id, "client_secret": device_client.secret, "scope": "read"}
    body = urlencode({k: v for k, v in params.items() if k != name}) + f"&{name}={raw}"
    response = api_client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 401)
    assert response.json()["error"] in {"invalid_request", "invalid_client", "invalid_scope"}


def test_json_body_is_invalid_request(api_client, public_device_client):
    response = api_client.post(URL, {"client_id": public_device_client.client_id}, format="json")
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405(api_client, public_device_client, method):
    response = getattr(api_client, method)(URL)
    assert_error(response, 405, "invalid_request")


def test_empty_body_is_invalid_client_not_500(api_client):
    assert_error(api_client.post(URL), 401, "invalid_client")


# -- flooding: request rate and pending cap --------------------------------------------------------


def start(client, address="10.0.0.1"):
    """A public client's device authorization request from ``address``."""
    return post(APIClient(REMOTE_ADDR=address), {"client_id": client.client_id})


def assert_too_many(response, description, retry_after):
    assert_error(response, 429, "invalid_request")
    assert response.json()["error_description"] == description
    assert response["Retry-After"] == str(retry_after)


RATE_LIMITED = "Too many device authorization requests. Try again later."
CAPPED = "This client has too many device authorizations waiting. Try again later."


@pytest.fixture
def rate(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "DEVICE_AUTHORIZATION_MAX_REQUESTS": 3,
        "DEVICE_AUTHORIZATION_REQUEST_WINDOW_SECONDS": 60,
    }


def test_requests_are_limited_per_client(rate, public_device_client):
    for index in range(3):
        assert start(public_device_client, f"10.0.0.{index}").status_code == 200
    assert_too_many(start(public_device_client, "10.0.1.1"), RATE_LIMITED, 60)
    assert DeviceAuthorization.objects.count() == 3


def test_requests_are_limited_per_address(rate, public_device_client):
    for _ in range(3):
        assert start(PublicClientFactory(grant_types=[DEVICE_CODE])).status_code == 200
    assert_too_many(start(public_device_client), RATE_LIMITED, 60)
    assert start(public_device_client, "10.0.0.2").status_code == 200


def test_confidential_clients_are_limited_too(rate, device_client):
    for _ in range(3):
        assert authorize(APIClient(), device_client).status_code == 200
    assert_too_many(authorize(APIClient(), device_client), RATE_LIMITED, 60)


def test_the_rate_limit_ends_with_its_window(rate, public_device_client, monkeypatch):
    for _ in range(3):
        start(public_device_client)
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert start(public_device_client).status_code == 200


def test_requests_refused_before_counting_do_not_count(rate, public_device_client):
    other = PublicClientFactory(grant_types=[AUTHORIZATION_CODE])
    for _ in range(5):
        assert_error(start(other), 400, "unauthorized_client")
    assert start(public_device_client).status_code == 200


@pytest.fixture
def cap(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "DEVICE_AUTHORIZATION_MAX_PENDING": 3}


def test_pending_authorizations_are_capped_per_client(cap, public_device_client, frozen_clock):
    DeviceAuthorizationFactory(
        client=public_device_client, expires_at=frozen_clock.current + timedelta(seconds=90)
    )
    for index in range(2):
        assert start(public_device_client, f"10.0.0.{index}").status_code == 200
    # Until the first pending one expires (90 s from now).
    assert_too_many(start(public_device_client, "10.0.1.1"), CAPPED, 90)
    assert DeviceAuthorization.objects.filter(client=public_device_client).count() == 3
    # Other clients are not affected.
    assert start(PublicClientFactory(grant_types=[DEVICE_CODE])).status_code == 200
    frozen_clock.advance(seconds=90)
    assert start(public_device_client).status_code == 200


@pytest.mark.parametrize(
    "finished",
    [
        {"status": DeviceAuthorization.Status.APPROVED},
        {"status": DeviceAuthorization.Status.DENIED},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
    ids=["approved", "denied", "expired"],
)
def test_only_pending_authorizations_count_against_the_cap(cap, public_device_client, finished):
    for _ in range(3):
        DeviceAuthorizationFactory(client=public_device_client, **finished)
    assert start(public_device_client).status_code == 200


def test_default_limits(public_device_client):
    for _ in range(30):
        assert start(public_device_client).status_code == 200
    assert start(public_device_client).status_code == 429
