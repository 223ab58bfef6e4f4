"""error_description is ASCII English on the wire, whatever Accept-Language says (RFC 6749 §5.2).

Every error path of every endpoint is asked twice, in English and in French:
the descriptions must be the same English text and within the RFC's character
set. Pages shown to people stay in their language.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from oauth_provider import clock
from oauth_provider.errors import InvalidRequest
from tests.factories import (
    AccessTokenFactory,
    AuthorizationCodeFactory,
    ClientFactory,
    ConsentFactory,
    DeviceAuthorizationFactory,
    PublicClientFactory,
    RefreshTokenFactory,
    UserFactory,
)
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db

# RFC 6749 §5.2: "Values for the "error_description" parameter MUST NOT
# include characters outside the set %x20-21 / %x23-5B / %x5D-7E."
ERROR_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")
FORM = "application/x-www-form-urlencoded"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
APP_DIR = Path(__file__).resolve().parent.parent / "oauth_provider"


@pytest.fixture(autouse=True)
def restore_language():
    """LocaleMiddleware leaves the request's language active in the thread."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def every_grant(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "GRANT_TYPES": ["authorization_code", "client_credentials", "refresh_token", DEVICE_CODE, "password"],
        "INTROSPECTION_SCOPE": "admin",
    }
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096


def auth(app):
    return {"HTTP_AUTHORIZATION": basic_auth(app.client_id, app.secret)}


def post(path, data, language, **headers):
    body = data if isinstance(data, str) else urlencode(data, doseq=True)
    return Client().post(path, body, content_type=FORM, HTTP_ACCEPT_LANGUAGE=language, **headers).json()


def token(data, language, **headers):
    return post("/o/token/", data, language, **headers)


def confidential(*grant_types, **kwargs):
    return ClientFactory(grant_types=list(grant_types), **kwargs)


# -- every error case: a function of the language, making its own rows -------------------------------

CASES = {}


def case(name):
    def register(function):
        CASES[name] = function
        return function

    return register


@case("token: no grant_type")
def _(language):
    return token({"scope": "read"}, language, **auth(confidential("client_credentials")))


@case("token: repeated scope")
def _(language):
    data = [("grant_type", "client_credentials"), ("scope", "read"), ("scope", "read")]
    return token(data, language, **auth(confidential("client_credentials")))


@case("token: invalid characters")
def _(language):
    return token(
        "grant_type=client_credentials&scope=%00", language, **auth(confidential("client_credentials"))
    )


@case("token: parameter too long")
def _(language):
    data = {"grant_type": "client_credentials", "scope": "a" * 2000}
    return token(data, language, **auth(confidential("client_credentials")))


@case("token: missing code")
def _(language):
    return token({"grant_type": "authorization_code"}, language, **auth(confidential("authorization_code")))


@case("token: unsupported grant type")
def _(language):
    return token({"grant_type": "magic"}, language, **auth(confidential("client_credentials")))


@case("token: wrong secret")
def _(language):
    app = confidential("client_credentials")
    return token(
        {"grant_type": "client_credentials"}, language, HTTP_AUTHORIZATION=basic_auth(app.client_id, "no")
    )


@case("token: malformed basic header")
def _(language):
    return token({"grant_type": "client_credentials"}, language, HTTP_AUTHORIZATION="Basic %%%")


@case("token: two authentication methods")
def _(language):
    app = confidential("client_credentials")
    data = {"grant_type": "client_credentials", "client_secret": app.secret}
    return token(data, language, **auth(app))


@case("token: public client sends a secret")
def _(language):
    app = PublicClientFactory()
    data = {"grant_type": "authorization_code", "client_id": app.client_id, "client_secret": "x"}
    return token(data, language)


@case("token: grant not allowed for the client")
def _(language):
    return token({"grant_type": "client_credentials"}, language, **auth(confidential("authorization_code")))


@case("token: unknown code")
def _(language):
    data = {"grant_type": "authorization_code", "code": "opac_unknown", "redirect_uri": REDIRECT_URI}
    return token(data, language, **auth(confidential("authorization_code")))


@case("token: expired code")
def _(language):
    app = confidential("authorization_code")
    code = AuthorizationCodeFactory(client=app, expires_at=clock.now() - timedelta(seconds=1))
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
    return token(data, language, **auth(app))


@case("token: redirect_uri mismatch")
def _(language):
    app = confidential("authorization_code")
    code = AuthorizationCodeFactory(client=app, redirect_uri_provided=True)
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI + "x"}
    return token(data, language, **auth(app))


@case("token: wrong code_verifier")
def _(language):
    app = confidential("authorization_code")
    _verifier, challenge = pkce_pair()
    code = AuthorizationCodeFactory(client=app, code_challenge=challenge, code_challenge_method="S256")
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
    return token({**data, "code_verifier": "x" * 43}, language, **auth(app))


@case("token: replayed code")
def _(language):
    app = confidential("authorization_code")
    code = AuthorizationCodeFactory(client=app, used_at=clock.now())
    data = {"grant_type": "authorization_code", "code": code.value, "redirect_uri": REDIRECT_URI}
    return token(data, language, **auth(app))


@case("token: unknown scope")
def _(language):
    data = {"grant_type": "client_credentials", "scope": "nope"}
    return token(data, language, **auth(confidential("client_credentials")))


@case("token: replayed refresh token")
def _(language):
    app = confidential("refresh_token")
    refresh = RefreshTokenFactory(client=app, revoked_at=clock.now())
    return token({"grant_type": "refresh_token", "refresh_token": refresh.value}, language, **auth(app))


@case("token: expired refresh token")
def _(language):
    app = confidential("refresh_token")
    refresh = RefreshTokenFactory(client=app, expires_at=clock.now() - timedelta(seconds=1))
    return token({"grant_type": "refresh_token", "refresh_token": refresh.value}, language, **auth(app))


@case("token: wrong password")
def _(language):
    app = confidential("password")
    data = {"grant_type": "password", "username": UserFactory().username, "password": "wrong"}
    return token(data, language, **auth(app))


@case("token: device authorization pending")
def _(language):
    app = confidential(DEVICE_CODE)
    device = DeviceAuthorizationFactory(client=app)
    return token({"grant_type": DEVICE_CODE, "device_code": device.value}, language, **auth(app))


@case("token: device polled too fast")
def _(language):
    app = confidential(DEVICE_CODE)
    device = DeviceAuthorizationFactory(client=app, last_polled_at=clock.now())
    return token({"grant_type": DEVICE_CODE, "device_code": device.value}, language, **auth(app))


@case("token: device code expired")
def _(language):
    app = confidential(DEVICE_CODE)
    device = DeviceAuthorizationFactory(client=app, expires_at=clock.now() - timedelta(seconds=1))
    return token({"grant_type": DEVICE_CODE, "device_code": device.value}, language, **auth(app))


@case("token: device denied")
def _(language):
    app = confidential(DEVICE_CODE)
    device = DeviceAuthorizationFactory(client=app, status="denied", user=UserFactory())
    return token({"grant_type": DEVICE_CODE, "device_code": device.value}, language, **auth(app))


@case("token: device code already used")
def _(language):
    app = confidential(DEVICE_CODE)
    device = DeviceAuthorizationFactory(
        client=app, status="approved", user=UserFactory(), used_at=clock.now()
    )
    return token({"grant_type": DEVICE_CODE, "device_code": device.value}, language, **auth(app))


@case("token: wrong method")
def _(language):
    return Client().get("/o/token/", HTTP_ACCEPT_LANGUAGE=language).json()


@case("token: JSON body")
def _(language):
    return (
        Client()
        .post("/o/token/", {"a": 1}, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)
        .json()
    )


@case("token: too many fields")
def _(language):
    return token("grant_type=client_credentials" + "&x=" * 1001, language)


@case("token: body too large")
def _(language):
    return token("grant_type=client_credentials&x=" + "a" * 4096, language)


@case("token: stray percent sign")
def _(language):
    return token("grant_type=client_credentials&scope=100%", language)


@case("token: client_id too long in the Basic header")
def _(language):
    return token(
        {"grant_type": "client_credentials"}, language, HTTP_AUTHORIZATION=basic_auth("a" * 256, "x")
    )


@case("revoke: token too long")
def _(language):
    return post("/o/revoke/", {"token": "a" * 4097}, language, **auth(confidential("authorization_code")))


@case("revoke: no token")
def _(language):
    return post("/o/revoke/", {}, language, **auth(confidential("authorization_code")))


@case("revoke: another client's token")
def _(language):
    access = AccessTokenFactory()
    return post("/o/revoke/", {"token": access.value}, language, **auth(confidential("authorization_code")))


@case("introspect: public client")
def _(language):
    app = PublicClientFactory()
    return post("/o/introspect/", {"token": "x", "client_id": app.client_id}, language)


@case("introspect: client not allowed")
def _(language):
    return post("/o/introspect/", {"token": "x"}, language, **auth(confidential("client_credentials")))


@case("introspect: invalid bearer token")
def _(language):
    return post("/o/introspect/", {"token": "x"}, language, HTTP_AUTHORIZATION="Bearer opat_unknown")


@case("introspect: bearer token without the scope")
def _(language):
    bearer = AccessTokenFactory(scope="read")
    return post("/o/introspect/", {"token": "x"}, language, HTTP_AUTHORIZATION=f"Bearer {bearer.value}")


@case("device_authorization: grant not allowed for the client")
def _(language):
    return post(
        "/o/device_authorization/", {"scope": "read"}, language, **auth(confidential("client_credentials"))
    )


@case("device_authorization: unknown scope")
def _(language):
    return post("/o/device_authorization/", {"scope": "nope"}, language, **auth(confidential(DEVICE_CODE)))


def userinfo(language, query="", **headers):
    return Client().get("/o/userinfo/" + query, HTTP_ACCEPT_LANGUAGE=language, **headers).json()


@case("userinfo: no token")
def _(language):
    return userinfo(language)


@case("userinfo: unknown token")
def _(language):
    return userinfo(language, HTTP_AUTHORIZATION="Bearer opat_unknown")


@case("userinfo: token in the query string")
def _(language):
    return userinfo(language, query="?access_token=opat_unknown")


@case("userinfo: token in the header and the body")
def _(language):
    return post("/o/userinfo/", {"access_token": "a"}, language, HTTP_AUTHORIZATION="Bearer b")


@case("userinfo: token without openid")
def _(language):
    return userinfo(language, HTTP_AUTHORIZATION=f"Bearer {AccessTokenFactory(scope='read').value}")


# Authorization endpoint: errors redirected to the client, asked by a signed-in French or English user.


def authorize(language, method="get", consent=False, **params):
    app = ClientFactory()
    user = UserFactory()
    if consent:
        ConsentFactory(user=user, client=app)
    browser = Client()
    browser.force_login(user)
    _verifier, challenge = pkce_pair()
    url = authorize_url(app, **{"code_challenge": challenge, "code_challenge_method": "S256", **params})
    if method == "post":
        return redirect_params(browser.post(url, {"action": "deny"}, HTTP_ACCEPT_LANGUAGE=language))
    return redirect_params(browser.get(url, HTTP_ACCEPT_LANGUAGE=language))


@case("authorize: denied")
def _(language):
    return authorize(language, method="post")


@case("authorize: repeated scope")
def _(language):
    return authorize(language, scope=["read", "read"])


@case("authorize: unknown scope")
def _(language):
    return authorize(language, scope="nope")


@case("authorize: unsupported response type")
def _(language):
    return authorize(language, response_type="magic")


@case("authorize: missing response type")
def _(language):
    return authorize(language, response_type=None)


@case("authorize: PKCE method not supported")
def _(language):
    return authorize(language, code_challenge_method="plain")


@case("authorize: prompt not supported")
def _(language):
    return authorize(language, prompt="login")


@case("authorize: prompt none with another value")
def _(language):
    return authorize(language, prompt="none consent")


@case("authorize: consent required")
def _(language):
    return authorize(language, prompt="none")


@case("authorize: parameter too long")
def _(language):
    return authorize(language, scope="read " * 300)


@case("authorize: request too long")
def _(language):
    return authorize(language, x="a" * 2048)


def openid_authorize(language, **params):
    """An OpenID Connect authentication request (scope openid) by a signed-in user."""
    scopes = {**settings.OAUTH_PROVIDER["SCOPES"], "openid": "Sign you in"}
    with override_settings(OAUTH_PROVIDER={**settings.OAUTH_PROVIDER, "SCOPES": scopes}):
        return authorize(language, **{"scope": "openid", **params})


@case("authorize: request object not supported")
def _(language):
    return openid_authorize(language, request="eyJhbGciOiJub25lIn0.e30.")


@case("authorize: request_uri not supported")
def _(language):
    return openid_authorize(language, request_uri="https://client.example.com/r")


@case("authorize: registration not supported")
def _(language):
    return openid_authorize(language, registration="{}")


@case("authorize: invalid claims")
def _(language):
    return openid_authorize(language, claims="[]")


@case("authorize: invalid max_age")
def _(language):
    return openid_authorize(language, max_age="-1")


@case("authorize: invalid display")
def _(language):
    return openid_authorize(language, display="tv")


@case("authorize: invalid id_token_hint")
def _(language):
    return openid_authorize(language, id_token_hint="not-a-jwt")


@case("authorize: prompt none but must sign in again")
def _(language):
    return openid_authorize(language, consent=True, prompt="none", max_age="0")


@pytest.mark.parametrize("name", CASES)
def test_error_description_is_ascii_english_whatever_the_language(name):
    english = CASES[name]("en")
    french = CASES[name]("fr")

    assert french["error"] == english["error"]
    assert french["error_description"] == english["error_description"]
    assert ERROR_DESCRIPTION.fullmatch(french["error_description"]), french["error_description"]


def test_the_issues_example():
    """A repeated scope under Accept-Language: fr was answered in French."""
    answer = CASES["token: repeated scope"]("fr")

    assert answer["error_description"] == "The scope parameter was sent more than once."


def test_error_keeps_its_parameters_until_rendered():
    with translation.override("fr"):
        error = InvalidRequest(gettext_lazy("The %(name)s parameter was sent more than once."), name="scope")
        assert str(error.description) == "Le paramètre scope a été envoyé plusieurs fois."
        assert error.wire_description() == "The scope parameter was sent more than once."


def test_error_page_shown_to_a_person_stays_in_their_language(client, user):
    """The same lazily built description, on the page (never redirected, §4.1.2.1)."""
    app = ClientFactory()
    url = "/o/authorize/?" + urlencode(
        [("response_type", "code"), ("client_id", app.client_id), ("client_id", app.client_id)]
    )

    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 400
    assert "Le paramètre client_id a été envoyé plusieurs fois." in response.content.decode()


# Modules that speak only to people (pages, admin, the command line) may
# translate at once; every other one may build protocol errors.
PEOPLE_ONLY = {
    "admin.py",
    "views/clients.py",
    "views/authorized_apps.py",
    "management/commands/createclient.py",
    "management/commands/createinitialaccesstoken.py",
    "management/commands/rotatekeys.py",
}
PROTOCOL_MODULES = [
    path
    for path in APP_DIR.rglob("*.py")
    if str(path.relative_to(APP_DIR)) not in PEOPLE_ONLY and "migrations" not in path.parts
]
EAGER = re.compile(r"from django\.utils\.translation import .*\b(gettext|ngettext|pgettext)\b(?!_lazy)")


def test_no_protocol_module_translates_eagerly():
    """``gettext`` at raise time would fix the description in the request's language."""
    assert [
        str(path.relative_to(APP_DIR)) for path in PROTOCOL_MODULES if EAGER.search(path.read_text())
    ] == []
