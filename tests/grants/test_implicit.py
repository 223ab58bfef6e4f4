"""Implicit grant at the authorization endpoint (RFC 6749 §4.2): legacy, off unless enabled."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from oauth_provider.crypto import hash_secret
from oauth_provider.models import AccessToken, AuthorizationCode, Consent, RefreshToken
from oauth_provider.signals import token_issued
from tests.factories import ClientFactory, ConsentFactory, PublicClientFactory
from tests.helpers import REDIRECT_URI, authorize_url, redirect_params

ISSUER = "https://auth.example.com"
STATE = "af0ifjsldkj"

pytestmark = pytest.mark.django_db


@pytest.fixture
def enabled(settings):
    """The server offers the implicit grant (it is off by default)."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": ["authorization_code", "refresh_token", "implicit"],
    }


@pytest.fixture
def spa(db):
    """A browser app allowed the implicit grant, and refresh tokens (which implicit must never give)."""
    return PublicClientFactory(redirect_uris=REDIRECT_URI, grant_types=["implicit", "refresh_token"])


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def token_url(client, **params):
    return authorize_url(client, response_type="token", **params)


def fragment_params(response):
    """The fragment parameters of a redirect; asserts nothing went in the query."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response["Location"])
    assert parts.fragment, response["Location"]
    return {key: values[0] for key, values in parse_qs(parts.fragment).items()}


def approve(browser, url):
    return browser.post(url, {"action": "allow"})


# -- success (§4.2.2) ----------------------------------------------------------------------------


def test_approval_redirects_with_the_token_in_the_fragment(browser, enabled, spa, user, frozen_clock):
    response = approve(browser, token_url(spa, scope="read write", state="s t&a=te"))
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert location.query == ""  # nothing for the client's server or its logs
    params = fragment_params(response)
    assert set(params) == {"access_token", "token_type", "expires_in", "scope", "state", "iss"}
    assert params["token_type"] == "Bearer"
    assert params["expires_in"] == "3600"
    assert params["scope"] == "read write"
    assert params["state"] == "s t&a=te"
    assert params["iss"] == ISSUER
    token = AccessToken.objects.get(token_hash=hash_secret(params["access_token"]))
    assert (token.client, token.user, token.scope) == (spa, user, "read write")
    assert token.expires_at == frozen_clock.current + timedelta(seconds=3600)
    assert "no-store" in response["Cache-Control"]


def test_never_a_refresh_token_nor_a_code(browser, enabled, spa):
    params = fragment_params(approve(browser, token_url(spa)))
    assert "refresh_token" not in params
    assert "code" not in params
    assert not RefreshToken.objects.exists()
    assert not AuthorizationCode.objects.exists()


def test_token_is_issued_as_implicit(browser, enabled, spa):
    grant_types = []

    def receiver(sender, token, grant_type, **kwargs):
        grant_types.append(grant_type)

    token_issued.connect(receiver)
    try:
        approve(browser, token_url(spa))
    finally:
        token_issued.disconnect(receiver)
    assert grant_types == ["implicit"]


def test_token_works_on_the_api(browser, enabled, spa, user, api_client):
    value = fragment_params(approve(browser, token_url(spa)))["access_token"]
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert me.json() == {"username": user.username}


def test_state_is_left_out_when_not_sent(browser, enabled, spa):
    params = fragment_params(approve(browser, token_url(spa, state=None)))
    assert "state" not in params
    assert params["access_token"]


def test_missing_scope_gets_the_default_and_says_so(browser, enabled, spa):
    assert fragment_params(approve(browser, token_url(spa, scope=None)))["scope"] == "read"


def test_pkce_is_not_required(browser, enabled, spa):
    # A public client without code_challenge would be refused for response_type=code.
    assert "access_token" in fragment_params(approve(browser, token_url(spa)))


def test_registered_query_component_is_kept(browser, enabled):
    app = PublicClientFactory(
        redirect_uris="https://client.example.com/cb?tenant=7", grant_types=["implicit"]
    )
    response = approve(browser, token_url(app, redirect_uri="https://client.example.com/cb?tenant=7"))
    assert response["Location"].startswith("https://client.example.com/cb?tenant=7#access_token=")


def test_confidential_client_may_use_it_when_allowed(browser, enabled):
    app = ClientFactory(grant_types=["implicit"])
    assert "access_token" in fragment_params(approve(browser, token_url(app)))


# -- the consent screen and remembered consent ---------------------------------------------------


def test_consent_screen_is_shown_first(browser, enabled, spa):
    response = browser.get(token_url(spa))
    assert response.status_code == 200
    assert response.templates[0].name == "oauth_provider/authorize.html"
    assert response["X-Frame-Options"] == "DENY"
    assert not AccessToken.objects.exists()


def test_consent_is_remembered_and_the_screen_skipped(browser, enabled, spa, user):
    approve(browser, token_url(spa, scope="read write"))
    assert Consent.objects.get(user=user, client=spa).scopes == ["read", "write"]
    response = browser.get(token_url(spa, scope="read"))
    assert fragment_params(response)["scope"] == "read"
    assert AccessToken.objects.count() == 2


def test_consent_given_in_the_code_flow_counts(browser, enabled, user):
    app = ClientFactory(grant_types=["authorization_code", "implicit"])
    ConsentFactory(user=user, client=app, scope="read write")
    assert "access_token" in fragment_params(browser.get(token_url(app, scope="write")))


def test_wider_scope_than_consented_shows_the_screen(browser, enabled, spa, user):
    ConsentFactory(user=user, client=spa, scope="read")
    response = browser.get(token_url(spa, scope="read write"))
    assert response.status_code == 200
    assert response.context["new_scopes"] == ["write"]


def test_prompt_consent_forces_the_screen(browser, enabled, spa, user):
    ConsentFactory(user=user, client=spa, scope="read")
    assert browser.get(token_url(spa, prompt="consent")).status_code == 200


def test_skip_consent_client_gets_a_token_without_the_screen(browser, enabled):
    first_party = PublicClientFactory(redirect_uris=REDIRECT_URI, grant_types=["implicit"], skip_consent=True)
    assert "access_token" in fragment_params(browser.get(token_url(first_party)))


def test_anonymous_user_is_sent_to_login(client, enabled, spa):
    response = client.get(token_url(spa))
    assert response["Location"].startswith("/accounts/login/?next=")


# -- errors in the fragment (§4.2.2.1) -----------------------------------------------------------


def test_denial_puts_access_denied_in_the_fragment(browser, enabled, spa):
    response = browser.post(token_url(spa), {"action": "deny"})
    assert urlsplit(response["Location"]).query == ""
    params = fragment_params(response)
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == STATE
    assert params["iss"] == ISSUER
    assert "access_token" not in params
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"scope": "unknown"}, "invalid_scope"),
        ({"scope": ["read", "write"]}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"scope": "read\x00"}, "invalid_request"),
    ],
)
def test_invalid_request_is_answered_in_the_fragment(browser, enabled, spa, params, error):
    response = browser.get(token_url(spa, **params))
    assert urlsplit(response["Location"]).query == ""
    result = fragment_params(response)
    assert result["error"] == error
    assert result["error_description"]
    assert result["state"] == STATE
    assert result["iss"] == ISSUER
    assert not AccessToken.objects.exists()


def test_client_not_allowed_implicit_is_unauthorized_client(browser, enabled, oauth_client):
    # oauth_client allows authorization_code and refresh_token only.
    result = fragment_params(browser.get(token_url(oauth_client)))
    assert result["error"] == "unauthorized_client"
    assert result["state"] == STATE
    assert not AccessToken.objects.exists()


def test_off_by_default_is_unsupported_response_type(browser, spa):
    # The server does not know response_type=token, so it answers the usual way (query).
    response = browser.get(token_url(spa))
    result = redirect_params(response)
    assert result["error"] == "unsupported_response_type"
    assert result["state"] == STATE
    assert result["iss"] == ISSUER
    assert not AccessToken.objects.exists()


def test_allowed_on_the_client_but_off_on_the_server_is_unsupported_response_type(browser, spa, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["authorization_code"]}
    assert redirect_params(browser.get(token_url(spa)))["error"] == "unsupported_response_type"


def test_repeated_response_type_is_invalid_request_in_the_query(browser, enabled, spa):
    response = browser.get(authorize_url(spa, response_type=["token", "token"]))
    assert redirect_params(response)["error"] == "invalid_request"


def test_unregistered_redirect_uri_is_never_redirected_to(browser, enabled, spa):
    response = browser.get(token_url(spa, redirect_uri="https://evil.com/callback"))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_unknown_client_gets_the_error_page(browser, enabled, spa):
    response = browser.get(token_url(spa, client_id="unknown"))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_code_flow_still_answers_in_the_query_when_implicit_is_on(browser, enabled, oauth_client):
    response = approve(browser, authorize_url(oauth_client))
    assert urlsplit(response["Location"]).fragment == ""
    assert "code" in redirect_params(response)
    denied = browser.post(authorize_url(oauth_client), {"action": "deny"})
    assert urlsplit(denied["Location"]).fragment == ""
    assert redirect_params(denied)["error"] == "access_denied"


def test_unsupported_method_is_405(browser, enabled, spa):
    assert browser.put(token_url(spa)).status_code == 405
