"""What every page showing a security decision sends: unframeable, never cached,
``Referrer-Policy: same-origin`` (no Referer to other sites, while Django's own
CSRF check keeps the Origin and Referer it needs), and CSRF-protected
(``views/decorators.sensitive_page``)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client as BrowserClient
from django.test import RequestFactory
from django.urls import reverse

from oauth_provider.models import AuthorizationCode, Consent
from oauth_provider.views.authorize import AuthorizeView
from oauth_provider.views.authorized_apps import AuthorizedAppListView
from oauth_provider.views.clients import ClientCreateView
from oauth_provider.views.device import DeviceVerificationView
from tests.factories import ClientFactory, ConsentFactory
from tests.helpers import authorize_url, redirect_params

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"


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
def test_pages_are_unframeable_uncached_and_keep_referers_on_this_site(strict_browser, oauth_client, url):
    if url.startswith("/o/authorize/"):
        url = authorize_url(oauth_client)
    response = strict_browser.get(url)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_pages_load_nothing_from_other_sites(strict_browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client)
    for url in [authorize_url(oauth_client, scope="read write"), "/o/device/", "/o/authorized-apps/"]:
        page = strict_browser.get(url).content.decode()
        for attribute in ("src=", "<link", "@import", "url("):
            assert attribute not in page, (url, attribute)


def test_consent_post_from_the_page_is_accepted(strict_browser, oauth_client):
    """What a browser sends from a same-origin page: its Origin (and Referer)."""
    url = authorize_url(oauth_client)
    token = csrf_token(strict_browser, url)
    response = strict_browser.post(
        url, {"action": "allow", "csrfmiddlewaretoken": token}, HTTP_ORIGIN=ORIGIN, HTTP_REFERER=ORIGIN + url
    )
    assert "code" in redirect_params(response)


def test_https_consent_post_with_its_referer_is_accepted(strict_browser, oauth_client):
    """Django's HTTPS Referer check works unchanged: same-origin keeps the Referer."""
    url = authorize_url(oauth_client)
    token = strict_browser.get(url, secure=True).context["csrf_token"]
    response = strict_browser.post(
        url,
        {"action": "allow", "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_REFERER="https://testserver" + url,
    )
    assert "code" in redirect_params(response)


@pytest.mark.parametrize("origin", ["null", "https://evil.example"])
def test_a_post_from_another_or_an_opaque_origin_is_refused(strict_browser, oauth_client, origin):
    """Nothing rewrites the Origin any more: Sec-Fetch-Site is not taken in its place."""
    url = authorize_url(oauth_client)
    token = csrf_token(strict_browser, url)
    response = strict_browser.post(
        url,
        {"action": "allow", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN=origin,
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize("token", [None, "x" * 64])
def test_same_site_post_still_needs_the_csrf_token(strict_browser, oauth_client, token):
    url = authorize_url(oauth_client)
    csrf_token(strict_browser, url)  # sets the cookie
    data = {"action": "allow"} | ({"csrfmiddlewaretoken": token} if token else {})
    response = strict_browser.post(url, data, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_withdraw_post_needs_the_csrf_token(strict_browser, oauth_client, user):
    consent = ConsentFactory(user=user, client=oauth_client)
    url = reverse("oauth_provider:withdraw_consent", args=[consent.pk])
    csrf_token(strict_browser, url)
    assert strict_browser.post(url, HTTP_ORIGIN=ORIGIN).status_code == 403
    assert Consent.objects.filter(pk=consent.pk).exists()


@pytest.mark.parametrize("page", ["consent", "device", "withdraw", "register", "regenerate", "delete"])
def test_every_page_accepts_its_own_post_and_refuses_a_forged_one(strict_browser, user, oauth_client, page):
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
    response = strict_browser.post(url, {**data, "csrfmiddlewaretoken": token}, HTTP_ORIGIN=ORIGIN)
    assert response.status_code in {200, 302, 400}, response.status_code
    forged = strict_browser.post(
        url, {**data, "csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.example"
    )
    assert forged.status_code == 403
    missing = strict_browser.post(url, data, HTTP_ORIGIN=ORIGIN)
    assert missing.status_code == 403


@pytest.mark.parametrize(
    "base", [AuthorizeView, AuthorizedAppListView, ClientCreateView, DeviceVerificationView]
)
def test_a_subclass_overriding_dispatch_keeps_the_pages_protection(base):
    class Custom(base):
        def dispatch(self, request, *args, **kwargs):
            return super().dispatch(request, *args, **kwargs)

    view = Custom.as_view()
    # Django's CSRF check runs in the view (see sensitive_page), whatever dispatch does.
    request = RequestFactory().post("/", HTTP_ORIGIN=ORIGIN)
    request.user = AnonymousUser()
    request._dont_enforce_csrf_checks = False
    assert view(request).status_code == 403


def test_the_origin_is_no_longer_rewritten():
    from oauth_provider.views import decorators

    assert not hasattr(decorators, "_same_origin_attested")
