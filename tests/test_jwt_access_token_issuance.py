"""Issuing JWT access tokens (RFC 9068) at the token endpoint: every grant,
chosen per client and per resource, stored by hash, short-lived."""

from datetime import timedelta

import pytest

from oauth_provider.crypto import hash_secret
from oauth_provider.id_tokens import half_hash
from oauth_provider.jwt_access_tokens import local_claims, looks_like_jwt
from oauth_provider.models import AccessToken, DeviceAuthorization, RefreshToken, SignIn
from oauth_provider.resources import access_token_format
from oauth_provider.settings import DEVICE_CODE
from oauth_provider.subjects import subject
from tests.factories import (
    PASSWORD,
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
    SignInFactory,
)
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, post_token
from tests.id_token_helpers import NONCE, decode, enable_openid, fragment_params

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.com"  # tests/settings.py
JWT_API = "https://jwt.example.com/"
OPAQUE_API = "https://opaque.example.com/"
PLAIN_API = "https://plain.example.com/"
RESOURCES = {
    JWT_API: {"scopes": ["read", "write"], "access_token_format": "jwt"},
    OPAQUE_API: {"scopes": ["read", "write"], "access_token_format": "opaque"},
    PLAIN_API: {"scopes": ["read", "write"]},
}
EVERY_GRANT = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE, "password"]


@pytest.fixture
def jwt_app(db):
    return ClientFactory(access_token_format="jwt", grant_types=EVERY_GRANT)


@pytest.fixture
def opaque_app(db):
    return ClientFactory(grant_types=EVERY_GRANT)


@pytest.fixture
def resources(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": RESOURCES}


def token_request(api_client, client, **data):
    return post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret))


def issued(response, client, now, *, lifetime=300):
    """The claims of the JWT access token of a successful ``response``,
    checking what every one must have: the §5.1 body, and a row stored by
    the JWT's hash with the same expiry."""
    assert response.status_code == 200, response.content
    body = response.json()
    value = body["access_token"]
    assert looks_like_jwt(value)
    assert body["expires_in"] == lifetime
    assert body["token_type"] == "Bearer"
    row = AccessToken.objects.get(token_hash=hash_secret(value))
    assert row.client == client
    assert row.expires_at == now + timedelta(seconds=lifetime)
    claims = local_claims(value, audience=None)
    assert claims["client_id"] == client.client_id
    assert claims["exp"] == int(row.expires_at.timestamp())
    assert claims["iat"] == int(now.timestamp())
    assert claims["scope"] == body["scope"] == row.scope
    return claims


# -- every grant that issues access tokens ---------------------------------------------------------


def test_client_credentials(api_client, jwt_app, frozen_clock):
    response = token_request(api_client, jwt_app, grant_type="client_credentials", scope="read write")

    claims = issued(response, jwt_app, frozen_clock.current)
    assert claims["sub"] == jwt_app.client_id
    assert AccessToken.objects.get().user is None


def test_authorization_code(api_client, jwt_app, user, frozen_clock):
    code = AuthorizationCodeFactory(client=jwt_app, user=user, scope="read")

    response = token_request(
        api_client, jwt_app, grant_type="authorization_code", code=code.value, redirect_uri=REDIRECT_URI
    )

    claims = issued(response, jwt_app, frozen_clock.current)
    assert claims["sub"] == subject(user, jwt_app)
    # The refresh token stays opaque: it goes only to the authorization server.
    assert response.json()["refresh_token"].startswith("oprt_")


def test_authorization_code_with_openid_carries_the_sign_in(api_client, jwt_app, user, frozen_clock):
    code = AuthorizationCodeFactory(client=jwt_app, user=user, scope="read")
    sign_in = SignInFactory(client=jwt_app, user=user, family_id=code.family_id, acr="urn:example:pwd")

    response = token_request(
        api_client, jwt_app, grant_type="authorization_code", code=code.value, redirect_uri=REDIRECT_URI
    )

    claims = issued(response, jwt_app, frozen_clock.current)
    assert (claims["sub"], claims["auth_time"], claims["acr"]) == (
        sign_in.subject,
        int(sign_in.auth_time.timestamp()),
        "urn:example:pwd",
    )


def test_refresh(api_client, jwt_app, user, frozen_clock):
    access = AccessTokenFactory(client=jwt_app, user=user, scope="read write")
    refresh = RefreshTokenFactory(
        client=jwt_app, user=user, scope="read write", access_token=access, family_id=access.family_id
    )

    response = token_request(api_client, jwt_app, grant_type="refresh_token", refresh_token=refresh.value)

    claims = issued(response, jwt_app, frozen_clock.current)
    assert claims["sub"] == subject(user, jwt_app)
    new_refresh = RefreshToken.objects.get(token_hash=hash_secret(response.json()["refresh_token"]))
    # Linked to its JWT's row like to an opaque token's.
    assert new_refresh.access_token == AccessToken.objects.get(
        token_hash=hash_secret(response.json()["access_token"])
    )


def test_device_code(api_client, jwt_app, user, frozen_clock):
    authorization = DeviceAuthorizationFactory(
        client=jwt_app, user=user, status=DeviceAuthorization.Status.APPROVED, decided_at=frozen_clock.current
    )

    response = token_request(api_client, jwt_app, grant_type=DEVICE_CODE, device_code=authorization.value)

    assert issued(response, jwt_app, frozen_clock.current)["sub"] == subject(user, jwt_app)


def test_password(settings, api_client, jwt_app, user, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": EVERY_GRANT}

    response = token_request(
        api_client, jwt_app, grant_type="password", username=user.username, password=PASSWORD
    )

    assert issued(response, jwt_app, frozen_clock.current)["sub"] == subject(user, jwt_app)


def test_a_jwt_access_token_works_on_the_api(api_client, jwt_app, user):
    code = AuthorizationCodeFactory(client=jwt_app, user=user, scope="read")
    value = token_request(
        api_client, jwt_app, grant_type="authorization_code", code=code.value, redirect_uri=REDIRECT_URI
    ).json()["access_token"]

    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {value}")

    assert response.status_code == 200, response.content
    assert response.json()["username"] == user.username


def test_opaque_stays_the_default(api_client, opaque_app):
    response = token_request(api_client, opaque_app, grant_type="client_credentials")

    assert response.json()["access_token"].startswith("opat_")
    assert response.json()["expires_in"] == 3600


def test_iss_is_the_token_endpoints_origin_without_the_issuer_setting(settings, api_client, jwt_app):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}

    response = token_request(api_client, jwt_app, grant_type="client_credentials")

    assert local_claims(response.json()["access_token"], audience=None)["iss"] == "http://testserver"


# -- per client and per resource -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_format", "requested", "expected"),
    [
        # A resource that declares a format decides.
        ("opaque", [JWT_API], "jwt"),
        ("jwt", [OPAQUE_API], "opaque"),
        # Among several, JWT wins.
        ("opaque", [OPAQUE_API, JWT_API], "jwt"),
        # One that declares none leaves it to the client (and to the others).
        ("jwt", [PLAIN_API], "jwt"),
        ("opaque", [PLAIN_API], "opaque"),
        ("jwt", [PLAIN_API, OPAQUE_API], "opaque"),
        ("jwt", [], "jwt"),
        ("opaque", [], "opaque"),
    ],
)
def test_format_rule(resources, client_format, requested, expected):
    assert access_token_format(client_format, requested) == expected


def test_an_opaque_client_gets_a_jwt_for_a_jwt_resource(api_client, resources, opaque_app, frozen_clock):
    response = token_request(api_client, opaque_app, grant_type="client_credentials", resource=JWT_API)

    assert issued(response, opaque_app, frozen_clock.current)["aud"] == JWT_API
    # Where the client asks for an undeclared one, its own format applies.
    other = token_request(api_client, opaque_app, grant_type="client_credentials", resource=PLAIN_API)
    assert other.json()["access_token"].startswith("opat_")


def test_a_jwt_client_gets_an_opaque_token_for_an_opaque_resource(api_client, resources, jwt_app):
    response = token_request(api_client, jwt_app, grant_type="client_credentials", resource=OPAQUE_API)

    assert response.json()["access_token"].startswith("opat_")
    assert response.json()["expires_in"] == 3600


# -- lifetime --------------------------------------------------------------------------------------


def test_lifetime_follows_the_jwt_setting(settings, api_client, jwt_app, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "JWT_ACCESS_TOKEN_EXPIRE_SECONDS": 120}

    response = token_request(api_client, jwt_app, grant_type="client_credentials")

    issued(response, jwt_app, frozen_clock.current, lifetime=120)


def test_a_shorter_general_lifetime_wins(settings, api_client, jwt_app, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 100}

    response = token_request(api_client, jwt_app, grant_type="client_credentials")

    issued(response, jwt_app, frozen_clock.current, lifetime=100)


def test_a_shorter_resource_lifetime_wins(settings, api_client, jwt_app, frozen_clock):
    declared = {JWT_API: {**RESOURCES[JWT_API], "access_token_expire_seconds": 90}}
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": declared}

    response = token_request(api_client, jwt_app, grant_type="client_credentials", resource=JWT_API)

    issued(response, jwt_app, frozen_clock.current, lifetime=90)


def test_a_longer_resource_lifetime_is_capped(settings, api_client, jwt_app, frozen_clock):
    declared = {JWT_API: {**RESOURCES[JWT_API], "access_token_expire_seconds": 7200}}
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": declared}

    response = token_request(api_client, jwt_app, grant_type="client_credentials", resource=JWT_API)

    issued(response, jwt_app, frozen_clock.current, lifetime=300)


def test_implicit_openid_carries_the_sign_in(settings, client, user, frozen_clock):
    # Legacy, but it issues access tokens too: the sign-in is recorded first,
    # so the JWT has its auth_time, and the ID token's at_hash binds the JWT.
    enable_openid(settings, GRANT_TYPES=["authorization_code", "refresh_token", "implicit"])
    app = ClientFactory(access_token_format="jwt", grant_types=["authorization_code", "implicit"])
    client.force_login(user)
    url = authorize_url(app, response_type="id_token token", scope="openid read", nonce=NONCE)

    params = fragment_params(client.post(url, {"action": "allow"}))

    claims = local_claims(params["access_token"], audience=None)
    sign_in = SignIn.objects.get()
    assert (claims["sub"], claims["auth_time"]) == (sign_in.subject, int(sign_in.auth_time.timestamp()))
    assert params["expires_in"] == "300"
    assert decode(params["id_token"])[1]["at_hash"] == half_hash(params["access_token"], "RS256")


def test_a_jwt_access_token_works_at_userinfo(settings, api_client, jwt_app, user):
    enable_openid(settings)
    code = AuthorizationCodeFactory(client=jwt_app, user=user, scope="openid email")
    sign_in = SignInFactory(client=jwt_app, user=user, family_id=code.family_id)
    value = token_request(
        api_client, jwt_app, grant_type="authorization_code", code=code.value, redirect_uri=REDIRECT_URI
    ).json()["access_token"]

    response = api_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {value}")

    assert response.status_code == 200, response.content
    assert response.json()["sub"] == sign_in.subject == local_claims(value, audience=None)["sub"]
    assert response.json()["email"] == user.email
