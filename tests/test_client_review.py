"""Approved clients stay reviewed: a developer's change to what users see or
where codes go sends the client back to an admin (SELF_SERVICE_APPROVAL_REQUIRED).

Under review, tokens already issued keep working (protected APIs,
introspection, refresh, codes and device requests users approved before), but
nothing new is authorized: /o/authorize/, device requests, the device page,
client credentials and password all refuse it, and a grant added since
approval is not usable.
"""

from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from oauth_provider.models import Client
from oauth_provider.models.clients import REVIEWED_FIELDS
from oauth_provider.settings import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    DEVICE_CODE,
    PASSWORD,
    REFRESH_TOKEN,
)
from tests.factories import (
    PASSWORD as USER_PASSWORD,
)
from tests.factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
    UserFactory,
)
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, hidden_fields, pkce_pair, post_token

pytestmark = pytest.mark.django_db

OWNER_FIELDS = {
    "name": "Photo Printer",
    "website": "https://printer.example.com",
    "client_type": "confidential",
    "redirect_uris": REDIRECT_URI,
    "grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN],
    "scopes": ["read"],
    "post_logout_redirect_uris": "",
    "backchannel_logout_uri": "",
    "sector_identifier_uri": "",
    "allowed_origins": "",
}
# A new value for each reviewed field, as the self-service form posts it.
CHANGES = {
    "name": "Photo Printer Pro",
    "website": "https://printer.example.net",
    "client_type": "public",
    "redirect_uris": "https://evil.example/callback",
    "grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE],
    "scopes": ["read", "write"],
    "post_logout_redirect_uris": "https://evil.example/signed-out",
    # Where the server itself sends requests.
    "backchannel_logout_uri": "https://evil.example/logout",
    "sector_identifier_uri": "https://evil.example/sector.json",
    # Which web pages may read the client's tokens.
    "allowed_origins": "https://evil.example",
}


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def approved(owner):
    """A self-registered client an admin approved: active, not waiting."""
    return ClientFactory(owner=owner, **OWNER_FIELDS)


@pytest.fixture
def browser(client, owner):
    client.force_login(owner)
    return client


def edit(browser, client, **changes):
    """The owner saves the self-service edit form."""
    data = {**OWNER_FIELDS, **changes}
    response = browser.post(reverse("oauth_provider:client_update", args=[client.client_id]), data)
    assert response.status_code in (200, 302), response.content
    client.refresh_from_db()
    return response


def under_review(client_id):
    """An approved client whose redirect URI its owner has just changed (saved as the form would)."""
    client = Client.objects.get(client_id=client_id)
    approved_values = client.reviewed_values()
    client.redirect_uris = "https://evil.example/callback"
    client.request_review(approved_values)
    client.save()
    return client


def test_every_reviewed_field_is_tested_here():
    assert set(CHANGES) == set(REVIEWED_FIELDS)


@pytest.mark.parametrize("field", list(CHANGES))
def test_changing_any_reviewed_field_sends_an_approved_client_back_to_review(
    browser, approved, field, sector_document
):
    sector_document.append(REDIRECT_URI)
    edit(browser, approved, **{field: CHANGES[field]})

    assert approved.awaiting_approval and approved.under_review
    # Still active: the tokens it holds keep working.
    assert approved.is_active
    assert approved.approved_values[field] == OWNER_FIELDS[field]
    assert [label for label, _old, _new in approved.review_changes()] == [
        str(Client._meta.get_field(field).verbose_name)
    ]


def test_saving_without_changing_a_reviewed_field_keeps_the_client_approved(browser, approved):
    edit(browser, approved)

    assert not approved.awaiting_approval and approved.approved_values is None


def test_listing_the_same_grant_types_in_another_order_is_no_change(browser, approved):
    approved.grant_types = [REFRESH_TOKEN, AUTHORIZATION_CODE]
    approved.save()

    edit(browser, approved)

    assert not approved.awaiting_approval


def test_without_approval_required_changes_apply_at_once(browser, approved, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_APPROVAL_REQUIRED": False}

    edit(browser, approved, name="Renamed")

    assert approved.name == "Renamed" and not approved.awaiting_approval


def test_a_second_change_keeps_the_values_first_approved(browser, approved):
    edit(browser, approved, name="First rename")
    edit(browser, approved, name="Second rename", redirect_uris="https://evil.example/cb")

    assert approved.approved_values["name"] == "Photo Printer"
    assert approved.approved_values["redirect_uris"] == REDIRECT_URI


def test_changing_back_to_the_approved_values_ends_the_review(browser, approved):
    edit(browser, approved, name="Renamed")
    edit(browser, approved)

    assert not approved.awaiting_approval and approved.approved_values is None


def test_a_new_client_never_approved_keeps_waiting_inactive(browser, owner):
    waiting = ClientFactory(owner=owner, is_active=False, awaiting_approval=True, **OWNER_FIELDS)

    edit(browser, waiting, name="Renamed")

    assert waiting.awaiting_approval and not waiting.is_active and waiting.approved_values is None


def test_the_owner_is_told_before_and_after(browser, approved):
    form = browser.get(reverse("oauth_provider:client_update", args=[approved.client_id])).content.decode()
    assert "sends the app back to an administrator for review" in form

    edit(browser, approved, name="Renamed")
    detail = browser.get(reverse("oauth_provider:client_detail", args=[approved.client_id])).content.decode()
    assert "Changes awaiting approval" in detail
    assert "review your changes" in detail


# -- what a client under review may still do ------------------------------------------------------


def test_an_issued_token_still_works_while_authorize_refuses_the_client(
    browser, approved, api_client, client, user
):
    token = AccessTokenFactory(client=approved, user=user, scope="read")
    edit(browser, approved, redirect_uris="https://evil.example/callback")

    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token.value}")
    assert me.status_code == 200 and me.json() == {"username": user.username}

    client.force_login(user)
    _verifier, challenge = pkce_pair()
    for redirect_uri in (REDIRECT_URI, "https://evil.example/callback"):
        response = client.get(
            authorize_url(
                approved, redirect_uri=redirect_uri, code_challenge=challenge, code_challenge_method="S256"
            )
        )
        # An error page, never a redirect to a URI nobody reviewed.
        assert response.status_code == 400
        assert not response.has_header("Location")


def test_consent_posted_after_the_change_is_refused(approved, client, user):
    client.force_login(user)
    url = authorize_url(approved)
    assert client.get(url).status_code == 200
    under_review(approved.client_id)

    response = client.post(url, {"action": "allow"})

    assert response.status_code == 400
    assert not approved.authorizationcode_set.exists()


def test_refresh_and_earlier_codes_keep_working(approved, api_client, user):
    refresh = RefreshTokenFactory(client=approved, user=user)
    code = AuthorizationCodeFactory(client=approved, user=user)
    under_review(approved.client_id)
    auth = {"HTTP_AUTHORIZATION": basic_auth(approved.client_id, approved.secret)}

    refreshed = post_token(api_client, {"grant_type": REFRESH_TOKEN, "refresh_token": refresh.value}, **auth)
    exchanged = post_token(
        api_client,
        {"grant_type": AUTHORIZATION_CODE, "code": code.value, "redirect_uri": REDIRECT_URI},
        **auth,
    )

    assert refreshed.status_code == 200, refreshed.json()
    assert exchanged.status_code == 200, exchanged.json()


def test_a_switch_to_public_does_not_lift_the_secret_before_approval(approved, api_client, user):
    # A confidential client's refresh tokens are bound to its secret: its owner
    # (or a registration access token's holder, RFC 7592 §2.2) making it public
    # must not let them be redeemed without one while the change awaits review.
    refresh = RefreshTokenFactory(client=approved, user=user)
    approved_values = approved.reviewed_values()
    approved.client_type = Client.ClientType.PUBLIC
    approved.client_secret_hash = ""
    approved.request_review(approved_values)
    approved.save()

    response = post_token(
        api_client,
        {"grant_type": REFRESH_TOKEN, "refresh_token": refresh.value, "client_id": approved.client_id},
    )

    assert response.status_code == 401, response.json()
    assert response.json()["error"] == "invalid_client"


def test_introspection_still_sees_its_tokens_active(approved, api_client, user):
    token = AccessTokenFactory(client=approved, user=user)
    server = ClientFactory(allow_introspection=True)
    under_review(approved.client_id)

    response = api_client.post(
        "/o/introspect/",
        urlencode({"token": token.value}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(server.client_id, server.secret),
    )

    assert response.json()["active"] is True


@pytest.mark.parametrize("grant_type", [CLIENT_CREDENTIALS, PASSWORD])
def test_grants_that_authorize_anew_are_refused(approved, api_client, settings, grant_type, user):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": [*settings.OAUTH_PROVIDER.get("GRANT_TYPES", [CLIENT_CREDENTIALS]), PASSWORD],
    }
    Client.objects.filter(pk=approved.pk).update(
        grant_types=[AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD]
    )
    data = {"grant_type": grant_type, "scope": "read"}
    if grant_type == PASSWORD:
        data.update(username=user.username, password=USER_PASSWORD)
    auth = {"HTTP_AUTHORIZATION": basic_auth(approved.client_id, approved.secret)}
    assert post_token(api_client, data, **auth).status_code == 200
    under_review(approved.client_id)

    response = post_token(api_client, data, **auth)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_a_grant_added_since_approval_is_not_usable(approved, api_client, user):
    refresh = RefreshTokenFactory(client=approved, user=user)
    Client.objects.filter(pk=approved.pk).update(grant_types=[AUTHORIZATION_CODE])
    client = Client.objects.get(pk=approved.pk)
    approved_values = client.reviewed_values()
    client.grant_types = [AUTHORIZATION_CODE, REFRESH_TOKEN]
    client.request_review(approved_values)
    client.save()

    response = post_token(
        api_client,
        {"grant_type": REFRESH_TOKEN, "refresh_token": refresh.value},
        HTTP_AUTHORIZATION=basic_auth(approved.client_id, approved.secret),
    )

    assert response.json()["error"] == "unauthorized_client"


def test_device_requests_are_refused_and_pending_ones_cannot_be_approved(approved, api_client, client, user):
    Client.objects.filter(pk=approved.pk).update(grant_types=[DEVICE_CODE])
    pending = DeviceAuthorizationFactory(client=approved)
    under_review(approved.client_id)

    started = api_client.post(
        "/o/device_authorization/",
        urlencode({"scope": "read"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(approved.client_id, approved.secret),
    )
    client.force_login(user)
    entered = client.post(reverse("oauth_provider:device"), {"user_code": pending.user_code})

    assert started.status_code == 400 and started.json()["error"] == "unauthorized_client"
    assert entered.status_code == 400
    assert "wants to access your account" not in entered.content.decode()


# -- the admin reviews ------------------------------------------------------------------------------


def test_the_admin_sees_old_and_new_values(browser, approved, admin_client):
    edit(browser, approved, name="Photo Printer Pro", redirect_uris="https://evil.example/callback")

    change_page = admin_client.get(reverse("admin:oauth_provider_client_change", args=[approved.pk]))
    changelist = admin_client.get(
        reverse("admin:oauth_provider_client_changelist"), {"awaiting_approval__exact": "1"}
    )

    for html in (change_page.content.decode(), changelist.content.decode()):
        assert (
            "<li><strong>name</strong>: <del><bdi>Photo Printer</bdi></del>"
            " → <ins><bdi>Photo Printer Pro</bdi></ins></li>" in html
        )
        assert (
            "<li><strong>redirect URIs</strong>: <del><bdi>https://client.example.com/callback</bdi></del>"
            " → <ins><bdi>https://evil.example/callback</bdi></ins></li>" in html
        )
    assert "Its owner changed this client after it was approved." in change_page.content.decode()


def admin_form(client, **overrides):
    data = {
        "name": client.name,
        "website": client.website,
        "client_type": client.client_type,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types,
        "scopes": client.scopes,
        "owner": client.owner_id or "",
        "is_active": "on",
        **overrides,
    }
    return {key: value for key, value in data.items() if value is not None}


def test_saving_in_the_admin_without_approving_keeps_it_under_review(admin_client, approved):
    client = under_review(approved.client_id)

    response = admin_client.post(
        reverse("admin:oauth_provider_client_change", args=[client.pk]), admin_form(client)
    )

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.under_review


def test_approving_the_changes_in_the_admin(admin_client, approved):
    client = under_review(approved.client_id)

    response = admin_client.post(
        reverse("admin:oauth_provider_client_change", args=[client.pk]),
        admin_form(client, approve_changes="on"),
    )

    assert response.status_code == 302
    client.refresh_from_db()
    assert not client.awaiting_approval and client.approved_values is None and client.is_active
    assert "Approved the client." in [entry.change_message for entry in LogEntry.objects.all()]


def approve_in_admin(admin_client, *clients):
    """Run "Approve selected clients" on ``clients``: the confirmation page it shows."""
    return admin_client.post(
        reverse("admin:oauth_provider_client_changelist"),
        {"action": "approve_selected", "_selected_action": [client.pk for client in clients]},
    )


def confirm(admin_client, page, **changes):
    """Post the confirmation ``page``'s form back, as its "Yes" button does (``changes`` replace fields)."""
    data = {**hidden_fields(page), **changes}
    return admin_client.post(reverse("admin:oauth_provider_client_changelist"), data, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_approve_action_first_shows_what_it_would_approve(browser, approved, owner, admin_client):
    edit(browser, approved, redirect_uris="https://evil.example/callback")
    new = ClientFactory(owner=owner, name="Brand New", is_active=False, awaiting_approval=True)

    page = approve_in_admin(admin_client, approved, new)

    assert page.status_code == 200
    assert "admin/oauth_provider/client/approve_selected_confirmation.html" in [
        t.name for t in page.templates
    ]
    html = page.content.decode()
    assert (
        "<li><strong>redirect URIs</strong>: <del><bdi>https://client.example.com/callback</bdi></del>"
        " → <ins><bdi>https://evil.example/callback</bdi></ins></li>" in html
    )
    # A new client: every value it would be approved with.
    assert "<li><strong>name</strong>: <bdi>Brand New</bdi></li>" in html
    assert f"<li><strong>redirect URIs</strong>: <bdi>{REDIRECT_URI}</bdi></li>" in html
    assert hidden_fields(page)["_selected_action"] == [str(new.pk), str(approved.pk)]
    # Nothing approved yet.
    for client in (approved, new):
        client.refresh_from_db()
        assert client.awaiting_approval
    assert not new.is_active
    assert not LogEntry.objects.exists()


def test_confirming_approves_the_changes(admin_client, approved, user):
    client = under_review(approved.client_id)

    response = confirm(admin_client, approve_in_admin(admin_client, client))

    assert messages_of(response) == ["1 client was approved."]
    client.refresh_from_db()
    assert not client.awaiting_approval and client.approved_values is None
    assert "Approved the client." in [entry.change_message for entry in LogEntry.objects.all()]
    user_page = authorize_url(client, redirect_uri="https://evil.example/callback")
    admin_client.force_login(user)
    assert admin_client.get(user_page).status_code == 200


def test_approving_the_changes_of_a_deactivated_client_keeps_it_deactivated(admin_client, approved):
    # An admin turned the client off; its owner's (or registrant's, RFC 7592) later
    # change puts it in the approval queue, but approving that change is no reactivation.
    Client.objects.filter(pk=approved.pk).update(is_active=False)
    client = under_review(approved.client_id)

    response = confirm(admin_client, approve_in_admin(admin_client, client))

    assert messages_of(response) == ["1 client was approved."]
    client.refresh_from_db()
    assert not client.awaiting_approval and client.approved_values is None
    assert not client.is_active


@pytest.mark.parametrize("new", [True, False], ids=["new client", "changed client"])
def test_a_client_changed_after_the_confirmation_page_is_not_approved(browser, approved, admin_client, new):
    if new:
        Client.objects.filter(pk=approved.pk).update(awaiting_approval=True, is_active=False)
    else:
        edit(browser, approved, name="Photo Printer Pro")
    untouched = ClientFactory(is_active=False, awaiting_approval=True)
    page = approve_in_admin(admin_client, approved, untouched)
    # The owner edits between the admin's look and the confirmation.
    edit(browser, approved, name="Photo Printer Pro", redirect_uris="https://evil.example/callback")

    response = confirm(admin_client, page)

    approved.refresh_from_db()
    assert approved.awaiting_approval
    assert approved.is_active is not new
    untouched.refresh_from_db()
    assert untouched.is_active and not untouched.awaiting_approval
    assert messages_of(response) == [
        "1 client was approved.",
        "1 client was not approved: it changed since you looked. "
        "Review it again: \u2068Photo Printer Pro\u2069.",
    ]
    assert [entry.object_id for entry in LogEntry.objects.all()] == [str(untouched.pk)]


@pytest.mark.parametrize("forged", ["missing", "", "0" * 64, "another client's"])
def test_a_forged_or_missing_digest_approves_nothing(admin_client, approved, forged):
    client = under_review(approved.client_id)
    other = ClientFactory(**{**OWNER_FIELDS, "name": "Other"}, is_active=False, awaiting_approval=True)
    page = approve_in_admin(admin_client, client)
    field = f"review_digest_{client.pk}"
    data = {**hidden_fields(page)}
    if forged == "missing":
        del data[field]
    else:
        data[field] = other.review_digest() if forged == "another client's" else forged

    response = admin_client.post(reverse("admin:oauth_provider_client_changelist"), data, follow=True)

    client.refresh_from_db()
    assert client.under_review
    assert not LogEntry.objects.exists()
    assert "changed since you looked" in messages_of(response)[0]


def test_the_digest_follows_every_reviewed_field_and_the_client(approved):
    digest = approved.review_digest()
    assert len(digest) == 64 and approved.has_review_digest(digest)
    for field, value in CHANGES.items():
        changed = Client.objects.get(pk=approved.pk)
        setattr(changed, field, value)
        assert not changed.has_review_digest(digest), field
    twin = ClientFactory(**OWNER_FIELDS)
    assert not twin.has_review_digest(digest)


def test_the_change_page_approves_what_it_showed(admin_client, approved, browser):
    edit(browser, approved, name="Photo Printer Pro")
    shown = admin_form(approved, approve_changes="on")
    # The owner edits after the admin opened the change page.
    edit(browser, approved, name="Evil Printer", redirect_uris="https://evil.example/callback")

    response = admin_client.post(reverse("admin:oauth_provider_client_change", args=[approved.pk]), shown)

    assert response.status_code == 302
    approved.refresh_from_db()
    assert not approved.awaiting_approval
    assert (approved.name, approved.redirect_uris) == ("Photo Printer Pro", REDIRECT_URI)


def test_the_change_page_posts_every_reviewed_field(admin_client, approved):
    """The change page approves what it posts back; a reviewed field it did not
    hold would be approved unseen."""
    client = under_review(approved.client_id)

    form = (
        admin_client.get(reverse("admin:oauth_provider_client_change", args=[client.pk]))
        .context["adminform"]
        .form
    )

    assert set(REVIEWED_FIELDS) <= set(form.fields)
    assert "approve_changes" in form.fields
