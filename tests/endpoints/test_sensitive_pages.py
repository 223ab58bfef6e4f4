"""What every page showing a security decision sends: unframeable, never cached,
``Referrer-Policy: no-referrer``, and CSRF-protected in a way that still works
under that policy (``views/decorators.sensitive_page``)."""

import pytest
from django.test import Client as BrowserClient
from django.urls import reverse

from oauth_provider.models import AuthorizationCode
from oauth_provider.views.authorize import AuthorizeView
from oauth_provider.views.authorized_apps import AuthorizedAppListView
from oauth_provider.views.clients import ClientCreateView
from oauth_provider.views.device import DeviceVerificationView
from tests.factories import ClientFactory, ConsentFactory
from tests.helpers import authorize_url, redirect_params

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin"}


@pytest.fixture
def strict_browser(user):
    """A browser whose POSTs Django's CSRF check really checks."""
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def csrf_token(browser, url):
    response = browser.get(url)
    assert response.status_code == 200
    return response.context["csrf_token"]


@pytest.mark.parametrize(
    "url",
    [
        "/o/authorize/?response_type=code",  # completed per test below with a real client
        "/o/device/",
        "/o/authorized-apps/",
        "/o/clients/",
        "/o/clients/new/",
    ],
)
def test_pages_are_unframeable_uncached_and_send_no_referrer(strict_browser, oauth_client, url):
    if url.startswith("/o/authorize/"):
        url = authorize_url(oauth_client)
    response = strict_browser.get(url)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_pages_load_nothing_from_other_sites(strict_browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client)
    for url in [authorize_url(oauth_client, scope="read write"), "/o/device/", "/o/authorized-apps/"]:
        page = strict_browser.get(url).content.decode()
        for attribute in ("src=", "<link", "@import", "url("):
            assert attribute not in page, (url, attribute)


def test_consent_post_with_a_null_origin_from_the_same_site_is_accepted(strict_browser, oauth_client):
    """What Chromium sends under no-referrer: Origin: null, no Referer, Sec-Fetch-Site: same-origin."""
    url = authorize_url(oauth_client)
    token = csrf_token(strict_browser, url)
    response = strict_browser.post(
        url, {"action": "allow", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="null", **SAME_ORIGIN
    )
    assert "code" in redirect_params(response)


def test_https_consent_post_without_origin_or_referer_is_accepted_from_the_same_site(
    strict_browser, oauth_client
):
    url = authorize_url(oauth_client)
    response = strict_browser.get(url, secure=True)
    token = response.context["csrf_token"]
    response = strict_browser.post(
        url, {"action": "allow", "csrfmiddlewaretoken": token}, secure=True, **SAME_ORIGIN
    )
    assert "code" in redirect_params(response)


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site", "none", None])
def test_a_null_origin_from_anywhere_else_is_refused(strict_browser, oauth_client, fetch_site):
    url = authorize_url(oauth_client)
    token = csrf_token(strict_browser, url)
    headers = {"HTTP_SEC_FETCH_SITE": fetch_site} if fetch_site else {}
    response = strict_browser.post(
        url, {"action": "allow", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="null", **headers
    )
    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_another_sites_origin_is_never_replaced(strict_browser, oauth_client):
    url = authorize_url(oauth_client)
    token = csrf_token(strict_browser, url)
    response = strict_browser.post(
        url,
        {"action": "allow", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://evil.example",
        **SAME_ORIGIN,
    )
    assert response.status_code == 403


@pytest.mark.parametrize("token", [None, "x" * 64])
def test_same_site_post_still_needs_the_csrf_token(strict_browser, oauth_client, token):
    url = authorize_url(oauth_client)
    csrf_token(strict_browser, url)  # sets the cookie
    data = {"action": "allow"} | ({"csrfmiddlewaretoken": token} if token else {})
    response = strict_browser.post(url, data, HTTP_ORIGIN="null", **SAME_ORIGIN)
    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_withdraw_post_needs_the_csrf_token(strict_browser, oauth_client, user):
    consent = ConsentFactory(user=user, client=oauth_client)
    url = reverse("oauth_provider:withdraw_consent", args=[consent.pk])
    csrf_token(strict_browser, url)
    assert strict_browser.post(url, **SAME_ORIGIN).status_code == 403
    consent.refresh_from_db()


@pytest.mark.parametrize("page", ["consent", "device", "withdraw", "register", "regenerate", "delete"])
def test_every_page_accepts_its_own_post_under_no_referrer(strict_browser, user, oauth_client, page):
    """What Chromium sends from these pages: Origin: null with Sec-Fetch-Site: same-origin."""
    own = ClientFactory(owner=user)
    consent = ConsentFactory(user=user, client=oauth_client)
    url, data = {
        "consent": (authorize_url(oauth_client, scope="read write"), {"action": "deny"}),
        "device": ("/o/device/", {"user_code": "BCDF-GHJK"}),
        "withdraw": (reverse("oauth_provider:withdraw_consent", args=[consent.pk]), {}),
        "register": (reverse("oauth_provider:client_create"), {"name": ""}),
        "regenerate": (reverse("oauth_provider:client_secret", args=[own.client_id]), {}),
        "delete": (reverse("oauth_provider:client_delete", args=[own.client_id]), {}),
    }[page]
    token = csrf_token(strict_browser, url)
    response = strict_browser.post(
        url, {**data, "csrfmiddlewaretoken": token}, HTTP_ORIGIN="null", **SAME_ORIGIN
    )
    assert response.status_code in {200, 302, 400}, response.status_code
    refused = strict_browser.post(url, {**data, "csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "base", [AuthorizeView, AuthorizedAppListView, ClientCreateView, DeviceVerificationView]
)
def test_a_subclass_overriding_dispatch_keeps_the_pages_csrf_handling(base):
    class Custom(base):
        def dispatch(self, request, *args, **kwargs):
            return super().dispatch(request, *args, **kwargs)

    # Exempt from CsrfViewMiddleware because the view runs the CSRF check
    # itself, after accepting Sec-Fetch-Site for the missing origin.
    assert Custom.as_view().csrf_exempt is True
