"""OpenID Connect's implicit and hybrid flows (Core 1.0 §3.2, §3.3): legacy,
only with the implicit grant enabled on the server and on the client."""

from urllib.parse import urlsplit

import pytest

from oauth_provider import id_tokens
from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, AuthorizationCode, RefreshToken, SignIn
from oauth_provider.subjects import subject
from tests.factories import ClientFactory, ConsentFactory, PublicClientFactory, UserFactory
from tests.helpers import REDIRECT_URI, authorize_url, redirect_params
from tests.id_token_helpers import ISSUER, NONCE, STATE, decode, enable_openid, fragment_params, redeem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def openid(settings):
    enable_openid(settings, GRANT_TYPES=["authorization_code", "refresh_token", "implicit"])


@pytest.fixture
def app(db):
    """A confidential client allowed the code flow, refresh tokens and the implicit grant."""
    return ClientFactory(grant_types=["authorization_code", "refresh_token", "implicit"])


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def approve(browser, app, response_type, **params):
    url = authorize_url(app, **{"response_type": response_type, "scope": "openid", "nonce": NONCE, **params})
    return fragment_params(browser.post(url, {"action": "allow"}))


# -- response_type=id_token (§3.2) --------------------------------------------------------------


def test_id_token_alone_carries_the_scope_claims(browser, app, user):
    user.first_name, user.last_name = "Ada", "Lovelace"
    user.save()

    params = approve(browser, app, "id_token", scope="openid profile email", state="s t")

    assert set(params) == {"id_token", "state", "iss"}
    assert (params["state"], params["iss"]) == ("s t", ISSUER)
    _header, claims = decode(params["id_token"])
    assert claims["sub"] == subject(user, app)
    assert claims["aud"] == [app.client_id]
    assert claims["nonce"] == NONCE
    # §5.4: no access token to ask UserInfo with, so the claims are here.
    assert (claims["name"], claims["email"]) == ("Ada Lovelace", user.email)
    assert "at_hash" not in claims
    assert not AccessToken.objects.exists()
    assert not AuthorizationCode.objects.exists()
    assert SignIn.objects.get().user == user


def test_id_token_token_binds_the_access_token(browser, app):
    params = approve(browser, app, "id_token token", scope="openid profile")

    assert set(params) == {"id_token", "access_token", "token_type", "expires_in", "scope", "state", "iss"}
    _header, claims = decode(params["id_token"])
    assert claims["at_hash"] == id_tokens.half_hash(params["access_token"], "RS256")
    # The access token reaches UserInfo: the claims are left to it.
    assert "name" not in claims
    token = AccessToken.objects.get(token_hash=hash_secret(params["access_token"]))
    assert token.family_id == SignIn.objects.get().family_id
    # §4.2.2: never a refresh token from the authorization endpoint.
    assert not RefreshToken.objects.exists()


def test_response_type_values_may_come_in_any_order(browser, app):
    params = approve(browser, app, "token id_token")
    assert {"id_token", "access_token"} <= set(params)


@pytest.mark.parametrize(
    "response_type", ["id_token", "id_token token", "code id_token", "code id_token token"]
)
def test_nonce_is_required_when_an_id_token_comes_from_this_endpoint(browser, app, response_type):
    url = authorize_url(app, response_type=response_type, scope="openid")
    params = fragment_params(browser.get(url))
    assert params["error"] == "invalid_request"
    assert (
        params["error_description"]
        == "The nonce parameter is required when the response_type includes id_token."
    )
    assert (params["state"], params["iss"]) == (STATE, ISSUER)


def test_nonce_is_optional_for_code_token(browser, app):
    params = approve(browser, app, "code token", nonce=None)
    assert {"code", "access_token"} <= set(params)


# -- hybrid (§3.3) ------------------------------------------------------------------------------


def test_code_id_token_binds_the_code_and_the_token_endpoint_signs_the_same_sign_in(
    api_client, browser, app, user
):
    params = approve(browser, app, "code id_token")

    assert set(params) == {"code", "id_token", "state", "iss"}
    _header, front = decode(params["id_token"])
    assert front["c_hash"] == id_tokens.half_hash(params["code"], "RS256")
    assert "at_hash" not in front
    # §3.3.3.6: the token endpoint's ID token names the same user, with the same nonce.
    body = redeem(api_client, app, params["code"])
    _header, back = decode(body["id_token"])
    for name in ("iss", "sub", "aud", "auth_time", "sid", "nonce"):
        assert back[name] == front[name], name
    assert "c_hash" not in back
    assert back["at_hash"] == id_tokens.half_hash(body["access_token"], "RS256")


def test_code_id_token_token_binds_both(browser, app):
    params = approve(browser, app, "code id_token token")

    assert {"code", "id_token", "access_token", "token_type", "expires_in", "scope"} <= set(params)
    _header, claims = decode(params["id_token"])
    assert claims["c_hash"] == id_tokens.half_hash(params["code"], "RS256")
    assert claims["at_hash"] == id_tokens.half_hash(params["access_token"], "RS256")
    code = AuthorizationCode.objects.get(token_hash=hash_secret(params["code"]))
    token = AccessToken.objects.get(token_hash=hash_secret(params["access_token"]))
    # One authorization: a replayed code revokes the front-channel token too.
    assert code.family_id == token.family_id == SignIn.objects.get().family_id


def test_code_token_answers_in_the_fragment(browser, app):
    params = approve(browser, app, "code token")
    assert set(params) == {"code", "access_token", "token_type", "expires_in", "scope", "state", "iss"}


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_hashes_follow_the_clients_algorithm(browser, algorithm):
    app = ClientFactory(
        grant_types=["authorization_code", "implicit"], id_token_signed_response_alg=algorithm
    )
    params = approve(browser, app, "code id_token token")
    header, claims = decode(params["id_token"])
    assert header["alg"] == algorithm
    assert claims["at_hash"] == id_tokens.half_hash(params["access_token"], algorithm)
    assert claims["c_hash"] == id_tokens.half_hash(params["code"], algorithm)


def test_hybrid_from_a_public_client_needs_pkce(browser):
    spa = PublicClientFactory(redirect_uris=REDIRECT_URI, grant_types=["authorization_code", "implicit"])
    url = authorize_url(spa, response_type="code id_token", scope="openid", nonce=NONCE)
    assert fragment_params(browser.get(url))["error"] == "invalid_request"


# -- consent and prompt ---------------------------------------------------------------------------


def test_remembered_consent_is_not_enough_for_a_public_client_on_a_loopback_address(browser, user):
    spa = PublicClientFactory(redirect_uris="http://127.0.0.1/callback", grant_types=["implicit"])
    ConsentFactory(user=user, client=spa, scope="openid")
    url = authorize_url(
        spa, redirect_uri="http://127.0.0.1/callback", response_type="id_token", scope="openid", nonce=NONCE
    )
    assert browser.get(url).status_code == 200


def test_remembered_consent_skips_the_screen_for_a_confidential_client(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    url = authorize_url(app, response_type="id_token", scope="openid", nonce=NONCE, prompt="none")
    assert "id_token" in fragment_params(browser.get(url))


def test_prompt_none_signed_out_answers_in_the_fragment(client, app):
    url = authorize_url(app, response_type="id_token", scope="openid", nonce=NONCE, prompt="none")
    params = fragment_params(client.get(url))
    assert params["error"] == "login_required"
    assert (params["state"], params["iss"]) == (STATE, ISSUER)


def test_denial_answers_in_the_fragment(browser, app):
    url = authorize_url(app, response_type="code id_token", scope="openid", nonce=NONCE)
    params = fragment_params(browser.post(url, {"action": "deny"}))
    assert params["error"] == "access_denied"
    assert (params["state"], params["iss"]) == (STATE, ISSUER)
    assert not SignIn.objects.exists()


# -- off unless offered, allowed and asked for with openid -------------------------------------------


@pytest.mark.parametrize(
    "response_type", ["id_token", "id_token token", "code id_token", "code token", "code id_token token"]
)
def test_off_on_the_server_is_unsupported_response_type_in_the_query(settings, browser, app, response_type):
    enable_openid(settings, GRANT_TYPES=["authorization_code", "refresh_token"])
    url = authorize_url(app, response_type=response_type, scope="openid", nonce=NONCE)
    response = browser.get(url)
    assert urlsplit(response["Location"]).fragment == ""
    params = redirect_params(response)
    assert params["error"] == "unsupported_response_type"
    assert (params["state"], params["iss"]) == (STATE, ISSUER)


def test_off_with_openid_connect_is_unsupported_response_type(settings, browser, app):
    enable_openid(settings, GRANT_TYPES=["authorization_code", "implicit"], OIDC_ENABLED=False)
    url = authorize_url(app, response_type="code id_token", scope="openid", nonce=NONCE)
    assert redirect_params(browser.get(url))["error"] == "unsupported_response_type"


@pytest.mark.parametrize("response_type", ["id_token", "code id_token", "code token"])
def test_client_without_the_implicit_grant_is_unauthorized_client(browser, response_type):
    app = ClientFactory(grant_types=["authorization_code"])
    params = fragment_params(browser.get(authorize_url(app, response_type=response_type, scope="openid")))
    assert params["error"] == "unauthorized_client"


def test_client_without_the_code_grant_may_not_use_hybrid(browser):
    app = ClientFactory(grant_types=["implicit"])
    url = authorize_url(app, response_type="code id_token", scope="openid", nonce=NONCE)
    assert fragment_params(browser.get(url))["error"] == "unauthorized_client"


@pytest.mark.parametrize("response_type", ["id_token", "code id_token", "code token"])
def test_without_openid_these_response_types_are_unsupported(browser, app, response_type):
    params = fragment_params(browser.get(authorize_url(app, response_type=response_type, scope="read")))
    assert params["error"] == "unsupported_response_type"
    assert params["error_description"] == "This response_type is supported only with the openid scope."


def test_plain_implicit_grant_is_unchanged(browser, app):
    params = fragment_params(browser.post(authorize_url(app, response_type="token"), {"action": "allow"}))
    assert set(params) == {"access_token", "token_type", "expires_in", "scope", "state", "iss"}
    assert not SignIn.objects.exists()


def test_the_id_token_names_the_user_who_approved(browser, app):
    other = UserFactory()
    browser.force_login(other)
    _header, claims = decode(approve(browser, app, "id_token")["id_token"])
    assert claims["sub"] == subject(other, app)
