"""/o/authorized-apps/ in a real browser: an app the user authorized is listed,
and withdrawing it through the confirm page ends the app's access at once."""

import pytest
import requests

from oauth_provider.models import Consent
from tests.factories import AccessTokenFactory, ClientFactory, UserFactory
from tests.helpers import authorize_url, pkce_pair, query_params

from .conftest import call_api, exchange_code, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(live_server):
    return ClientFactory(
        name="Photo Printer",
        website="https://printer.example.com",
        redirect_uris=f"{live_server.url}/callback/",
    )


def authorize_in_browser(page, server, app, user, scope):
    """Sign in at the consent screen, allow, and exchange the code; return the tokens."""
    verifier, challenge = pkce_pair()
    page.goto(
        server
        + authorize_url(
            app,
            redirect_uri=f"{server}/callback/",
            scope=scope,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    sign_in(page, user)
    page.click("button[value=allow]")
    page.wait_for_url("**/callback/?code=*")
    return exchange_code(server, app.client_id, app.secret, query_params(page.url)["code"], verifier)


def test_withdrawing_an_app_revokes_its_tokens(page, live_server, app):
    server = live_server.url
    user = UserFactory()
    tokens = authorize_in_browser(page, server, app, user, "read write")
    assert call_api(server, tokens["access_token"]).status_code == 200
    # Another user's token for the same app is not this user's to withdraw.
    other = AccessTokenFactory(client=app, user=UserFactory())

    page.goto(f"{server}/o/authorized-apps/")
    card = page.locator("ul.cards > li", has_text="Photo Printer")
    assert card.locator("h2").inner_text() == "Photo Printer"
    assert card.locator("ul.scopes li").all_inner_texts() == [
        "Read your data\nread",
        "Change your data\nwrite",
    ]
    assert "https://printer.example.com" in card.inner_text()
    # The code exchange is the app's last use.
    assert "Not yet" not in card.locator("dl.facts").inner_text()
    screenshot(page, "authorized-apps")

    card.get_by_role("link", name="Withdraw access for Photo Printer").click()
    page.wait_for_url("**/o/authorized-apps/*/withdraw/")
    assert page.inner_text("h1") == "Withdraw access for Photo Printer?"
    assert "Change your data" in page.inner_text("main")
    page.click("button.danger")

    page.wait_for_url("**/o/authorized-apps/")
    assert page.inner_text("ul.messages") == "\u2068Photo Printer\u2069 can no longer access your account."
    assert "You have not authorized any apps." in page.inner_text("main")
    assert page.locator("ul.cards").count() == 0
    assert not Consent.objects.filter(user=user, client=app).exists()

    refused = call_api(server, tokens["access_token"])
    assert refused.status_code == 401
    refreshed = requests.post(
        f"{server}/o/token/",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(app.client_id, app.secret),
        timeout=10,
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    assert call_api(server, other.value).status_code == 200
