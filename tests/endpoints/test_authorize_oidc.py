"""OpenID Connect authentication requests at the authorization endpoint
(Core 1.0 §3.1.2.1-§3.1.2.6, §5.5, §6): parameters, prompt, max_age,
id_token_hint, login_hint, ui_locales, and the sign-in an approval records."""

import json
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.http import QueryDict
from django.test import Client as Browser
from joserfc import jwt
from joserfc.jwk import RSAKey

from oauth_provider import authentication_requests, signing_keys
from oauth_provider.errors import InvalidRequest
from oauth_provider.login_sessions import AUTH_TIME_SESSION_KEY, SID_SESSION_KEY
from oauth_provider.models import AuthorizationCode, SignIn, Subject
from oauth_provider.payload import MAX_LENGTHS
from oauth_provider.subjects import subject
from tests.factories import PASSWORD, ClientFactory, ConsentFactory, UserFactory
from tests.helpers import REDIRECT_URI, authorize_url, redirect_params, signed_without_typ
from tests.id_token_helpers import ISSUER, NONCE, STATE, enable_openid

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/?next="


@pytest.fixture(autouse=True)
def openid(settings):
    enable_openid(settings)


@pytest.fixture
def app(db):
    return ClientFactory()


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def oidc_url(app, **params):
    return authorize_url(app, **{"scope": "openid", "nonce": NONCE, **params})


def login_location(url, **extra):
    return LOGIN + quote(url, safe="/") + ("&" + urlencode(extra) if extra else "")


def sign_in_with_password(browser, response, user):
    """Fill in the login page a response sent the browser to; return where it goes next."""
    assert response["Location"].startswith(LOGIN), response["Location"]
    done = browser.post(response["Location"], {"username": user.username, "password": PASSWORD})
    assert done.status_code == 302, "the login failed"
    return done["Location"]


def assert_error(response, error):
    """An error redirected to the client in the query, with state and iss (§3.1.2.6, RFC 9207)."""
    params = redirect_params(response)
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert params["error"] == error, params
    assert params["error_description"]
    assert params["state"] == STATE
    assert params["iss"] == ISSUER
    assert "code" not in params
    return params


def id_token_hint(user, app, **overrides):
    """An ID token this server issued to ``app`` about ``user``."""
    claims = {"iss": ISSUER, "sub": subject(user, app), "aud": [app.client_id], "iat": 1, "exp": 2}
    return signing_keys.sign({**claims, **overrides}, "RS256")


# -- the sign-in an approval records --------------------------------------------------------------


def test_approval_records_the_sign_in_of_the_code(browser, app, user):
    claims = {"id_token": {"email": None}, "userinfo": {"name": {"essential": True}}}
    url = oidc_url(app, scope="openid email", claims=json.dumps(claims))

    params = redirect_params(browser.post(url, {"action": "allow"}))

    code = AuthorizationCode.objects.get()
    sign_in = SignIn.objects.get()
    assert params["code"]
    assert sign_in.family_id == code.family_id
    assert (sign_in.client, sign_in.user) == (app, user)
    assert sign_in.sid == browser.session[SID_SESSION_KEY]
    assert int(sign_in.auth_time.timestamp()) == browser.session[AUTH_TIME_SESSION_KEY]
    assert sign_in.nonce == NONCE
    assert sign_in.claims == claims
    # Django does not say how the user authenticated: nothing is claimed.
    assert (sign_in.acr, sign_in.amr) == ("", [])
    # The subject identifier is made with it, for the token endpoint to find.
    assert Subject.objects.filter(user=user).exists()


def test_plain_oauth_request_records_no_sign_in(browser, app):
    url = authorize_url(app, scope="read", nonce="x", claims="not json", request="eyJ", prompt="consent")
    assert "code" in redirect_params(browser.post(url, {"action": "allow"}))
    assert not SignIn.objects.exists()
    assert not Subject.objects.exists()


def test_openid_is_a_plain_scope_when_openid_connect_is_off(settings, browser, app):
    enable_openid(settings, OIDC_ENABLED=False)
    assert "code" in redirect_params(browser.post(oidc_url(app, request="eyJ"), {"action": "allow"}))
    assert not SignIn.objects.exists()
    assert redirect_params(browser.get(oidc_url(app, prompt="login")))["error"] == "invalid_request"


def test_denial_records_no_sign_in(browser, app):
    assert_error(browser.post(oidc_url(app), {"action": "deny"}), "access_denied")
    assert not SignIn.objects.exists()


# -- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        # §6.1-§6.2, §7.2.1: not supported, refused rather than ignored.
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://client.example.com/request.jwt"}, "request_uri_not_supported"),
        (
            {"registration": '{"logo_uri": "https://client.example.com/logo.png"}'},
            "registration_not_supported",
        ),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "1.5"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"max_age": "\u0661"}, "invalid_request"),  # a digit, but not an ASCII one
        ({"display": "fullscreen"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "none select_account"}, "invalid_request"),
        ({"prompt": "relogin"}, "invalid_request"),
        ({"nonce": [NONCE, NONCE]}, "invalid_request"),
    ],
)
def test_bad_or_unsupported_parameter_is_redirected_with_error(browser, app, params, error):
    assert_error(browser.get(oidc_url(app, **params)), error)
    assert not SignIn.objects.exists()


@pytest.mark.parametrize(
    "claims",
    [
        "{not json",
        "[]",
        '"id_token"',
        '{"id_token": []}',
        '{"userinfo": {"email": true}}',
        '{"id_token": {"email": {"essential": "yes"}}}',
        '{"id_token": {"email": {"values": "a"}}}',
        '{"id_token": {"email": {"value": NaN}}}',
        '{"id_token": {"email": {"value": "a\\u0000b"}}}',
        '{"id_token": {"sub": {"value": 42}}}',
        # Numbers too large for a double parse as infinity, which no database stores as JSON.
        '{"id_token": {"email": {"value": 1e999}}}',
        '{"userinfo": {"email": {"values": [-1e999]}}}',
        # Lone surrogates: valid JSON escapes, but no Unicode text (PostgreSQL refuses them).
        '{"id_token": {"email": {"value": "\\ud800"}}}',
        '{"userinfo": {"\\udfff": null}}',
    ],
)
def test_invalid_claims_parameter_is_invalid_request(browser, app, claims):
    params = assert_error(browser.get(oidc_url(app, claims=claims)), "invalid_request")
    assert params["error_description"] == (
        "The claims parameter is not a valid claims request (OpenID Connect Core section 5.5)."
    )


def test_claims_nested_deeper_than_python_parses_is_invalid_request(app):
    """Within its length limit (the request's own limit aside), JSON can nest too deep to parse."""
    query = QueryDict(mutable=True)
    query["claims"] = "[" * 1024 + "]" * 1024
    with pytest.raises(InvalidRequest):
        authentication_requests.parse(query, client=app, response_types=frozenset({"code"}), issuer=ISSUER)


def test_claims_nested_deep_within_the_request_length_is_invalid_request(browser, app):
    """Brackets sent unencoded keep 500 levels of nesting within the request's
    2,048 characters: deep enough to exhaust the stack of a recursive walk."""
    claims = '{"id_token":{"email":{"value":' + "[" * 500 + "]" * 500 + "}}}"
    query = urlsplit(oidc_url(app)).query + "&claims=" + quote(claims, safe="[]")
    assert_error(browser.get("/o/authorize/", QUERY_STRING=query), "invalid_request")


def test_claims_value_that_is_an_object_is_accepted(browser, app):
    claims = '{"userinfo": {"address": {"value": {"country": "FR", "locality": ["Paris"]}}}}'
    redirect_params(browser.post(oidc_url(app, claims=claims), {"action": "allow"}))
    assert SignIn.objects.get().claims == json.loads(claims)


def test_claims_parameter_with_unknown_members_is_accepted(browser, app):
    claims = '{"id_token": {"email": null, "x-custom": {"essential": false}}, "other": 1}'
    redirect_params(browser.post(oidc_url(app, claims=claims), {"action": "allow"}))
    assert SignIn.objects.get().claims == {"id_token": {"email": None, "x-custom": {"essential": False}}}


def test_an_empty_claims_request_is_no_request(browser, app):
    redirect_params(browser.post(oidc_url(app, claims="{}"), {"action": "allow"}))
    assert SignIn.objects.get().claims is None


@pytest.mark.parametrize("display", ["page", "popup", "touch", "wap"])
def test_display_values_are_accepted(browser, app, display):
    assert browser.get(oidc_url(app, display=display)).status_code == 200


def test_acr_values_are_accepted_and_no_acr_is_claimed(browser, app):
    redirect_params(
        browser.post(oidc_url(app, acr_values="urn:mace:incommon:iap:silver"), {"action": "allow"})
    )
    assert SignIn.objects.get().acr == ""


@pytest.mark.parametrize(
    "name", ["nonce", "max_age", "login_hint", "ui_locales", "display", "acr_values", "request_uri"]
)
def test_parameter_too_long_is_invalid_request(browser, app, name):
    response = browser.get(oidc_url(app, **{name: "a" * (MAX_LENGTHS[name] + 1)}))
    params = assert_error(response, "invalid_request")
    assert (
        params["error_description"] == f"The {name} parameter is longer than {MAX_LENGTHS[name]} characters."
    )


@pytest.mark.parametrize("name", ["id_token_hint", "claims", "request", "registration"])
def test_parameters_as_long_as_a_request_are_bounded_by_its_length(browser, app, name):
    """Their limit is the whole request's: a longer one is refused before being read."""
    response = browser.get(oidc_url(app, **{name: "a" * MAX_LENGTHS[name]}))
    params = assert_error(response, "invalid_request")
    assert params["error_description"] == "The authorization request is longer than 2048 characters."


# -- prompt=login and max_age: a fresh login, and back to the same request ----------------------------


def test_prompt_login_sends_a_signed_in_user_through_a_fresh_login_and_back(browser, app, user, frozen_clock):
    url = oidc_url(app, prompt="login")

    response = browser.get(url)

    assert response["Location"] == login_location(url)
    # Signed in still: the login page is shown again, nobody is signed out.
    assert browser.session["_auth_user_id"] == str(user.pk)
    frozen_clock.advance(minutes=3)
    assert sign_in_with_password(browser, response, user) == url
    # Back: the consent screen, not the login page again.
    assert browser.get(url).status_code == 200
    assert "code" in redirect_params(browser.post(url, {"action": "allow"}))
    assert SignIn.objects.get().auth_time == frozen_clock.current.replace(microsecond=0)


def test_prompt_login_for_a_first_party_client_issues_the_code_after_the_login(client, user):
    first_party = ClientFactory(skip_consent=True)
    url = oidc_url(first_party, prompt="login")

    back = sign_in_with_password(client, client.get(url), user)

    assert "code" in redirect_params(client.get(back))


def test_prompt_login_is_not_satisfied_by_the_login_before_it(browser, app, user):
    """Another tab's request: the same login session does not count."""
    url = oidc_url(app, prompt="login")
    browser.get(url)
    assert browser.get(url)["Location"] == login_location(url)


def test_once_answered_the_same_request_needs_its_own_login(browser, app, user):
    url = oidc_url(app, prompt="login")
    sign_in_with_password(browser, browser.get(url), user)
    redirect_params(browser.post(url, {"action": "allow"}))

    assert browser.get(url)["Location"] == login_location(url)


def test_once_denied_the_same_request_needs_its_own_login(browser, app, user):
    url = oidc_url(app, prompt="login")
    sign_in_with_password(browser, browser.get(url), user)
    assert_error(browser.post(url, {"action": "deny"}), "access_denied")

    assert browser.get(url)["Location"] == login_location(url)


def test_the_session_remembers_only_the_latest_demands(browser, app):
    for number in range(authentication_requests.MAX_REMEMBERED_DEMANDS + 5):
        browser.get(oidc_url(app, prompt="login", state=str(number)))
    demands = browser.session[authentication_requests.DEMANDS_SESSION_KEY]
    assert len(demands) == authentication_requests.MAX_REMEMBERED_DEMANDS


def test_prompt_login_from_a_signed_out_user_signs_in_once(client, app, user):
    url = oidc_url(app, prompt="login")
    assert sign_in_with_password(client, client.get(url), user) == url
    assert client.get(url).status_code == 200


def test_prompt_login_with_consent_shows_the_screen_after_the_login(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    url = oidc_url(app, prompt="login consent")
    sign_in_with_password(browser, browser.get(url), user)
    assert browser.get(url).status_code == 200


def test_not_you_during_prompt_login_needs_one_login(browser, app, user):
    other = UserFactory()
    url = oidc_url(app, prompt="login")
    sign_in_with_password(browser, browser.get(url), user)

    response = browser.post(url, {"action": "switch_account"})

    assert "_auth_user_id" not in browser.session
    assert sign_in_with_password(browser, response, other) == url
    assert browser.get(url).status_code == 200
    redirect_params(browser.post(url, {"action": "allow"}))
    assert SignIn.objects.get().user == other


def test_max_age_passed_sends_the_user_through_a_fresh_login(frozen_clock, browser, app, user):
    frozen_clock.advance(seconds=602)
    url = oidc_url(app, max_age="600")

    response = browser.get(url)

    assert response["Location"] == login_location(url)
    assert sign_in_with_password(browser, response, user) == url
    assert browser.get(url).status_code == 200


def test_max_age_not_passed_goes_on(frozen_clock, browser, app):
    frozen_clock.advance(seconds=599)
    assert browser.get(oidc_url(app, max_age="601")).status_code == 200


def test_max_age_zero_asks_every_time_and_never_loops(frozen_clock, browser, app, user):
    url = oidc_url(app, max_age="0")

    response = browser.get(url)

    assert response["Location"] == login_location(url)
    # Back in the same second as the login: still not sent to log in again.
    sign_in_with_password(browser, response, user)
    assert browser.get(url).status_code == 200


def test_prompt_none_when_max_age_has_passed_is_login_required(frozen_clock, browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    frozen_clock.advance(seconds=62)
    assert_error(browser.get(oidc_url(app, prompt="none", max_age="60")), "login_required")


def test_prompt_none_within_max_age_issues_the_code(frozen_clock, browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    frozen_clock.advance(seconds=30)
    assert "code" in redirect_params(browser.get(oidc_url(app, prompt="none", max_age="60")))


def test_prompt_none_signed_out_is_login_required(client, app):
    assert_error(client.get(oidc_url(app, prompt="none")), "login_required")


def test_prompt_none_without_consent_is_consent_required(browser, app):
    assert_error(browser.get(oidc_url(app, prompt="none")), "consent_required")


# -- select_account -----------------------------------------------------------------------------


def test_select_account_shows_the_signed_in_account_despite_earlier_consent(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")

    response = browser.get(oidc_url(app, prompt="select_account"))

    assert response.status_code == 200
    html = response.content.decode()
    assert user.username in html
    assert 'value="switch_account"' in html


def test_select_account_shows_the_screen_for_a_first_party_client_too(browser):
    assert browser.get(oidc_url(ClientFactory(skip_consent=True), prompt="select_account")).status_code == 200


def test_select_account_lets_the_user_sign_in_as_another_account(browser, app):
    other = UserFactory()
    url = oidc_url(app, prompt="select_account")

    response = browser.post(url, {"action": "switch_account"})

    assert sign_in_with_password(browser, response, other) == url
    redirect_params(browser.post(url, {"action": "allow"}))
    assert SignIn.objects.get().user == other


# -- id_token_hint and a required sub -------------------------------------------------------------


def test_hint_naming_the_signed_in_user_goes_on_even_expired(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    url = oidc_url(app, prompt="none", id_token_hint=id_token_hint(user, app, exp=2))
    assert "code" in redirect_params(browser.get(url))


def test_hint_naming_another_user_with_prompt_none_is_login_required(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")

    response = browser.get(oidc_url(app, prompt="none", id_token_hint=id_token_hint(UserFactory(), app)))

    assert_error(response, "login_required")
    assert browser.session["_auth_user_id"] == str(user.pk)


def test_hint_naming_another_user_asks_for_that_account(browser, app, user):
    other = UserFactory()
    url = oidc_url(app, id_token_hint=id_token_hint(other, app))

    response = browser.get(url)

    assert response["Location"] == login_location(url)
    assert sign_in_with_password(browser, response, other) == url
    redirect_params(browser.post(url, {"action": "allow"}))
    assert SignIn.objects.get().user == other


@pytest.mark.parametrize("requirement", ["id_token_hint", "claims"])
def test_a_link_naming_another_user_signs_no_one_out(browser, app, user, requirement):
    """Any site can link to the authorization endpoint, with any client's
    registered redirect URI and a claims request naming some other sub: a
    GET that signed the user out (ending their sessions with every client)
    would be logout CSRF. The session ends only when another account signs in."""
    other = UserFactory()
    if requirement == "claims":
        params = {"claims": json.dumps({"id_token": {"sub": {"value": "someone-else"}}})}
    else:
        params = {"id_token_hint": id_token_hint(other, app)}

    response = browser.get(oidc_url(app, **params))

    assert response["Location"].startswith(LOGIN)
    assert browser.session["_auth_user_id"] == str(user.pk)


def test_hint_with_a_signed_out_user_and_prompt_none_is_login_required(client, app, user):
    assert_error(
        client.get(oidc_url(app, prompt="none", id_token_hint=id_token_hint(user, app))), "login_required"
    )


def test_hint_of_a_pairwise_client_names_the_user_by_its_sub(browser, user):
    pairwise = ClientFactory(subject_type="pairwise")
    ConsentFactory(user=user, client=pairwise, scope="openid")
    url = oidc_url(pairwise, prompt="none", id_token_hint=id_token_hint(user, pairwise))
    assert "code" in redirect_params(browser.get(url))


def foreign_token(user, app):
    key = RSAKey.generate_key(2048, parameters={"kid": "foreign"})
    claims = {"iss": ISSUER, "sub": subject(user, app), "aud": [app.client_id]}
    return jwt.encode({"alg": "RS256", "kid": "foreign"}, claims, key)


@pytest.mark.parametrize(
    "make_hint",
    [
        lambda user, app: "not-a-jwt",
        lambda user, app: id_token_hint(user, app, aud=[ClientFactory().client_id]),
        lambda user, app: id_token_hint(user, app, aud=None),
        lambda user, app: id_token_hint(user, app, iss="https://other.example"),
        lambda user, app: id_token_hint(user, app, sub=None),
        lambda user, app: id_token_hint(user, app, aud=[app.client_id, 7]),
        lambda user, app: signing_keys.sign(
            {"iss": ISSUER, "sub": subject(user, app), "aud": app.client_id}, "RS256", typ="logout+jwt"
        ),
        lambda user, app: signed_without_typ(
            {"iss": ISSUER, "sub": subject(user, app), "aud": app.client_id}
        ),
        foreign_token,
    ],
    ids=[
        "garbage",
        "other-client",
        "no-aud",
        "other-issuer",
        "no-sub",
        "aud-not-strings",
        "logout-token",
        "no-typ",
        "foreign-key",
    ],
)
def test_hint_that_is_not_our_id_token_for_this_client_is_invalid_request(browser, app, user, make_hint):
    params = assert_error(browser.get(oidc_url(app, id_token_hint=make_hint(user, app))), "invalid_request")
    assert (
        params["error_description"]
        == "The id_token_hint is not an ID token this server issued to this client."
    )


def test_hint_with_aud_as_a_string_is_accepted(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    url = oidc_url(app, prompt="none", id_token_hint=id_token_hint(user, app, aud=app.client_id))
    assert "code" in redirect_params(browser.get(url))


def test_claims_requiring_another_sub_with_prompt_none_is_login_required(browser, app, user):
    """§5.5.1: never an ID token for another user than the sub asked for."""
    ConsentFactory(user=user, client=app, scope="openid")
    claims = json.dumps({"id_token": {"sub": {"value": subject(UserFactory(), app)}}})
    assert_error(browser.get(oidc_url(app, prompt="none", claims=claims)), "login_required")


def test_claims_requiring_the_signed_in_users_sub_goes_on(browser, app, user):
    ConsentFactory(user=user, client=app, scope="openid")
    claims = json.dumps({"id_token": {"sub": {"value": subject(user, app)}}})
    assert "code" in redirect_params(browser.get(oidc_url(app, prompt="none", claims=claims)))


def test_claims_sub_and_hint_disagreeing_is_invalid_request(browser, app, user):
    claims = json.dumps({"id_token": {"sub": {"value": "someone-else"}}})
    url = oidc_url(app, claims=claims, id_token_hint=id_token_hint(user, app))
    assert_error(browser.get(url), "invalid_request")


# -- login_hint ---------------------------------------------------------------------------------


def test_login_hint_goes_to_the_login_page(client, app):
    url = oidc_url(app, login_hint="ada@example.com")
    assert client.get(url)["Location"] == login_location(url, login_hint="ada@example.com")


def test_login_hint_goes_along_to_a_fresh_login(browser, app):
    url = oidc_url(app, prompt="login", login_hint="ada@example.com")
    assert browser.get(url)["Location"] == login_location(url, login_hint="ada@example.com")


def test_plain_oauth_request_passes_no_login_hint(client, app):
    url = authorize_url(app, login_hint="ada@example.com")
    assert client.get(url)["Location"] == login_location(url)


# -- ui_locales ---------------------------------------------------------------------------------


def test_consent_screen_in_the_first_ui_locale_the_site_offers(browser, app):
    response = browser.get(oidc_url(app, ui_locales="tlh fr-CA en"))

    html = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr"' in html
    assert "Autoriser" in html
    # The user's own language is left alone: no cookie, nothing kept for the next page.
    assert "django_language" not in response.cookies
    after = browser.get(oidc_url(app))
    assert '<html lang="fr"' not in after.content.decode()
    assert "Authorize" in after.content.decode()


def test_ui_locales_the_site_does_not_offer_leave_the_users_language(browser, app):
    response = browser.get(oidc_url(app, ui_locales="tlh"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "fr"
    assert "Autoriser" in response.content.decode()


def test_ui_locales_override_accept_language(browser, app):
    response = browser.get(oidc_url(app, ui_locales="en"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "en"
    assert "Authorize" in response.content.decode()


# -- response types that need openid ---------------------------------------------------------------


def test_id_token_response_type_without_implicit_is_unsupported(browser, app):
    params = redirect_params(browser.get(oidc_url(app, response_type="id_token")))
    assert params["error"] == "unsupported_response_type"


# -- the request sent by POST (Core §3.1.2.1) ------------------------------------------------


def test_request_posted_from_the_clients_site_becomes_the_same_get(app, user):
    """Core §3.1.2.1: "Authorization Servers MUST support the use of the HTTP
    GET and POST methods". The client's form has no CSRF token of ours."""
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(user)
    posted = urlsplit(oidc_url(app)).query

    response = browser.post("/o/authorize/", posted, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 303
    location = urlsplit(response["Location"])
    assert location.path == "/o/authorize/"
    assert QueryDict(location.query) == QueryDict(posted)
    consent = browser.get(response["Location"])
    assert consent.status_code == 200 and b'value="allow"' in consent.content


def test_the_consent_decision_still_needs_the_csrf_token(app, user):
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(oidc_url(app), {"action": "allow"})

    assert response.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_authentication_request_without_redirect_uri_is_invalid_request(browser, app):
    """Core §3.1.2.1: redirect_uri is REQUIRED, even for a client with one
    registered URI (which RFC 6749 §3.1.2.3 lets plain OAuth requests omit)."""
    response = browser.get(oidc_url(app, redirect_uri=None))

    params = assert_error(response, "invalid_request")
    assert "redirect_uri" in params["error_description"]
    assert not SignIn.objects.exists()


def test_plain_oauth_request_may_still_omit_the_redirect_uri(browser, app):
    response = browser.post(authorize_url(app, redirect_uri=None), {"action": "allow"})

    assert "code" in redirect_params(response)
