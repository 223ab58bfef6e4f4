"""The device authorization grant (RFC 8628) with a real browser on the user's side.

``requests`` plays the device: it starts the authorization and polls the token
endpoint. Chromium plays the user's phone: it opens ``verification_uri_complete``,
signs in, confirms the code and decides on the consent screen. Waiting out the
polling interval is a move of the frozen clock, not a sleep.
"""

import pytest
import requests

from oauth_provider.models import AccessToken, Consent, DeviceAuthorization
from oauth_provider.settings import DEVICE_CODE
from tests.factories import ClientFactory, UserFactory

from .conftest import call_api, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tv():
    return ClientFactory(name="Living Room TV", grant_types=[DEVICE_CODE])


def start(issuer, client, scope):
    """The device asks for a device code and a user code (§3.1-§3.2)."""
    response = requests.post(
        f"{issuer}/o/device_authorization/",
        data={"scope": scope},
        auth=(client.client_id, client.secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def poll(issuer, client, started):
    """One token request of the polling device (§3.4)."""
    return requests.post(
        f"{issuer}/o/token/",
        data={"grant_type": DEVICE_CODE, "device_code": started["device_code"]},
        auth=(client.client_id, client.secret),
        timeout=10,
    )


def open_consent_screen(page, started, user):
    """Follow the link the device shows, sign in, confirm the prefilled code."""
    page.goto(started["verification_uri_complete"])
    sign_in(page, user)
    page.wait_for_url("**/o/device/?user_code=*")
    assert page.input_value("#user_code") == started["user_code"]
    assert "Check that this is the code your device shows" in page.inner_text("main")
    screenshot(page, "device")
    page.click("button[type=submit].primary")
    page.wait_for_selector("button[value=allow]")


def test_approved_device_polls_a_working_token(page, issuer, tv, frozen_clock):
    user = UserFactory()
    started = start(issuer, tv, "read write")
    assert started["verification_uri"] == f"{issuer}/o/device/"
    assert started["verification_uri_complete"] == f"{issuer}/o/device/?user_code={started['user_code']}"
    pending = poll(issuer, tv, started)
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"

    open_consent_screen(page, started, user)
    text = page.inner_text("main")
    assert "Living Room TV" in text
    assert started["user_code"] in page.inner_text("p.error strong")
    assert page.inner_text(".account-line strong") == user.username
    assert "Read your data" in text
    assert "Change your data" in text
    screenshot(page, "device-consent")

    page.click("button[value=allow]")
    page.wait_for_selector("text=is now connected")
    assert "You can return to your device." in page.inner_text("main")
    assert Consent.objects.get(user=user, client=tv).scopes == ["read", "write"]

    frozen_clock.advance(seconds=started["interval"])
    granted = poll(issuer, tv, started)
    assert granted.status_code == 200, granted.text
    token = granted.json()
    assert token["scope"] == "read write"
    assert call_api(issuer, token["access_token"]).json() == {"username": user.username}
    # The code works once: the same device code again is refused.
    frozen_clock.advance(seconds=started["interval"])
    assert poll(issuer, tv, started).json()["error"] == "invalid_grant"


def test_denied_device_is_told_access_denied(page, issuer, tv, frozen_clock):
    user = UserFactory()
    started = start(issuer, tv, "read")
    open_consent_screen(page, started, user)

    page.click("button[value=deny]")
    page.wait_for_selector("text=You denied")
    assert "It will not get access to your account." in page.inner_text("main")
    authorization = DeviceAuthorization.objects.get(client=tv)
    assert authorization.status == DeviceAuthorization.Status.DENIED
    assert authorization.user == user

    frozen_clock.advance(seconds=started["interval"])
    denied = poll(issuer, tv, started)
    assert denied.status_code == 400
    assert denied.json()["error"] == "access_denied"
    assert not AccessToken.objects.filter(client=tv).exists()
    assert not Consent.objects.filter(user=user).exists()
