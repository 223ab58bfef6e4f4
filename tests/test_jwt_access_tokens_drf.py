"""A DRF API protected with ``BearerTokenAuthentication`` and ``HasScope``
accepting JWT access tokens (RFC 9068 §4): with no query when this process
trusts the revocation stream, else checked against the database.

The revocation stream is not merged yet (``revocation_stream`` is a
placeholder that trusts nothing), so the tests that need a trusted process
patch ``revocation_stream.trusted`` and ``is_revoked``.
"""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from oauth_provider import revocation_stream
from oauth_provider.jwt_access_tokens import local_claims
from oauth_provider.rest_framework.authentication import BearerTokenAuthentication
from oauth_provider.rest_framework.permissions import HasScope
from oauth_provider.revocation import revoke_tokens
from tests.factories import ClientFactory, JWTAccessTokenFactory

pytestmark = pytest.mark.django_db

API = "https://api.example.com/"
OTHER_API = "https://other.example.com/"


class NotesView(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasScope]
    required_scopes = ["read"]
    oauth_resource = API

    def get(self, request):
        return Response(
            {"client_id": request.auth.client_id, "scope": request.auth.scope, "sub": request.auth.sub}
        )


def call(value):
    request = APIRequestFactory().get("/notes/", HTTP_AUTHORIZATION=f"Bearer {value}")
    return NotesView.as_view()(request)


def assert_invalid_token(response):
    assert response.status_code == 401, response.data
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.fixture(autouse=True)
def resources(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "RESOURCES": {API: {"scopes": ["read", "write"]}, OTHER_API: {"scopes": ["read"]}},
    }


@pytest.fixture
def trusted(monkeypatch):
    """This process is subscribed to the revocation stream, which names no
    revoked token: what it says decides, not the database."""
    revoked = set()
    monkeypatch.setattr(revocation_stream, "trusted", lambda: True)
    monkeypatch.setattr(revocation_stream, "heard_since", lambda moment: True)
    monkeypatch.setattr(revocation_stream, "is_revoked", lambda *, token_hash, **_: token_hash in revoked)
    return revoked


@pytest.fixture
def token(user):
    return JWTAccessTokenFactory(user=user, resources=API, scope="read")


def test_accepted_with_no_query_when_the_stream_is_trusted(trusted, token, django_assert_num_queries):
    call(token.value)  # This process reads the signing keys once.

    with django_assert_num_queries(0):
        response = call(token.value)

    assert response.status_code == 200, response.data
    assert response.data == {
        "client_id": token.client.client_id,
        "scope": "read",
        "sub": local_claims(token.value, audience=API)["sub"],
    }


def test_a_client_credentials_jwt_too(trusted, django_assert_num_queries):
    service = JWTAccessTokenFactory(user=None, resources=API, client=ClientFactory(access_token_format="jwt"))
    call(service.value)

    with django_assert_num_queries(0):
        response = call(service.value)

    assert response.status_code == 200
    assert response.data["sub"] == service.client.client_id


def test_revoked_in_the_stream_falls_back_to_the_database(trusted, token):
    assert call(token.value).status_code == 200
    revoke_tokens([token], reason="revoked")
    trusted.add(token.token_hash)

    assert_invalid_token(call(token.value))


def test_without_a_trusted_stream_the_database_decides(token, django_assert_num_queries):
    call(token.value)

    with django_assert_num_queries(1):
        assert call(token.value).status_code == 200
    revoke_tokens([token], reason="revoked")
    # The signature still verifies; the row says it was revoked.
    assert local_claims(token.value, audience=API)
    assert_invalid_token(call(token.value))


def test_an_inactive_client_is_refused_on_the_database_path(token):
    token.client.is_active = False
    token.client.save()

    assert_invalid_token(call(token.value))


@pytest.mark.usefixtures("trusted")
def test_a_tampered_token_is_refused(token):
    header, payload, signature = token.value.split(".")
    forged_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")

    assert_invalid_token(call(f"{header}.{forged_payload}.{signature}"))
    assert_invalid_token(call(f"{header}.{payload}.{signature[:-4]}AAAA"))


@pytest.mark.usefixtures("trusted")
def test_an_expired_token_is_refused(token, frozen_clock):
    frozen_clock.advance(seconds=300 + 30)

    assert_invalid_token(call(token.value))


@pytest.mark.usefixtures("trusted")
def test_a_token_for_another_resource_is_refused(user):
    other = JWTAccessTokenFactory(user=user, resources=OTHER_API, scope="read")

    response = call(other.value)

    assert_invalid_token(response)
    # RFC 9728 §5.1: where a client learns which resource this is.
    assert (
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
        in (response["WWW-Authenticate"])
    )


@pytest.mark.usefixtures("trusted")
def test_a_token_without_the_scope_is_insufficient_scope(user):
    narrow = JWTAccessTokenFactory(user=user, resources=API, scope="write")

    response = call(narrow.value)

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
