"""/o/authorized-apps/: the signed-in user's consents, and withdrawing one."""

import pytest
from django.urls import reverse

from oauth_provider.models import Consent, DeviceAuthorization
from oauth_provider.settings import DEVICE_CODE
from oauth_provider.signals import REVOKE_REASONS, token_revoked
from tests.factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    ConsentFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
    UserFactory,
)
from tests.helpers import authorize_url, basic_auth, post_token

pytestmark = pytest.mark.django_db

LIST_URL = reverse("oauth_provider:authorized_apps")


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def withdraw_url(consent):
    return reverse("oauth_provider:withdraw_consent", args=[consent.pk])


def test_signed_out_users_are_sent_to_login(client, user):
    consent = ConsentFactory(user=user)
    for url in (LIST_URL, withdraw_url(consent)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert client.post(withdraw_url(consent)).status_code == 302
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_the_list_shows_each_app_with_its_scopes_and_dates(browser, user, frozen_clock):
    app = ClientFactory(name="Photo Printer", website="https://printer.example")
    ConsentFactory(user=user, client=app, scope="read write", created_at=frozen_clock())
    frozen_clock.advance(days=2)
    AccessTokenFactory(client=app, user=user)
    last_used = frozen_clock()
    frozen_clock.advance(days=1)
    response = browser.get(LIST_URL)
    page = response.content.decode()
    assert "Photo Printer" in page
    assert 'href="https://printer.example"' in page
    assert "Read your data" in page and "Change your data" in page
    [consent] = response.context["consents"]
    assert consent.last_used == last_used
    assert f'datetime="{last_used.isoformat()}"' in page


def test_an_app_that_never_got_a_token_says_not_yet(browser, user):
    ConsentFactory(user=user)
    assert "Not yet" in browser.get(LIST_URL).content.decode()


def test_last_used_counts_only_this_users_tokens_of_this_app(browser, user, frozen_clock):
    consent = ConsentFactory(user=user)
    AccessTokenFactory(client=consent.client, user=user)
    mine = frozen_clock()
    frozen_clock.advance(hours=1)
    AccessTokenFactory(client=consent.client, user=UserFactory())
    AccessTokenFactory(user=user)
    [listed] = browser.get(LIST_URL).context["consents"]
    assert listed.last_used == mine


def test_the_list_shows_only_the_users_own_consents(browser, user):
    ConsentFactory(user=user, client=ClientFactory(name="Mine"))
    ConsentFactory(client=ClientFactory(name="Someone else's"))
    page = browser.get(LIST_URL).content.decode()
    assert "Mine" in page
    assert "Someone else" not in page


def test_the_list_costs_the_same_queries_for_one_app_or_many(browser, user, django_assert_max_num_queries):
    ConsentFactory(user=user)
    with django_assert_max_num_queries(4) as one:
        browser.get(LIST_URL)
    for _ in range(5):
        ConsentFactory(user=user)
    with django_assert_max_num_queries(len(one.captured_queries)):
        browser.get(LIST_URL)


def test_empty_list_says_so(browser):
    assert "You have not authorized any apps." in browser.get(LIST_URL).content.decode()


def test_withdraw_asks_first(browser, user):
    consent = ConsentFactory(user=user, scope="read write")
    response = browser.get(withdraw_url(consent))
    assert response.status_code == 200
    assert "Change your data" in response.content.decode()
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_withdraw_ends_every_token_and_code_of_the_app_for_the_user(browser, user):
    consent = ConsentFactory(user=user)
    app = consent.client
    access = AccessTokenFactory(client=app, user=user)
    refresh = RefreshTokenFactory(client=app, user=user)
    code = AuthorizationCodeFactory(client=app, user=user)
    # Left alone: another user's tokens, this user's tokens at another app, the app's own token.
    others = [
        AccessTokenFactory(client=app, user=UserFactory()),
        AccessTokenFactory(user=user),
        AccessTokenFactory(client=app, user=None),
    ]
    revoked = []
    token_revoked.connect(receiver := lambda sender, tokens, reason, **kw: revoked.append(reason))
    try:
        response = browser.post(withdraw_url(consent))
    finally:
        token_revoked.disconnect(receiver)
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not Consent.objects.filter(pk=consent.pk).exists()
    for credential in (access, refresh):
        credential.refresh_from_db()
        assert credential.revoked_at is not None
    code.refresh_from_db()
    assert code.used_at is not None
    for other in others:
        other.refresh_from_db()
        assert other.revoked_at is None
    assert set(revoked) == {"consent_withdrawn"}
    assert "consent_withdrawn" in REVOKE_REASONS
    follow = browser.get(LIST_URL)
    assert f"\u2068{app.name}\u2069 can no longer access your account." in follow.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_users_consent_is_not_found(browser, method):
    consent = ConsentFactory()
    token = AccessTokenFactory(client=consent.client, user=consent.user)
    assert getattr(browser, method)(withdraw_url(consent)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_after_withdrawing_the_app_must_ask_again(browser, user):
    consent = ConsentFactory(user=user, client=ClientFactory(), scope="read")
    browser.post(withdraw_url(consent))
    response = browser.get(authorize_url(consent.client))
    assert response.status_code == 200
    assert response.templates[0].name == "oauth_provider/authorize.html"


def test_withdrawn_apps_token_is_refused_at_the_api(browser, user, api_client):
    consent = ConsentFactory(user=user)
    access = AccessTokenFactory(client=consent.client, user=user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access.value}"}
    assert api_client.get("/api/me/", **headers).status_code == 200
    browser.post(withdraw_url(consent))
    assert api_client.get("/api/me/", **headers).status_code == 401


def test_withdraw_denies_an_approved_device_still_polling(browser, user, api_client):
    app = ClientFactory(grant_types=[DEVICE_CODE])
    consent = ConsentFactory(user=user, client=app)
    device = DeviceAuthorizationFactory(client=app, user=user, status=DeviceAuthorization.Status.APPROVED)
    browser.post(withdraw_url(consent))
    response = post_token(
        api_client,
        {"grant_type": DEVICE_CODE, "device_code": device.value},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )
    assert response.json()["error"] == "access_denied"
