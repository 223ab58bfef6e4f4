"""JWT access tokens (RFC 9068) at the introspection (RFC 7662) and
revocation (RFC 7009) endpoints: found by the JWT's hash, like opaque ones."""

from urllib.parse import urlencode

import pytest

from oauth_provider.jwt_access_tokens import local_claims
from oauth_provider.subjects import subject
from tests.factories import ClientFactory, JWTAccessTokenFactory, RefreshTokenFactory
from tests.helpers import basic_auth

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.com"  # tests/settings.py


def post(api_client, path, caller, **data):
    return api_client.post(
        path,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(caller.client_id, caller.secret),
    )


@pytest.fixture
def resource_server(db):
    return ClientFactory(allow_introspection=True, grant_types=["client_credentials"], redirect_uris="")


@pytest.fixture
def token(user):
    return JWTAccessTokenFactory(user=user, scope="read write")


def test_introspection_answers_like_for_an_opaque_token(api_client, resource_server, token, user):
    claims = local_claims(token.value, audience=None)

    response = post(api_client, "/o/introspect/", resource_server, token=token.value)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "active": True,
        "scope": "read write",
        "client_id": token.client.client_id,
        "username": user.username,
        "sub": subject(user, token.client),
        "token_type": "Bearer",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "iss": ISSUER,
    }
    assert response.json()["sub"] == claims["sub"]


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", None])
def test_introspection_finds_it_whatever_the_hint(api_client, resource_server, token, hint):
    data = {"token": token.value} | ({"token_type_hint": hint} if hint else {})

    assert post(api_client, "/o/introspect/", resource_server, **data).json()["active"] is True


def test_a_revoked_jwt_is_inactive_though_its_signature_still_verifies(api_client, resource_server, token):
    assert post(api_client, "/o/revoke/", token.client, token=token.value).status_code == 200

    # Introspection asks the database: the revocation counts at once.
    assert post(api_client, "/o/introspect/", resource_server, token=token.value).json() == {"active": False}
    assert local_claims(token.value, audience=None)


def test_a_tampered_jwt_is_unknown_to_introspection(api_client, resource_server, token):
    head, signature = token.value.rsplit(".", 1)

    response = post(api_client, "/o/introspect/", resource_server, token=f"{head}.{signature[:-2]}AA")

    assert response.json() == {"active": False}


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", None])
def test_revocation_accepts_a_jwt_whatever_the_hint(api_client, token, hint):
    data = {"token": token.value} | ({"token_type_hint": hint} if hint else {})

    response = post(api_client, "/o/revoke/", token.client, **data)

    assert response.status_code == 200, response.content
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_a_jwt_leaves_its_refresh_token_alone(api_client, token, user):
    # RFC 7009 §2.1: revoking an access token need not revoke its grant.
    refresh = RefreshTokenFactory(
        client=token.client, user=user, access_token=token, family_id=token.family_id
    )

    post(api_client, "/o/revoke/", token.client, token=token.value)

    refresh.refresh_from_db()
    assert refresh.revoked_at is None


def test_another_client_cannot_revoke_it(api_client, token):
    other = ClientFactory()

    response = post(api_client, "/o/revoke/", other, token=token.value)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"

    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_revoked_jwt_is_refused_by_the_api(api_client, token):
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token.value}").status_code == 200

    post(api_client, "/o/revoke/", token.client, token=token.value)

    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token.value}").status_code == 401
