"""Django admin: client registration with show-once secrets, read-only credentials."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oauth_provider.crypto import CLIENT_SECRET_PREFIX
from oauth_provider.forms import ClientForm
from oauth_provider.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    DeviceAuthorization,
    RefreshToken,
)
from oauth_provider.signals import token_revoked

from .factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    AwaitingApprovalClientFactory,
    ClientFactory,
    ConsentFactory,
    DeviceAuthorizationFactory,
    PublicClientFactory,
    RefreshTokenFactory,
    UserFactory,
)
from .helpers import hidden_fields

pytestmark = pytest.mark.django_db

SECRET_RE = re.compile(re.escape(CLIENT_SECRET_PREFIX) + r"[A-Za-z0-9_-]{43}")
CREDENTIAL_MODELS = [AccessToken, RefreshToken, AuthorizationCode]


def url(model, view, *args):
    return reverse(f"admin:oauth_provider_{model._meta.model_name}_{view}", args=args)


def client_form_data(**overrides):
    data = {
        "name": "Admin-made app",
        "website": "https://app.example.com",
        "client_type": "confidential",
        "redirect_uris": "https://app.example.com/callback",
        "grant_types": ["authorization_code", "refresh_token"],
        "is_active": "on",
        "owner": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def shown_secrets(response):
    return SECRET_RE.findall(response.content.decode())


def assert_not_cached(response):
    assert "no-store" in response["Cache-Control"]


def listed(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def shown_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def offered_actions(response):
    form = response.context["action_form"]
    return [name for name, _label in form.fields["action"].choices] if form else []


def run_action(admin_client, model, action, objects):
    return admin_client.post(
        url(model, "changelist"), {"action": action, "_selected_action": [obj.pk for obj in objects]}
    )


@pytest.fixture
def credentials(db):
    """One of everything, each holding its raw value (``.value`` / ``.secret``)."""
    oauth_client = ClientFactory()
    return {
        "client": oauth_client,
        "access_token": AccessTokenFactory(client=oauth_client),
        "refresh_token": RefreshTokenFactory(client=oauth_client),
        "code": AuthorizationCodeFactory(client=oauth_client),
        "consent": ConsentFactory(client=oauth_client),
    }


# Pages render ---------------------------------------------------------------


@pytest.mark.parametrize("model", [Client, AccessToken, RefreshToken, AuthorizationCode, Consent])
def test_changelist_and_change_page_render(admin_client, credentials, model):
    obj = model.objects.get()

    assert admin_client.get(url(model, "changelist")).status_code == 200
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200


def test_client_add_page_renders_with_default_grant_types(admin_client):
    response = admin_client.get(url(Client, "add"))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["grant_types"] == ["authorization_code", "refresh_token"]
    assert "client_secret_hash" not in form.fields


def test_client_change_page_shows_client_id_read_only(admin_client, oauth_client):
    response = admin_client.get(url(Client, "change", oauth_client.pk))

    assert oauth_client.client_id in response.content.decode()
    assert "client_id" not in response.context["adminform"].form.fields


def test_no_page_shows_a_raw_value_or_hash(admin_client, credentials):
    oauth_client = credentials["client"]
    raw_values = [oauth_client.secret, oauth_client.client_secret_hash]
    for key in ("access_token", "refresh_token", "code"):
        raw_values += [credentials[key].value, credentials[key].token_hash]
    pages = [url(Client, "add")]
    for model in [Client, *CREDENTIAL_MODELS, Consent]:
        obj = model.objects.get()
        pages += [url(model, "changelist"), url(model, "change", obj.pk), url(model, "delete", obj.pk)]
        pages += [url(model, "changelist") + "?q=" + oauth_client.name]

    for model in [*CREDENTIAL_MODELS, Consent]:
        obj = model.objects.get()
        pages += [
            url(model, "changelist") + f"?client__id__exact={oauth_client.pk}",
            url(model, "changelist") + f"?user__id__exact={obj.user_id}",
        ]

    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        leaked = [value for value in raw_values if value in html]
        assert not leaked, page


def test_no_client_page_shows_a_secret_or_hash_of_its_tokens(admin_client, user):
    """The client pages that list tokens (counts, links) show none of their values."""
    waiting = AwaitingApprovalClientFactory(owner=user)
    active = ClientFactory(owner=user)
    credentials = [
        factory(client=oauth_client, user=user)
        for oauth_client in (waiting, active)
        for factory in (AccessTokenFactory, RefreshTokenFactory, AuthorizationCodeFactory)
    ]
    raw_values = [waiting.secret, waiting.client_secret_hash, active.secret, active.client_secret_hash]
    raw_values += [value for obj in credentials for value in (obj.value, obj.token_hash)]
    pages = [
        url(Client, "changelist"),
        url(Client, "changelist") + "?awaiting_approval__exact=1",
        url(Client, "change", waiting.pk),
        url(Client, "change", active.pk),
        url(AccessToken, "changelist") + f"?user__id__exact={user.pk}",
        url(RefreshToken, "changelist") + f"?user__id__exact={user.pk}",
    ]
    pages += [url(type(obj), "change", obj.pk) for obj in credentials]

    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert not [value for value in raw_values if value in html], page


def test_str_of_models_never_contains_a_credential(credentials):
    assert credentials["client"].secret not in str(credentials["client"])
    for key in ("access_token", "refresh_token", "code"):
        obj = credentials[key]
        assert obj.value not in str(obj)
        assert obj.token_hash not in str(obj)


# Client secret shown once ---------------------------------------------------


def test_adding_confidential_client_shows_secret_once(admin_client):
    response = admin_client.post(url(Client, "add"), client_form_data())

    assert response.status_code == 200
    assert "oauth_provider/admin/client_secret.html" in [t.name for t in response.templates]
    assert_not_cached(response)
    html = response.content.decode()
    assert "will not be shown again" in html
    assert '<meta name="referrer" content="same-origin">' in html
    client = Client.objects.get(name="Admin-made app")
    assert client.client_id in html
    assert reverse("admin:oauth_provider_client_changelist") in html
    [secret] = set(shown_secrets(response))
    assert client.check_secret(secret)

    # Only the hash is stored: the raw secret is in no column of the row ...
    row = Client.objects.filter(pk=client.pk).values().get()
    assert all(secret not in str(value) for value in row.values())
    # ... nor in the admin history, the messages or the session.
    assert all(secret not in entry.change_message for entry in LogEntry.objects.all())
    assert all(secret not in str(message) for message in get_messages(response.wsgi_request))
    assert all(secret not in session.session_data for session in Session.objects.all())
    assert all(secret not in morsel.value for morsel in response.cookies.values())

    # Not shown a second time.
    again = admin_client.get(url(Client, "change", client.pk))
    assert secret not in again.content.decode()
    assert not shown_secrets(again)


def test_adding_public_client_generates_no_secret(admin_client):
    response = admin_client.post(
        url(Client, "add"),
        client_form_data(client_type="public", redirect_uris="http://127.0.0.1/cb"),
    )

    assert response.status_code == 302
    client = Client.objects.get()
    assert client.client_secret_hash == ""


def test_public_client_made_confidential_gets_a_secret(admin_client, public_client):
    response = admin_client.post(
        url(Client, "change", public_client.pk),
        client_form_data(name=public_client.name, redirect_uris="https://app.example.com/cb"),
    )

    assert response.status_code == 200
    assert_not_cached(response)
    [secret] = set(shown_secrets(response))
    public_client.refresh_from_db()
    assert public_client.is_confidential
    assert public_client.check_secret(secret)


def test_saving_confidential_client_keeps_its_secret(admin_client, oauth_client):
    response = admin_client.post(url(Client, "change", oauth_client.pk), client_form_data(name="Renamed"))

    assert response.status_code == 302
    assert not shown_secrets(response)
    oauth_client.refresh_from_db()
    assert oauth_client.name == "Renamed"
    assert oauth_client.check_secret(oauth_client.secret)


def test_confidential_client_made_public_loses_its_secret(admin_client, oauth_client):
    response = admin_client.post(
        url(Client, "change", oauth_client.pk),
        client_form_data(client_type="public", redirect_uris="http://127.0.0.1/cb"),
    )

    assert response.status_code == 302
    oauth_client.refresh_from_db()
    assert oauth_client.client_secret_hash == ""
    assert not oauth_client.check_secret(oauth_client.secret)


# ClientForm -----------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb#fragment",
        "http://app.example.com/cb",
        "https://*.example.com/cb",
        "https://app.example.com/*",
        "/relative/callback",
        "callback",
    ],
)
def test_form_rejects_bad_redirect_uri(uri):
    form = ClientForm(data=client_form_data(redirect_uris=f"https://ok.example.com/cb\n{uri}"))

    assert not form.is_valid()
    assert "redirect_uris" in form.errors
    assert uri in " ".join(form.errors["redirect_uris"])


def test_form_rejects_uri_with_inner_space():
    form = ClientForm(data=client_form_data(redirect_uris="https://app.example.com/a b"))

    assert not form.is_valid()
    assert "redirect_uris" in form.errors


def test_admin_add_rejects_bad_redirect_uri_and_creates_nothing(admin_client):
    response = admin_client.post(
        url(Client, "add"), client_form_data(redirect_uris="http://evil.example.com/cb")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["redirect_uris"]
    assert not shown_secrets(response)
    assert not Client.objects.exists()


def test_form_normalises_redirect_uris():
    form = ClientForm(
        data=client_form_data(
            redirect_uris="  https://a.example.com/cb  \r\n\r\nhttps://b.example.com/cb\nhttps://a.example.com/cb\n"
        )
    )

    assert form.is_valid(), form.errors
    client = form.save()
    assert client.redirect_uris == "https://a.example.com/cb\nhttps://b.example.com/cb"
    assert form.new_secret is not None
    assert client.check_secret(form.new_secret)


def test_form_stores_grant_types_and_scopes_as_json_lists():
    form = ClientForm(data=client_form_data(grant_types=["authorization_code"], scopes=["read", "admin"]))

    assert form.is_valid(), form.errors
    client = form.save()
    client.refresh_from_db()
    assert client.grant_types == ["authorization_code"]
    assert client.scopes == ["read", "admin"]


def test_form_rejects_unknown_grant_type_and_scope():
    form = ClientForm(data=client_form_data(grant_types=["passwd"], scopes=["root"]))

    assert not form.is_valid()
    assert set(form.errors) == {"grant_types", "scopes"}


def test_scope_choices_follow_settings_at_form_init(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SCOPES": {"photos": "See your photos"}}

    form = ClientForm()

    assert [name for name, _label in form.fields["scopes"].choices] == ["photos"]


def test_authorization_code_without_redirect_uri_is_rejected():
    form = ClientForm(data=client_form_data(redirect_uris="  \n "))

    assert not form.is_valid()
    assert "redirect_uris" in form.errors


# Changelist -----------------------------------------------------------------


def test_changelist_counts_active_access_tokens(admin_client, oauth_client, frozen_clock):
    AccessTokenFactory.create_batch(2, client=oauth_client)
    AccessTokenFactory(client=oauth_client, revoked_at=frozen_clock())
    AccessTokenFactory(client=oauth_client, expires_at=frozen_clock() - timedelta(seconds=1))
    ClientFactory()

    response = admin_client.get(url(Client, "changelist"))

    counts = {client.pk: client._active_token_count for client in response.context["cl"].result_list}
    assert counts[oauth_client.pk] == 2
    assert sorted(counts.values()) == [0, 2]


def test_changelist_query_count_does_not_grow_with_clients(admin_client):
    def changelist_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(Client, "changelist")).status_code == 200
        return len(queries)

    AccessTokenFactory(client=ClientFactory())
    few = changelist_queries()
    for _ in range(2):
        AccessTokenFactory(client=ClientFactory(owner=UserFactory()))
        AccessTokenFactory(client=AwaitingApprovalClientFactory(grant_types=["client_credentials"]))
    PublicClientFactory()

    assert Client.objects.count() == 6
    assert changelist_queries() == few


def test_changelist_search_by_owner_email(admin_client, user):
    owned = ClientFactory(owner=user)
    ClientFactory()

    response = admin_client.get(url(Client, "changelist"), {"q": user.email})

    assert list(response.context["cl"].result_list) == [owned]


def test_client_can_be_deleted(admin_client, oauth_client):
    AccessTokenFactory(client=oauth_client)

    response = admin_client.post(
        url(Client, "changelist"),
        {"action": "delete_selected", "_selected_action": [oauth_client.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Client.objects.exists()
    assert not AccessToken.objects.exists()


def test_changelist_columns(admin_client, user):
    waiting = AwaitingApprovalClientFactory(
        owner=user, grant_types=["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"]
    )

    response = admin_client.get(url(Client, "changelist"))

    assert response.context["cl"].list_display[1:] == [
        "display_name",
        "client_id",
        "short_client_type",
        "owner",
        "grant_type_list",
        "is_active",
        "awaiting_approval",
        "changes_awaiting_review",
        "active_token_count",
        "created_at",
    ]
    html = response.content.decode()
    assert waiting.client_id in html
    assert user.username in html
    # Human labels, not the RFC URNs.
    assert "Authorization code, Device code" in html
    assert "urn:ietf:params:oauth:grant-type:device_code" not in html
    assert "Awaiting approval" in html
    assert '<td class="field-short_client_type">Confidential</td>' in html


def test_active_token_count_links_to_the_clients_active_tokens(admin_client, oauth_client):
    AccessTokenFactory(client=oauth_client)

    html = admin_client.get(url(Client, "changelist")).content.decode()

    link = url(AccessToken, "changelist") + f"?client__id__exact={oauth_client.pk}&amp;state=active"
    assert f'<a href="{link}">1</a>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"awaiting_approval__exact": "1"}, {"waiting"}),
        ({"is_active__exact": "0"}, {"waiting", "disabled"}),
        ({"registered_by": "user"}, {"waiting"}),
        ({"registered_by": "admin"}, {"first_party", "disabled", "public"}),
        ({"skip_consent__exact": "1"}, {"first_party"}),
        ({"client_type__exact": "public"}, {"public"}),
    ],
)
def test_changelist_filters(admin_client, query, expected):
    clients = {
        "waiting": AwaitingApprovalClientFactory(),
        "first_party": ClientFactory(skip_consent=True),
        "disabled": ClientFactory(is_active=False),
        "public": PublicClientFactory(),
        # No owner either, but software registered it (RFC 7591): no admin's.
        "self_registered": ClientFactory(registration_access_token_hash="0" * 64),
    }

    response = admin_client.get(url(Client, "changelist"), query)

    assert response.status_code == 200
    assert listed(response) == {clients[name].pk for name in expected}
    # Offered in the sidebar, not only accepted in the URL.
    titles = [str(spec.title) for spec in response.context["cl"].filter_specs]
    assert titles == [
        "client type",
        "active",
        "awaiting approval",
        "skip consent",
        "registered by",
        "described by",
    ]


# Client approval ------------------------------------------------------------


def test_approve_action_approves_only_clients_awaiting_approval(admin_client, admin_user):
    waiting = AwaitingApprovalClientFactory()
    active = ClientFactory()
    # Deactivated on purpose by an admin: approving must not switch it back on.
    disabled = ClientFactory(is_active=False)

    page = run_action(admin_client, Client, "approve_selected", [waiting, active, disabled])

    # The confirmation page lists the waiting client only, and says why.
    assert page.status_code == 200
    assert hidden_fields(page)["_selected_action"] == [str(waiting.pk)]
    assert shown_messages(page) == ["2 clients were skipped: they were not awaiting approval."]
    response = admin_client.post(url(Client, "changelist"), hidden_fields(page))
    assert response.status_code == 302
    for obj in (waiting, active, disabled):
        obj.refresh_from_db()
    assert (waiting.is_active, waiting.awaiting_approval) == (True, False)
    assert active.is_active
    assert not disabled.is_active
    assert shown_messages(response) == ["1 client was approved."]
    [entry] = LogEntry.objects.all()
    assert (entry.object_id, entry.user, entry.change_message) == (
        str(waiting.pk),
        admin_user,
        "Approved the client.",
    )


@pytest.mark.parametrize("action", ["approve_selected", "revoke_all_tokens"])
def test_client_actions_need_change_permission(staff_client, action):
    waiting = AwaitingApprovalClientFactory()
    token = AccessTokenFactory(client=waiting)
    # Delete permission alone: actions are offered, but not these two.
    staff_client.grant("view_client", "delete_client")

    response = staff_client.get(url(Client, "changelist"))
    assert response.status_code == 200
    assert "delete_selected" in offered_actions(response)
    assert action not in offered_actions(response)
    run_action(staff_client, Client, action, [waiting])

    waiting.refresh_from_db()
    token.refresh_from_db()
    assert waiting.awaiting_approval and not waiting.is_active
    assert token.revoked_at is None


def test_confirming_an_approval_needs_change_permission(staff_client, admin_client):
    waiting = AwaitingApprovalClientFactory()
    confirmation = hidden_fields(run_action(admin_client, Client, "approve_selected", [waiting]))
    staff_client.grant("view_client", "delete_client")

    response = staff_client.post(url(Client, "changelist"), confirmation)

    waiting.refresh_from_db()
    assert waiting.awaiting_approval and not waiting.is_active
    assert "1 client was approved." not in shown_messages(response)
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("action", ["approve_selected", "revoke_all_tokens"])
def test_client_actions_are_offered_with_change_permission(staff_client, action):
    staff_client.grant("view_client", "change_client")

    response = staff_client.get(url(Client, "changelist"))

    assert action in offered_actions(response)


def test_change_page_shows_awaiting_approval_read_only(admin_client):
    waiting = AwaitingApprovalClientFactory()

    response = admin_client.get(url(Client, "change", waiting.pk))

    assert "awaiting_approval" not in response.context["adminform"].form.fields
    html = response.content.decode()
    assert "Awaiting approval" in html
    assert "awaits approval. Tick “Active” and save to approve it." in html


def test_ticking_active_on_a_waiting_client_approves_it(admin_client):
    waiting = AwaitingApprovalClientFactory()

    response = admin_client.post(
        url(Client, "change", waiting.pk), client_form_data(name=waiting.name, owner=waiting.owner_id)
    )

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.is_active, waiting.awaiting_approval) == (True, False)
    assert "Approved the client." in [entry.change_message for entry in LogEntry.objects.all()]


def test_saving_a_waiting_client_without_ticking_active_keeps_it_waiting(admin_client):
    waiting = AwaitingApprovalClientFactory()

    response = admin_client.post(
        url(Client, "change", waiting.pk),
        client_form_data(name="Renamed", owner=waiting.owner_id, is_active=None),
    )

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.name == "Renamed"
    assert (waiting.is_active, waiting.awaiting_approval) == (False, True)


def test_change_page_links_to_the_clients_tokens_and_consents(admin_client, oauth_client, frozen_clock):
    AccessTokenFactory(client=oauth_client)
    AccessTokenFactory(client=oauth_client, revoked_at=frozen_clock())
    RefreshTokenFactory(client=oauth_client)
    ConsentFactory(client=oauth_client)
    other = ClientFactory()
    AccessTokenFactory(client=other)
    ConsentFactory(client=other)

    html = admin_client.get(url(Client, "change", oauth_client.pk)).content.decode()

    query = f"?client__id__exact={oauth_client.pk}"
    assert f'<a href="{url(AccessToken, "changelist")}{query}">2 access tokens (1 active)</a>' in html
    assert f'<a href="{url(RefreshToken, "changelist")}{query}">1 refresh token (1 active)</a>' in html
    assert f'<a href="{url(Consent, "changelist")}{query}">1 consent</a>' in html


# Revoke all tokens of clients -----------------------------------------------


def test_revoke_all_tokens_action(admin_client, frozen_clock):
    oauth_client, other = ClientFactory(), ClientFactory()
    access, refresh = AccessTokenFactory(client=oauth_client), RefreshTokenFactory(client=oauth_client)
    code = AuthorizationCodeFactory(client=oauth_client)
    device = DeviceAuthorizationFactory(
        client=oauth_client,
        user=UserFactory(),
        status=DeviceAuthorization.Status.APPROVED,
        decided_at=frozen_clock(),
    )
    earlier = frozen_clock() - timedelta(minutes=5)
    already = AccessTokenFactory(client=oauth_client, revoked_at=earlier)
    untouched = [AccessTokenFactory(client=other), RefreshTokenFactory(client=other)]
    senders = []

    def receiver(sender, tokens, reason, **kwargs):
        senders.append((sender, {token.pk for token in tokens}, reason))

    token_revoked.connect(receiver)
    try:
        frozen_clock.advance(seconds=1)
        with CaptureQueriesContext(connection) as queries:
            response = run_action(admin_client, Client, "revoke_all_tokens", [oauth_client])
    finally:
        token_revoked.disconnect(receiver)

    assert response.status_code == 302
    assert shown_messages(response) == ["2 tokens were revoked."]
    # Through revocation.revoke_tokens (which sends the signal), refresh tokens first.
    assert senders == [(RefreshToken, {refresh.pk}, "revoked"), (AccessToken, {access.pk}, "revoked")]
    # Rows are read (locked, on PostgreSQL) in revocation.LOCK_ORDER too.
    selects = [query["sql"] for query in queries if query["sql"].startswith("SELECT")]
    first_select = {
        model: next(i for i, sql in enumerate(selects) if f'FROM "{model._meta.db_table}"' in sql)
        for model in (RefreshToken, AccessToken)
    }
    assert first_select[RefreshToken] < first_select[AccessToken]
    for obj in (access, refresh, already, code, device, *untouched):
        obj.refresh_from_db()
    assert access.revoked_at == refresh.revoked_at == frozen_clock()
    assert already.revoked_at == earlier
    # Nothing left that could be exchanged for a new token.
    assert code.used_at == frozen_clock()
    assert device.status == DeviceAuthorization.Status.DENIED
    assert all(obj.revoked_at is None for obj in untouched)


# Regenerate secret ----------------------------------------------------------


def test_regenerate_secret_action(admin_client):
    first, second = ClientFactory(name="A"), ClientFactory(name="B")
    public = PublicClientFactory(name="C")
    old_hashes = {first.pk: first.client_secret_hash, second.pk: second.client_secret_hash}

    response = admin_client.post(
        url(Client, "changelist"),
        {"action": "regenerate_secret", "_selected_action": [first.pk, second.pk, public.pk]},
    )

    assert response.status_code == 200
    assert_not_cached(response)
    secrets = shown_secrets(response)
    assert len(secrets) == 2
    for client, secret in zip([first, second], secrets, strict=True):
        client.refresh_from_db()
        assert client.client_secret_hash != old_hashes[client.pk]
        assert client.check_secret(secret)
        assert not client.check_secret(client.secret)
    public.refresh_from_db()
    assert public.client_secret_hash == ""
    assert "1 public client was skipped" in response.content.decode()
    assert all(
        secret not in str(message) for message in get_messages(response.wsgi_request) for secret in secrets
    )


def test_regenerate_secret_does_not_revoke_tokens(admin_client, oauth_client):
    token = AccessTokenFactory(client=oauth_client)

    admin_client.post(
        url(Client, "changelist"), {"action": "regenerate_secret", "_selected_action": [oauth_client.pk]}
    )

    token.refresh_from_db()
    assert token.revoked_at is None


def test_regenerate_secret_of_only_public_clients_redirects(admin_client, public_client):
    response = admin_client.post(
        url(Client, "changelist"), {"action": "regenerate_secret", "_selected_action": [public_client.pk]}
    )

    assert response.status_code == 302
    public_client.refresh_from_db()
    assert public_client.client_secret_hash == ""


# Credentials ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "ended_field"),
    [
        (AccessTokenFactory, "revoked_at"),
        (RefreshTokenFactory, "revoked_at"),
        (AuthorizationCodeFactory, "used_at"),
    ],
)
def test_revoke_action(admin_client, frozen_clock, factory, ended_field):
    selected, untouched = factory(), factory()
    earlier = frozen_clock() - timedelta(minutes=5)
    already = factory(**{ended_field: earlier})
    model = type(selected)

    response = admin_client.post(
        url(model, "changelist"),
        {"action": "revoke_selected", "_selected_action": [selected.pk, already.pk]},
    )

    assert response.status_code == 302
    assert model.objects.get(pk=selected.pk).__dict__[ended_field] == frozen_clock()
    assert model.objects.get(pk=untouched.pk).__dict__[ended_field] is None
    # Already ended rows keep the time they ended.
    assert model.objects.get(pk=already.pk).__dict__[ended_field] == earlier


@pytest.mark.parametrize("model", [*CREDENTIAL_MODELS, Consent])
def test_credentials_and_consents_cannot_be_added_or_edited(admin_client, credentials, model):
    obj = model.objects.get()

    assert admin_client.get(url(model, "add")).status_code == 403
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.context["has_change_permission"] is False
    assert admin_client.post(url(model, "change", obj.pk), {"scope": "read write admin"}).status_code == 403
    obj.refresh_from_db()
    assert obj.scope == "read"


@pytest.mark.parametrize("model", [*CREDENTIAL_MODELS, Consent])
def test_credentials_and_consents_can_be_deleted(admin_client, credentials, model):
    obj = model.objects.get()

    response = admin_client.post(url(model, "delete", obj.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


def test_state_column_and_filter(admin_client, frozen_clock):
    active = AccessTokenFactory()
    expired = AccessTokenFactory(expires_at=frozen_clock() - timedelta(seconds=1))
    revoked = AccessTokenFactory(revoked_at=frozen_clock())
    changelist = url(AccessToken, "changelist")

    def listed(state):
        return {obj.pk for obj in admin_client.get(changelist, {"state": state}).context["cl"].result_list}

    assert listed("active") == {active.pk}
    assert listed("expired") == {expired.pk}
    assert listed("ended") == {revoked.pk}
    html = admin_client.get(changelist).content.decode()
    assert "Active" in html and "Expired" in html and "Revoked" in html


def test_used_code_shows_as_used(admin_client, frozen_clock):
    code = AuthorizationCodeFactory(used_at=frozen_clock())
    changelist = url(AuthorizationCode, "changelist")

    assert [obj.pk for obj in admin_client.get(changelist, {"state": "ended"}).context["cl"].result_list] == [
        code.pk
    ]
    assert "Used or revoked" in admin_client.get(changelist).content.decode()


def test_token_changelist_search_and_client_filter(admin_client):
    mine = AccessTokenFactory(client=ClientFactory(name="Needle"))
    AccessTokenFactory(client=ClientFactory(name="Haystack"))
    changelist = url(AccessToken, "changelist")

    by_name = admin_client.get(changelist, {"q": "Needle"}).context["cl"].result_list
    by_client_id = admin_client.get(changelist, {"q": mine.client.client_id}).context["cl"].result_list
    by_user = admin_client.get(changelist, {"q": mine.user.username}).context["cl"].result_list
    by_filter = admin_client.get(changelist, {"client__id__exact": mine.client_id}).context["cl"].result_list

    assert [obj.pk for obj in by_name] == [mine.pk]
    assert [obj.pk for obj in by_client_id] == [mine.pk]
    assert [obj.pk for obj in by_user] == [mine.pk]
    assert [obj.pk for obj in by_filter] == [mine.pk]


def test_token_changelist_query_count_does_not_grow_with_rows(admin_client):
    def changelist_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(AccessToken, "changelist")).status_code == 200
        return len(queries)

    AccessTokenFactory()
    few = changelist_queries()
    AccessTokenFactory.create_batch(5)

    assert changelist_queries() == few


def test_consent_changelist_lists_user_and_client(admin_client, credentials):
    consent = credentials["consent"]

    response = admin_client.get(url(Consent, "changelist"), {"q": consent.user.username})

    assert list(response.context["cl"].result_list) == [consent]
    html = response.content.decode()
    assert consent.client.name in html
    assert consent.user.username in html


@pytest.mark.parametrize("factory", [AccessTokenFactory, RefreshTokenFactory, AuthorizationCodeFactory])
def test_credentials_can_be_filtered_by_user_and_client(admin_client, factory):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    first, second = ClientFactory(), ClientFactory()
    rows = {
        (user, oauth_client): factory(user=user, client=oauth_client)
        for user in (alice, bob)
        for oauth_client in (first, second)
    }
    changelist = url(type(rows[alice, first]), "changelist")

    by_user = admin_client.get(changelist, {"user__id__exact": alice.pk})
    by_client = admin_client.get(changelist, {"client__id__exact": second.pk})
    by_both = admin_client.get(changelist, {"user__id__exact": bob.pk, "client__id__exact": first.pk})

    assert listed(by_user) == {rows[alice, first].pk, rows[alice, second].pk}
    assert listed(by_client) == {rows[alice, second].pk, rows[bob, second].pk}
    assert listed(by_both) == {rows[bob, first].pk}
    # The sidebar names the user the list is narrowed to, so it can be cleared.
    [user_filter] = [spec for spec in by_user.context["cl"].filter_specs if spec.title == "user"]
    assert user_filter.lookup_choices == [(str(alice.pk), "alice")]


def test_user_filter_with_unknown_or_malformed_user(admin_client):
    AccessTokenFactory()
    changelist = url(AccessToken, "changelist")

    assert listed(admin_client.get(changelist, {"user__id__exact": "999999"})) == set()
    response = admin_client.get(changelist, {"user__id__exact": "not-a-number"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize("model", [*CREDENTIAL_MODELS, Consent])
def test_user_column_links_to_that_users_rows(admin_client, credentials, model):
    obj = model.objects.get()

    html = admin_client.get(url(model, "changelist")).content.decode()

    link = f'<a href="{url(model, "changelist")}?user__id__exact={obj.user_id}"'
    assert link in html


@pytest.fixture
def consent_with_tokens(db):
    """A consent, the tokens its client holds for its user, and another user's token."""
    consent = ConsentFactory(scope="read write")
    mine = {"client": consent.client, "user": consent.user}
    return {
        "consent": consent,
        "tokens": [AccessTokenFactory(**mine), RefreshTokenFactory(**mine)],
        "code": AuthorizationCodeFactory(**mine),
        "other": AccessTokenFactory(client=consent.client),
    }


def assert_withdrawn(consent_with_tokens):
    assert not Consent.objects.filter(pk=consent_with_tokens["consent"].pk).exists()
    for token in consent_with_tokens["tokens"]:
        token.refresh_from_db()
        assert token.revoked_at is not None
    consent_with_tokens["code"].refresh_from_db()
    assert consent_with_tokens["code"].used_at is not None
    consent_with_tokens["other"].refresh_from_db()
    assert consent_with_tokens["other"].revoked_at is None


def test_consent_changelist_shows_scope_names(admin_client, consent_with_tokens):
    response = admin_client.get(url(Consent, "changelist"))

    assert response.context["cl"].list_display[1:] == [
        "user_link",
        "client",
        "scope_names",
        "created_at",
        "updated_at",
    ]
    assert "read, write" in response.content.decode()


@pytest.mark.parametrize("bulk", [False, True])
def test_consent_delete_confirmation_says_tokens_are_revoked(admin_client, consent_with_tokens, bulk):
    consent = consent_with_tokens["consent"]

    if bulk:
        response = run_action(admin_client, Consent, "delete_selected", [consent])
    else:
        response = admin_client.get(url(Consent, "delete", consent.pk))

    assert response.status_code == 200
    assert "access and refresh tokens for that user are revoked" in response.content.decode()
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_deleting_a_consent_withdraws_it(admin_client, consent_with_tokens):
    consent = consent_with_tokens["consent"]

    response = admin_client.post(url(Consent, "delete", consent.pk), {"post": "yes"})

    assert response.status_code == 302
    assert_withdrawn(consent_with_tokens)
    assert "2 tokens were revoked." in shown_messages(response)


def test_bulk_deleting_consents_withdraws_them(admin_client, consent_with_tokens):
    consent = consent_with_tokens["consent"]

    response = admin_client.post(
        url(Consent, "changelist"),
        {"action": "delete_selected", "_selected_action": [consent.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert_withdrawn(consent_with_tokens)


# Device authorizations ------------------------------------------------------


@pytest.fixture
def device_authorizations(frozen_clock, user):
    oauth_client = ClientFactory(name="Smart TV")
    return {
        "pending": DeviceAuthorizationFactory(client=oauth_client, scope="read write"),
        "approved": DeviceAuthorizationFactory(
            client=oauth_client,
            user=user,
            status=DeviceAuthorization.Status.APPROVED,
            decided_at=frozen_clock(),
        ),
    }


def test_device_authorization_changelist_lists_client_user_status_scope(admin_client, device_authorizations):
    response = admin_client.get(url(DeviceAuthorization, "changelist"))

    assert response.status_code == 200
    assert {obj.pk for obj in response.context["cl"].result_list} == {
        row.pk for row in device_authorizations.values()
    }
    html = response.content.decode()
    approved = device_authorizations["approved"]
    assert "Smart TV" in html
    assert approved.user.username in html
    assert "Waiting for the user" in html and "Approved" in html
    assert "read write" in html


def test_device_authorization_status_filter(admin_client, device_authorizations):
    response = admin_client.get(url(DeviceAuthorization, "changelist"), {"status__exact": "pending"})

    assert [obj.pk for obj in response.context["cl"].result_list] == [device_authorizations["pending"].pk]


def test_no_device_authorization_page_shows_a_code_or_hash(admin_client, device_authorizations):
    secrets = []
    for row in device_authorizations.values():
        secrets += [row.value, row.token_hash, row.user_code, row.user_code_hash]
    pages = [url(DeviceAuthorization, "changelist")]
    for row in device_authorizations.values():
        pages += [url(DeviceAuthorization, "change", row.pk), url(DeviceAuthorization, "delete", row.pk)]

    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert not [value for value in secrets if value in html], page


def test_device_authorizations_cannot_be_added_or_edited(admin_client, device_authorizations):
    pending = device_authorizations["pending"]

    assert admin_client.get(url(DeviceAuthorization, "add")).status_code == 403
    response = admin_client.get(url(DeviceAuthorization, "change", pending.pk))
    assert response.context["has_change_permission"] is False
    response = admin_client.post(url(DeviceAuthorization, "change", pending.pk), {"status": "approved"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == DeviceAuthorization.Status.PENDING


def test_deny_action_denies_only_pending_device_authorizations(
    admin_client, frozen_clock, device_authorizations
):
    pending, approved = device_authorizations["pending"], device_authorizations["approved"]
    frozen_clock.advance(seconds=30)

    response = admin_client.post(
        url(DeviceAuthorization, "changelist"),
        {"action": "deny_selected", "_selected_action": [pending.pk, approved.pk]},
    )

    assert response.status_code == 302
    pending.refresh_from_db()
    approved.refresh_from_db()
    assert (pending.status, pending.decided_at) == (DeviceAuthorization.Status.DENIED, frozen_clock())
    assert approved.status == DeviceAuthorization.Status.APPROVED
    assert approved.decided_at == frozen_clock() - timedelta(seconds=30)
    assert "1 device authorization was denied." in [str(m) for m in get_messages(response.wsgi_request)]


def test_device_authorization_can_be_deleted(admin_client, device_authorizations):
    pending = device_authorizations["pending"]

    response = admin_client.post(url(DeviceAuthorization, "delete", pending.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not DeviceAuthorization.objects.filter(pk=pending.pk).exists()
