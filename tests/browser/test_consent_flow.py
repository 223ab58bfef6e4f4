"""The consent screen in a real browser: log in, approve or deny, the code arrives, it works."""

import pytest

from oauth_provider.models import Consent
from tests.factories import ClientFactory, ConsentFactory, UserFactory
from tests.helpers import authorize_url, pkce_pair, query_params

from .conftest import call_api, exchange_code, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(live_server):
    return ClientFactory(name="Photo Printer", redirect_uris=f"{live_server.url}/callback/")


def sign_in_at_consent(page, live_server, app, **params):
    user = UserFactory()
    url = live_server.url + authorize_url(app, redirect_uri=f"{live_server.url}/callback/", **params)
    page.goto(url)
    sign_in(page, user)
    page.wait_for_selector("button[value=allow]")
    return user


def test_approve_sends_a_code_that_exchanges_for_a_working_token(page, live_server, app):
    verifier, challenge = pkce_pair()
    user = sign_in_at_consent(
        page, live_server, app, scope="read write", code_challenge=challenge, code_challenge_method="S256"
    )
    text = page.inner_text("main")
    assert "Photo Printer" in text
    assert user.username in text
    assert "Read your data" in text
    assert "Change your data" in text
    screenshot(page, "consent")

    page.click("button[value=allow]")
    page.wait_for_url("**/callback/?code=*")
    params = query_params(page.url)
    assert params["state"] == "af0ifjsldkj"
    assert page.inner_text("#code") == params["code"]

    token = exchange_code(live_server.url, app.client_id, app.secret, params["code"], verifier)
    assert call_api(live_server.url, token["access_token"]).json() == {"username": user.username}


def test_deny_sends_access_denied(page, live_server, app):
    user = sign_in_at_consent(page, live_server, app)
    page.click("button[value=deny]")
    page.wait_for_url("**/callback/?error=*")
    assert query_params(page.url)["error"] == "access_denied"
    assert "access_denied" in page.inner_text("main")
    assert not Consent.objects.filter(user=user).exists()


def test_consent_page_renders_on_a_phone(chromium, live_server, app):
    context = chromium.new_context(viewport={"width": 390, "height": 760}, is_mobile=True)
    page = context.new_page()
    sign_in_at_consent(page, live_server, app)
    # Both buttons fit the screen: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("button[value=allow]").is_visible()
    screenshot(page, "consent-phone")
    context.close()


def test_error_page_for_an_unknown_client(page, live_server):
    page.goto(f"{live_server.url}/o/authorize/?client_id=unknown&response_type=code")
    assert "can't be completed" in page.inner_text("h1")
    screenshot(page, "authorize-error")


def test_not_you_signs_out_and_returns_to_consent_as_the_other_user(page, live_server, app):
    verifier, challenge = pkce_pair()
    first = sign_in_at_consent(page, live_server, app, code_challenge=challenge, code_challenge_method="S256")
    consent_url = page.url
    assert page.inner_text(".account-line strong") == first.username

    page.click("button[value=switch_account]")
    second = UserFactory()
    sign_in(page, second)
    page.wait_for_selector("button[value=allow]")
    # Back on the same authorization request, now as the second user.
    assert page.url == consent_url
    assert page.inner_text(".account-line strong") == second.username

    page.click("button[value=allow]")
    page.wait_for_url("**/callback/?code=*")
    code = query_params(page.url)["code"]
    tokens = exchange_code(live_server.url, app.client_id, app.secret, code, verifier)
    assert call_api(live_server.url, tokens["access_token"]).json() == {"username": second.username}
    assert list(Consent.objects.values_list("user__username", flat=True)) == [second.username]


def test_remembered_consent_goes_straight_to_the_callback(page, live_server, app):
    user = sign_in_at_consent(page, live_server, app, scope="read write")
    page.click("button[value=allow]")
    page.wait_for_url("**/callback/?code=*")
    first_code = query_params(page.url)["code"]

    verifier, challenge = pkce_pair()
    url = live_server.url + authorize_url(
        app,
        redirect_uri=f"{live_server.url}/callback/",
        scope="read write",
        state="second",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    response = page.goto(url)
    # One redirect, from the authorization endpoint straight to the callback.
    authorize = response.request.redirected_from
    assert authorize.url == url
    assert authorize.redirected_from is None
    assert authorize.response().status == 302
    params = query_params(page.url)
    assert params["state"] == "second"
    assert params["code"] != first_code
    tokens = exchange_code(live_server.url, app.client_id, app.secret, params["code"], verifier)
    assert tokens["scope"] == "read write"
    assert call_api(live_server.url, tokens["access_token"]).json() == {"username": user.username}


def test_asking_for_more_than_was_allowed_asks_again(page, live_server, app):
    user = UserFactory()
    ConsentFactory(user=user, client=app, scope="read")
    page.goto(
        live_server.url + authorize_url(app, redirect_uri=f"{live_server.url}/callback/", scope="read write")
    )
    sign_in(page, user)
    page.wait_for_selector("button[value=allow]")
    assert "You allowed this app before. It now asks for more:" in page.inner_text("main")
    assert page.locator("ul.scopes li", has_text="Read your data").locator(".badge").inner_text() == (
        "allowed before"
    )
    assert page.locator("ul.scopes li", has_text="Change your data").locator(".badge").inner_text() == "new"
