"""The token endpoint itself: request parsing, client authentication, errors (RFC 6749 §2.3, §3.2, §5)."""

import base64

import pytest

from oauth_provider.models import AccessToken
from tests.factories import AuthorizationCodeFactory, ClientFactory, PublicClientFactory
from tests.helpers import REDIRECT_URI, basic_auth, post_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(oauth_client, user):
    return AuthorizationCodeFactory(client=oauth_client, user=user)


def code_request(code, **extra):
    return {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI, **extra}


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


# -- client authentication (§2.3) ---------------------------------------------------------------


def test_client_secret_basic(api_client, oauth_client, code):
    response = post_token(
        api_client,
        code_request(code),
        HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret),
    )
    assert response.status_code == 200


def test_client_secret_basic_credentials_are_form_decoded(api_client, code):
    # §2.3.1: client_id and secret are application/x-www-form-urlencoded before Basic encoding.
    oauth_client = code.client
    encoded = base64.b64encode(f"{oauth_client.client_id}:{oauth_client.secret}".replace("_", "%5F").encode())
    response = post_token(api_client, code_request(code), HTTP_AUTHORIZATION="Basic " + encoded.decode())
    assert response.status_code == 200


def test_client_secret_post(api_client, oauth_client, code):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    assert post_token(api_client, data).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {},  # none at all
        {"client_id": "unknown", "client_secret": "x"},
        {"client_id": "SELF"},  # confidential client without its secret
        {"client_id": "SELF", "client_secret": "wrong"},
    ],
)
def test_failed_client_authentication_is_invalid_client(api_client, oauth_client, code, credentials):
    if credentials.get("client_id") == "SELF":
        credentials["client_id"] = oauth_client.client_id
    response = post_token(api_client, code_request(code, **credentials))
    assert_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" not in response


def test_invalid_client_over_basic_gets_www_authenticate(api_client, oauth_client, code):
    response = post_token(
        api_client, code_request(code), HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, "wrong")
    )
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
def test_malformed_basic_header_is_invalid_client(api_client, code, header):
    assert_error(post_token(api_client, code_request(code), HTTP_AUTHORIZATION=header), 401, "invalid_client")


def test_two_authentication_methods_at_once_are_refused(api_client, oauth_client, code):
    data = code_request(code, client_secret=oauth_client.secret)
    response = post_token(
        api_client, data, HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret)
    )
    assert_error(response, 400, "invalid_request")


def test_basic_and_body_client_ids_must_agree(api_client, oauth_client, code):
    other = ClientFactory()
    data = code_request(code, client_id=other.client_id)
    response = post_token(
        api_client, data, HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret)
    )
    assert_error(response, 401, "invalid_client")


def test_inactive_client_cannot_authenticate(api_client, oauth_client, code):
    oauth_client.is_active = False
    oauth_client.save()
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    assert_error(post_token(api_client, data), 401, "invalid_client")


def test_public_client_must_not_send_a_secret(api_client):
    public = PublicClientFactory()
    data = {
        "grant_type": "authorization_code",
        "code": "x",
        "client_id": public.client_id,
        "client_secret": "s",
    }
    assert_error(post_token(api_client, data), 401, "invalid_client")


# -- the request itself (§3.2) -------------------------------------------------------------------


def test_missing_grant_type_is_invalid_request(api_client, oauth_client):
    data = {"client_id": oauth_client.client_id, "client_secret": oauth_client.secret}
    assert_error(post_token(api_client, data), 400, "invalid_request")


# password is off by default; implicit is not a token endpoint grant at all.
@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:example:custom"])
def test_unknown_or_disabled_grant_type_is_unsupported(api_client, oauth_client, grant_type):
    data = {
        "grant_type": grant_type,
        "client_id": oauth_client.client_id,
        "client_secret": oauth_client.secret,
    }
    assert_error(post_token(api_client, data), 400, "unsupported_grant_type")


def test_client_credentials_for_a_client_without_it_is_unauthorized_client(api_client, oauth_client):
    data = {
        "grant_type": "client_credentials",
        "client_id": oauth_client.client_id,
        "client_secret": oauth_client.secret,
    }
    assert_error(post_token(api_client, data), 400, "unauthorized_client")


def test_grant_type_disabled_in_settings_is_unsupported(api_client, code, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["refresh_token"]}
    data = code_request(code, client_id=code.client.client_id, client_secret=code.client.secret)
    assert_error(post_token(api_client, data), 400, "unsupported_grant_type")


def test_grant_type_the_client_may_not_use_is_unauthorized_client(api_client, user):
    app = ClientFactory(grant_types=["refresh_token"])
    code = AuthorizationCodeFactory(client=app, user=user)
    data = code_request(code, client_id=app.client_id, client_secret=app.secret)
    assert_error(post_token(api_client, data), 400, "unauthorized_client")


@pytest.mark.parametrize("name", ["grant_type", "code", "client_id", "redirect_uri"])
def test_repeated_parameter_is_invalid_request(api_client, oauth_client, code, name):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    pairs = [*data.items(), (name, data[name])]
    assert_error(post_token(api_client, pairs), 400, "invalid_request")


def test_unknown_parameters_are_ignored(api_client, oauth_client, code):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret, foo="bar")
    assert post_token(api_client, data).status_code == 200


def test_empty_parameter_counts_as_missing(api_client, oauth_client, code):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    data["code"] = ""
    assert_error(post_token(api_client, data), 400, "invalid_request")


def test_json_body_is_invalid_request(api_client, oauth_client, code):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    assert_error(api_client.post("/o/token/", data, format="json"), 400, "invalid_request")


def test_multipart_body_is_invalid_request(api_client, oauth_client, code):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    assert_error(api_client.post("/o/token/", data, format="multipart"), 400, "invalid_request")


def test_non_utf8_body_is_invalid_request(api_client, oauth_client):
    body = b"grant_type=authorization_code&code=%ff%fe&client_id=" + oauth_client.client_id.encode()
    response = api_client.post("/o/token/", body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "invalid_request")


def test_nul_byte_is_invalid_request(api_client):
    body = b"grant_type=authorization_code&code=abc&client_id=ab%00cd&client_secret=x"
    response = api_client.post("/o/token/", body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "invalid_request")


def test_empty_body_is_invalid_request(api_client):
    response = api_client.post("/o/token/", b"", content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_refused_as_json(api_client, method):
    response = getattr(api_client, method)("/o/token/")
    assert_error(response, 405, "invalid_request")


def test_answers_json_whatever_accept_says(api_client, oauth_client, code):
    data = code_request(code, client_id=oauth_client.client_id, client_secret=oauth_client.secret)
    response = post_token(api_client, data, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_error_descriptions_never_echo_input(api_client, oauth_client):
    marker = 'evil"<script>'
    data = {"grant_type": "authorization_code", "code": marker, "redirect_uri": marker}
    data |= {"client_id": oauth_client.client_id, "client_secret": oauth_client.secret}
    response = post_token(api_client, data)
    assert_error(response, 400, "invalid_grant")
    assert marker not in response.content.decode()


def test_host_project_exception_handler_and_permissions_do_not_apply(
    api_client, oauth_client, code, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
        "EXCEPTION_HANDLER": "tests.endpoints.test_token.failing_handler",
    }
    data = code_request(code, client_id=oauth_client.client_id, client_secret="wrong")
    assert_error(post_token(api_client, data), 401, "invalid_client")
    assert not AccessToken.objects.exists()


def failing_handler(exc, context):  # pragma: no cover - must never be called
    raise AssertionError("the host's EXCEPTION_HANDLER was used")
