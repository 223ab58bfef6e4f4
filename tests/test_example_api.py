"""The example project's API (/api/me/, /api/notes/) as protected by oauth_provider (RFC 6750)."""

from datetime import timedelta

import pytest

from example_project import settings as example
from example_project.api.models import Note
from oauth_provider import clock

from .factories import AccessTokenFactory, ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/me/"
NOTES = "/api/notes/"


def bearer(value: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


# /api/me/


def test_me_returns_the_token_user(api_client):
    token = AccessTokenFactory(scope="read")

    response = api_client.get(ME, **bearer(token.value))

    assert response.status_code == 200
    assert response.json() == {"username": token.user.username}


def test_me_refuses_client_only_token(api_client):
    token = AccessTokenFactory(user=None, scope="read write")

    response = api_client.get(ME, **bearer(token.value))

    # Authenticated (a valid token), but there is no user to describe.
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response.headers


def test_me_without_token_is_401_without_error_code(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    # RFC 6750 §3: no error code when the request carried no credentials.
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_me_with_other_auth_scheme_is_401_without_error_code(api_client):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "make_value",
    [
        pytest.param(lambda: "opat_not-a-real-token", id="unknown"),
        pytest.param(
            lambda: AccessTokenFactory(expires_at=clock.now() - timedelta(seconds=1)).value, id="expired"
        ),
        pytest.param(lambda: AccessTokenFactory(revoked_at=clock.now()).value, id="revoked"),
        pytest.param(lambda: AccessTokenFactory(client__is_active=False).value, id="inactive-client"),
        pytest.param(lambda: AccessTokenFactory(user__is_active=False).value, id="inactive-user"),
    ],
)
def test_me_with_invalid_token_is_401_invalid_token(api_client, make_value):
    response = api_client.get(ME, **bearer(make_value()))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_me_with_malformed_bearer_header_is_401_invalid_token(api_client):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Bearer two parts")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_me_with_only_write_scope_is_insufficient_scope(api_client):
    token = AccessTokenFactory(scope="write")

    response = api_client.get(ME, **bearer(token.value))

    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="read"'
    )


def test_query_string_token_is_never_accepted(api_client):
    token = AccessTokenFactory(scope="read write")

    me = api_client.get(ME, {"access_token": token.value})
    notes = api_client.get(NOTES, {"access_token": token.value})

    # RFC 9700 §4.3.2: query-string tokens leak into logs; treated as no token at all.
    assert me.status_code == notes.status_code == 401
    assert me.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_form_body_token_is_not_accepted(api_client):
    token = AccessTokenFactory(scope="read write")

    response = api_client.post(NOTES, {"text": "hi", "access_token": token.value})

    assert response.status_code == 401
    assert not Note.objects.exists()


def test_protected_get_costs_one_query(api_client, django_assert_num_queries):
    token = AccessTokenFactory(scope="read")
    headers = bearer(token.value)

    with django_assert_num_queries(1):
        response = api_client.get(ME, **headers)

    assert response.status_code == 200


# /api/notes/


def test_notes_get_lists_only_the_users_notes(api_client):
    token = AccessTokenFactory(scope="read")
    mine = Note.objects.create(user=token.user, client=token.client, text="mine")
    Note.objects.create(user=UserFactory(), client=token.client, text="someone else's")
    Note.objects.create(user=None, client=token.client, text="the client's own")

    response = api_client.get(NOTES, **bearer(token.value))

    assert response.status_code == 200
    assert [note["id"] for note in response.json()] == [mine.pk]
    assert response.json()[0]["text"] == "mine"


def test_notes_get_with_client_only_token_lists_the_clients_own_notes(api_client):
    token = AccessTokenFactory(user=None, scope="read")
    own = Note.objects.create(user=None, client=token.client, text="the client's own")
    Note.objects.create(user=None, client=ClientFactory(), text="another client's")
    Note.objects.create(user=UserFactory(), client=token.client, text="a user's, via this client")

    response = api_client.get(NOTES, **bearer(token.value))

    assert response.status_code == 200
    assert [note["id"] for note in response.json()] == [own.pk]


def test_notes_post_with_user_token_creates_users_note(api_client):
    token = AccessTokenFactory(scope="write")

    response = api_client.post(NOTES, {"text": "Hello"}, format="json", **bearer(token.value))

    assert response.status_code == 201
    assert response.json()["text"] == "Hello"
    note = Note.objects.get()
    assert (note.pk, note.user, note.client, note.text) == (
        response.json()["id"],
        token.user,
        token.client,
        "Hello",
    )


def test_notes_post_with_client_only_token_creates_clients_note(api_client):
    token = AccessTokenFactory(user=None, scope="read write")

    created = api_client.post(NOTES, {"text": "From the client"}, format="json", **bearer(token.value))
    listed = api_client.get(NOTES, **bearer(token.value))

    assert created.status_code == 201
    note = Note.objects.get()
    assert (note.user, note.client) == (None, token.client)
    assert [item["text"] for item in listed.json()] == ["From the client"]


def test_notes_created_by_user_token_are_listed_for_that_user_only(api_client):
    writer = AccessTokenFactory(scope="read write")
    other = AccessTokenFactory(scope="read", client=writer.client)

    api_client.post(NOTES, {"text": "private"}, format="json", **bearer(writer.value))

    assert [n["text"] for n in api_client.get(NOTES, **bearer(writer.value)).json()] == ["private"]
    assert api_client.get(NOTES, **bearer(other.value)).json() == []


def test_notes_get_needs_read(api_client):
    token = AccessTokenFactory(scope="write")

    response = api_client.get(NOTES, **bearer(token.value))

    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="read"'
    )


def test_notes_post_needs_write(api_client):
    token = AccessTokenFactory(scope="read")

    response = api_client.post(NOTES, {"text": "nope"}, format="json", **bearer(token.value))

    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="write"'
    )
    assert not Note.objects.exists()


def test_notes_post_without_token_is_401(api_client):
    response = api_client.post(NOTES, {"text": "anonymous"}, format="json")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not Note.objects.exists()


def test_notes_post_without_text_is_400(api_client):
    token = AccessTokenFactory(scope="write")

    response = api_client.post(NOTES, {}, format="json", **bearer(token.value))

    assert response.status_code == 400
    assert "text" in response.json()
    assert not Note.objects.exists()


def test_notes_head_and_options_need_read_like_get(api_client):
    reader, writer = AccessTokenFactory(scope="read"), AccessTokenFactory(scope="write")

    assert api_client.head(NOTES, **bearer(reader.value)).status_code == 200
    assert api_client.options(NOTES, **bearer(reader.value)).status_code == 200
    assert api_client.head(NOTES, **bearer(writer.value)).status_code == 403


def test_notes_method_without_handler_is_405_not_403(api_client):
    token = AccessTokenFactory(scope="read write")

    assert api_client.delete(NOTES, **bearer(token.value)).status_code == 405


# The example project's own settings: /api/ is a declared resource (RFC 8707, RFC 9728).


@pytest.fixture
def example_settings(settings):
    settings.OAUTH_PROVIDER = example.OAUTH_PROVIDER
    return example.OAUTH_PROVIDER


def test_example_api_is_a_resource_with_its_metadata(client, example_settings):
    api = example_settings["ISSUER"] + "/api/"
    response = client.get("/.well-known/oauth-protected-resource/api/")
    assert response.json()["resource"] == api
    assert response.json()["scopes_supported"] == ["read", "write"]
    assert response.json()["authorization_servers"] == [example_settings["ISSUER"]]


def test_example_api_refuses_tokens_for_no_or_another_audience(api_client, example_settings):
    api = example_settings["ISSUER"] + "/api/"
    assert (
        api_client.get(ME, **bearer(AccessTokenFactory(scope="read", resources=api).value)).status_code == 200
    )
    response = api_client.get(ME, **bearer(AccessTokenFactory(scope="read", resources="").value))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(
        f'resource_metadata="{example_settings["ISSUER"]}/.well-known/oauth-protected-resource/api/"'
    )
