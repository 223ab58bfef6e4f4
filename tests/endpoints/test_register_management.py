"""The client configuration endpoint (RFC 7592 §2): read, replace, delete a registration."""

import pytest

from oauth_provider.models import AccessToken, Client
from tests.factories import AccessTokenFactory, ClientFactory
from tests.registration_helpers import (
    REDIRECT_URI,
    metadata,
    put_json,
)

pytestmark = pytest.mark.django_db


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error


def read(api_client, url, token):
    return api_client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def update_body(registration, **members):
    """What a client sends back: the metadata as registered, with its client_id (§2.2)."""
    return metadata(client_id=registration["client_id"], **members)


# -- GET (§2.1) -----------------------------------------------------------------------------------------


def test_read_returns_the_registration_without_credentials(api_client, registered):
    registration = registered(scope="read")

    response = read(
        api_client, registration["registration_client_uri"], registration["registration_access_token"]
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    # Only hashes are kept: neither secret can be shown again.
    assert "client_secret" not in body
    assert "registration_access_token" not in body
    expected = {
        k: v
        for k, v in registration.items()
        if k not in ("client", "client_secret", "registration_access_token")
    }
    assert body == expected


def test_missing_token_is_401(api_client, registered):
    response = api_client.get(registered()["registration_client_uri"])

    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("token", ["opra_wrong", "a b", ""])
def test_wrong_token_is_401_invalid_token(api_client, registered, token):
    response = read(api_client, registered()["registration_client_uri"], token)

    assert_error(response, 401, "invalid_token")


def test_token_of_another_client_is_401(api_client, registered):
    first, second = registered(), registered()

    response = read(api_client, second["registration_client_uri"], first["registration_access_token"])

    assert_error(response, 401, "invalid_token")


def test_unknown_client_is_401_not_404(api_client, registered):
    """§2.1: "If the client does not exist on this server, the server MUST respond with HTTP 401"."""
    registration = registered()

    response = read(api_client, "/o/register/no-such-client/", registration["registration_access_token"])

    assert_error(response, 401, "invalid_token")


def test_client_an_admin_registered_has_no_registration(api_client, open_registration):
    client = ClientFactory()

    response = read(api_client, f"/o/register/{client.client_id}/", "")

    assert_error(response, 401, "invalid_token")


def test_off_policy_closes_management_too(api_client, registered, registration_settings):
    registration = registered()
    registration_settings(REGISTRATION_POLICY="off")

    response = read(
        api_client, registration["registration_client_uri"], registration["registration_access_token"]
    )

    assert response.status_code == 404


# -- PUT (§2.2) ---------------------------------------------------------------------------------------------


def test_update_replaces_the_metadata(api_client, registered):
    registration = registered(scope="read", post_logout_redirect_uris=["https://app.example.org/bye"])
    uri, token = registration["registration_client_uri"], registration["registration_access_token"]
    new_uris = [REDIRECT_URI, "https://app.example.org/other"]

    response = put_json(api_client, uri, update_body(registration, redirect_uris=new_uris), token)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["redirect_uris"] == new_uris
    # §2.2: "Omitted fields MUST be treated as null or empty values".
    assert "scope" not in body
    assert "post_logout_redirect_uris" not in body
    client = Client.objects.get(pk=registration["client"].pk)
    assert client.redirect_uri_list == new_uris
    assert client.scopes == []
    assert client.post_logout_redirect_uris == ""
    # Not rotated: the same token keeps working, and no new one is sent.
    assert "registration_access_token" not in body
    assert read(api_client, uri, token).status_code == 200


@pytest.mark.parametrize("client_id", [None, "someone-else"])
def test_update_needs_the_clients_own_id(api_client, registered, client_id):
    registration = registered()

    response = put_json(
        api_client,
        registration["registration_client_uri"],
        metadata(client_id=client_id),
        registration["registration_access_token"],
    )

    assert_error(response, 400, "invalid_client_metadata")


def test_update_with_the_current_secret(api_client, registered):
    registration = registered()
    uri, token = registration["registration_client_uri"], registration["registration_access_token"]

    good = put_json(
        api_client, uri, update_body(registration, client_secret=registration["client_secret"]), token
    )
    wrong = put_json(api_client, uri, update_body(registration, client_secret="opcs_chosen"), token)

    assert good.status_code == 200
    assert "client_secret" not in good.json()  # §2.2: never one the client chose
    assert_error(wrong, 400, "invalid_client_metadata")
    assert registration["client"].check_secret(registration["client_secret"])


def test_update_validates_like_registration(api_client, registered):
    registration = registered()
    uri, token = registration["registration_client_uri"], registration["registration_access_token"]

    bad_uri = put_json(
        api_client, uri, update_body(registration, redirect_uris=["http://evil.example/"]), token
    )
    bad_grant = put_json(api_client, uri, update_body(registration, grant_types=["password"]), token)

    assert_error(bad_uri, 400, "invalid_redirect_uri")
    assert_error(bad_grant, 400, "invalid_client_metadata")
    assert Client.objects.get(pk=registration["client"].pk).redirect_uri_list == [REDIRECT_URI]


def test_public_client_turned_confidential_gets_a_secret(api_client, registered):
    registration = registered(token_endpoint_auth_method="none")

    response = put_json(
        api_client,
        registration["registration_client_uri"],
        update_body(registration, token_endpoint_auth_method="client_secret_basic"),
        registration["registration_access_token"],
    )

    secret = response.json()["client_secret"]
    assert response.json()["client_secret_expires_at"] == 0
    assert Client.objects.get(pk=registration["client"].pk).check_secret(secret)


def test_confidential_client_turned_public_loses_its_secret(api_client, registered):
    registration = registered()

    response = put_json(
        api_client,
        registration["registration_client_uri"],
        update_body(registration, token_endpoint_auth_method="none"),
        registration["registration_access_token"],
    )

    assert "client_secret" not in response.json()
    assert Client.objects.get(pk=registration["client"].pk).client_secret_hash == ""


def test_change_users_see_sends_an_approved_client_back_to_review(api_client, registered):
    registration = registered()
    client = registration["client"]
    client.approve()
    client.save()

    put_json(
        api_client,
        registration["registration_client_uri"],
        update_body(registration, client_name="Renamed App"),
        registration["registration_access_token"],
    )

    client.refresh_from_db()
    assert client.under_review
    assert client.approved_values["name"] == "Registered App"
    assert client.is_active  # tokens already issued keep working
    assert not client.accepts_new_authorizations


def test_unchanged_update_keeps_the_approval(api_client, registered):
    registration = registered()
    client = registration["client"]
    client.approve()
    client.save()

    put_json(
        api_client,
        registration["registration_client_uri"],
        update_body(registration),
        registration["registration_access_token"],
    )

    client.refresh_from_db()
    assert client.accepts_new_authorizations


def test_update_never_reactivates_a_client_an_admin_deactivated(
    api_client, registered, registration_settings
):
    registration_settings(REGISTRATION_POLICY="open", REGISTRATION_APPROVAL_REQUIRED=False)
    registration = registered()
    Client.objects.filter(pk=registration["client"].pk).update(is_active=False)

    response = put_json(
        api_client,
        registration["registration_client_uri"],
        update_body(registration, client_name="Renamed App"),
        registration["registration_access_token"],
    )

    assert response.status_code == 200
    client = Client.objects.get(pk=registration["client"].pk)
    assert (client.name, client.is_active) == ("Renamed App", False)


def test_updates_count_against_the_rate_limit(api_client, registered, registration_settings):
    registration_settings(REGISTRATION_POLICY="open", REGISTRATION_MAX_REQUESTS=2)
    registration = registered()
    uri, token = registration["registration_client_uri"], registration["registration_access_token"]

    assert put_json(api_client, uri, update_body(registration), token).status_code == 200
    response = put_json(api_client, uri, update_body(registration), token)

    assert_error(response, 429, "invalid_request")
    assert response["Retry-After"]


def test_update_with_a_hostile_body(api_client, registered):
    registration = registered()

    response = api_client.generic(
        "PUT",
        registration["registration_client_uri"],
        b"[" * 15_000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {registration['registration_access_token']}",
    )

    assert_error(response, 400, "invalid_client_metadata")


# -- DELETE (§2.3) -----------------------------------------------------------------------------------------


def test_delete_removes_the_client_and_its_tokens(api_client, registered):
    registration = registered()
    uri, token = registration["registration_client_uri"], registration["registration_access_token"]
    AccessTokenFactory(client=registration["client"])

    response = api_client.delete(uri, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 204
    assert not Client.objects.filter(client_id=registration["client_id"]).exists()
    assert not AccessToken.objects.exists()
    # §2.3: the registration access token is invalidated with it.
    assert_error(read(api_client, uri, token), 401, "invalid_token")


def test_delete_needs_the_token(api_client, registered):
    registration = registered()

    response = api_client.delete(
        registration["registration_client_uri"], HTTP_AUTHORIZATION="Bearer opra_wrong"
    )

    assert_error(response, 401, "invalid_token")
    assert Client.objects.filter(client_id=registration["client_id"]).exists()
