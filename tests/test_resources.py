"""Resource indicators (RFC 8707): the ``resource`` parameter at every
endpoint that starts or redeems a grant, ``invalid_target``, narrowing, the
default audience and per-resource lifetimes."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from oauth_provider import clock, device
from oauth_provider.crypto import hash_secret
from oauth_provider.errors import InvalidTarget
from oauth_provider.models import AccessToken, AuthorizationCode, DeviceAuthorization, RefreshToken
from oauth_provider.payload import MAX_LENGTHS, multiple_values
from oauth_provider.resources import check_target, default_resources, narrow_resources
from tests.factories import (
    AuthorizationCodeFactory,
    ClientFactory,
    DeviceAuthorizationFactory,
    RefreshTokenFactory,
    UserFactory,
)
from tests.helpers import REDIRECT_URI, authorize_url, post_token, redirect_params

pytestmark = pytest.mark.django_db

NOTES = "https://api.example.com/notes/"
ADMIN = "https://admin.example.com/"
RESOURCES = {
    NOTES: {"scopes": ["read", "write"], "name": "Notes API", "access_token_expire_seconds": 600},
    ADMIN: {"scopes": ["admin", "read"], "access_token_expire_seconds": 300},
}


@pytest.fixture(autouse=True)
def declared_resources(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": {**settings.OAUTH_PROVIDER["SCOPES"], "openid": ""},
        "RESOURCES": RESOURCES,
        "GRANT_TYPES": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
    }


@pytest.fixture
def app():
    return ClientFactory(
        grant_types=[
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ]
    )


def credentials(app):
    return [("client_id", app.client_id), ("client_secret", app.secret)]


def issued(response) -> AccessToken:
    assert response.status_code == 200, response.json()
    return AccessToken.objects.get(token_hash=hash_secret(response.json()["access_token"]))


def invalid_target(response, description):
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_target", "error_description": description}


UNKNOWN = "The requested resource is not one this server issues tokens for."
NO_SCOPE = "The requested resource accepts none of the requested scopes."
ELSEWHERE = "A requested scope belongs to a resource that was not requested."
NOT_GRANTED = "The requested resource was not part of the original grant."


# -- the rules ------------------------------------------------------------------------------------


def test_repeated_resource_values_are_kept_in_order_without_repeats():
    query = QueryDict(f"resource={ADMIN}&resource={NOTES}&resource={ADMIN}&resource=")
    assert multiple_values(query, "resource") == [ADMIN, NOTES]


@pytest.mark.parametrize(
    ("resources", "scopes", "description"),
    [
        # Matched exactly: another spelling, a fragment or no URI at all is unknown.
        (["https://api.example.com/notes"], ["read"], UNKNOWN),
        ([NOTES + "#x"], ["read"], UNKNOWN),
        (["notes"], ["read"], UNKNOWN),
        ([ADMIN], ["write"], NO_SCOPE),
        # "admin" is ADMIN's scope: a token for NOTES only cannot carry it.
        ([NOTES], ["read", "admin"], ELSEWHERE),
    ],
)
def test_check_target_refuses(resources, scopes, description):
    with pytest.raises(InvalidTarget) as raised:
        check_target(resources, scopes)
    assert raised.value.wire_description() == description


def test_scopes_no_resource_declares_belong_to_the_server_and_pass():
    check_target([NOTES], ["read", "openid"])


def test_default_audience_is_every_resource_accepting_a_scope():
    assert default_resources(["write"]) == [NOTES]
    assert default_resources(["read"]) == [NOTES, ADMIN]
    assert default_resources(["openid"]) == []


def test_default_audience_from_setting(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "DEFAULT_RESOURCES": [ADMIN]}
    assert default_resources(["write"]) == [ADMIN]


def test_grant_without_audience_narrows_from_the_default():
    assert narrow_resources([], [], ["write"]) == [NOTES]
    assert narrow_resources([NOTES], [], ["write"]) == [NOTES]


# -- client credentials ---------------------------------------------------------------------------


def test_client_credentials_token_for_a_resource(api_client, app):
    data = [("grant_type", "client_credentials"), ("scope", "read"), ("resource", NOTES), *credentials(app)]
    token = issued(post_token(api_client, data))
    assert token.audience == [NOTES]


def test_client_credentials_token_for_two_resources_lives_as_long_as_the_shortest(api_client, app):
    data = [("grant_type", "client_credentials"), ("scope", "read"), *credentials(app)]
    response = post_token(api_client, [*data, ("resource", NOTES), ("resource", ADMIN)])
    token = issued(response)
    assert token.audience == [NOTES, ADMIN]
    assert response.json()["expires_in"] == 300
    assert token.expires_at - token.created_at == timedelta(seconds=300)


def test_token_without_resource_gets_the_default_audience(api_client, app):
    data = [("grant_type", "client_credentials"), ("scope", "write"), *credentials(app)]
    response = post_token(api_client, data)
    assert issued(response).audience == [NOTES]
    assert response.json()["expires_in"] == 600


def test_token_of_no_resource_lives_the_global_lifetime(api_client, app, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": {}}
    response = post_token(api_client, [("grant_type", "client_credentials"), *credentials(app)])
    assert issued(response).audience == []
    assert response.json()["expires_in"] == 3600


@pytest.mark.parametrize(
    ("resource", "scope", "description"),
    [("https://elsewhere.example/", "read", UNKNOWN), (ADMIN, "write", NO_SCOPE)],
)
def test_client_credentials_invalid_target(api_client, app, resource, scope, description):
    data = [("grant_type", "client_credentials"), ("scope", scope), ("resource", resource), *credentials(app)]
    invalid_target(post_token(api_client, data), description)
    assert not AccessToken.objects.exists()


def test_resource_over_its_limit_is_invalid_request(api_client, app):
    limit = MAX_LENGTHS["resource"]
    data = [("grant_type", "client_credentials"), ("resource", "https://a/" + "a" * limit), *credentials(app)]
    response = post_token(api_client, data)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# -- authorization code -----------------------------------------------------------------------


@pytest.fixture
def browser(client):
    user = UserFactory()
    client.force_login(user)
    return client


def test_authorization_request_stores_the_resources_on_the_code(browser, app):
    url = authorize_url(app, scope="read write", resource=[NOTES])
    params = redirect_params(browser.post(url, {"action": "allow"}))
    code = AuthorizationCode.objects.get(token_hash=hash_secret(params["code"]))
    assert code.audience == [NOTES]


def test_authorization_request_without_resource_stores_the_default(browser, app):
    params = redirect_params(browser.post(authorize_url(app, scope="write"), {"action": "allow"}))
    assert AuthorizationCode.objects.get(token_hash=hash_secret(params["code"])).audience == [NOTES]


def test_unknown_resource_at_the_authorization_endpoint_is_redirected(browser, app):
    params = redirect_params(browser.get(authorize_url(app, resource="https://evil.example/")))
    assert params["error"] == "invalid_target"
    assert params["state"] == "af0ifjsldkj"
    assert not AuthorizationCode.objects.exists()


def test_consent_screen_names_the_resources(browser, app):
    response = browser.get(authorize_url(app, scope="read", resource=[NOTES, ADMIN]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "This access is limited to:" in content
    # Its name, with the identifier; a resource without a name by its identifier.
    assert "Notes API" in content
    assert NOTES in content
    assert ADMIN in content


def redeem(api_client, app, code, *resources):
    data = [
        ("grant_type", "authorization_code"),
        ("code", code.value),
        ("redirect_uri", REDIRECT_URI),
        *credentials(app),
        *(("resource", resource) for resource in resources),
    ]
    return post_token(api_client, data)


def test_code_exchange_keeps_the_codes_resources(api_client, app):
    code = AuthorizationCodeFactory(client=app, scope="read", resources=f"{NOTES} {ADMIN}")
    response = redeem(api_client, app, code)
    assert issued(response).audience == [NOTES, ADMIN]
    refresh = RefreshToken.objects.get(token_hash=hash_secret(response.json()["refresh_token"]))
    assert refresh.audience == [NOTES, ADMIN]


def test_code_exchange_narrows_the_access_token_not_the_refresh_token(api_client, app):
    code = AuthorizationCodeFactory(client=app, scope="read", resources=f"{NOTES} {ADMIN}")
    response = redeem(api_client, app, code, ADMIN)
    assert issued(response).audience == [ADMIN]
    assert response.json()["expires_in"] == 300
    refresh = RefreshToken.objects.get(token_hash=hash_secret(response.json()["refresh_token"]))
    assert refresh.audience == [NOTES, ADMIN]


def test_code_exchange_cannot_widen(api_client, app):
    code = AuthorizationCodeFactory(client=app, scope="read", resources=NOTES)
    invalid_target(redeem(api_client, app, code, ADMIN), NOT_GRANTED)
    # Refused before it was redeemed: the client may try again correctly.
    assert issued(redeem(api_client, app, code)).audience == [NOTES]


# -- refresh --------------------------------------------------------------------------------------


def refresh(api_client, app, token, *resources, scope=None):
    data = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.value),
        *credentials(app),
        *(("resource", resource) for resource in resources),
    ]
    if scope:
        data.append(("scope", scope))
    return post_token(api_client, data)


def test_refresh_narrows_and_keeps_the_refresh_tokens_audience(api_client, app):
    token = RefreshTokenFactory(client=app, scope="read", resources=f"{NOTES} {ADMIN}")
    response = refresh(api_client, app, token, NOTES)
    assert issued(response).audience == [NOTES]
    successor = RefreshToken.objects.get(token_hash=hash_secret(response.json()["refresh_token"]))
    assert successor.audience == [NOTES, ADMIN]


def test_refresh_cannot_widen(api_client, app):
    token = RefreshTokenFactory(client=app, scope="read", resources=NOTES)
    invalid_target(refresh(api_client, app, token, ADMIN), NOT_GRANTED)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_refresh_narrowing_checks_the_narrowed_scope(api_client, app):
    token = RefreshTokenFactory(client=app, scope="read write", resources=f"{NOTES} {ADMIN}")
    invalid_target(refresh(api_client, app, token, ADMIN), ELSEWHERE)
    assert issued(refresh(api_client, app, token, ADMIN, scope="read")).audience == [ADMIN]


def test_refresh_of_a_grant_from_before_resources_gets_the_default_audience(api_client, app):
    token = RefreshTokenFactory(client=app, scope="write", resources="")
    assert issued(refresh(api_client, app, token)).audience == [NOTES]


def test_resource_the_site_no_longer_declares_is_dropped(api_client, app, settings):
    token = RefreshTokenFactory(client=app, scope="read", resources=f"{NOTES} https://gone.example/")
    assert issued(refresh(api_client, app, token)).audience == [NOTES]


# -- device authorization -------------------------------------------------------------------------


def device_authorization(api_client, data):
    return api_client.post(
        "/o/device_authorization/", urlencode(data), content_type="application/x-www-form-urlencoded"
    )


def test_device_authorization_stores_the_resources(api_client, app):
    data = [("scope", "read"), ("resource", ADMIN), *credentials(app)]
    response = device_authorization(api_client, data)
    assert response.status_code == 200
    assert DeviceAuthorization.objects.get().audience == [ADMIN]


def test_device_authorization_invalid_target(api_client, app):
    data = [("scope", "write"), ("resource", ADMIN), *credentials(app)]
    invalid_target(device_authorization(api_client, data), NO_SCOPE)


def test_device_code_exchange_narrows(api_client, app):
    authorization = DeviceAuthorizationFactory(
        client=app,
        user=UserFactory(),
        scope="read",
        resources=f"{NOTES} {ADMIN}",
        status=DeviceAuthorization.Status.APPROVED,
        decided_at=clock.now(),
    )
    data = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", authorization.value),
        ("resource", NOTES),
        *credentials(app),
    ]
    assert issued(post_token(api_client, data)).audience == [NOTES]


def test_consent_for_one_resource_is_not_consent_for_another(browser, app):
    # The screen said "limited to: Notes API"; the same scope for the admin API
    # (which accepts it too) is a new question, not a remembered answer.
    redirect_params(browser.post(authorize_url(app, scope="read", resource=[NOTES]), {"action": "allow"}))
    assert browser.get(authorize_url(app, scope="read", resource=[NOTES])).status_code == 302

    for audience in ([ADMIN], None):  # None: the default audience, both resources
        response = browser.get(authorize_url(app, scope="read", resource=audience))
        assert response.status_code == 200
        assert "This access is limited to:" in response.content.decode()


def test_a_device_approval_remembers_the_resources_it_named(browser, app):
    authorization = DeviceAuthorizationFactory(client=app, scope="read", resources=ADMIN)
    user = browser.get("/").wsgi_request.user
    device.approve(authorization, user)

    assert browser.get(authorize_url(app, scope="read", resource=[ADMIN])).status_code == 302
    assert browser.get(authorize_url(app, scope="read", resource=[NOTES])).status_code == 200
