"""ID tokens from the token endpoint: on the code's redemption (OpenID Connect
Core 1.0 §3.1.3.3, §3.1.3.6) and on refresh (§12.2)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oauth_provider import id_tokens
from oauth_provider.consents import withdraw_consent
from oauth_provider.login_sessions import AUTH_TIME_SESSION_KEY, SID_SESSION_KEY
from oauth_provider.models import AccessToken, AuthorizationCode, Consent, SignIn
from oauth_provider.subjects import subject
from tests.factories import AuthorizationCodeFactory, ClientFactory
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, post_token, redirect_params
from tests.id_token_helpers import ISSUER, NONCE, OPENID_SCOPES, decode, enable_openid, redeem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def openid(settings):
    enable_openid(settings)


@pytest.fixture
def app(db):
    return ClientFactory(grant_types=["authorization_code", "refresh_token"])


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def authorize(browser, app, **params):
    """Approve an authorization request; return the code."""
    url = authorize_url(app, **{"scope": "openid", "nonce": NONCE, **params})
    return redirect_params(browser.post(url, {"action": "allow"}))["code"]


def refresh(api_client, app, refresh_token, **params):
    response = post_token(
        api_client,
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **params},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )
    assert response.status_code == 200, response.json()
    return response.json()


# -- the code's redemption ----------------------------------------------------------------------


def test_code_with_openid_gets_an_id_token(api_client, browser, app, user, frozen_clock):
    body = redeem(api_client, app, authorize(browser, app, scope="openid read"))

    header, claims = decode(body["id_token"])
    now = int(frozen_clock.current.timestamp())
    assert header["alg"] == "RS256"
    assert claims == {
        "iss": ISSUER,
        "sub": subject(user, app),
        "aud": [app.client_id],
        "exp": now + 3600,
        "iat": now,
        "auth_time": browser.session[AUTH_TIME_SESSION_KEY],
        "nonce": NONCE,
        "azp": app.client_id,
        "at_hash": id_tokens.half_hash(body["access_token"], "RS256"),
        "sid": browser.session[SID_SESSION_KEY],
    }
    assert body["scope"] == "openid read"


def test_the_response_is_not_cached(api_client, browser, app):
    response = post_token(
        api_client,
        {"grant_type": "authorization_code", "code": authorize(browser, app), "redirect_uri": REDIRECT_URI},
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )
    assert "id_token" in response.json()
    assert response["Cache-Control"] == "no-store"


def test_without_nonce_the_id_token_has_none(api_client, browser, app):
    _header, claims = decode(redeem(api_client, app, authorize(browser, app, nonce=None))["id_token"])
    assert "nonce" not in claims


def test_code_without_openid_gets_no_id_token(api_client, browser, app):
    body = redeem(api_client, app, authorize(browser, app, scope="read"))
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert not SignIn.objects.exists()


def test_code_from_before_openid_was_on_gets_no_id_token(api_client, app, user):
    """A code whose authorization recorded no sign-in (OIDC off then) is plain OAuth."""
    code = AuthorizationCodeFactory(client=app, user=user, scope="openid read")
    assert "id_token" not in redeem(api_client, app, code.value)


def test_no_id_token_when_openid_connect_is_off(settings, api_client, browser, app):
    code = authorize(browser, app)
    enable_openid(settings, OIDC_ENABLED=False)
    assert "id_token" not in redeem(api_client, app, code)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_signed_with_the_clients_algorithm(api_client, browser, algorithm):
    app = ClientFactory(id_token_signed_response_alg=algorithm)
    body = redeem(api_client, app, authorize(browser, app))
    header, claims = decode(body["id_token"])
    assert header["alg"] == algorithm
    assert claims["at_hash"] == id_tokens.half_hash(body["access_token"], algorithm)


def test_claims_requested_for_the_id_token_are_in_it(api_client, browser, app, user):
    claims_request = '{"id_token": {"email": {"essential": true}}, "userinfo": {"name": null}}'
    code = authorize(browser, app, scope="openid email", claims=claims_request)
    _header, claims = decode(redeem(api_client, app, code)["id_token"])
    assert claims["email"] == user.email
    assert "name" not in claims


def test_the_id_token_costs_one_query_and_the_signing_key(api_client, browser, app):
    """The sign-in comes with its user and subject identifier in one query;
    the other is the signing key's."""
    plain, openid = authorize(browser, app, scope="read"), authorize(browser, app, scope="openid read")
    counts = []
    for code in (plain, openid):
        with CaptureQueriesContext(connection) as queries:
            redeem(api_client, app, code)
        counts.append(len(queries))
    assert counts[1] - counts[0] == 2


# -- refresh (§12.2) ----------------------------------------------------------------------------


def test_refresh_gives_a_new_id_token_of_the_same_sign_in_without_nonce(
    api_client, browser, app, frozen_clock
):
    first = redeem(api_client, app, authorize(browser, app, scope="openid read"))
    _header, original = decode(first["id_token"])
    frozen_clock.advance(minutes=30)

    second = refresh(api_client, app, first["refresh_token"])

    _header, renewed = decode(second["id_token"])
    for name in ("iss", "sub", "aud", "azp", "auth_time", "sid"):
        assert renewed[name] == original[name], name
    assert renewed["iat"] == original["iat"] + 1800
    assert renewed["exp"] == renewed["iat"] + 3600
    assert "nonce" not in renewed
    assert renewed["at_hash"] == id_tokens.half_hash(second["access_token"], "RS256")


def test_refresh_after_the_user_signed_in_again_keeps_the_original_auth_time(
    api_client, browser, app, user, frozen_clock
):
    first = redeem(api_client, app, authorize(browser, app))
    _header, original = decode(first["id_token"])
    frozen_clock.advance(hours=2)
    browser.force_login(user)

    _header, renewed = decode(refresh(api_client, app, first["refresh_token"])["id_token"])

    assert renewed["auth_time"] == original["auth_time"]
    assert renewed["sid"] == original["sid"] != browser.session[SID_SESSION_KEY]


def test_refresh_narrowed_to_leave_out_openid_gives_no_id_token(api_client, browser, app):
    first = redeem(api_client, app, authorize(browser, app, scope="openid read"))
    assert "id_token" not in refresh(api_client, app, first["refresh_token"], scope="read")


def test_refresh_without_openid_gives_no_id_token(api_client, browser, app):
    first = redeem(api_client, app, authorize(browser, app, scope="read"))
    assert "id_token" not in refresh(api_client, app, first["refresh_token"])


# -- sessions that ended (Back-Channel Logout 1.0 §2.7, Core §11, §12.2) ------------------------


def sign_out(browser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post("/accounts/logout/").status_code == 302


def refused(api_client, app, data):
    response = post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret))
    assert response.status_code == 400, response.json()
    assert response.json()["error"] == "invalid_grant"
    return response.json()


def test_a_code_of_a_session_signed_out_of_is_not_redeemed(
    api_client, browser, app, django_capture_on_commit_callbacks
):
    code = authorize(browser, app)
    sign_out(browser, django_capture_on_commit_callbacks)

    body = refused(
        api_client, app, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    )

    assert body["error_description"] == "The authorization code is no longer valid."
    assert AuthorizationCode.objects.get().end_reason == AuthorizationCode.EndReason.LOGGED_OUT
    assert not AccessToken.objects.exists()


def test_a_code_whose_consent_was_withdrawn_is_not_redeemed(api_client, browser, app, user):
    code = authorize(browser, app)
    withdraw_consent(Consent.objects.get(user=user, client=app))

    refused(api_client, app, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})

    assert SignIn.objects.get().ended_at is not None


def test_offline_access_outlives_the_session_without_id_tokens(
    settings, api_client, browser, app, django_capture_on_commit_callbacks
):
    """§2.7: an offline_access refresh token is not revoked at logout; it
    gets access tokens, but no ID token naming the session that ended."""
    enable_openid(settings, SCOPES={**OPENID_SCOPES, "offline_access": "Access while you are away"})
    first = redeem(api_client, app, authorize(browser, app, scope="openid offline_access read"))
    sign_out(browser, django_capture_on_commit_callbacks)

    renewed = refresh(api_client, app, first["refresh_token"])

    assert renewed["access_token"] and renewed["refresh_token"]
    assert "id_token" not in renewed


def test_without_offline_access_refresh_ends_with_the_session(
    api_client, browser, app, django_capture_on_commit_callbacks
):
    first = redeem(api_client, app, authorize(browser, app, scope="openid read"))
    sign_out(browser, django_capture_on_commit_callbacks)

    refused(api_client, app, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
