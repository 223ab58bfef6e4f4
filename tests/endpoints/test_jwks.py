"""JWK Set endpoint (RFC 7517 §5) at /o/jwks/: public members only, cacheable
for half the key activation delay, readable from any origin."""

from datetime import timedelta

import pytest
from joserfc.jwk import KeySet

from oauth_provider import signing_keys

from ..helpers import private_pem

pytestmark = pytest.mark.django_db

URL = "/o/jwks/"
# RFC 7518 §6.3.2 (RSA) and §6.2.2 / RFC 8037 §2 (EC, OKP): the private members.
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def published(api_client):
    return {jwk["kid"]: jwk for jwk in api_client.get(URL).json()["keys"]}


def test_lists_a_public_key_per_algorithm(api_client):
    response = api_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    keys = response.json()["keys"]
    assert {jwk["alg"] for jwk in keys} == {"RS256", "ES256", "EdDSA"}
    assert {(jwk["alg"], jwk["kty"]) for jwk in keys} == {("RS256", "RSA"), ("ES256", "EC"), ("EdDSA", "OKP")}
    for jwk in keys:
        assert jwk["use"] == "sig"
        assert jwk["kid"]
    # A relying party's JOSE library reads it.
    assert len(KeySet.import_key_set(response.json()).keys) == len(keys)


@pytest.mark.parametrize("kty", ["RSA", "EC", "OKP"])
def test_no_private_member_for_any_key_type(api_client, kty, frozen_clock):
    signing_keys.rotate(delay=timedelta(days=1))  # pending and retiring keys too

    keys = [jwk for jwk in published(api_client).values() if jwk["kty"] == kty]

    assert len(keys) == 2
    for jwk in keys:
        assert not PRIVATE_MEMBERS & set(jwk), jwk


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_no_private_member_for_keys_from_settings(api_client, settings, algorithm):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_SIGNING_KEYS": [
            {"kid": "managed-rs256", "algorithm": "RS256", "private_key": private_pem("RS256")},
            {"kid": "managed", "algorithm": algorithm, "private_key": private_pem(algorithm)},
        ],
    }

    jwk = published(api_client)["managed"]

    assert jwk["alg"] == algorithm
    assert not PRIVATE_MEMBERS & set(jwk), jwk


def test_cacheable_for_half_the_activation_delay(api_client, settings):
    assert api_client.get(URL)["Cache-Control"] == "public, max-age=86400"

    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_KEY_ACTIVATION_DELAY_SECONDS": 601}
    assert api_client.get(URL)["Cache-Control"] == "public, max-age=300"


def test_readable_from_any_origin(api_client):
    response = api_client.get(URL, HTTP_ORIGIN="https://spa.example.org")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_pending_key_published_before_it_signs_and_retired_key_until_its_tokens_expire(
    api_client, frozen_clock
):
    old = signing_keys.signing_key("ES256").kid
    (new,) = signing_keys.rotate(["ES256"], delay=timedelta(hours=1))

    assert {old, new.kid} <= set(published(api_client))
    frozen_clock.advance(hours=1)
    assert {old, new.kid} <= set(published(api_client))  # retired: its ID tokens may still be valid
    frozen_clock.advance(seconds=3600)  # ID_TOKEN_EXPIRE_SECONDS later
    assert old not in published(api_client)
    assert new.kid in published(api_client)


def test_keys_no_secret_decrypts_are_still_published(api_client, settings):
    kids = set(published(api_client))
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"

    response = api_client.get(URL)

    assert response.status_code == 200
    assert set(published(api_client)) == kids


def test_post_is_not_allowed(api_client):
    response = api_client.post(URL)

    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_not_found_when_openid_connect_is_off(api_client, settings):
    """The keys sign only OpenID Connect's tokens: off, nothing is published
    (keys made while it was on included), as its other endpoints are gone."""
    signing_keys.ensure_keys()
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_ENABLED": False}

    assert api_client.get(URL).status_code == 404
