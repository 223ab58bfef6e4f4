"""The device verification page (RFC 8628 §3.3, §5.1, §5.4, §6.1)."""

import time
from urllib.parse import quote

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client as BrowserClient
from django.test.utils import CaptureQueriesContext

from oauth_provider.models import Consent, DeviceAuthorization
from oauth_provider.settings import DEVICE_CODE
from tests.factories import ClientFactory, ConsentFactory, DeviceAuthorizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/o/device/"
Status = DeviceAuthorization.Status
LIMITED = "Too many wrong codes were entered"
UNKNOWN = "That code is not valid"
WRONG = "BBBBBBBB"


@pytest.fixture(autouse=True)
def throttle_cache(settings):
    """Counters in their own local-memory cache, empty for every test."""
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "device-tests"},
    }
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "THROTTLE_CACHE": "throttle"}
    for cache in caches.all():
        cache.clear()
    yield caches["throttle"]
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def device_client():
    return ClientFactory(grant_types=[DEVICE_CODE], name="Living Room TV", website="https://tv.example.com")


@pytest.fixture
def pending(device_client, frozen_clock):
    return DeviceAuthorizationFactory(client=device_client, scope="read write")


def formatted(code):
    return f"{code[:4]}-{code[4:]}"


def enter(browser, code, **headers):
    return browser.post(URL, {"user_code": code}, **headers)


def decide(browser, code, action):
    return browser.post(URL, {"user_code": code, "action": action})


# -- login and the entry form ---------------------------------------------------------------------


def test_anonymous_user_is_sent_to_login_keeping_the_user_code(client):
    response = client.get(URL + "?user_code=BCDF-GHJK")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + quote(
        "/o/device/?user_code=BCDF-GHJK", safe="/"
    )


def test_anonymous_post_is_sent_to_login_and_changes_nothing(client, pending):
    response = decide(client, pending.user_code, "allow")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_get_shows_an_empty_form(browser, user):
    response = browser.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="user_code"' in html
    assert 'value=""' in html
    assert user.username in html
    assert "csrfmiddlewaretoken" in html


def test_verification_uri_complete_prefills_the_form_but_decides_nothing(browser, pending):
    response = browser.get(URL + "?user_code=" + pending.user_code.lower())
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{formatted(pending.user_code)}"' in html
    assert "Check that this is the code your device shows" in html
    # §5.4: the user must still confirm on the consent screen.
    assert 'value="allow"' not in html
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert pending.user is None


@pytest.mark.parametrize("query", ["?user_code=%00", "?user_code=a&user_code=b", "?user_code=" + "x" * 500])
def test_malformed_prefill_is_not_an_error(browser, query):
    response = browser.get(URL + query)
    assert response.status_code == 200
    assert "\x00" not in response.content.decode()


def test_page_cannot_be_framed_cached_or_leak_referer(browser):
    response = browser.get(URL)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_consent_screen_cannot_be_framed_either(browser, pending):
    response = enter(browser, pending.user_code)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_405(browser, method):
    assert getattr(browser, method)(URL).status_code == 405


# -- the consent screen -----------------------------------------------------------------------------


def test_entering_the_code_shows_the_consent_screen(browser, pending, user):
    response = enter(browser, pending.user_code)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Living Room TV" in html
    assert "https://tv.example.com" in html
    assert user.username in html
    assert "Read your data" in html
    assert "Change your data" in html
    assert formatted(pending.user_code) in html
    assert f'<input type="hidden" name="user_code" value="{formatted(pending.user_code)}">' in html
    assert 'value="allow"' in html
    assert 'value="deny"' in html
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_consent_screen_is_shown_even_after_earlier_consent(browser, pending, user):
    # §5.4: every device is confirmed, so remembered consent does not skip the screen.
    ConsentFactory(user=user, client=pending.client, scope="read write")
    response = enter(browser, pending.user_code)
    assert 'value="allow"' in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_consent_screen_is_shown_for_skip_consent_clients(browser, user):
    first_party = ClientFactory(grant_types=[DEVICE_CODE], skip_consent=True)
    authorization = DeviceAuthorizationFactory(client=first_party)
    assert 'value="allow"' in enter(browser, authorization.user_code).content.decode()


def test_consent_screen_marks_scopes_beyond_earlier_consent(browser, pending, user):
    ConsentFactory(user=user, client=pending.client, scope="read")
    html = enter(browser, pending.user_code).content.decode()
    assert html.count('class="badge"') == 1


def test_repeated_device_flow_for_the_same_scopes_marks_nothing_new(browser, pending, user):
    ConsentFactory(user=user, client=pending.client, scope="read write")
    html = enter(browser, pending.user_code).content.decode()
    assert "This will allow the app to:" in html
    assert "asks for more" not in html
    assert 'class="badge' not in html


def test_wider_device_request_marks_only_the_new_scope(browser, pending, user):
    ConsentFactory(user=user, client=pending.client, scope="read")
    html = enter(browser, pending.user_code).content.decode()
    assert "It now asks for more" in html
    write = html.index("Change your data")
    assert html.index(">new<", write) > write
    assert html.count(">new<") == 1


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: formatted(code),
        lambda code: formatted(code).lower(),
        lambda code: f"  {code[:2]} {code[2:4]} - {code[4:]}\t",
        lambda code: "-".join(code),
        lambda code: code[:4].lower() + code[4:],
    ],
)
def test_user_code_is_case_dash_and_space_insensitive(browser, pending, typed):
    response = enter(browser, typed(pending.user_code))
    assert response.status_code == 200
    assert 'value="allow"' in response.content.decode()


# -- the decision -----------------------------------------------------------------------------------


def test_allow_approves_and_records_consent(browser, pending, user, frozen_clock):
    response = decide(browser, formatted(pending.user_code), "allow")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You can return to your device." in html
    assert "Living Room TV" in html
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED
    assert pending.user == user
    assert pending.decided_at == frozen_clock.current
    assert pending.used_at is None
    assert Consent.objects.get(user=user, client=pending.client).scopes == ["read", "write"]


def test_allow_widens_an_earlier_consent(browser, pending, user):
    ConsentFactory(user=user, client=pending.client, scope="admin")
    decide(browser, pending.user_code, "allow")
    assert Consent.objects.get(user=user, client=pending.client).scopes == ["admin", "read", "write"]


def test_deny_denies_without_consent(browser, pending, user):
    response = decide(browser, pending.user_code, "deny")
    assert response.status_code == 200
    assert "You can return to your device." in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Status.DENIED
    assert pending.user == user
    assert not Consent.objects.exists()


@pytest.mark.parametrize("action", ["deny", "", "maybe", "ALLOW", ["allow", "allow"], ["allow", "deny"]])
def test_anything_but_one_allow_is_a_denial(browser, pending, action):
    response = decide(browser, pending.user_code, action)
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == Status.DENIED


def test_a_decision_is_made_once(browser, pending, user):
    decide(browser, pending.user_code, "deny")
    response = decide(browser, pending.user_code, "allow")
    assert response.status_code == 400
    assert "already been used" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Status.DENIED
    assert not Consent.objects.exists()


def test_another_user_cannot_change_a_decision(pending, user, client):
    client.force_login(user)
    decide(client, pending.user_code, "allow")
    client.force_login(UserFactory())
    response = decide(client, pending.user_code, "deny")
    assert response.status_code == 400
    pending.refresh_from_db()
    assert (pending.status, pending.user) == (Status.APPROVED, user)


def test_decision_without_csrf_token_is_refused(user, pending):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert decide(browser, pending.user_code, "allow").status_code == 403
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_decision_with_csrf_token_succeeds(user, pending):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(URL)
    token = str(page.context["csrf_token"])
    consent = browser.post(URL, {"user_code": pending.user_code, "csrfmiddlewaretoken": token})
    assert consent.status_code == 200
    response = browser.post(
        URL, {"user_code": pending.user_code, "action": "allow", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED


def test_code_entry_without_csrf_token_is_refused(user, pending):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert enter(browser, pending.user_code).status_code == 403


# -- codes that cannot be used ------------------------------------------------------------------------


def test_unknown_code_gets_a_friendly_message(browser, pending):
    response = enter(browser, WRONG)
    assert response.status_code == 400
    html = response.content.decode()
    assert UNKNOWN in html
    assert 'name="user_code"' in html


def test_expired_code_gets_a_friendly_message(browser, pending, frozen_clock):
    frozen_clock.advance(minutes=10)
    response = enter(browser, pending.user_code)
    assert response.status_code == 400
    assert "That code has expired" in response.content.decode()


def test_code_expiring_on_the_consent_screen_is_not_approved(browser, pending, frozen_clock):
    enter(browser, pending.user_code)
    frozen_clock.advance(minutes=10)
    response = decide(browser, pending.user_code, "allow")
    assert "That code has expired" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert not Consent.objects.exists()


@pytest.mark.parametrize("status", [Status.APPROVED, Status.DENIED])
def test_decided_code_gets_a_friendly_message(browser, device_client, status):
    authorization = DeviceAuthorizationFactory(client=device_client, user=UserFactory(), status=status)
    response = enter(browser, authorization.user_code)
    assert response.status_code == 400
    assert "already been used" in response.content.decode()


def test_code_of_an_inactive_client_is_unknown(browser):
    authorization = DeviceAuthorizationFactory(client=ClientFactory(is_active=False))
    assert UNKNOWN in enter(browser, authorization.user_code).content.decode()


def test_empty_code_asks_for_one(browser):
    response = enter(browser, "  ")
    assert response.status_code == 400
    assert "Enter the code shown on your device." in response.content.decode()


@pytest.mark.parametrize(
    "typed",
    [
        "BCDF-GHJ",  # too short
        "BCDF-GHJKL",  # too long
        "ABCD-EFGH",  # vowels are not in the alphabet
        "BCDF-GHJ0",  # nor digits
        "BCDF_GHJK",
        "\uff22\uff23\uff24\uff26\uff27\uff28\uff2a\uff2b",  # fullwidth look-alikes
        "BCDF GHJ\u017f",  # long s, which upper() turns into S
        "BCDF\x00GHJK",
        "x" * 5000,
        "<script>alert(1)</script>",
    ],
)
def test_malformed_code_gets_a_friendly_message(browser, typed):
    response = enter(browser, typed)
    assert response.status_code == 400
    assert UNKNOWN in response.content.decode()
    assert "<script>alert" not in response.content.decode()


def test_repeated_user_code_is_refused(browser, pending):
    response = browser.post(URL, {"user_code": [pending.user_code, WRONG], "action": "allow"})
    assert response.status_code == 400
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


# -- rate limiting (§5.1) -------------------------------------------------------------------------


def limit(settings, attempts=3):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "USER_CODE_MAX_ATTEMPTS": attempts}


def test_wrong_codes_are_limited_per_user(browser, pending, settings):
    limit(settings)
    for _ in range(3):
        assert enter(browser, WRONG, REMOTE_ADDR="10.0.0.1").status_code == 400
    # Even the right code, from a new address, is not looked up any more.
    with CaptureQueriesContext(connection) as queries:
        response = enter(browser, pending.user_code, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    assert LIMITED in response.content.decode()
    assert not any("oauth_provider_deviceauthorization" in query["sql"] for query in queries)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_wrong_codes_are_limited_per_address(client, pending, settings):
    limit(settings)
    for _ in range(3):
        client.force_login(UserFactory())
        enter(client, WRONG, REMOTE_ADDR="10.0.0.1")
    client.force_login(UserFactory())
    response = enter(client, pending.user_code, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert LIMITED in response.content.decode()
    # Another user at another address is not affected.
    client.force_login(UserFactory())
    assert enter(client, pending.user_code, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_limited_decision_is_not_recorded(browser, pending, settings):
    limit(settings)
    for _ in range(3):
        enter(browser, WRONG)
    assert decide(browser, pending.user_code, "allow").status_code == 429
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_limited_get_shows_the_message_without_a_form(browser, settings):
    limit(settings)
    for _ in range(3):
        enter(browser, WRONG)
    response = browser.get(URL)
    assert response.status_code == 429
    assert LIMITED in response.content.decode()
    assert 'name="user_code"' not in response.content.decode()


def test_only_wrong_codes_count(browser, device_client, settings):
    limit(settings)
    for _ in range(5):
        authorization = DeviceAuthorizationFactory(client=device_client)
        assert enter(browser, authorization.user_code).status_code == 200
        assert decide(browser, authorization.user_code, "allow").status_code == 200
        assert enter(browser, authorization.user_code).status_code == 400  # decided: not a guess
        assert enter(browser, " ").status_code == 400  # empty: not a guess
    assert browser.get(URL).status_code == 200


def test_limit_lasts_for_the_window(browser, pending, settings, monkeypatch):
    limit(settings)
    for _ in range(3):
        enter(browser, WRONG)
    assert enter(browser, pending.user_code).status_code == 429
    later = time.time() + 601  # USER_CODE_ATTEMPT_WINDOW_SECONDS is 600
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: later)
    assert enter(browser, pending.user_code).status_code == 200


def test_counters_live_in_the_throttle_cache(browser, settings, throttle_cache):
    limit(settings)
    for _ in range(3):
        enter(browser, WRONG)
    caches["default"].clear()
    assert browser.get(URL).status_code == 429
    throttle_cache.clear()
    assert browser.get(URL).status_code == 200


def test_limited_pages_say_when_to_retry(browser, pending, settings, monkeypatch):
    limit(settings)
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    for _ in range(3):
        enter(browser, WRONG)
    later = start + 100.5
    monkeypatch.setattr(time, "time", lambda: later)
    for response in (browser.get(URL), enter(browser, pending.user_code)):
        assert response.status_code == 429
        assert response["Retry-After"] == "500"  # USER_CODE_ATTEMPT_WINDOW_SECONDS is 600
        assert "no-store" in response["Cache-Control"]


def test_limited_page_is_translated(browser, settings):
    limit(settings)
    for _ in range(3):
        enter(browser, WRONG)
    page = browser.get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<title>Connecter un appareil</title>" in page
    assert "Trop de codes erronés ont été saisis." in page
    assert LIMITED not in page


def test_default_limit_is_ten_wrong_codes(browser):
    for _ in range(9):
        enter(browser, WRONG)
    assert browser.get(URL).status_code == 200
    enter(browser, WRONG)
    assert browser.get(URL).status_code == 429


@pytest.mark.parametrize("shown", ["entry", "consent"])
def test_not_you_signs_out_and_returns_to_the_device_page(browser, pending, shown):
    page = browser.get(URL) if shown == "entry" else enter(browser, pending.user_code)
    assert 'value="switch_account"' in page.content.decode()
    response = browser.post(URL, {"action": "switch_account", "user_code": pending.user_code})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + quote(URL, safe="/")
    assert "_auth_user_id" not in browser.session
    pending.refresh_from_db()
    assert pending.status == Status.PENDING and pending.user is None
