"""Client credentials grant at the token endpoint (RFC 6749 §4.4)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from example_project.api.models import Note
from oauth_provider.bearer import BearerToken
from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, Client, RefreshToken
from oauth_provider.rest_framework.authentication import BearerTokenAuthentication
from tests.factories import ClientFactory, PublicClientFactory
from tests.helpers import basic_auth, post_token, request_cost

pytestmark = pytest.mark.django_db

GRANT = "client_credentials"


@pytest.fixture
def service(db):
    """A confidential client that may use the grant (and refresh tokens, which it must not get)."""
    return ClientFactory(grant_types=[GRANT, "refresh_token"], redirect_uris="")


def request_token(api_client, client, **params):
    data = {"grant_type": GRANT, **params}
    return post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert response["Cache-Control"] == "no-store"


# -- success (§4.4.3) ----------------------------------------------------------------------------


def test_client_gets_an_access_token_without_refresh_token(api_client, service, frozen_clock):
    response = request_token(api_client, service, scope="read write")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    # §4.4.3: "A refresh token SHOULD NOT be included."
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read write"
    assert body["access_token"].startswith("opat_")
    token = AccessToken.objects.get(token_hash=hash_secret(body["access_token"]))
    assert (token.client, token.user, token.scope) == (service, None, "read write")
    assert token.expires_at == frozen_clock.current + timedelta(seconds=3600)
    assert not RefreshToken.objects.exists()


def test_costs_two_statements_in_one_transaction(api_client, service):
    # The client, then the access token's INSERT, which commits alone.
    with CaptureQueriesContext(connection) as queries:
        assert request_token(api_client, service, scope="read").status_code == 200
    assert request_cost(queries) == (2, 1)


def test_client_secret_post_works_too(api_client, service):
    data = {"grant_type": GRANT, "client_id": service.client_id, "client_secret": service.secret}
    assert post_token(api_client, data).status_code == 200


def test_missing_scope_gets_the_default_scopes(api_client, service):
    assert request_token(api_client, service).json()["scope"] == "read"


def test_narrower_scope_than_allowed_is_granted_as_asked(api_client):
    service = ClientFactory(grant_types=[GRANT], scopes=["read", "write"], redirect_uris="")
    assert request_token(api_client, service, scope="write").json()["scope"] == "write"


def test_lifetime_follows_settings(api_client, service, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 120}
    assert request_token(api_client, service).json()["expires_in"] == 120


# -- errors (§5.2) -------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["unknown", "read admin", "bad\\scope"])
def test_scope_outside_the_clients_scopes_is_invalid_scope(api_client, scope):
    service = ClientFactory(grant_types=[GRANT], scopes=["read", "write"], redirect_uris="")
    assert_error(request_token(api_client, service, scope=scope), 400, "invalid_scope")
    assert not AccessToken.objects.exists()


def test_missing_scope_without_defaults_is_invalid_scope(api_client, service, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "DEFAULT_SCOPES": []}
    assert_error(request_token(api_client, service), 400, "invalid_scope")


def test_wrong_secret_is_invalid_client(api_client, service):
    data = {"grant_type": GRANT, "client_id": service.client_id, "client_secret": "wrong"}
    response = post_token(api_client, data)
    assert_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response
    assert not AccessToken.objects.exists()


def test_wrong_secret_over_basic_is_invalid_client_with_www_authenticate(api_client, service):
    response = post_token(
        api_client, {"grant_type": GRANT}, HTTP_AUTHORIZATION=basic_auth(service.client_id, "wrong")
    )
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "credentials",
    [{}, {"client_id": "unknown", "client_secret": "x"}, {"client_id": "SELF"}],
    ids=["none", "unknown-client", "no-secret"],
)
def test_unauthenticated_client_is_invalid_client(api_client, service, credentials):
    if credentials.get("client_id") == "SELF":
        credentials["client_id"] = service.client_id
    assert_error(post_token(api_client, {"grant_type": GRANT, **credentials}), 401, "invalid_client")


def test_inactive_client_is_invalid_client(api_client, service):
    service.is_active = False
    service.save()
    assert_error(request_token(api_client, service), 401, "invalid_client")


def test_client_without_the_grant_is_unauthorized_client(api_client, oauth_client):
    # oauth_client allows authorization_code and refresh_token only.
    assert_error(request_token(api_client, oauth_client), 400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def test_public_client_is_unauthorized_client(api_client):
    # §4.4: "MUST only be used by confidential clients". Client.clean refuses
    # this configuration; a row saved around it is still refused here.
    public = PublicClientFactory(grant_types=[GRANT])
    response = post_token(api_client, {"grant_type": GRANT, "client_id": public.client_id})
    assert_error(response, 400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def test_public_client_with_the_grant_does_not_validate():
    public = Client(client_type=Client.ClientType.PUBLIC, name="SPA", grant_types=[GRANT])
    with pytest.raises(ValidationError, match="confidential") as excinfo:
        public.clean()
    assert "grant_types" in excinfo.value.message_dict


def test_grant_disabled_in_settings_is_unsupported_grant_type(api_client, service, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["authorization_code"]}
    assert_error(request_token(api_client, service), 400, "unsupported_grant_type")


@pytest.mark.parametrize("name", ["grant_type", "scope"])
def test_repeated_parameter_is_invalid_request(api_client, service, name):
    pairs = [("grant_type", GRANT), ("scope", "read"), (name, "read" if name == "scope" else GRANT)]
    response = post_token(api_client, pairs, HTTP_AUTHORIZATION=basic_auth(service.client_id, service.secret))
    assert_error(response, 400, "invalid_request")


def test_missing_grant_type_is_invalid_request(api_client, service):
    response = post_token(
        api_client, {"scope": "read"}, HTTP_AUTHORIZATION=basic_auth(service.client_id, service.secret)
    )
    assert_error(response, 400, "invalid_request")


def test_control_character_in_scope_is_invalid_request(api_client, service):
    assert_error(request_token(api_client, service, scope="read\x00"), 400, "invalid_request")


def test_unknown_parameters_such_as_username_are_ignored(api_client, service):
    response = request_token(api_client, service, username="someone", foo="bar")
    assert response.status_code == 200
    assert AccessToken.objects.get().user is None


@pytest.mark.parametrize("method", ["get", "put"])
def test_other_methods_are_405(api_client, service, method):
    response = getattr(api_client, method)(
        "/o/token/", {"grant_type": GRANT}, HTTP_AUTHORIZATION=basic_auth(service.client_id, service.secret)
    )
    assert_error(response, 405, "invalid_request")


# -- the token on the example API (RFC 6750) -----------------------------------------------------


def bearer(value):
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def test_client_only_token_authenticates_as_anonymous_user_with_the_token(api_client, service):
    value = request_token(api_client, service).json()["access_token"]
    request = Request(APIRequestFactory().get("/api/notes/", **bearer(value)))
    request.authenticators = (BearerTokenAuthentication(),)
    assert request.user.is_anonymous
    assert isinstance(request.auth, BearerToken)
    assert request.auth.token_hash == hash_secret(value)
    assert request.auth.client_id == service.client_id


def test_client_only_token_writes_and_lists_the_clients_notes(api_client, service):
    value = request_token(api_client, service, scope="read write").json()["access_token"]
    Note.objects.create(user=None, client=ClientFactory(), text="another client's")

    created = api_client.post("/api/notes/", {"text": "from a service"}, format="json", **bearer(value))
    listed = api_client.get("/api/notes/", **bearer(value))

    assert created.status_code == 201
    note = Note.objects.get(pk=created.json()["id"])
    assert (note.user, note.client) == (None, service)
    assert listed.status_code == 200
    assert [item["text"] for item in listed.json()] == ["from a service"]


def test_client_only_token_with_read_only_cannot_post_notes(api_client, service):
    value = request_token(api_client, service, scope="read").json()["access_token"]
    response = api_client.post("/api/notes/", {"text": "nope"}, format="json", **bearer(value))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert not Note.objects.exists()


def test_client_only_token_gets_403_from_me(api_client, service):
    # /api/me/ describes the token's user; a client credentials token has none.
    value = request_token(api_client, service, scope="read").json()["access_token"]
    response = api_client.get("/api/me/", **bearer(value))
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
