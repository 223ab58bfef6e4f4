"""Resource owner password credentials grant (RFC 6749 §4.3): legacy, off unless enabled."""

import time
import unicodedata
from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter
from rest_framework.test import APIClient

from oauth_provider.crypto import hash_secret
from oauth_provider.grants import password as password_grant
from oauth_provider.models import AccessToken, RefreshToken
from tests.factories import PASSWORD, ClientFactory, PublicClientFactory, UserFactory
from tests.helpers import basic_auth, post_token

pytestmark = pytest.mark.django_db

GRANT = "password"


@pytest.fixture
def enabled(settings):
    """The server offers the password grant (it is off by default)."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": ["authorization_code", "refresh_token", "client_credentials", GRANT],
    }


@pytest.fixture
def app(db):
    """A confidential first-party client allowed the password grant and refresh tokens."""
    return ClientFactory(grant_types=[GRANT, "refresh_token"])


def request_token(api_client, client, **params):
    data = {"grant_type": GRANT, **params}
    data = {key: value for key, value in data.items() if value is not None}
    if client.is_confidential:
        return post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))
    return post_token(api_client, {**data, "client_id": client.client_id})


def login(api_client, client, user, **params):
    return request_token(api_client, client, username=user.username, password=PASSWORD, **params)


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert response["Cache-Control"] == "no-store"
    return body


# -- success (§4.3.3) ----------------------------------------------------------------------------


def test_user_credentials_get_access_and_refresh_token(api_client, enabled, app, user, frozen_clock):
    response = login(api_client, app, user, scope="read write")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read write")
    access = AccessToken.objects.get(token_hash=hash_secret(body["access_token"]))
    assert (access.client, access.user, access.scope) == (app, user, "read write")
    assert access.expires_at == frozen_clock.current + timedelta(seconds=3600)
    refresh = RefreshToken.objects.get(token_hash=hash_secret(body["refresh_token"]))
    assert (refresh.access_token, refresh.user) == (access, user)


def test_token_works_on_the_api_as_the_user(api_client, enabled, app, user):
    value = login(api_client, app, user).json()["access_token"]
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert me.status_code == 200
    assert me.json() == {"username": user.username}


def test_refresh_token_from_the_password_grant_can_be_used(api_client, enabled, app, user):
    refresh = login(api_client, app, user).json()["refresh_token"]
    response = request_token(api_client, app, grant_type="refresh_token", refresh_token=refresh)
    assert response.status_code == 200
    assert AccessToken.objects.filter(user=user).count() == 2


def test_no_refresh_token_for_a_client_without_the_refresh_grant(api_client, enabled, user):
    app = ClientFactory(grant_types=[GRANT])
    body = login(api_client, app, user).json()
    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


def test_missing_scope_gets_the_default_scopes(api_client, enabled, app, user):
    assert login(api_client, app, user).json()["scope"] == "read"


def test_narrower_scope_is_granted_as_asked(api_client, enabled, user):
    app = ClientFactory(grant_types=[GRANT], scopes=["read", "write"])
    assert login(api_client, app, user, scope="write").json()["scope"] == "write"


def test_public_client_may_use_it_with_its_client_id(api_client, enabled, user):
    # §4.3.2: only a client with credentials must authenticate.
    native = PublicClientFactory(grant_types=[GRANT])
    response = login(api_client, native, user)
    assert response.status_code == 200
    assert AccessToken.objects.get().client == native


def test_backends_get_the_http_request(api_client, enabled, app, user, settings):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.RecordingBackend"]
    RecordingBackend.requests.clear()
    assert login(api_client, app, user).status_code == 200
    [request] = RecordingBackend.requests
    assert isinstance(request, HttpRequest)
    assert request.META["REMOTE_ADDR"] == "127.0.0.1"


class RecordingBackend(ModelBackend):
    requests: list = []

    def authenticate(self, request, username=None, password=None, **kwargs):
        self.requests.append(request)
        return super().authenticate(request, username=username, password=password, **kwargs)


# -- wrong credentials: one answer for every reason (§5.2 invalid_grant) -------------------------


def test_wrong_password_unknown_user_and_inactive_user_get_the_same_invalid_grant(
    api_client, enabled, app, user
):
    inactive = UserFactory(is_active=False)
    answers = [
        request_token(api_client, app, username=user.username, password="wrong"),
        request_token(api_client, app, username="nobody", password=PASSWORD),
        request_token(api_client, app, username=inactive.username, password=PASSWORD),
    ]
    bodies = [assert_error(response, 400, "invalid_grant") for response in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert "wrong" not in answers[0].content.decode()
    assert not AccessToken.objects.exists()


def test_inactive_user_is_refused_even_by_a_backend_that_returns_them(api_client, enabled, app, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    inactive = UserFactory(is_active=False)
    assert_error(login(api_client, app, inactive), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_failed_login_sends_user_login_failed_without_the_password(api_client, enabled, app, user):
    # What lockout packages hook into (§4.3.2: "protect the endpoint against brute force attacks").
    received = []

    def receiver(sender, credentials, request, **kwargs):
        received.append((credentials, request))

    user_login_failed.connect(receiver)
    try:
        request_token(api_client, app, username=user.username, password="wrong-password")
    finally:
        user_login_failed.disconnect(receiver)
    [(credentials, request)] = received
    assert credentials["username"] == user.username
    assert credentials["password"] != "wrong-password"
    assert isinstance(request, HttpRequest)


def test_password_is_hidden_from_error_reports(api_client, enabled, app, user, monkeypatch):
    seen = []

    def authenticate(request, **credentials):
        seen.append(request)

    monkeypatch.setattr(password_grant, "authenticate", authenticate)
    request_token(api_client, app, username=user.username, password="secret-value")
    [request] = seen
    reported = SafeExceptionReporterFilter().get_post_parameters(request)
    assert reported["password"] != "secret-value"
    assert reported["username"] == user.username


# -- other errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["username", "password"])
def test_missing_credential_is_invalid_request(api_client, enabled, app, user, missing):
    params = {"username": user.username, "password": PASSWORD, missing: None}
    assert_error(request_token(api_client, app, **params), 400, "invalid_request")


@pytest.mark.parametrize("name", ["username", "password", "scope"])
def test_repeated_parameter_is_invalid_request(api_client, enabled, app, user, name):
    values = {"username": user.username, "password": PASSWORD, "scope": "read"}
    pairs = [("grant_type", GRANT), *values.items(), (name, values[name])]
    response = post_token(api_client, pairs, HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret))
    assert_error(response, 400, "invalid_request")
    assert not AccessToken.objects.exists()


def test_control_character_in_username_is_invalid_request(api_client, enabled, app):
    response = request_token(api_client, app, username="user\x00", password=PASSWORD)
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("scope", ["unknown", "admin"])
def test_scope_outside_the_clients_scopes_is_invalid_scope(api_client, enabled, user, scope):
    app = ClientFactory(grant_types=[GRANT], scopes=["read", "write"])
    assert_error(login(api_client, app, user, scope=scope), 400, "invalid_scope")
    assert not AccessToken.objects.exists()


def test_off_by_default_is_unsupported_grant_type(api_client, app, user):
    assert_error(login(api_client, app, user), 400, "unsupported_grant_type")
    assert not AccessToken.objects.exists()


def test_client_without_the_grant_is_unauthorized_client(api_client, enabled, oauth_client, user):
    assert_error(login(api_client, oauth_client, user), 400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def test_wrong_client_secret_is_invalid_client(api_client, enabled, app, user):
    data = {"grant_type": GRANT, "username": user.username, "password": PASSWORD}
    data |= {"client_id": app.client_id, "client_secret": "wrong"}
    response = post_token(api_client, data)
    assert_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response


def test_wrong_client_secret_over_basic_gets_www_authenticate(api_client, enabled, app, user):
    data = {"grant_type": GRANT, "username": user.username, "password": PASSWORD}
    response = post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(app.client_id, "wrong"))
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not AccessToken.objects.exists()


def test_no_client_authentication_is_invalid_client(api_client, enabled, app, user):
    data = {"grant_type": GRANT, "username": user.username, "password": PASSWORD}
    assert_error(post_token(api_client, data), 401, "invalid_client")


def test_get_is_405(api_client, enabled):
    assert_error(api_client.get("/o/token/", {"grant_type": GRANT}), 405, "invalid_request")


# -- brute force (§4.3.2: "MUST protect the endpoint against brute force attacks") ---------------


@pytest.fixture
def limited(settings, enabled):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "PASSWORD_GRANT_MAX_ATTEMPTS": 3,
        "PASSWORD_GRANT_ATTEMPT_WINDOW_SECONDS": 300,
    }


@pytest.fixture
def checked(monkeypatch):
    """The passwords Django's backends compared."""
    calls = []
    check_password = UserFactory._meta.model.check_password
    monkeypatch.setattr(
        UserFactory._meta.model,
        "check_password",
        lambda self, raw: calls.append(1) or check_password(self, raw),
    )
    return calls


def at(address):
    """An API client whose requests come from ``address``."""
    return APIClient(REMOTE_ADDR=address)


def wrong_login(app, username, address="10.0.0.1"):
    return request_token(at(address), app, username=username, password="wrong")


def assert_throttled(response):
    body = assert_error(response, 429, "invalid_request")
    assert body["error_description"] == "Too many failed attempts. Try again later."
    assert response["Retry-After"] == "300"


def test_wrong_passwords_are_limited_per_account(limited, app, user, checked):
    for index in range(3):
        assert wrong_login(app, user.username, f"10.0.0.{index}").status_code == 400
    # Even the right password, from a new address and in another case, is not checked.
    response = request_token(at("10.0.1.1"), app, username=user.username.upper(), password=PASSWORD)
    assert_throttled(response)
    assert len(checked) == 3
    assert not AccessToken.objects.exists()


def test_wrong_passwords_are_limited_per_address(limited, app, user, checked):
    for _ in range(3):
        assert wrong_login(app, UserFactory().username, "10.0.0.1").status_code == 400
    assert_throttled(login(at("10.0.0.1"), app, user))
    assert len(checked) == 3
    # The account is not blocked from elsewhere.
    assert login(at("10.0.0.2"), app, user).status_code == 200


def test_unknown_usernames_count(limited, app, user):
    for index in range(3):
        assert wrong_login(app, f"nobody-{index}", "10.0.0.1").status_code == 400
    assert_throttled(login(at("10.0.0.1"), app, user))


def test_successful_logins_do_not_count_or_clear_failures(limited, app, user):
    for _ in range(5):
        assert login(at("10.0.0.1"), app, user).status_code == 200
    assert wrong_login(app, user.username, "10.0.0.1").status_code == 400
    assert wrong_login(app, user.username, "10.0.0.1").status_code == 400
    assert login(at("10.0.0.1"), app, user).status_code == 200
    assert wrong_login(app, user.username, "10.0.0.1").status_code == 400
    assert_throttled(login(at("10.0.0.1"), app, user))


def test_requests_refused_before_the_password_do_not_count(limited, app, user):
    for _ in range(5):
        response = request_token(at("10.0.0.1"), app, username=user.username, password=PASSWORD, scope="nope")
        assert_error(response, 400, "invalid_scope")
    assert login(at("10.0.0.1"), app, user).status_code == 200


def test_limit_ends_with_its_window(limited, app, user, monkeypatch):
    for _ in range(3):
        wrong_login(app, user.username, "10.0.0.1")
    assert login(at("10.0.0.1"), app, user).status_code == 429
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    assert login(at("10.0.0.1"), app, user).status_code == 200


def test_default_limit_is_ten_failures(enabled, app, user):
    for _ in range(10):
        assert wrong_login(app, user.username, "10.0.0.1").status_code == 400
    assert login(at("10.0.0.1"), app, user).status_code == 429


class LenientBackend(ModelBackend):
    """Finds the account however its name was typed: surrounding spaces,
    any case, full-width letters (as many e-mail login backends do)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        typed = unicodedata.normalize("NFKC", username or "").strip()
        return super().authenticate(request, username=typed.lower(), password=password, **kwargs)


def test_spellings_of_one_account_share_its_limit(limited, app, user, checked, settings):
    """Whatever spellings a backend takes for one account are one subject:
    else each spelling would get its own attempts at the same password."""
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.LenientBackend"]
    # Full-width forms (U+FF01-U+FF5E) of the username's ASCII letters and digits.
    wide = "".join(chr(ord(char) + 0xFEE0) for char in user.username)
    for index, spelling in enumerate([f" {user.username} ", wide.upper(), f"{user.username}\u3000"]):
        assert wrong_login(app, spelling, f"10.0.0.{index}").status_code == 400
    assert len(checked) == 3  # each spelling did reach the account's password
    assert_throttled(login(at("10.0.1.1"), app, user))
