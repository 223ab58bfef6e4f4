"""BearerTokenAuthentication: the Authorization header only (RFC 6750 §2.1, §3)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from oauth_provider import clock
from oauth_provider.bearer import BearerToken
from oauth_provider.rest_framework.authentication import BearerTokenAuthentication, InvalidToken
from oauth_provider.rest_framework.permissions import HasScope

from .factories import AccessTokenFactory, ClientFactory, RefreshTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()

CHALLENGE = 'Bearer realm="api"'
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


class WhoAmIView(APIView):
    """Protected: needs a valid token with scope ``read``."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response(
            {
                "user": request.user.username if request.user.is_authenticated else None,
                "client": request.auth.client.name,
            }
        )


class OpenView(APIView):
    """Open to anyone; shows what authentication found."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"anonymous": request.user.is_anonymous, "auth": request.auth is not None})


urlpatterns = [path("whoami/", WhoAmIView.as_view()), path("open/", OpenView.as_view())]

protected = WhoAmIView.as_view()
open_view = OpenView.as_view()


def bearer(value):
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def authenticate(**headers):
    return BearerTokenAuthentication().authenticate(Request(factory.get("/", **headers)))


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID_TOKEN
    assert response.data["detail"].code == "invalid_token"


# No credentials, or credentials for another scheme


def test_no_authorization_header_returns_none():
    assert authenticate() is None


def test_no_authorization_header_on_protected_view_is_401_without_error_code():
    # RFC 6750 §3: "If the request lacks any authentication information [...] the
    # resource server SHOULD NOT include an error code".
    response = protected(factory.get("/"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE


def test_no_authorization_header_on_open_view_is_anonymous():
    response = open_view(factory.get("/"))
    assert response.status_code == 200
    assert response.data == {"anonymous": True, "auth": False}


def test_basic_authorization_header_is_ignored():
    assert authenticate(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz") is None


def test_basic_authorization_header_on_protected_view_is_401_without_error_code():
    response = protected(factory.get("/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE


def test_empty_authorization_header_returns_none():
    assert authenticate(HTTP_AUTHORIZATION="") is None


# Malformed headers


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "Bearer  a  b  c"])
def test_malformed_bearer_header_raises_invalid_token(header):
    with pytest.raises(InvalidToken):
        authenticate(HTTP_AUTHORIZATION=header)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_malformed_bearer_header_is_401_invalid_token(header):
    assert_invalid_token(protected(factory.get("/", HTTP_AUTHORIZATION=header)))


@pytest.mark.parametrize("header", ["Bearer opat_caf\u00e9", "Bearer \u00ff\u00fe", "Bearer op\x80at_"])
def test_non_ascii_token_is_401_not_500(header):
    # WSGI and ASGI hand headers over as latin-1 text.
    assert_invalid_token(protected(factory.get("/", HTTP_AUTHORIZATION=header)))


@pytest.mark.urls(__name__)
def test_non_ascii_token_through_the_full_stack_is_401(client):
    response = client.get("/whoami/", HTTP_AUTHORIZATION="Bearer \u00e9\u00e8")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID_TOKEN


# Tokens that are no good


def test_unknown_token_is_401_invalid_token():
    assert_invalid_token(protected(factory.get("/", **bearer("opat_" + "x" * 43))))


def test_refresh_token_value_is_not_an_access_token():
    refresh = RefreshTokenFactory()
    assert_invalid_token(protected(factory.get("/", **bearer(refresh.value))))


def test_token_hash_is_not_accepted_as_the_token():
    token = AccessTokenFactory()
    assert_invalid_token(protected(factory.get("/", **bearer(token.token_hash))))


def test_expired_token_is_401_invalid_token(frozen_clock):
    token = AccessTokenFactory()
    frozen_clock.advance(hours=1)
    assert_invalid_token(protected(factory.get("/", **bearer(token.value))))


def test_token_is_valid_until_it_expires(frozen_clock):
    token = AccessTokenFactory()
    frozen_clock.advance(seconds=3599)
    assert protected(factory.get("/", **bearer(token.value))).status_code == 200


def test_revoked_token_is_401_invalid_token():
    token = AccessTokenFactory(revoked_at=clock.now())
    assert_invalid_token(protected(factory.get("/", **bearer(token.value))))


def test_token_of_inactive_client_is_401_invalid_token():
    token = AccessTokenFactory(client=ClientFactory(is_active=False))
    assert_invalid_token(protected(factory.get("/", **bearer(token.value))))


def test_token_of_client_deactivated_later_is_401_invalid_token():
    token = AccessTokenFactory()
    token.client.is_active = False
    token.client.save()
    assert_invalid_token(protected(factory.get("/", **bearer(token.value))))


def test_token_of_inactive_user_is_401_invalid_token():
    token = AccessTokenFactory(user=UserFactory(is_active=False))
    assert_invalid_token(protected(factory.get("/", **bearer(token.value))))


def test_invalid_token_on_open_view_is_still_401():
    # A presented but bad token is an error, not a fallback to anonymous.
    response = open_view(factory.get("/", **bearer("opat_nope")))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID_TOKEN


@override_settings(OAUTH_PROVIDER={"RESOURCE_SERVER_REALM": "notes"})
def test_realm_setting_names_the_realm():
    assert protected(factory.get("/"))["WWW-Authenticate"] == 'Bearer realm="notes"'
    response = protected(factory.get("/", **bearer("opat_nope")))
    assert response["WWW-Authenticate"] == 'Bearer realm="notes", error="invalid_token"'


# Tokens that are good


def test_valid_token_authenticates_its_user():
    token = AccessTokenFactory()
    user, auth = authenticate(**bearer(token.value))
    assert user == token.user
    assert isinstance(auth, BearerToken)
    assert auth.token_hash == token.token_hash


def test_valid_token_on_protected_view_sets_user_and_auth():
    token = AccessTokenFactory()
    response = protected(factory.get("/", **bearer(token.value)))
    assert response.status_code == 200
    assert response.data == {"user": token.user.username, "client": token.client.name}


@pytest.mark.parametrize("keyword", ["bearer", "BEARER", "BeArEr"])
def test_bearer_keyword_is_case_insensitive(keyword):
    token = AccessTokenFactory()
    assert authenticate(HTTP_AUTHORIZATION=f"{keyword} {token.value}") is not None


def test_client_only_token_is_anonymous_user_with_the_token():
    token = AccessTokenFactory(user=None)
    user, auth = authenticate(**bearer(token.value))
    assert isinstance(user, AnonymousUser)
    assert auth.token_hash == token.token_hash


def test_client_only_token_on_protected_view():
    token = AccessTokenFactory(user=None)
    response = protected(factory.get("/", **bearer(token.value)))
    assert response.status_code == 200
    assert response.data == {"user": None, "client": token.client.name}


def test_authentication_is_one_query_including_user_and_client(django_assert_num_queries):
    token = AccessTokenFactory()
    request = Request(factory.get("/", **bearer(token.value)))
    with django_assert_num_queries(1):
        user, auth = BearerTokenAuthentication().authenticate(request)
        assert user.username == token.user.username
        assert auth.client.name == token.client.name
        assert auth.user.username == token.user.username


def test_protected_request_is_one_query(django_assert_num_queries):
    token = AccessTokenFactory()
    request = factory.get("/", **bearer(token.value))
    with django_assert_num_queries(1):
        response = protected(request)
    assert response.status_code == 200


def test_rejected_token_is_one_query(django_assert_num_queries):
    request = factory.get("/", **bearer("opat_nope"))
    with django_assert_num_queries(1):
        response = protected(request)
    assert response.status_code == 401


def test_no_header_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = protected(factory.get("/"))
    assert response.status_code == 401


# Where the token may come from


def test_token_in_query_string_is_never_accepted():
    token = AccessTokenFactory()
    response = protected(factory.get(f"/?access_token={token.value}"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE


def test_token_in_query_string_leaves_open_view_anonymous():
    token = AccessTokenFactory()
    response = open_view(factory.get(f"/?access_token={token.value}"))
    assert response.data == {"anonymous": True, "auth": False}


@pytest.mark.urls(__name__)
def test_token_in_query_string_through_the_full_stack_is_401(client):
    token = AccessTokenFactory()
    response = client.get("/whoami/", {"access_token": token.value})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE


@pytest.mark.urls(__name__)
def test_bearer_header_through_the_full_stack(client):
    token = AccessTokenFactory()
    response = client.get("/whoami/", headers={"Authorization": f"Bearer {token.value}"})
    assert response.status_code == 200
    assert response.json() == {"user": token.user.username, "client": token.client.name}
