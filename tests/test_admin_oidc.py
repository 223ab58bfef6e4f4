"""Django admin for OpenID Connect: signing keys (list, rotate, never the
private part), sign-ins (read-only), and the clients' OpenID Connect fields."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oauth_provider import signing_keys
from oauth_provider.models import Client, SignIn, SigningKey
from oauth_provider.text import isolate

from .factories import ClientFactory, UserFactory
from .helpers import private_pem

pytestmark = pytest.mark.django_db

ROTATE_URL = "/admin/oauth_provider/signingkey/rotate/"


def url(model, view, *args):
    return reverse(f"admin:oauth_provider_{model._meta.model_name}_{view}", args=args)


def listed(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def shown_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def keys(frozen_clock):
    """A key in each state, by state."""
    retired = signing_keys.signing_key("ES256").kid
    signing_keys.rotate(["ES256"], delay=timedelta(0))
    unpublished = signing_keys.signing_key("EdDSA").kid
    signing_keys.rotate(["EdDSA"], delay=timedelta(0))
    signing_keys.drop_retired(["EdDSA"])
    (pending,) = signing_keys.rotate(["RS256"], delay=timedelta(days=2))
    return {
        "pending": SigningKey.objects.get(kid=pending.kid),
        "active": SigningKey.objects.get(kid=signing_keys.signing_key("ES256").kid),
        "retired": SigningKey.objects.get(kid=retired),
        "unpublished": SigningKey.objects.get(kid=unpublished),
    }


# -- signing keys ----------------------------------------------------------------------------


def test_key_list_shows_kid_algorithm_state_and_times(admin_client, keys):
    response = admin_client.get(url(SigningKey, "changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    for key in keys.values():
        assert key.kid in html
    columns = response.context["cl"].list_display
    assert [column for column in columns if column != "action_checkbox"] == [
        "kid",
        "algorithm",
        "state_label",
        "created_at",
        "activates_at",
        "retired_at",
        "expires_at",
    ]


@pytest.mark.parametrize("state", ["pending", "active", "retired", "unpublished"])
def test_key_list_filters_by_state(admin_client, keys, state):
    response = admin_client.get(url(SigningKey, "changelist"), {"state": state})

    assert keys[state].pk in listed(response)
    others = {key.pk for name, key in keys.items() if name != state}
    assert not listed(response) & others
    label = {"unpublished": "no longer published"}.get(state, state)
    assert f'<td class="field-state_label">{label}</td>' in response.content.decode()


def test_key_list_filters_by_algorithm(admin_client, keys):
    response = admin_client.get(url(SigningKey, "changelist"), {"algorithm__exact": "ES256"})

    assert {row.algorithm for row in response.context["cl"].result_list} == {"ES256"}


def test_no_key_page_shows_the_private_part(admin_client, keys):
    private_values = []
    for key in SigningKey.objects.all():
        jwk = (
            signing_keys.KEY_TYPES[key.algorithm]
            .import_key(signing_keys.decrypt(key.private_key))
            .as_dict(private=True)
        )
        private_values += [key.private_key, jwk["d"]]
    pages = [url(SigningKey, "changelist"), ROTATE_URL]
    for key in keys.values():
        pages += [url(SigningKey, "change", key.pk), url(SigningKey, "changelist") + "?q=" + key.kid]
    pages.append(url(SigningKey, "delete", keys["unpublished"].pk))

    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert not [value for value in private_values if value in html], page
        assert "PRIVATE KEY" not in html


def test_key_page_is_read_only_and_shows_the_public_key(admin_client, keys):
    key = keys["active"]

    response = admin_client.get(url(SigningKey, "change", key.pk))

    assert response.context["adminform"].form.fields == {}
    assert key.public_jwk["x"] in response.content.decode()
    posted = admin_client.post(url(SigningKey, "change", key.pk), {"kid": "mine", "algorithm": "RS256"})
    assert posted.status_code == 403
    assert SigningKey.objects.get(pk=key.pk).kid == key.kid


def test_keys_cannot_be_added(admin_client):
    assert admin_client.get(url(SigningKey, "add")).status_code == 403


@pytest.mark.parametrize("state", ["pending", "active", "retired"])
def test_published_keys_cannot_be_deleted(admin_client, keys, state):
    key = keys[state]

    assert admin_client.post(url(SigningKey, "delete", key.pk), {"post": "yes"}).status_code == 403
    assert SigningKey.objects.filter(pk=key.pk).exists()


def test_unpublished_key_can_be_deleted(admin_client, keys):
    key = keys["unpublished"]

    response = admin_client.post(url(SigningKey, "delete", key.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not SigningKey.objects.filter(pk=key.pk).exists()


def test_no_bulk_delete_of_keys(admin_client, keys):
    """Bulk delete would not ask each key whether it is still published."""
    selected = [key.pk for key in keys.values()]

    response = admin_client.post(
        url(SigningKey, "changelist"),
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )

    assert response.status_code in (200, 302)
    assert SigningKey.objects.filter(pk__in=selected).count() == len(selected)


def test_rotate_asks_for_confirmation_first(admin_client, keys, frozen_clock):
    before = set(SigningKey.objects.values_list("kid", flat=True))

    response = admin_client.get(ROTATE_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "RS256, ES256, EdDSA" in html
    assert keys["active"].kid in html  # retires when the new one signs
    assert keys["pending"].kid in html  # replaced: it never signed
    assert set(SigningKey.objects.values_list("kid", flat=True)) == before


def test_rotate_makes_pending_keys_after_the_activation_delay(admin_client, keys, frozen_clock):
    signing = {
        algorithm: signing_keys.signing_key(algorithm).kid for algorithm in ("RS256", "ES256", "EdDSA")
    }

    response = admin_client.post(ROTATE_URL)

    assert response.status_code == 302
    assert response["Location"] == url(SigningKey, "changelist")
    new = SigningKey.objects.filter(activates_at__gt=frozen_clock())
    assert sorted(new.values_list("algorithm", flat=True)) == ["ES256", "EdDSA", "RS256"]
    assert {key.activates_at for key in new} == {frozen_clock() + timedelta(days=2)}
    assert not SigningKey.objects.filter(pk=keys["pending"].pk).exists()
    assert {algorithm: signing_keys.signing_key(algorithm).kid for algorithm in signing} == signing
    assert "3 new keys are published now" in shown_messages(response)[0]
    logged = LogEntry.objects.filter(action_flag=ADDITION, content_type__model="signingkey")
    assert {int(entry.object_id) for entry in logged} == set(new.values_list("pk", flat=True))


def test_rotate_button_on_the_list(admin_client):
    html = admin_client.get(url(SigningKey, "changelist")).content.decode()

    assert f'href="{ROTATE_URL}"' in html


def test_rotate_needs_the_add_permission(staff_client):
    staff_client.grant("view_signingkey")
    rows = SigningKey.objects.count()

    assert f'href="{ROTATE_URL}"' not in staff_client.get(url(SigningKey, "changelist")).content.decode()
    assert staff_client.get(ROTATE_URL).status_code == 403
    assert staff_client.post(ROTATE_URL).status_code == 403
    assert SigningKey.objects.count() == rows

    staff_client.grant("add_signingkey")
    assert staff_client.post(ROTATE_URL).status_code == 302
    assert SigningKey.objects.count() == rows + 3


def test_rotate_refused_with_keys_managed_in_settings(admin_client, settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_SIGNING_KEYS": [{"kid": "managed", "algorithm": "RS256", "private_key": private_pem("RS256")}],
        "OIDC_SIGNING_ALGORITHMS": ["RS256"],
    }
    rows = SigningKey.objects.count()

    listing = admin_client.get(url(SigningKey, "changelist"))
    response = admin_client.post(ROTATE_URL)

    assert f'href="{ROTATE_URL}"' not in listing.content.decode()
    assert any("OIDC_SIGNING_KEYS is set" in message for message in shown_messages(listing))
    assert response.status_code == 302
    assert SigningKey.objects.count() == rows


# -- sign-ins --------------------------------------------------------------------------------


def sign_in(client, user, *, ended=False):
    from oauth_provider import clock

    return SignIn.objects.create(
        family_id=uuid.uuid4(),
        client=client,
        user=user,
        sid=uuid.uuid4().hex,
        auth_time=clock.now(),
        nonce="n-0S6_WzA2Mj",
        ended_at=clock.now() if ended else None,
    )


def test_sign_in_list_shows_user_client_and_session(admin_client, user):
    oauth_client = ClientFactory(name="Relying party")
    row = sign_in(oauth_client, user)

    response = admin_client.get(url(SignIn, "changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    assert row.sid in html
    assert user.get_username() in html
    assert isolate("Relying party") in html  # client names are isolated, as everywhere in the admin
    assert row.nonce not in html


def test_sign_in_list_query_count_does_not_grow_with_rows(admin_client):
    def changelist_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(SignIn, "changelist")).status_code == 200
        return len(queries)

    sign_in(ClientFactory(), UserFactory())
    few = changelist_queries()
    for _ in range(3):
        sign_in(ClientFactory(), UserFactory())

    assert changelist_queries() == few


def test_sign_in_list_filters(admin_client, user):
    oauth_client = ClientFactory()
    signed_in = sign_in(oauth_client, user)
    signed_out = sign_in(oauth_client, user, ended=True)
    other = sign_in(oauth_client, UserFactory())

    changelist = url(SignIn, "changelist")
    assert listed(admin_client.get(changelist, {"state": "signed_in"})) == {signed_in.pk, other.pk}
    assert listed(admin_client.get(changelist, {"state": "signed_out"})) == {signed_out.pk}
    assert listed(admin_client.get(changelist, {"user__id__exact": user.pk})) == {signed_in.pk, signed_out.pk}


def test_sign_ins_are_read_only(admin_client, user):
    row = sign_in(ClientFactory(), user)

    assert admin_client.get(url(SignIn, "add")).status_code == 403
    view = admin_client.get(url(SignIn, "change", row.pk))
    assert view.status_code == 200
    assert row.nonce not in view.content.decode()
    assert admin_client.post(url(SignIn, "change", row.pk), {"sid": "other"}).status_code == 403
    assert SignIn.objects.get(pk=row.pk).sid == row.sid


def test_deleting_a_client_deletes_its_sign_ins(admin_client, user):
    oauth_client = ClientFactory()
    sign_in(oauth_client, user)

    response = admin_client.post(url(Client, "delete", oauth_client.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not SignIn.objects.exists()


# -- the clients' OpenID Connect fields ------------------------------------------------------


def test_client_change_page_has_the_openid_connect_fieldset(admin_client, oauth_client):
    response = admin_client.get(url(Client, "change", oauth_client.pk))

    assert response.status_code == 200
    fieldsets = {str(name): options["fields"] for name, options in response.context["adminform"].fieldsets}
    assert fieldsets["OpenID Connect"] == [
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "id_token_signed_response_alg",
        "subject_type",
        "sector_identifier_uri",
    ]


def test_client_change_page_saves_the_openid_connect_fields(admin_client, oauth_client, sector_document):
    sector_document.extend(oauth_client.redirect_uri_list)
    data = {
        "name": oauth_client.name,
        "website": oauth_client.website,
        "client_type": oauth_client.client_type,
        "redirect_uris": oauth_client.redirect_uris,
        "grant_types": oauth_client.grant_types,
        "is_active": "on",
        "owner": "",
        "post_logout_redirect_uris": "https://client.example.com/signed-out\n",
        "backchannel_logout_uri": "https://client.example.com/backchannel",
        "id_token_signed_response_alg": "EdDSA",
        "subject_type": "pairwise",
        "sector_identifier_uri": "https://client.example.com/sector.json",
    }

    response = admin_client.post(url(Client, "change", oauth_client.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    oauth_client.refresh_from_db()
    assert oauth_client.post_logout_redirect_uri_list == ["https://client.example.com/signed-out"]
    assert oauth_client.backchannel_logout_uri == "https://client.example.com/backchannel"
    assert oauth_client.id_token_signed_response_alg == "EdDSA"
    assert oauth_client.subject_type == "pairwise"
    assert oauth_client.sector_identifier_uri == "https://client.example.com/sector.json"


def test_client_change_page_refuses_an_unknown_id_token_algorithm(admin_client, oauth_client):
    data = {
        "name": oauth_client.name,
        "client_type": oauth_client.client_type,
        "redirect_uris": oauth_client.redirect_uris,
        "grant_types": oauth_client.grant_types,
        "owner": "",
        "id_token_signed_response_alg": "none",
    }

    response = admin_client.post(url(Client, "change", oauth_client.pk), data)

    assert response.status_code == 200
    assert "id_token_signed_response_alg" in response.context["adminform"].form.errors
    oauth_client.refresh_from_db()
    assert oauth_client.id_token_signed_response_alg == "RS256"
