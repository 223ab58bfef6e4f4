"""Audience-restricted tokens at protected APIs (RFC 8707 §2, RFC 6750 §3.1)
and the RFC 9728 §5.1 pointer in their challenges."""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_provider.resources import metadata_url
from oauth_provider.rest_framework.permissions import HasScope
from tests.factories import AccessTokenFactory

pytestmark = pytest.mark.django_db

API = "https://api.example.com/"
OTHER = "https://other.example.com/v2/"


class PingView(APIView):
    permission_classes = [HasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({"ok": True})


class OtherPingView(PingView):
    oauth_resource = OTHER


class UnenforcedPingView(PingView):
    oauth_resource = None


urlpatterns = [
    path("ping/", PingView.as_view()),
    path("other/", OtherPingView.as_view()),
    path("unenforced/", UnenforcedPingView.as_view()),
]


@pytest.fixture(autouse=True)
def declared(settings):
    settings.ROOT_URLCONF = __name__
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "RESOURCES": {API: {"scopes": ["read"]}, OTHER: {"scopes": ["read"]}},
        "RESOURCE_SERVER_RESOURCE": API,
    }


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token.value}"}


def test_token_for_the_resource_is_accepted(api_client):
    assert (
        api_client.get("/ping/", **bearer(AccessTokenFactory(resources=f"{OTHER} {API}"))).status_code == 200
    )


@pytest.mark.parametrize("resources", [OTHER, ""])
def test_token_for_other_resources_or_none_is_invalid_token(api_client, resources):
    response = api_client.get("/ping/", **bearer(AccessTokenFactory(resources=resources)))
    assert response.status_code == 401
    assert response.json() == {"detail": "The access token is not meant for this resource."}
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="api", error="invalid_token", resource_metadata="{metadata_url(API)}"'
    )


def test_view_attribute_wins_over_the_setting(api_client):
    assert api_client.get("/other/", **bearer(AccessTokenFactory(resources=OTHER))).status_code == 200
    response = api_client.get("/other/", **bearer(AccessTokenFactory(resources=API)))
    assert response.status_code == 401
    assert (
        'resource_metadata="https://other.example.com/.well-known/oauth-protected-resource/v2/"'
        in (response["WWW-Authenticate"])
    )


def test_view_may_opt_out(api_client):
    assert api_client.get("/unenforced/", **bearer(AccessTokenFactory(resources=""))).status_code == 200


def test_request_without_token_learns_where_the_metadata_is(api_client):
    response = api_client.get("/ping/")
    assert response.status_code == 401
    # RFC 9728 §5.1; no error code without credentials (RFC 6750 §3).
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
    )


def test_not_enforced_without_a_resource(api_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCE_SERVER_RESOURCE": None}
    assert api_client.get("/ping/", **bearer(AccessTokenFactory(resources=""))).status_code == 200
    assert api_client.get("/ping/")["WWW-Authenticate"] == 'Bearer realm="api"'


def test_audience_check_costs_no_query(api_client, django_assert_num_queries):
    token = AccessTokenFactory(resources=API)
    with django_assert_num_queries(1):
        assert api_client.get("/ping/", **bearer(token)).status_code == 200


@override_settings(OAUTH_PROVIDER={"ISSUER": "https://auth.example.com", "RESOURCES": {}})
def test_metadata_url_follows_rfc_9728_section_3_1():
    assert (
        metadata_url("https://api.example.com")
        == "https://api.example.com/.well-known/oauth-protected-resource"
    )
    assert (
        metadata_url("https://api.example.com/")
        == "https://api.example.com/.well-known/oauth-protected-resource"
    )
    assert metadata_url("http://127.0.0.1:8000/api/") == (
        "http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/"
    )
