"""Developer self-service at /o/clients/ in a real browser, from registration to
a working token: a developer registers a confidential app and copies its
credentials from the page, the app waits for an admin, an admin approves it in
the Django admin, and a user of the site then authorizes it.

The test settings keep SELF_SERVICE_APPROVAL_REQUIRED at its default (True).
"""

import pytest

from oauth_provider.models import Client
from tests.factories import PASSWORD, UserFactory
from tests.helpers import authorize_url, pkce_pair, query_params

from .conftest import call_api, exchange_code, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def register_app(page, server):
    """Fill in and submit the registration form; return the page's client_id and secret."""
    page.click("text=Register a new app")
    page.wait_for_url("**/o/clients/new/")
    page.fill("#id_name", "Recipe Box")
    page.fill("#id_website", "https://recipes.example.com")
    if page.locator("select#id_client_type").count():
        page.select_option("#id_client_type", "confidential")
    else:
        page.check("input[name=client_type][value=confidential]")
    page.fill("#id_redirect_uris", f"{server}/callback/")
    # The flow RFC 9700 recommends is offered already ticked.
    assert page.is_checked("input[name=grant_types][value=authorization_code]")
    assert page.is_checked("input[name=grant_types][value=refresh_token]")
    page.check("input[name=scopes][value=read]")
    screenshot(page, "client-register")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click("button[type=submit].primary")
    assert posted.value.status == 200, posted.value.status
    page.wait_for_selector("#client_secret")
    screenshot(page, "client-secret")
    return page.input_value("#client_id"), page.input_value("#client_secret")


def approve_in_admin(page, server, client):
    """A superuser ticks the client in the admin changelist and runs the approve action."""
    admin = UserFactory(is_staff=True, is_superuser=True)
    page.goto(f"{server}/admin/oauth_provider/client/")
    page.wait_for_url("**/admin/login/?next=**")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/oauth_provider/client/")
    page.check(f"input[name=_selected_action][value='{client.pk}']")
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    # The confirmation page shows what would be approved, then approves that.
    page.wait_for_selector(".oauth-approve-selected-confirmation")
    assert client.name in page.inner_text("#result_list")
    page.click("input[type=submit][value='Yes, approve']")
    page.wait_for_selector("ul.messagelist")
    assert "1 client was approved." in page.inner_text("ul.messagelist")


def test_registered_app_works_after_admin_approval(page, chromium, live_server):
    server = live_server.url
    developer = UserFactory()
    page.goto(f"{server}/o/clients/")
    sign_in(page, developer)
    page.wait_for_url("**/o/clients/")
    client_id, secret = register_app(page, server)

    client = Client.objects.get(client_id=client_id)
    assert client.owner == developer
    assert client.is_confidential
    assert client.check_secret(secret)
    assert client.scopes == ["read"]
    assert (client.is_active, client.awaiting_approval) == (False, True)

    page.click("text=I have copied it")
    page.wait_for_url(f"**/o/clients/{client_id}/")
    assert page.inner_text("h1 .badge") == "Awaiting approval"
    assert "An administrator of this site will review your app." in page.inner_text("p.notice")
    # Until approved, the consent screen refuses the app.
    verifier, challenge = pkce_pair()
    url = server + authorize_url(
        client, redirect_uri=f"{server}/callback/", code_challenge=challenge, code_challenge_method="S256"
    )
    page.goto(url)
    assert "can't be completed" in page.inner_text("h1")
    assert page.locator("button[value=allow]").count() == 0

    admin_context = chromium.new_context()
    admin_context.set_default_timeout(10_000)
    try:
        approve_in_admin(admin_context.new_page(), server, client)
    finally:
        admin_context.close()
    client.refresh_from_db()
    assert (client.is_active, client.awaiting_approval) == (True, False)

    # A user of the site authorizes the app, whose back end redeems the code
    # with the credentials copied from the page.
    user_context = chromium.new_context()
    user_context.set_default_timeout(10_000)
    try:
        user_page = user_context.new_page()
        user = UserFactory()
        user_page.goto(url)
        sign_in(user_page, user)
        user_page.wait_for_selector("button[value=allow]")
        assert "Recipe Box" in user_page.inner_text("h1")
        user_page.click("button[value=allow]")
        user_page.wait_for_url("**/callback/?code=*")
        code = query_params(user_page.url)["code"]
    finally:
        user_context.close()
    tokens = exchange_code(server, client_id, secret, code, verifier)
    assert tokens["scope"] == "read"
    assert call_api(server, tokens["access_token"]).json() == {"username": user.username}
