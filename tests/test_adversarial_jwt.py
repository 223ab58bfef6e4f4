"""Adversarial: hostile JWT-shaped bearer tokens are refused as
``invalid_token`` (RFC 6750 §3.1), never a server error, at a DRF API and
at UserInfo; a valid JWT looks the same to a view whichever path validated it."""

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIRequestFactory

from oauth_provider import bearer, revocation_stream
from oauth_provider.errors import InvalidBearerToken
from oauth_provider.jwt_access_tokens import local_claims

from .factories import JWTAccessTokenFactory, UserFactory
from .test_jwt_access_tokens_drf import NotesView, resources  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


HOSTILE_HEADERS = [
    {"typ": "at+jwt", "alg": ["RS256"], "kid": "k"},
    {"typ": "at+jwt", "alg": {"RS256": 1}, "kid": "k"},
    {"typ": "at+jwt", "alg": "RS256", "kid": ["k"]},
    {"typ": ["at+jwt"], "alg": "RS256", "kid": "k"},
]


@pytest.mark.parametrize("header", HOSTILE_HEADERS)
def test_a_header_with_values_of_the_wrong_type_is_an_invalid_token(header):
    value = f"{b64(header)}.{b64({'sub': 'x'})}.c2ln"
    with pytest.raises(InvalidBearerToken):
        bearer.authenticate(value)
    request = APIRequestFactory().get("/notes/", HTTP_AUTHORIZATION=f"Bearer {value}")
    response = NotesView.as_view()(request)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("header", HOSTILE_HEADERS)
def test_userinfo_refuses_it_too(header):
    value = f"{b64(header)}.{b64({'sub': 'x'})}.c2ln"
    response = Client(raise_request_exception=False).get(
        reverse("oauth_provider:userinfo"), HTTP_AUTHORIZATION=f"Bearer {value}"
    )
    assert response.status_code == 401


@pytest.mark.parametrize("trusted", [True, False])
def test_request_auth_of_a_jwt_is_the_same_whichever_path_it_took(monkeypatch, trusted):
    """``request.auth`` names the JWT's ``sub``, ``jti`` and ``aud`` whether
    this process trusts its revocation stream or asked the database (the
    stream dropped a moment ago): a view does not know which path it took."""
    monkeypatch.setattr(revocation_stream, "trusted", lambda: trusted)
    monkeypatch.setattr(revocation_stream, "heard_since", lambda moment: trusted)
    token = JWTAccessTokenFactory(user=UserFactory(), resources="")
    claims = local_claims(token.value, audience=None)
    auth = bearer.authenticate(token.value)
    assert (auth.sub, auth.jti, auth.audience) == (claims["sub"], claims["jti"], (claims["aud"],))
    assert auth.user == token.user
