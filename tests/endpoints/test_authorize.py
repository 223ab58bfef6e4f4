"""The authorization endpoint and consent screen (RFC 6749 §4.1.1-§4.1.2, RFC 7636, RFC 9207)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client as BrowserClient
from django.test import override_settings

from oauth_provider.crypto import hash_secret
from oauth_provider.errors import InsufficientScope, OAuthError, TooManyRequests
from oauth_provider.models import AuthorizationCode, Consent
from oauth_provider.payload import MAX_LENGTHS
from oauth_provider.responses import error_redirect, redirect_with_params
from tests.factories import PASSWORD, ClientFactory, ConsentFactory, PublicClientFactory
from tests.helpers import REDIRECT_URI, authorize_url, pkce_pair, redirect_params

ISSUER = "https://auth.example.com"

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def approve(browser, url):
    return browser.post(url, {"action": "allow"})


# -- before login: client and redirect URI, never redirected ---------------------------------


def test_anonymous_user_is_sent_to_login_and_back(client, oauth_client):
    url = authorize_url(oauth_client)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + quote(url, safe="/")


@pytest.mark.parametrize("client_id", [None, "", "unknown-client"])
def test_unknown_or_missing_client_gets_error_page_before_login(client, oauth_client, client_id):
    response = client.get(authorize_url(oauth_client, client_id=client_id))
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert b"invalid_client" in response.content


def test_inactive_client_gets_error_page(browser):
    inactive = ClientFactory(is_active=False)
    response = browser.get(authorize_url(inactive))
    assert response.status_code == 400
    assert not response.has_header("Location")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT_URI + "/",  # trailing slash
        "https://client.example.com/other",  # different path
        "https://client.example.com:8443/callback",  # port
        "http://client.example.com/callback",  # scheme
        "https://CLIENT.example.com/callback",  # host case
        REDIRECT_URI + "?x=1",  # extra query
        "https://client.example.com.evil.com/callback",  # prefix
        "https://evil.com/callback",
    ],
)
def test_unregistered_redirect_uri_is_never_redirected_to(client, oauth_client, redirect_uri):
    response = client.get(authorize_url(oauth_client, redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert b"redirect URI" in response.content


def test_unregistered_redirect_uri_shows_page_to_signed_in_user_too(browser, oauth_client):
    response = browser.get(authorize_url(oauth_client, redirect_uri="https://evil.com/cb"))
    assert response.status_code == 400
    assert not response.has_header("Location")


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
def test_repeated_client_id_or_redirect_uri_gets_error_page(browser, oauth_client, name):
    value = oauth_client.client_id if name == "client_id" else REDIRECT_URI
    response = browser.get(authorize_url(oauth_client, **{name: [value, value]}))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_redirect_uri_may_be_omitted_when_one_is_registered(browser, oauth_client):
    response = approve(browser, authorize_url(oauth_client, redirect_uri=None))
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert "code" in redirect_params(response)


def test_redirect_uri_is_required_when_several_are_registered(browser):
    app = ClientFactory(redirect_uris=f"{REDIRECT_URI}\nhttps://client.example.com/other")
    response = browser.get(authorize_url(app, redirect_uri=None))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_loopback_redirect_uri_may_use_any_port(browser):
    app = PublicClientFactory()  # registers http://127.0.0.1/callback
    _verifier, challenge = pkce_pair()
    url = authorize_url(
        app,
        redirect_uri="http://127.0.0.1:51234/callback",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    response = approve(browser, url)
    assert response["Location"].startswith("http://127.0.0.1:51234/callback?")


def test_private_use_scheme_redirect_for_native_apps(browser):
    app = PublicClientFactory()
    _verifier, challenge = pkce_pair()
    url = authorize_url(
        app, redirect_uri="com.example.app:/callback", code_challenge=challenge, code_challenge_method="S256"
    )
    response = approve(browser, url)
    assert response.status_code == 302
    assert response["Location"].startswith("com.example.app:/callback?code=")


# -- the consent screen -----------------------------------------------------------------------


def test_consent_screen_names_client_account_and_scopes(browser, oauth_client, user):
    response = browser.get(authorize_url(oauth_client, scope="read write"))
    assert response.status_code == 200
    html = response.content.decode()
    assert oauth_client.name in html
    assert oauth_client.website in html
    assert user.username in html
    assert "Read your data" in html
    assert "Change your data" in html
    assert 'value="allow"' in html
    assert 'value="deny"' in html
    assert "csrfmiddlewaretoken" in html


def test_consent_screen_cannot_be_framed_cached_or_leak_referer(browser, oauth_client):
    response = browser.get(authorize_url(oauth_client))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_consent_post_without_csrf_token_is_refused(user, oauth_client):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(authorize_url(oauth_client), {"action": "allow"})
    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_consent_post_with_csrf_token_succeeds(user, oauth_client):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    url = authorize_url(oauth_client)
    page = browser.get(url)
    token = page.context["csrf_token"]
    # A browser sends the page's Origin with the POST (Referrer-Policy: same-origin keeps it).
    response = browser.post(
        url, {"action": "allow", "csrfmiddlewaretoken": str(token)}, HTTP_ORIGIN="http://testserver"
    )
    assert "code" in redirect_params(response)


def test_approval_redirects_with_code_state_and_iss(browser, oauth_client, user, frozen_clock):
    response = approve(browser, authorize_url(oauth_client, state="s t&a=te"))
    params = redirect_params(response)
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert params["state"] == "s t&a=te"
    assert params["iss"] == ISSUER
    assert params["code"].startswith("opac_")
    code = AuthorizationCode.objects.get()
    assert code.token_hash == hash_secret(params["code"])
    assert (code.client, code.user, code.scope) == (oauth_client, user, "read")
    assert code.expires_at == frozen_clock.current + timedelta(seconds=60)
    assert "no-store" in response["Cache-Control"]


def test_denial_redirects_with_access_denied(browser, oauth_client):
    response = browser.post(authorize_url(oauth_client), {"action": "deny"})
    params = redirect_params(response)
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == "af0ifjsldkj"
    assert params["iss"] == ISSUER
    assert "code" not in params
    assert not AuthorizationCode.objects.exists()


def test_post_without_a_decision_is_a_denial(browser, oauth_client):
    response = browser.post(authorize_url(oauth_client), {})
    assert redirect_params(response)["error"] == "access_denied"


def test_redirect_keeps_registered_query_component(browser):
    app = ClientFactory(redirect_uris="https://client.example.com/cb?tenant=7")
    response = approve(browser, authorize_url(app, redirect_uri="https://client.example.com/cb?tenant=7"))
    params = redirect_params(response)
    assert params["tenant"] == "7"
    assert "code" in params


def test_unsupported_method_is_405(browser, oauth_client):
    assert browser.put(authorize_url(oauth_client)).status_code == 405


# -- redirectable errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code token"}, "unsupported_response_type"),
        ({"scope": "unknown"}, "invalid_scope"),
        ({"scope": "read bad\\scope"}, "invalid_scope"),
        ({"scope": ["read", "write"]}, "invalid_request"),
        ({"response_type": ["code", "code"]}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),  # method without challenge
        ({"scope": "read\x00"}, "invalid_request"),
    ],
)
def test_invalid_request_is_redirected_with_error(browser, oauth_client, params, error):
    response = browser.get(authorize_url(oauth_client, **params))
    result = redirect_params(response)
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert result["error"] == error
    assert result["error_description"]
    assert result["state"] == "af0ifjsldkj"
    assert result["iss"] == ISSUER


def test_non_utf8_parameter_is_invalid_request_not_500(browser, oauth_client):
    response = browser.get(authorize_url(oauth_client) + "&scope=%ff%fe")
    assert redirect_params(response)["error"] == "invalid_request"


def test_repeated_state_is_not_echoed(browser, oauth_client):
    response = browser.get(authorize_url(oauth_client, state=["a", "b"]))
    params = redirect_params(response)
    assert params["error"] == "invalid_request"
    assert "state" not in params


def test_scope_not_allowed_for_client_is_invalid_scope(browser):
    app = ClientFactory(scopes=["read"])
    response = browser.get(authorize_url(app, scope="read write"))
    assert redirect_params(response)["error"] == "invalid_scope"


def test_missing_scope_uses_default_scopes(browser, oauth_client):
    approve(browser, authorize_url(oauth_client, scope=None))
    assert AuthorizationCode.objects.get().scope == "read"


def test_missing_scope_without_defaults_is_invalid_scope(browser, oauth_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "DEFAULT_SCOPES": []}
    response = browser.get(authorize_url(oauth_client, scope=None))
    assert redirect_params(response)["error"] == "invalid_scope"


def test_client_without_code_grant_is_unauthorized_client(browser):
    app = ClientFactory(grant_types=["refresh_token"])
    response = browser.get(authorize_url(app))
    assert redirect_params(response)["error"] == "unauthorized_client"


# -- PKCE (RFC 7636 §4.3-4.4) -------------------------------------------------------------------


@pytest.fixture
def native_app(db):
    return PublicClientFactory(redirect_uris=REDIRECT_URI)


def test_public_client_must_send_code_challenge(browser, native_app):
    response = browser.get(authorize_url(native_app))
    assert redirect_params(response)["error"] == "invalid_request"


def test_public_client_with_s256_challenge_gets_a_code(browser, native_app):
    _verifier, challenge = pkce_pair()
    response = approve(
        browser, authorize_url(native_app, code_challenge=challenge, code_challenge_method="S256")
    )
    assert "code" in redirect_params(response)
    code = AuthorizationCode.objects.get()
    assert (code.code_challenge, code.code_challenge_method) == (challenge, "S256")


@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_only_s256_is_accepted_by_default(browser, native_app, method):
    # RFC 7636 §4.3: a missing method means "plain".
    _verifier, challenge = pkce_pair()
    response = browser.get(authorize_url(native_app, code_challenge=challenge, code_challenge_method=method))
    assert redirect_params(response)["error"] == "invalid_request"


def test_plain_is_accepted_when_enabled(browser, native_app, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "PKCE_CODE_CHALLENGE_METHODS": ["S256", "plain"]}
    verifier, _challenge = pkce_pair()
    response = approve(browser, authorize_url(native_app, code_challenge=verifier))
    assert "code" in redirect_params(response)
    assert AuthorizationCode.objects.get().code_challenge_method == "plain"


@pytest.mark.parametrize("challenge", ["short", "x" * 129, "a" * 42 + "!"])
def test_malformed_code_challenge_is_invalid_request(browser, native_app, challenge):
    response = browser.get(authorize_url(native_app, code_challenge=challenge, code_challenge_method="S256"))
    assert redirect_params(response)["error"] == "invalid_request"


def test_confidential_client_may_skip_pkce_by_default(browser, oauth_client):
    response = approve(browser, authorize_url(oauth_client))
    assert "code" in redirect_params(response)


def test_pkce_can_be_required_for_confidential_clients(browser, oauth_client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS": True}
    response = browser.get(authorize_url(oauth_client))
    assert redirect_params(response)["error"] == "invalid_request"


# -- consent memory and first-party clients -----------------------------------------------------


def test_approval_is_remembered_and_the_screen_skipped_next_time(browser, oauth_client, user):
    approve(browser, authorize_url(oauth_client, scope="read write"))
    assert Consent.objects.get(user=user, client=oauth_client).scopes == ["read", "write"]
    response = browser.get(authorize_url(oauth_client, scope="read"))
    assert "code" in redirect_params(response)


def test_wider_scope_than_consented_shows_the_screen_marking_new_scopes(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read")
    response = browser.get(authorize_url(oauth_client, scope="read write"))
    assert response.status_code == 200
    assert response.context["new_scopes"] == ["write"]
    approve(browser, authorize_url(oauth_client, scope="read write"))
    assert Consent.objects.get(user=user, client=oauth_client).scopes == ["read", "write"]


def test_prompt_consent_forces_the_screen(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read")
    response = browser.get(authorize_url(oauth_client, prompt="consent"))
    assert response.status_code == 200
    assert response.templates[0].name == "oauth_provider/authorize.html"


def test_skip_consent_client_gets_a_code_without_the_screen(browser):
    first_party = ClientFactory(skip_consent=True)
    response = browser.get(authorize_url(first_party))
    assert "code" in redirect_params(response)


@override_settings(LANGUAGE_CODE="en")
def test_error_page_uses_the_overridable_template(client, oauth_client):
    response = client.get(authorize_url(oauth_client, client_id="nope"))
    assert [t.name for t in response.templates][:2] == [
        "oauth_provider/authorize_error.html",
        "oauth_provider/base.html",
    ]


def test_only_the_new_scopes_are_marked_new_on_the_page(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read")
    page = browser.get(authorize_url(oauth_client, scope="read write")).content.decode()
    assert "It now asks for more" in page
    read, write = page.index("Read your data"), page.index("Change your data")
    # "allowed before" sits with read, "new" with write.
    assert page.index("allowed before", read) < write
    assert page.index(">new<", write) > write


def test_prompt_consent_for_nothing_new_does_not_say_it_asks_for_more(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read write")
    response = browser.get(authorize_url(oauth_client, scope="read write", prompt="consent"))
    page = response.content.decode()
    assert response.context["asks_for_more"] is False
    assert "This will allow the app to:" in page
    assert "asks for more" not in page
    assert 'class="badge' not in page


def test_first_request_marks_no_scope(browser, oauth_client):
    page = browser.get(authorize_url(oauth_client, scope="read write")).content.decode()
    assert "This will allow the app to:" in page
    assert 'class="badge' not in page


def test_fewer_scopes_than_consented_skip_the_screen(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read write")
    response = browser.get(authorize_url(oauth_client, scope="write"))
    assert "code" in redirect_params(response)


def test_consent_to_another_client_does_not_count(browser, oauth_client, user):
    ConsentFactory(user=user, client=ClientFactory(), scope="read write")
    assert browser.get(authorize_url(oauth_client, scope="read")).status_code == 200


def test_another_users_consent_does_not_count(browser, oauth_client):
    ConsentFactory(client=oauth_client, scope="read write")
    assert browser.get(authorize_url(oauth_client, scope="read")).status_code == 200


def test_prompt_consent_shows_the_screen_to_a_first_party_client_too(browser):
    first_party = ClientFactory(skip_consent=True)
    assert browser.get(authorize_url(first_party, prompt="consent")).status_code == 200


# -- prompt=none: never a page (OpenID Connect Core §3.1.2.1) ---------------------------------


def test_prompt_none_signed_out_answers_login_required(client, oauth_client):
    response = client.get(authorize_url(oauth_client, prompt="none"))
    params = redirect_params(response)
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert params["error"] == "login_required"
    assert params["state"] == "af0ifjsldkj"
    assert params["iss"] == ISSUER


def test_prompt_none_without_consent_answers_consent_required(browser, oauth_client, user):
    params = redirect_params(browser.get(authorize_url(oauth_client, prompt="none")))
    assert params["error"] == "consent_required"
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.filter(user=user).exists()


def test_prompt_none_with_too_narrow_consent_answers_consent_required(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read")
    params = redirect_params(browser.get(authorize_url(oauth_client, prompt="none", scope="read write")))
    assert params["error"] == "consent_required"


def test_prompt_none_with_consent_issues_a_code_silently(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read write")
    params = redirect_params(browser.get(authorize_url(oauth_client, prompt="none", scope="read")))
    assert AuthorizationCode.objects.get(token_hash=hash_secret(params["code"])).user == user


def test_prompt_none_for_a_first_party_client_issues_a_code(browser):
    first_party = ClientFactory(skip_consent=True)
    assert "code" in redirect_params(browser.get(authorize_url(first_party, prompt="none")))


def test_prompt_none_in_an_implicit_request_answers_in_the_fragment(client, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["authorization_code", "implicit"]}
    spa = PublicClientFactory(grant_types=["implicit"], redirect_uris=REDIRECT_URI)
    response = client.get(authorize_url(spa, response_type="token", prompt="none"))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI + "#error=login_required")


@pytest.mark.parametrize("prompt", ["none consent", "consent none", "login", "none  "])
def test_unsupported_or_combined_prompt_is_invalid_request(browser, oauth_client, prompt):
    assert redirect_params(browser.get(authorize_url(oauth_client, prompt=prompt)))["error"] == (
        "invalid_request"
    )


def test_a_bad_request_is_answered_before_sending_anyone_to_login(client, oauth_client):
    params = redirect_params(client.get(authorize_url(oauth_client, scope="unknown")))
    assert params["error"] == "invalid_scope"


# -- "not you?" ----------------------------------------------------------------------------------


def test_not_you_signs_out_and_comes_back_to_the_same_request(browser, oauth_client, user):
    url = authorize_url(oauth_client, scope="read write")
    page = browser.get(url).content.decode()
    assert 'value="switch_account"' in page
    response = browser.post(url, {"action": "switch_account"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + quote(url, safe="/")
    assert "_auth_user_id" not in browser.session
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.filter(user=user).exists()


# -- input limits: refused before the consent screen and before anything is written ---------------


def assert_nothing_written():
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"], ids=["before_the_consent_screen", "pressing_authorize"])
def test_state_too_long_to_echo_is_told_to_the_user_and_writes_nothing(browser, oauth_client, method):
    """A state the answer must carry but cannot is refused on the error page (no redirect, no code)."""
    url = authorize_url(oauth_client, state="s" * 1025)

    response = browser.get(url) if method == "get" else approve(browser, url)

    assert response.status_code == 400
    assert "The state parameter is longer than 1024 characters." in response.content.decode()
    assert_nothing_written()


def test_state_of_the_longest_length_still_works(browser, oauth_client):
    state = "s" * 1024
    params = redirect_params(approve(browser, authorize_url(oauth_client, state=state)))

    assert params["state"] == state
    assert "code" in params


@pytest.mark.parametrize("method", ["get", "post"], ids=["before_the_consent_screen", "pressing_authorize"])
def test_long_state_that_would_not_fit_a_redirect_is_refused_before_writing(browser, oauth_client, method):
    """The issue's case: Django refuses a redirect over its limit, after the code was minted."""
    url = authorize_url(oauth_client, state="s" * 20000)

    response = browser.get(url) if method == "get" else approve(browser, url)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert_nothing_written()


@pytest.mark.parametrize(
    "name", ["scope", "code_challenge", "code_challenge_method", "response_type", "prompt"]
)
@pytest.mark.parametrize("method", ["get", "post"], ids=["before_the_consent_screen", "pressing_authorize"])
def test_other_parameter_too_long_is_redirected_as_invalid_request(browser, oauth_client, name, method):
    url = authorize_url(oauth_client, **{name: "a" * 1025})

    response = browser.get(url) if method == "get" else approve(browser, url)

    params = redirect_params(response)
    assert params["error"] == "invalid_request"
    assert (
        params["error_description"] == f"The {name} parameter is longer than {MAX_LENGTHS[name]} characters."
    )
    assert params["state"] == "af0ifjsldkj"
    assert_nothing_written()


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
def test_client_id_or_redirect_uri_too_long_gets_the_error_page(browser, oauth_client, name):
    response = browser.get(authorize_url(oauth_client, **{name: "a" * 3000}))

    assert response.status_code == 400
    assert f"The {name} parameter is longer than" in response.content.decode()


@pytest.mark.parametrize("signed_in", [True, False])
def test_request_too_long_to_come_back_from_login_is_redirected_as_invalid_request(
    client, user, oauth_client, signed_in
):
    """Django's login view drops a ``next`` over 2,048 characters: the request would be lost."""
    if signed_in:
        client.force_login(user)
    url = authorize_url(oauth_client, scope="read", x="a" * 2048)

    params = redirect_params(client.get(url))

    assert params["error"] == "invalid_request"
    assert params["error_description"] == "The authorization request is longer than 2048 characters."
    assert_nothing_written()


def test_request_of_the_longest_length_survives_the_login_round_trip(client, user, oauth_client):
    url = authorize_url(oauth_client)
    url += "&x=" + "a" * (2048 - len(url) - 3)
    assert len(url) == 2048

    login = client.get(url)
    response = client.post(login["Location"], {"username": user.username, "password": PASSWORD})

    assert response["Location"] == url


def test_every_answer_to_the_longest_request_fits_in_a_redirect(settings):
    """Within the limits, an answer never exceeds what Django lets a redirect be."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": "https://" + "i" * 240 + ".example"}
    redirect_uri = "https://client.example.com/" + "p" * (MAX_LENGTHS["redirect_uri"] - 27)
    # Every character of the state percent-encoded as four UTF-8 bytes: the longest it can get.
    state = "\U0001f600" * MAX_LENGTHS["state"]
    longest_error = max(
        # Those two need arguments, and neither is ever redirected.
        (
            error_class()
            for error_class in all_subclasses(OAuthError)
            if error_class not in (InsufficientScope, TooManyRequests)
        ),
        key=lambda error: len(error.wire_description()),
    )

    error_redirect(redirect_uri, longest_error, state=state, iss=settings.OAUTH_PROVIDER["ISSUER"])
    redirect_with_params(redirect_uri, {"code": "opac_" + "c" * 43, "state": state, "iss": "i" * 255})


def all_subclasses(cls):
    return {cls, *(sub for child in cls.__subclasses__() for sub in all_subclasses(child))}


def test_a_request_for_other_scopes_than_allowed_before_says_it_asks_for_more(browser, oauth_client, user):
    ConsentFactory(user=user, client=oauth_client, scope="read")
    response = browser.get(authorize_url(oauth_client, scope="write"))
    assert response.context["asks_for_more"] is True
    assert response.context["new_scopes"] == ["write"]
    assert "It now asks for more" in response.content.decode()
