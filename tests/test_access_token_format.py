"""Choosing JWT access tokens (RFC 9068): the client's field in the admin
and ``createclient``, a resource's declared format, and the settings' checks."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from oauth_provider.checks import check_settings
from oauth_provider.forms import ClientForm, OwnClientForm
from oauth_provider.models import Client
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

VALID = {
    "SCOPES": {"read": "Read your data", "write": "Change your data"},
    "DEFAULT_SCOPES": ["read"],
    "ISSUER": "https://auth.example.com",
}
API = "https://api.example.com/"


def test_opaque_is_the_default():
    assert ClientFactory().access_token_format == "opaque"


# -- createclient ----------------------------------------------------------------------------------


def createclient(*args):
    stdout = StringIO()
    call_command(
        "createclient",
        "--name",
        "Service",
        "--grant-type",
        "client_credentials",
        "--json",
        *args,
        stdout=stdout,
    )
    return Client.objects.get(name="Service")


def test_createclient_makes_opaque_clients_by_default():
    assert createclient().access_token_format == "opaque"


def test_createclient_access_token_format_jwt():
    assert createclient("--access-token-format", "jwt").access_token_format == "jwt"


def test_createclient_refuses_an_unknown_format():
    with pytest.raises(CommandError, match="invalid choice"):
        createclient("--access-token-format", "paseto")
    assert not Client.objects.exists()


# -- admin -----------------------------------------------------------------------------------------


def admin_url(view, *args):
    return reverse(f"admin:oauth_provider_client_{view}", args=args)


def form_data(**overrides):
    data = {
        "name": "Admin-made app",
        "website": "https://app.example.com",
        "client_type": "confidential",
        "redirect_uris": "https://app.example.com/callback",
        "grant_types": ["authorization_code", "refresh_token"],
        "is_active": "on",
        "owner": "",
    }
    return {**data, **overrides}


def test_admin_add_page_offers_the_format(admin_client):
    html = admin_client.get(admin_url("add")).content.decode()

    assert 'name="access_token_format"' in html
    assert '<option value="jwt">' in html


def test_admin_saves_the_format(admin_client):
    response = admin_client.post(admin_url("add"), form_data(access_token_format="jwt"))

    assert response.status_code == 200, response.content
    assert Client.objects.get(name="Admin-made app").access_token_format == "jwt"


def test_admin_change_keeps_the_format_when_a_post_leaves_it_out(admin_client):
    client = ClientFactory(access_token_format="jwt")

    admin_client.post(admin_url("change", client.pk), form_data(name="Renamed"))

    client.refresh_from_db()
    assert (client.name, client.access_token_format) == ("Renamed", "jwt")


def test_admin_refuses_an_unknown_format(admin_client):
    response = admin_client.post(admin_url("add"), form_data(access_token_format="paseto"))

    assert "access_token_format" in response.context["adminform"].form.errors
    assert not Client.objects.exists()


def test_a_developer_cannot_choose_the_format():
    # What resource servers can validate is the site's decision, not a client's.
    assert "access_token_format" in ClientForm.base_fields
    assert "access_token_format" not in OwnClientForm(owner=UserFactory()).fields


# -- settings checks -------------------------------------------------------------------------------


def errors_for(**overrides):
    with override_settings(OAUTH_PROVIDER={**VALID, **overrides}):
        return [message.id for message in check_settings()]


def test_defaults_pass():
    assert errors_for() == []
    assert errors_for(JWT_ACCESS_TOKEN_EXPIRE_SECONDS=60, ACCESS_TOKEN_LEEWAY_SECONDS=0) == []
    assert errors_for(ACCESS_TOKEN_LEEWAY_SECONDS=300) == []


@pytest.mark.parametrize("value", [0, -1, "300", 1.5, True, None])
def test_jwt_lifetime_must_be_a_positive_whole_number(value):
    assert errors_for(JWT_ACCESS_TOKEN_EXPIRE_SECONDS=value) == ["oauth_provider.E047"]


@pytest.mark.parametrize("value", [-1, 301, "30", 0.5, True, None])
def test_leeway_must_be_a_whole_number_up_to_five_minutes(value):
    assert errors_for(ACCESS_TOKEN_LEEWAY_SECONDS=value) == ["oauth_provider.E048"]


@pytest.mark.parametrize("value", ["jwt", "opaque"])
def test_a_resource_may_declare_a_format(value):
    assert errors_for(RESOURCES={API: {"scopes": ["read"], "access_token_format": value}}) == []


@pytest.mark.parametrize("value", ["JWT", "paseto", None, True])
def test_a_resource_format_must_be_jwt_or_opaque(value):
    assert errors_for(RESOURCES={API: {"scopes": ["read"], "access_token_format": value}}) == [
        "oauth_provider.E031"
    ]
