"""RP-Initiated Logout 1.0 at /o/logout/: every parameter, the confirmation
page that stops logout CSRF, and errors shown, never redirected."""

import base64
import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client as BrowserClient
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from oauth_provider.login_sessions import SID_SESSION_KEY
from oauth_provider.payload import MAX_LENGTHS
from oauth_provider.subjects import subject
from tests.factories import ClientFactory, PublicClientFactory, UserFactory
from tests.helpers import hidden_fields, signed_id_token, signed_without_typ

pytestmark = pytest.mark.django_db

LOGOUT = "/o/logout/"
BYE = "https://client.example.com/bye"
ORIGIN = "http://testserver"


@pytest.fixture
def app():
    return ClientFactory(post_logout_redirect_uris=f"{BYE}\nhttp://127.0.0.1/bye")


@pytest.fixture
def browser(client, user):
    """A browser signed in as ``user``."""
    client.force_login(user)
    return client


def session_sid(browser):
    return browser.session[SID_SESSION_KEY]


def hint(browser, app, user, **claims):
    """An ID token issued to ``app`` in the browser's session."""
    return signed_id_token(app, user, **{"sid": session_sid(browser), **claims})


def signed_in(browser):
    return SESSION_KEY in browser.session


def logout_url(**params):
    return LOGOUT + "?" + urlencode({k: v for k, v in params.items() if v is not None})


# -- A hint for this session: signed out at once ---------------------------------------------------


def test_hint_for_this_session_signs_out_and_redirects_with_state(browser, app, user):
    response = browser.get(
        logout_url(id_token_hint=hint(browser, app, user), post_logout_redirect_uri=BYE, state="af0ifjsldkj")
    )

    assert response.status_code == 302
    assert response["Location"] == f"{BYE}?state=af0ifjsldkj"
    assert "no-store" in response["Cache-Control"]
    assert not signed_in(browser)


def test_redirect_without_state_carries_none(browser, app, user):
    response = browser.get(logout_url(id_token_hint=hint(browser, app, user), post_logout_redirect_uri=BYE))

    assert response["Location"] == BYE


def test_redirect_keeps_the_registered_query(browser, user):
    app = ClientFactory(post_logout_redirect_uris=f"{BYE}?from=op")

    response = browser.get(
        logout_url(
            id_token_hint=hint(browser, app, user), post_logout_redirect_uri=f"{BYE}?from=op", state="s"
        )
    )

    assert response["Location"] == f"{BYE}?from=op&state=s"


def test_hint_without_redirect_shows_the_signed_out_page(browser, app, user):
    response = browser.get(logout_url(id_token_hint=hint(browser, app, user)))

    assert response.status_code == 200
    assert "oauth_provider/logged_out.html" in [t.name for t in response.templates]
    assert "You have signed out" in response.content.decode()
    assert not signed_in(browser)


def test_logout_request_may_be_posted_by_the_client_without_a_csrf_token(user, app):
    """§2: "OPs MUST support the use of the HTTP GET and POST methods": a
    client's POST comes from its own site, without this site's CSRF token."""
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(
        LOGOUT,
        {"id_token_hint": hint(browser, app, user), "post_logout_redirect_uri": BYE, "state": "xyz"},
        HTTP_ORIGIN="https://client.example.com",
    )

    assert response["Location"] == f"{BYE}?state=xyz"
    assert not signed_in(browser)


def test_expired_hint_is_accepted(browser, app, user, frozen_clock):
    token = hint(browser, app, user)
    frozen_clock.advance(days=2)

    response = browser.get(logout_url(id_token_hint=token, post_logout_redirect_uri=BYE))

    assert response["Location"] == BYE
    assert not signed_in(browser)


def test_hint_without_sid_ties_by_the_users_sub(browser, app, user):
    token = signed_id_token(app, user)

    browser.get(logout_url(id_token_hint=token))

    assert not signed_in(browser)


def test_client_id_matching_the_hint_is_accepted(browser, app, user):
    response = browser.get(
        logout_url(
            id_token_hint=hint(browser, app, user), client_id=app.client_id, post_logout_redirect_uri=BYE
        )
    )

    assert response["Location"] == BYE


def test_hint_for_several_audiences_names_its_client_in_azp(browser, app, user):
    token = hint(browser, app, user, aud=[app.client_id, "https://api.example.com"], azp=app.client_id)

    response = browser.get(logout_url(id_token_hint=token, post_logout_redirect_uri=BYE))

    assert response["Location"] == BYE


def test_loopback_post_logout_redirect_uri_may_use_any_port(browser, app, user):
    """The same matching as redirect URIs (RFC 8252 §7.3)."""
    response = browser.get(
        logout_url(
            id_token_hint=hint(browser, app, user), post_logout_redirect_uri="http://127.0.0.1:5173/bye"
        )
    )

    assert response["Location"] == "http://127.0.0.1:5173/bye"


def test_native_app_post_logout_redirect_uri(browser, user):
    app = PublicClientFactory(post_logout_redirect_uris="com.example.app:/signed-out")

    response = browser.get(
        logout_url(
            id_token_hint=hint(browser, app, user),
            post_logout_redirect_uri="com.example.app:/signed-out",
            state="s",
        )
    )

    assert response["Location"] == "com.example.app:/signed-out?state=s"


def test_hint_with_the_algorithm_the_client_chose(browser, user):
    app = ClientFactory(id_token_signed_response_alg="ES256", post_logout_redirect_uris=BYE)

    response = browser.get(logout_url(id_token_hint=hint(browser, app, user), post_logout_redirect_uri=BYE))

    assert response["Location"] == BYE


# -- Not tied to this session: the user is asked --------------------------------------------------


def test_without_a_hint_the_user_is_asked_first(browser, app, user):
    response = browser.get(logout_url(client_id=app.client_id, post_logout_redirect_uri=BYE, state="s"))

    assert response.status_code == 200
    assert "oauth_provider/logout_confirm.html" in [t.name for t in response.templates]
    assert signed_in(browser)
    html = response.content.decode()
    assert f"<bdi>{app.name}</bdi>" in html
    assert user.username in html


def test_confirming_signs_out_and_redirects_with_state(browser, app, user):
    page = browser.get(logout_url(client_id=app.client_id, post_logout_redirect_uri=BYE, state="s"))
    fields = hidden_fields(page)
    assert fields["client_id"] == [app.client_id]
    assert fields["post_logout_redirect_uri"] == [BYE]
    assert fields["state"] == ["s"]

    response = browser.post(LOGOUT, {**fields, "action": "logout"})

    assert response["Location"] == f"{BYE}?state=s"
    assert not signed_in(browser)


def test_confirming_without_a_redirect_shows_the_signed_out_page(browser):
    page = browser.get(LOGOUT)

    response = browser.post(LOGOUT, {**hidden_fields(page), "action": "logout"})

    assert "oauth_provider/logged_out.html" in [t.name for t in response.templates]
    assert not signed_in(browser)


def test_the_confirmation_page_names_no_client_when_none_is_known(browser):
    response = browser.get(LOGOUT)

    assert response.context["client"] is None
    assert "Do you want to sign out?" in response.content.decode()


def test_the_confirmation_form_carries_the_client_not_the_hint(browser, app, user):
    other_session_hint = signed_id_token(app, user, sid="another-session")

    page = browser.get(logout_url(id_token_hint=other_session_hint, post_logout_redirect_uri=BYE))

    fields = hidden_fields(page)
    assert "id_token_hint" not in fields
    assert fields["client_id"] == [app.client_id]
    assert other_session_hint not in page.content.decode()


def test_hint_from_before_the_user_signed_in_again_in_this_session_signs_out_at_once(browser, app, user):
    """A fresh login (prompt=login, max_age) starts a new sid, but it is the
    same browser session and the same user."""
    earlier = hint(browser, app, user)
    browser.force_login(user)

    response = browser.get(logout_url(id_token_hint=earlier, post_logout_redirect_uri=BYE))

    assert response["Location"] == BYE
    assert not signed_in(browser)


def test_hint_from_another_session_asks_first(browser, app, user):
    response = browser.get(logout_url(id_token_hint=signed_id_token(app, user, sid="another-session")))

    assert "oauth_provider/logout_confirm.html" in [t.name for t in response.templates]
    assert signed_in(browser)


def test_hint_for_another_user_in_this_session_asks_first(browser, app, user):
    token = signed_id_token(app, UserFactory(), sid=session_sid(browser))

    response = browser.get(logout_url(id_token_hint=token))

    assert "oauth_provider/logout_confirm.html" in [t.name for t in response.templates]
    assert signed_in(browser)


def test_hint_without_sid_for_another_user_asks_first(browser, app):
    response = browser.get(logout_url(id_token_hint=signed_id_token(app, UserFactory())))

    assert "oauth_provider/logout_confirm.html" in [t.name for t in response.templates]


def test_hint_of_a_deleted_client_is_tied_by_sid_alone(browser, app, user):
    with_sid, without_sid = hint(browser, app, user), signed_id_token(app, user)
    app.delete()

    assert "oauth_provider/logout_confirm.html" in [
        t.name for t in browser.get(logout_url(id_token_hint=without_sid)).templates
    ]
    browser.get(logout_url(id_token_hint=with_sid))
    assert not signed_in(browser)


def test_a_deleted_clients_hint_cannot_ask_for_a_redirect(browser, app, user):
    token = hint(browser, app, user)
    app.delete()

    response = browser.get(logout_url(id_token_hint=token, post_logout_redirect_uri=BYE))

    assert response.status_code == 400
    assert signed_in(browser)


# -- Logout CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def strict_browser(user):
    """A browser whose POSTs Django's CSRF check really checks."""
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def test_confirmation_without_the_csrf_token_is_refused(strict_browser):
    response = strict_browser.post(LOGOUT, {"action": "logout"}, HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 403
    assert signed_in(strict_browser)


def test_confirmation_from_another_site_is_refused(strict_browser):
    page = strict_browser.get(LOGOUT)

    response = strict_browser.post(
        LOGOUT, {**hidden_fields(page), "action": "logout"}, HTTP_ORIGIN="https://evil.example"
    )

    assert response.status_code == 403
    assert signed_in(strict_browser)


def test_confirmation_from_the_page_is_accepted(strict_browser):
    page = strict_browser.get(LOGOUT)
    assert "csrftoken" in page.cookies

    response = strict_browser.post(
        LOGOUT, {**hidden_fields(page), "action": "logout"}, HTTP_ORIGIN=ORIGIN, HTTP_REFERER=ORIGIN + LOGOUT
    )

    assert response.status_code == 200
    assert not signed_in(strict_browser)


def test_a_posted_logout_request_without_a_hint_asks_first(strict_browser, app):
    response = strict_browser.post(
        LOGOUT, {"client_id": app.client_id}, HTTP_ORIGIN="https://client.example.com"
    )

    assert response.status_code == 200
    assert "oauth_provider/logout_confirm.html" in [t.name for t in response.templates]
    assert signed_in(strict_browser)


def test_the_confirmation_page_is_unframeable_uncached_and_keeps_referers(browser):
    response = browser.get(LOGOUT)

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_the_confirmed_logout_is_validated_again(browser, app):
    """The form's values are not trusted: a changed redirect is refused."""
    page = browser.get(logout_url(client_id=app.client_id, post_logout_redirect_uri=BYE))
    fields = {**hidden_fields(page), "post_logout_redirect_uri": "https://evil.example/"}

    response = browser.post(LOGOUT, {**fields, "action": "logout"})

    assert response.status_code == 400
    assert signed_in(browser)


# -- Errors: shown to the user, never redirected ---------------------------------------------------


def assert_refused(response, browser, text=None):
    assert response.status_code == 400
    assert "Location" not in response
    assert signed_in(browser)
    if text is not None:
        assert text in response.content.decode()


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/bye",
        f"{BYE}/",
        f"{BYE}?next=https://evil.example/",
        "https://CLIENT.example.com/bye",
        "https://client.example.com/callback",  # a redirect URI, not a post-logout one
    ],
)
def test_unregistered_post_logout_redirect_uri_is_refused(browser, app, user, uri):
    response = browser.get(logout_url(id_token_hint=hint(browser, app, user), post_logout_redirect_uri=uri))

    assert_refused(response, browser, "The post_logout_redirect_uri is not registered for this client.")


def test_post_logout_redirect_uri_without_a_client_is_refused(browser):
    response = browser.get(logout_url(post_logout_redirect_uri=BYE))

    assert_refused(response, browser, "A post_logout_redirect_uri needs an id_token_hint or a client_id.")


def test_client_id_that_is_not_the_hints_audience_is_refused(browser, app, user):
    other = ClientFactory(post_logout_redirect_uris=BYE)

    response = browser.get(
        logout_url(
            id_token_hint=hint(browser, app, user), client_id=other.client_id, post_logout_redirect_uri=BYE
        )
    )

    assert_refused(response, browser, "The client_id is not an audience of the id_token_hint.")


def test_unknown_client_id_is_refused(browser):
    assert_refused(browser.get(logout_url(client_id="nobody")), browser, "The client is unknown.")


def test_inactive_client_gets_no_redirect_and_no_name(browser, app, user):
    app.is_active = False
    app.save()

    refused = browser.get(logout_url(client_id=app.client_id, post_logout_redirect_uri=BYE))
    assert_refused(refused, browser)
    asked = browser.get(logout_url(client_id=app.client_id))
    assert asked.context["client"] is None


def test_client_under_review_redirects_only_to_approved_uris(browser, app, user):
    app.approved_values = app.reviewed_values()
    app.post_logout_redirect_uris = "https://client.example.com/new-bye"
    app.awaiting_approval = True
    app.save()

    refused = browser.get(
        logout_url(
            id_token_hint=hint(browser, app, user),
            post_logout_redirect_uri="https://client.example.com/new-bye",
        )
    )
    assert_refused(refused, browser)
    approved = browser.get(logout_url(id_token_hint=hint(browser, app, user), post_logout_redirect_uri=BYE))
    assert approved["Location"] == BYE


def foreign_rsa_token(app, user):
    key = RSAKey.generate_key(2048, private=True)
    return jwt.encode(
        {"alg": "RS256"}, {"iss": "https://auth.example.com", "sub": "x", "aud": app.client_id}, key
    )


def unsigned_token(app):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part({'iss': 'https://auth.example.com', 'aud': app.client_id})}."


@pytest.mark.parametrize(
    "make_hint",
    [
        lambda browser, app, user: "garbage",
        lambda browser, app, user: "a.b.c",
        lambda browser, app, user: "....",
        lambda browser, app, user: "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        lambda browser, app, user: unsigned_token(app),
        lambda browser, app, user: foreign_rsa_token(app, user),
        lambda browser, app, user: jwt.encode(
            {"alg": "HS256"}, {"iss": "https://auth.example.com"}, OctKey.generate_key(256)
        ),
        # Signed here, but not an ID token of this issuer.
        lambda browser, app, user: hint(browser, app, user, iss="https://other.example.com"),
        lambda browser, app, user: hint(browser, app, user, typ="logout+jwt"),
        lambda browser, app, user: signed_without_typ(
            {"iss": "https://auth.example.com", "sub": subject(user, app), "aud": app.client_id}
        ),
        lambda browser, app, user: hint(browser, app, user, aud=None),
        lambda browser, app, user: hint(browser, app, user, aud=[]),
        lambda browser, app, user: hint(browser, app, user, aud=7),
        lambda browser, app, user: hint(browser, app, user, sub=None),
        lambda browser, app, user: hint(browser, app, user, sub=["x"]),
    ],
    ids=[
        "garbage",
        "three-dots",
        "empty-parts",
        "not-json",
        "alg-none",
        "foreign-key",
        "hmac",
        "foreign-issuer",
        "logout-token",
        "no-typ",
        "no-aud",
        "empty-aud",
        "number-aud",
        "no-sub",
        "list-sub",
    ],
)
def test_invalid_hint_is_refused(browser, app, user, make_hint):
    response = browser.get(
        logout_url(id_token_hint=make_hint(browser, app, user), post_logout_redirect_uri=BYE)
    )

    assert_refused(response, browser, "The id_token_hint is not an ID token issued by this server.")


def test_hint_with_odd_claims_is_no_500(browser, app, user):
    """A sid that is not a string ties nothing: the user is asked."""
    response = browser.get(logout_url(id_token_hint=hint(browser, app, user, sid={"a": 1})))

    assert response.status_code == 200
    assert signed_in(browser)


@pytest.mark.parametrize(
    "name", ["id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"]
)
def test_parameter_over_its_limit_is_refused(browser, name):
    response = browser.get(logout_url(**{name: "a" * (MAX_LENGTHS[name] + 1)}))

    assert_refused(response, browser, f"The {name} parameter is longer than {MAX_LENGTHS[name]} characters.")


@pytest.mark.parametrize(
    "name", ["id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"]
)
def test_repeated_parameter_is_refused(browser, name):
    response = browser.get(LOGOUT + "?" + urlencode([(name, "a"), (name, "b")]))

    assert_refused(response, browser, f"The {name} parameter was sent more than once.")


def test_control_characters_are_refused(browser):
    assert_refused(browser.get(logout_url(state="a\x00b")), browser)


def test_a_body_django_refuses_to_read_gets_the_error_page(browser, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5

    response = browser.post(LOGOUT, {f"field{n}": "x" for n in range(10)})

    assert_refused(response, browser, "The request has too many parameters.")


# -- ui_locales ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ui_locales", "lang"),
    [("fr", "fr"), ("xx-YY fr-CA en", "fr"), ("de fr", "fr"), ("xx", "en"), ("%% !!", "en")],
)
def test_ui_locales_chooses_the_pages_language(browser, ui_locales, lang):
    response = browser.get(logout_url(ui_locales=ui_locales))

    assert f'<html lang="{lang}"' in response.content.decode()


def test_ui_locales_is_kept_through_the_confirmation(browser):
    page = browser.get(logout_url(ui_locales="fr"))
    assert hidden_fields(page)["ui_locales"] == ["fr"]

    response = browser.post(LOGOUT, {**hidden_fields(page), "action": "logout"})

    assert '<html lang="fr"' in response.content.decode()


def test_ui_locales_on_the_signed_out_page(client):
    response = client.get(logout_url(ui_locales="fr"))

    assert '<html lang="fr"' in response.content.decode()
    assert response["Content-Language"] == "fr"


def test_ui_locales_on_the_confirmation_page(browser):
    assert browser.get(logout_url(ui_locales="fr"))["Content-Language"] == "fr"


# -- Already signed out ----------------------------------------------------------------------------


def test_signed_out_user_is_redirected_without_a_question(client, app, user):
    token = signed_id_token(app, user, sid="an-ended-session")

    response = client.get(logout_url(id_token_hint=token, post_logout_redirect_uri=BYE, state="s"))

    assert response["Location"] == f"{BYE}?state=s"


def test_signed_out_user_without_a_hint_sees_the_signed_out_page(client, app):
    response = client.get(logout_url(client_id=app.client_id))

    assert response.status_code == 200
    assert "oauth_provider/logged_out.html" in [t.name for t in response.templates]


def test_signed_out_user_still_gets_errors(client):
    response = client.get(logout_url(post_logout_redirect_uri=BYE))

    assert response.status_code == 400
    assert "Location" not in response


# -- Methods and settings --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["head", "put", "patch", "delete", "options"])
def test_other_methods_are_refused_and_sign_no_one_out(browser, app, user, method):
    token = hint(browser, app, user)

    response = getattr(browser, method)(logout_url(id_token_hint=token))

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert signed_in(browser)


def test_not_found_when_openid_connect_is_off(browser, app, user, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_ENABLED": False}

    response = browser.get(logout_url(id_token_hint=hint(browser, app, user)))

    assert response.status_code == 404
    assert signed_in(browser)
