"""Which grant types each kind of user may give a client: developers never the
legacy ones (password, implicit), admins only those the site has enabled,
with the same warnings ``createclient`` prints."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from oauth_provider.forms import ClientForm, OwnClientForm
from oauth_provider.models import Client
from oauth_provider.settings import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    DEVICE_CODE,
    IMPLICIT,
    PASSWORD,
    REFRESH_TOKEN,
)
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

EVERY_GRANT = [AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, DEVICE_CODE, PASSWORD, IMPLICIT]


@pytest.fixture
def legacy_enabled(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": EVERY_GRANT}


def offered(form):
    return [name for name, _label in form.fields["grant_types"].choices]


def test_self_service_never_offers_legacy_grants(legacy_enabled, user):
    assert offered(OwnClientForm(owner=user)) == [
        AUTHORIZATION_CODE,
        CLIENT_CREDENTIALS,
        REFRESH_TOKEN,
        DEVICE_CODE,
    ]


@pytest.mark.parametrize("grant_type", [PASSWORD, IMPLICIT])
def test_self_service_refuses_a_posted_legacy_grant(legacy_enabled, client, user, grant_type):
    client.force_login(user)

    response = client.post(
        reverse("oauth_provider:client_create"),
        {
            "name": "Legacy",
            "client_type": "confidential",
            "redirect_uris": "https://legacy.example/cb",
            "grant_types": [AUTHORIZATION_CODE, grant_type],
        },
    )

    assert "grant_types" in response.context["form"].errors
    assert not Client.objects.exists()


def test_self_service_edit_keeps_a_legacy_grant_an_admin_gave(legacy_enabled, client, user, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_APPROVAL_REQUIRED": False}
    own = ClientFactory(owner=user, grant_types=[AUTHORIZATION_CODE, PASSWORD])
    client.force_login(user)

    client.post(
        reverse("oauth_provider:client_update", args=[own.client_id]),
        {
            "name": "Renamed",
            "client_type": "confidential",
            "redirect_uris": own.redirect_uris,
            "grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN],
        },
    )

    own.refresh_from_db()
    assert own.name == "Renamed"
    assert sorted(own.grant_types) == sorted([AUTHORIZATION_CODE, REFRESH_TOKEN, PASSWORD])


def test_the_admin_form_offers_only_enabled_grant_types():
    assert offered(ClientForm()) == [AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, DEVICE_CODE]


def test_the_admin_form_offers_legacy_grants_once_enabled(legacy_enabled):
    assert offered(ClientForm()) == EVERY_GRANT


def test_the_admin_form_keeps_a_grant_the_site_no_longer_offers():
    client = ClientFactory(grant_types=[AUTHORIZATION_CODE, PASSWORD])
    assert PASSWORD in offered(ClientForm(instance=client))


def admin_form(**overrides):
    return {
        "name": "Admin app",
        "client_type": "confidential",
        "redirect_uris": "https://app.example.com/cb",
        "grant_types": [AUTHORIZATION_CODE],
        "is_active": "on",
        "owner": "",
        **overrides,
    }


def messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_admin_warns_on_save_about_a_grant_the_site_does_not_offer(admin_client):
    client = ClientFactory(grant_types=[AUTHORIZATION_CODE, PASSWORD])

    response = admin_client.post(
        reverse("admin:oauth_provider_client_change", args=[client.pk]),
        admin_form(name=client.name, grant_types=[AUTHORIZATION_CODE, PASSWORD]),
    )

    assert response.status_code == 302
    assert (
        "The server does not offer password; add it to OAUTH_PROVIDER['GRANT_TYPES'] "
        "before this client can use it." in messages(response)
    )


def test_the_admin_warns_on_save_about_introspection_by_a_public_client(admin_client):
    response = admin_client.post(
        reverse("admin:oauth_provider_client_add"),
        admin_form(client_type="public", redirect_uris="http://127.0.0.1/cb", allow_introspection="on"),
    )

    assert response.status_code == 302
    assert "Public clients cannot authenticate, so the introspection endpoint refuses them." in messages(
        response
    )


def test_the_admin_refuses_a_grant_the_site_does_not_offer_on_a_new_client(admin_client):
    response = admin_client.post(
        reverse("admin:oauth_provider_client_add"), admin_form(grant_types=[PASSWORD])
    )

    assert response.status_code == 200
    assert "grant_types" in response.context["adminform"].form.errors
