"""The account pages on a phone: nothing scrolls sideways, the main action is on screen."""

import pytest

from tests.factories import ClientFactory, ConsentFactory, UserFactory

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 760}


@pytest.mark.parametrize(
    "path, action, name",
    [
        ("/o/authorized-apps/", "text=Withdraw access", "authorized-apps-phone"),
        ("/o/clients/new/", "button.primary", "client-register-phone"),
        ("/o/device/", "button.primary", "device-phone"),
    ],
)
def test_account_pages_fit_a_phone(chromium, live_server, path, action, name):
    user = UserFactory()
    ConsentFactory(user=user, client=ClientFactory(name="A rather long application name for a phone"))
    context = chromium.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + path)
        sign_in(page, user)
        page.wait_for_selector(action)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        box = page.locator(action).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        screenshot(page, name)
    finally:
        context.close()


def test_a_new_secret_is_shown_whole_on_a_phone(chromium, live_server, settings):
    """Nobody copies what they cannot see: the secret wraps instead of scrolling in its box."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_APPROVAL_REQUIRED": False}
    user = UserFactory()
    context = chromium.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/o/clients/new/")
        sign_in(page, user)
        page.fill("#id_name", "Phone App")
        page.fill("#id_redirect_uris", "https://phone.example/callback")
        page.click("button.primary")
        page.wait_for_selector("#client_secret")
        for field in ("#client_id", "#client_secret"):
            fits = page.eval_on_selector(
                field, "e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight"
            )
            assert fits, field
        assert page.input_value("#client_secret").startswith("opcs_")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "client-secret-phone")
    finally:
        context.close()
