"""Privileged scopes (INTROSPECTION_SCOPE and PRIVILEGED_SCOPES) are given to a
client by an admin only: never by self-service, never by the "no allowed
scopes means every scope" default, never by a user's consent."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from oauth_provider.checks import check_settings
from oauth_provider.crypto import hash_secret
from oauth_provider.forms import ClientForm, OwnClientForm
from oauth_provider.models import AccessToken, Client
from oauth_provider.scopes import allowed_scopes, privileged_scopes
from oauth_provider.settings import CLIENT_CREDENTIALS, DEVICE_CODE
from tests.factories import AccessTokenFactory, ClientFactory, DeviceAuthorizationFactory, RefreshTokenFactory
from tests.helpers import authorize_url, basic_auth, post_token, redirect_params

pytestmark = pytest.mark.django_db

SCOPES = {
    "read": "Read your data",
    "write": "Change your data",
    "admin": "Administer your account",
    "check": "Check tokens",
}


@pytest.fixture(autouse=True)
def privileged(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": SCOPES,
        "PRIVILEGED_SCOPES": ["admin"],
        "INTROSPECTION_SCOPE": "check",
    }


def test_privileged_scopes_are_the_setting_and_the_introspection_scope():
    assert privileged_scopes() == {"admin", "check"}


def test_no_allowed_scopes_means_every_scope_but_the_privileged(oauth_client):
    assert oauth_client.scopes == []
    assert allowed_scopes(oauth_client) == ["read", "write"]


def test_an_admin_listed_privileged_scope_is_allowed():
    client = ClientFactory(scopes=["read", "admin"])
    assert allowed_scopes(client) == ["read", "admin"]


@pytest.mark.parametrize("scope", ["admin", "check"])
def test_a_user_cannot_grant_a_privileged_scope_on_the_consent_screen(client, oauth_client, user, scope):
    client.force_login(user)

    response = client.get(authorize_url(oauth_client, scope=f"read {scope}"))

    assert redirect_params(response)["error"] == "invalid_scope"
    response = client.post(authorize_url(oauth_client, scope=f"read {scope}"), {"action": "allow"})
    assert redirect_params(response)["error"] == "invalid_scope"
    assert not oauth_client.authorizationcode_set.exists()


@pytest.mark.parametrize("scope", ["admin", "check"])
def test_client_credentials_cannot_take_a_privileged_scope_by_default(api_client, scope):
    client = ClientFactory(grant_types=[CLIENT_CREDENTIALS])

    response = post_token(
        api_client,
        {"grant_type": CLIENT_CREDENTIALS, "scope": scope},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret),
    )

    assert response.json()["error"] == "invalid_scope"


def test_client_credentials_gets_a_privileged_scope_an_admin_gave(api_client):
    client = ClientFactory(grant_types=[CLIENT_CREDENTIALS], scopes=["check"])

    response = post_token(
        api_client,
        {"grant_type": CLIENT_CREDENTIALS, "scope": "check"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret),
    )

    assert response.status_code == 200 and response.json()["scope"] == "check"


def test_a_device_cannot_ask_for_a_privileged_scope_by_default(api_client):
    client = ClientFactory(grant_types=[DEVICE_CODE])

    response = api_client.post(
        "/o/device_authorization/",
        urlencode({"scope": "read admin"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret),
    )

    assert response.json()["error"] == "invalid_scope"


def refresh(api_client, client, token):
    return post_token(
        api_client,
        {"grant_type": "refresh_token", "refresh_token": token.value},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret),
    )


def test_a_privileged_scope_taken_away_is_not_refreshed(api_client, user):
    """Once an admin takes a privileged scope away from a client (or marks a
    scope it had by default privileged), refreshing does not keep issuing
    it: else the client would hold it for as long as it keeps refreshing."""
    client = ClientFactory(scopes=["read", "check"])
    access = AccessTokenFactory(client=client, user=user, scope="read check")
    token = RefreshTokenFactory(
        client=client, user=user, scope="read check", access_token=access, family_id=access.family_id
    )
    client.scopes = ["read"]
    client.save()

    response = refresh(api_client, client, token)

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read"
    new_access = AccessToken.objects.get(token_hash=hash_secret(response.json()["access_token"]))
    assert new_access.scope == "read"


def test_nothing_left_to_refresh_is_invalid_scope(api_client, user):
    client = ClientFactory(scopes=["check"])
    token = RefreshTokenFactory(client=client, user=user, scope="check")
    client.scopes = ["read"]
    client.save()

    response = refresh(api_client, client, token)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.filter(client=client).exists()


# -- self-service ------------------------------------------------------------------------------------


def test_self_service_does_not_offer_privileged_scopes(user):
    offered = [name for name, _label in OwnClientForm(owner=user).fields["scopes"].choices]
    assert offered == ["read", "write"]


def test_each_form_says_what_leaving_scopes_empty_allows(user):
    """Not "every scope the server defines": privileged ones are never included."""
    assert OwnClientForm(owner=user).fields["scopes"].help_text == (
        "Leave all unchecked to allow every scope listed here."
    )
    assert ClientForm().fields["scopes"].help_text == (
        "Leave all unchecked to allow every scope except the privileged ones."
    )
    assert "privileged" in str(Client._meta.get_field("scopes").help_text)


@pytest.mark.parametrize("scope", ["admin", "check"])
def test_self_service_refuses_a_posted_privileged_scope(client, user, scope):
    client.force_login(user)

    response = client.post(
        reverse("oauth_provider:client_create"),
        {
            "name": "Sneaky",
            "client_type": "confidential",
            "redirect_uris": "https://sneaky.example/cb",
            "grant_types": ["authorization_code"],
            "scopes": ["read", scope],
        },
    )

    assert response.status_code == 200
    assert "scopes" in response.context["form"].errors
    assert not Client.objects.exists()


def test_self_service_edit_keeps_a_privileged_scope_an_admin_gave(client, user, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_APPROVAL_REQUIRED": False}
    own = ClientFactory(owner=user, scopes=["read", "check"])
    client.force_login(user)

    client.post(
        reverse("oauth_provider:client_update", args=[own.client_id]),
        {
            "name": "Renamed",
            "client_type": "confidential",
            "redirect_uris": own.redirect_uris,
            "grant_types": own.grant_types,
            "scopes": ["read", "write"],
        },
    )

    own.refresh_from_db()
    assert own.name == "Renamed"
    assert sorted(own.scopes) == ["check", "read", "write"]


# -- the admin ----------------------------------------------------------------------------------------


def test_the_admin_form_offers_privileged_scopes_marked_as_such():
    labels = dict(ClientForm().fields["scopes"].choices)
    assert labels["admin"] == "admin: Administer your account (privileged)"
    assert labels["read"] == "read: Read your data"


@pytest.mark.parametrize("client_scopes", [[], ["read"]])
def test_the_device_page_refuses_a_privileged_scope_the_client_was_not_given(client, user, client_scopes):
    # Asked for while an admin allowed it, taken away (or made privileged) since.
    device_client = ClientFactory(grant_types=[DEVICE_CODE], scopes=client_scopes)
    pending = DeviceAuthorizationFactory(client=device_client, scope="read admin")
    client.force_login(user)

    response = client.post(reverse("oauth_provider:device"), {"user_code": pending.user_code})
    approve = client.post(
        reverse("oauth_provider:device"), {"user_code": pending.user_code, "action": "allow"}
    )

    assert response.status_code == approve.status_code == 400
    assert "Administer your account" not in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == pending.Status.PENDING and pending.user is None


def test_the_device_page_shows_a_privileged_scope_an_admin_gave(client, user):
    device_client = ClientFactory(grant_types=[DEVICE_CODE], scopes=["read", "admin"])
    pending = DeviceAuthorizationFactory(client=device_client, scope="read admin")
    client.force_login(user)

    page = client.post(reverse("oauth_provider:device"), {"user_code": pending.user_code}).content.decode()

    assert "Administer your account" in page


@pytest.mark.parametrize("value", ["admin", ["nope"], [1], None])
def test_privileged_scopes_must_be_a_list_of_known_scopes(settings, value):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "PRIVILEGED_SCOPES": value}

    assert [error.id for error in check_settings()] == ["oauth_provider.E020"]


def test_privileged_scopes_default_is_valid(settings):
    settings.OAUTH_PROVIDER = {"SCOPES": SCOPES}
    assert check_settings() == []


def test_self_service_edit_drops_a_scope_the_site_no_longer_defines(client, user, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_APPROVAL_REQUIRED": False}
    own = ClientFactory(owner=user, scopes=["read", "check"])
    Client.objects.filter(pk=own.pk).update(scopes=["read", "check", "retired"])
    client.force_login(user)

    response = client.post(
        reverse("oauth_provider:client_update", args=[own.client_id]),
        {
            "name": own.name,
            "client_type": "confidential",
            "redirect_uris": own.redirect_uris,
            "grant_types": own.grant_types,
            "scopes": ["read"],
        },
    )

    assert response.status_code == 302
    own.refresh_from_db()
    assert sorted(own.scopes) == ["check", "read"]
