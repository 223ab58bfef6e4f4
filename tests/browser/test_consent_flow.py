"""The consent screen in a real browser: log in, approve or deny, the code arrives, it works."""

import pytest
import requests

from oauth_provider.models import Consent
from tests.factories import PASSWORD, ClientFactory, UserFactory
from tests.helpers import authorize_url, basic_auth, pkce_pair, query_params

from .conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(live_server):
    return ClientFactory(name="Photo Printer", redirect_uris=f"{live_server.url}/callback/")


def sign_in_at_consent(page, live_server, app, **params):
    user = UserFactory()
    url = live_server.url + authorize_url(app, redirect_uri=f"{live_server.url}/callback/", **params)
    page.goto(url)
    assert "/accounts/login/" in page.url
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
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

    token = requests.post(
        f"{live_server.url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": f"{live_server.url}/callback/",
            "code_verifier": verifier,
        },
        headers={"Authorization": basic_auth(app.client_id, app.secret)},
        timeout=10,
    ).json()
    me = requests.get(
        f"{live_server.url}/api/me/", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert me.json() == {"username": user.username}


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
