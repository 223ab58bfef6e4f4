"""/o/clients/: developers register and manage their own clients."""

import pytest
from django.urls import reverse

from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, Client
from tests.factories import AccessTokenFactory, ClientFactory, PublicClientFactory, UserFactory
from tests.helpers import authorize_url, basic_auth, post_token

pytestmark = pytest.mark.django_db

LIST_URL = reverse("oauth_provider:client_list")
CREATE_URL = reverse("oauth_provider:client_create")
REDIRECT_URI = "https://notes.example/callback"


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def own_client(user):
    return ClientFactory(owner=user, name="My Notes")


@pytest.fixture
def approval_off(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_APPROVAL_REQUIRED": False}


def url(name, client):
    return reverse(f"oauth_provider:{name}", args=[client.client_id])


def registration(**overrides):
    data = {
        "name": "Notes Sync",
        "website": "https://notes.example",
        "client_type": "confidential",
        "redirect_uris": REDIRECT_URI,
        "grant_types": ["authorization_code", "refresh_token"],
    }
    return {**data, **overrides}


# -- who may see what ----------------------------------------------------------------------------

PAGES = ["client_detail", "client_update", "client_secret", "client_delete"]


def test_signed_out_users_are_sent_to_login(client, own_client):
    for page_url in [LIST_URL, CREATE_URL, *(url(name, own_client) for name in PAGES)]:
        response = client.get(page_url)
        assert response.status_code == 302, page_url
        assert response["Location"].startswith("/accounts/login/")
    assert client.post(CREATE_URL, registration()).status_code == 302
    assert Client.objects.count() == 1


def test_the_list_shows_only_the_users_own_clients(browser, own_client):
    ClientFactory(name="Admin's app")
    ClientFactory(name="Someone else's", owner=UserFactory())
    page = browser.get(LIST_URL).content.decode()
    assert "My Notes" in page
    assert "Admin" not in page and "Someone else" not in page


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_users_client_is_not_found(browser, name, method):
    theirs = ClientFactory(owner=UserFactory())
    before = Client.objects.values().get(pk=theirs.pk)
    data = registration(name="Hijacked") if name == "client_update" else {}
    # The detail page takes no POST at all.
    expected = 405 if (name, method) == ("client_detail", "post") else 404
    assert getattr(browser, method)(url(name, theirs), data).status_code == expected
    assert Client.objects.values().get(pk=theirs.pk) == before


def test_self_service_can_be_turned_off(browser, own_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_CLIENTS": False}
    for page_url in [LIST_URL, CREATE_URL, url("client_detail", own_client)]:
        assert browser.get(page_url).status_code == 404
    assert browser.post(CREATE_URL, registration()).status_code == 404
    assert "Your apps" not in browser.get(reverse("oauth_provider:authorized_apps")).content.decode()


# -- registering --------------------------------------------------------------------------------


def test_registering_shows_the_secret_once_and_stores_only_its_hash(browser, user, approval_off):
    response = browser.post(CREATE_URL, registration())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    client = Client.objects.get(owner=user)
    assert secret.startswith("opcs_") and secret in response.content.decode()
    assert client.client_secret_hash == hash_secret(secret)
    assert client.name == "Notes Sync" and client.website == "https://notes.example"
    assert client.redirect_uri_list == [REDIRECT_URI]
    assert client.is_active and not client.awaiting_approval
    assert not client.skip_consent and not client.allow_introspection
    # Never again: not on the detail page, nor the list.
    for page_url in (url("client_detail", client), LIST_URL):
        assert secret not in browser.get(page_url).content.decode()


def test_a_registered_client_works_at_once_without_approval(browser, user, approval_off, api_client):
    secret = browser.post(CREATE_URL, registration(grant_types=["client_credentials"])).context["secret"]
    client = Client.objects.get(owner=user)
    response = post_token(
        api_client,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == 200, response.json()


def test_a_public_client_gets_no_secret_and_goes_to_its_page(browser, user, approval_off):
    response = browser.post(
        CREATE_URL,
        registration(client_type="public", redirect_uris="http://127.0.0.1/callback"),
    )
    client = Client.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == url("client_detail", client)
    assert client.client_secret_hash == ""


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"name": ""}, "name"),
        ({"redirect_uris": "http://notes.example/callback"}, "redirect_uris"),  # http off loopback
        ({"redirect_uris": "https://notes.example/*"}, "redirect_uris"),
        ({"redirect_uris": ""}, "redirect_uris"),  # the code flow needs one
        ({"grant_types": ["password"]}, "grant_types"),  # the site does not offer it
        ({"grant_types": ["nonsense"]}, "grant_types"),
        ({"client_type": "public", "grant_types": ["client_credentials"]}, "grant_types"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"scopes": ["unknown"]}, "scopes"),
    ],
)
def test_bad_registrations_are_explained_and_nothing_is_saved(browser, overrides, field):
    response = browser.post(CREATE_URL, registration(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="errorlist' in response.content.decode()
    assert not Client.objects.exists()


def test_only_the_grant_types_the_site_offers_are_offered(browser, settings):
    offered = ["authorization_code", "refresh_token"]
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": offered}
    form = browser.get(CREATE_URL).context["form"]
    choices = [name for name, _label in form.fields["grant_types"].choices]
    assert choices == offered


def test_trust_cannot_be_granted_by_the_developer(browser, user, approval_off):
    browser.post(
        CREATE_URL, registration(skip_consent="on", allow_introspection="on", is_active="on", owner="")
    )
    client = Client.objects.get(owner=user)
    assert not client.skip_consent and not client.allow_introspection


def test_the_number_of_clients_per_user_is_limited(browser, user, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "SELF_SERVICE_MAX_CLIENTS": 2}
    ClientFactory.create_batch(2, owner=user)
    response = browser.post(CREATE_URL, registration())
    assert response.status_code == 200
    assert "most apps allowed (2)" in response.content.decode()
    assert Client.objects.filter(owner=user).count() == 2


# -- approval -----------------------------------------------------------------------------------


def test_with_approval_required_a_new_client_waits_and_cannot_be_used(browser, user, api_client):
    # The library default: SELF_SERVICE_APPROVAL_REQUIRED is True.
    secret = browser.post(CREATE_URL, registration(grant_types=["authorization_code", "client_credentials"]))
    client = Client.objects.get(owner=user)
    assert client.awaiting_approval and not client.is_active
    page = browser.get(url("client_detail", client)).content.decode()
    assert "Awaiting approval" in page
    assert browser.get(authorize_url(client, redirect_uri=REDIRECT_URI)).status_code == 400
    response = post_token(
        api_client,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret.context["secret"]),
    )
    assert response.status_code == 401


def test_once_approved_the_client_works(browser, user):
    browser.post(CREATE_URL, registration())
    client = Client.objects.get(owner=user)
    client.approve()
    client.save()
    assert browser.get(authorize_url(client, redirect_uri=REDIRECT_URI)).status_code == 200
    assert "Awaiting approval" not in browser.get(url("client_detail", client)).content.decode()


def test_editing_does_not_approve_or_activate(browser, user):
    browser.post(CREATE_URL, registration())
    client = Client.objects.get(owner=user)
    browser.post(url("client_update", client), registration(name="Renamed", is_active="on"))
    client.refresh_from_db()
    assert client.name == "Renamed"
    assert client.awaiting_approval and not client.is_active


# -- managing -----------------------------------------------------------------------------------


def test_detail_page_shows_what_a_developer_configures(browser, own_client):
    page = browser.get(url("client_detail", own_client)).content.decode()
    assert own_client.client_id in page
    assert own_client.client_secret_hash not in page and own_client.secret not in page
    assert "https://auth.example.com/o/token/" in page
    assert "https://auth.example.com/.well-known/oauth-authorization-server" in page
    assert "Authorization code" in page


def test_editing_keeps_the_secret(browser, own_client):
    old_hash = own_client.client_secret_hash
    response = browser.post(
        url("client_update", own_client), registration(redirect_uris=REDIRECT_URI + "\n" + REDIRECT_URI + "2")
    )
    assert response.status_code == 302
    own_client.refresh_from_db()
    assert own_client.client_secret_hash == old_hash
    assert own_client.redirect_uri_list == [REDIRECT_URI, REDIRECT_URI + "2"]


def test_turning_a_public_client_confidential_shows_its_new_secret(browser, user):
    public = PublicClientFactory(owner=user)
    response = browser.post(url("client_update", public), registration())
    assert response.status_code == 200
    public.refresh_from_db()
    assert public.client_secret_hash == hash_secret(response.context["secret"])


def test_regenerating_asks_first_then_replaces_the_secret(browser, own_client, api_client):
    assert browser.get(url("client_secret", own_client)).status_code == 200
    own_client.refresh_from_db()
    assert own_client.check_secret(own_client.secret)
    response = browser.post(url("client_secret", own_client))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = response.context["secret"]
    own_client.refresh_from_db()
    assert own_client.check_secret(new)
    assert not own_client.check_secret(own_client.secret)


def test_a_public_client_has_no_secret_to_regenerate(browser, user):
    public = PublicClientFactory(owner=user)
    assert browser.post(url("client_secret", public)).status_code == 404


def test_deleting_asks_first_then_removes_the_client_and_its_tokens(browser, own_client):
    AccessTokenFactory(client=own_client)
    assert browser.get(url("client_delete", own_client)).status_code == 200
    assert Client.objects.filter(pk=own_client.pk).exists()
    response = browser.post(url("client_delete", own_client))
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert not Client.objects.filter(pk=own_client.pk).exists()
    assert not AccessToken.objects.exists()
    assert "\u2068My Notes\u2069 was deleted." in browser.get(LIST_URL).content.decode()
