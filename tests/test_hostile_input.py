"""Requests Django or DRF refuse to read, and other hostile input, on every view.

Every endpoint times {body too large, too many fields, undecodable body, wrong
content type, wrong method, repeated parameter}: a 4xx with the RFC 6749 §5.2
JSON error on protocol endpoints, a page that extends the base template on
people's pages; nothing written to the database; no ERROR log record (the
client's mistake is not the server's).
"""

import logging
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.conf import global_settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from oauth_provider.models import AccessToken
from oauth_provider.models import Client as OAuthClient
from tests.factories import (
    AccessTokenFactory,
    ClientFactory,
    ConsentFactory,
    DeviceAuthorizationFactory,
)
from tests.helpers import REDIRECT_URI, authorize_url, basic_auth, pkce_pair

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
# Small, so the oversized bodies stay cheap to build; one test uses Django's default.
MAX_BODY = 4096


@pytest.fixture(autouse=True)
def small_upload_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY


def snapshot():
    """Every row of every model of the app, to compare before and after."""
    return {
        model.__name__: sorted(map(repr, model.objects.values()))
        for model in apps.get_app_config("oauth_provider").get_models()
    }


def errors_logged(caplog):
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]


# -- how each hostile request is made from a well-formed one ------------------------------------------
#
# ``pairs`` is the body (or query) of a request that would succeed and write
# something; ``name`` is a parameter the endpoint reads.


def oversized(pairs, name):
    return FORM, urlencode([*pairs, ("padding", "a" * MAX_BODY)]).encode()


def too_many_fields(pairs, name):
    return FORM, urlencode([*pairs, *[("x", "")] * 1001]).encode()


def invalid_utf8(pairs, name):
    return FORM, (
        urlencode([(key, value) for key, value in pairs if key != name]) + f"&{name}=%ff%fe"
    ).encode()


def stray_percent(pairs, name):
    return FORM, (urlencode(pairs) + "&x=%zz").encode()


def raw_latin1(pairs, name):
    return FORM, urlencode(pairs).encode() + b"&x=\xe9"


def non_utf8_charset(pairs, name):
    return f"{FORM}; charset=iso-8859-1", urlencode(pairs).encode()


def json_body(pairs, name):
    return "application/json", b'{"grant_type": "client_credentials"}'


def broken_multipart(pairs, name):
    return "multipart/form-data; boundary=", b"--\r\n"


def repeated(pairs, name):
    value = dict(pairs)[name]
    return FORM, urlencode([*pairs, (name, value)]).encode()


BODY_FAULTS = {
    "oversized": (oversized, 413),
    "too_many_fields": (too_many_fields, 400),
    "invalid_utf8": (invalid_utf8, 400),
    "stray_percent": (stray_percent, 400),
    "raw_latin1": (raw_latin1, 400),
    "non_utf8_charset": (non_utf8_charset, 400),
    "json": (json_body, 400),
    "broken_multipart": (broken_multipart, 400),
    "repeated": (repeated, 400),
}


# -- protocol endpoints ------------------------------------------------------------------------------


@pytest.fixture
def protocol_request(user):
    """endpoint -> (path, body pairs that would succeed, parameter it reads, headers)."""
    service = ClientFactory(
        grant_types=["client_credentials", "urn:ietf:params:oauth:grant-type:device_code"]
    )
    resource_server = ClientFactory(allow_introspection=True)
    token = AccessTokenFactory(client=service, user=user)
    auth = {"HTTP_AUTHORIZATION": basic_auth(service.client_id, service.secret)}
    return {
        "token": ("/o/token/", [("grant_type", "client_credentials"), ("scope", "read")], "grant_type", auth),
        "revoke": ("/o/revoke/", [("token", token.value)], "token", auth),
        "introspect": (
            "/o/introspect/",
            [("token", token.value)],
            "token",
            {"HTTP_AUTHORIZATION": basic_auth(resource_server.client_id, resource_server.secret)},
        ),
        "device_authorization": ("/o/device_authorization/", [("scope", "read")], "scope", auth),
    }


def assert_protocol_error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("fault", BODY_FAULTS)
@pytest.mark.parametrize("endpoint", ["token", "revoke", "introspect", "device_authorization"])
def test_protocol_endpoint_refuses_a_body_it_cannot_read(
    api_client, protocol_request, caplog, endpoint, fault
):
    path, pairs, name, headers = protocol_request[endpoint]
    make, status = BODY_FAULTS[fault]
    content_type, body = make(pairs, name)
    before = snapshot()

    response = api_client.post(path, body, content_type=content_type, **headers)

    assert_protocol_error(response, status)
    assert snapshot() == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("endpoint", ["token", "revoke", "introspect", "device_authorization"])
def test_protocol_endpoint_refuses_other_methods(api_client, protocol_request, caplog, endpoint, method):
    path, pairs, _name, headers = protocol_request[endpoint]
    before = snapshot()

    if method == "get":
        response = api_client.get(f"{path}?{urlencode(pairs)}", **headers)
    else:
        response = getattr(api_client, method)(path, urlencode(pairs), content_type=FORM, **headers)

    assert_protocol_error(response, 405)
    assert snapshot() == before
    assert errors_logged(caplog) == []


def test_the_issues_example_is_invalid_request(api_client, settings, caplog):
    """grant_type=client_credentials plus 1,001 x= fields, with Django's default limits."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    service = ClientFactory(grant_types=["client_credentials"])
    body = "grant_type=client_credentials" + "&x=" * 1001

    response = api_client.post(
        "/o/token/", body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth(service.client_id, service.secret)
    )

    assert_protocol_error(response, 400)
    assert response.json()["error_description"] == "The request has too many parameters."
    assert not AccessToken.objects.exists()
    assert errors_logged(caplog) == []


def test_body_over_djangos_default_limit_is_413(api_client, settings, caplog):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    service = ClientFactory(grant_types=["client_credentials"])
    body = "grant_type=client_credentials&x=" + "a" * global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = api_client.post(
        "/o/token/", body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth(service.client_id, service.secret)
    )

    assert_protocol_error(response, 413)
    assert response.json()["error_description"] == "The request body is too large."
    assert errors_logged(caplog) == []


def test_client_error_is_logged_below_error_with_its_cause(api_client, caplog):
    caplog.set_level(logging.INFO, logger="oauth_provider")

    api_client.post("/o/token/", "grant_type=client_credentials" + "&x=" * 1001, content_type=FORM)

    records = [record for record in caplog.records if record.name == "oauth_provider"]
    assert [(record.levelno, record.getMessage()) for record in records] == [
        (logging.INFO, "Refused a request the client got wrong (TooManyFieldsSent)")
    ]


def test_real_bugs_are_still_server_error(api_client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("oauth_provider.views.token.get_grant", broken)

    response = api_client.post("/o/token/", "grant_type=client_credentials", content_type=FORM)

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "Unexpected error in an OAuth endpoint" in [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize("query", ["", "?" + "&x=" * 1001, "?x=%ff"])
def test_metadata_ignores_its_query_string(api_client, caplog, query):
    response = api_client.get("/.well-known/oauth-authorization-server" + query)

    assert response.status_code == 200
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("fault", ["oversized", "too_many_fields", "broken_multipart"])
def test_metadata_refuses_other_methods_without_reading_the_body(api_client, caplog, fault):
    content_type, body = BODY_FAULTS[fault][0]([("a", "b")], "a")

    response = api_client.post("/.well-known/oauth-authorization-server", body, content_type=content_type)

    assert_protocol_error(response, 405)
    assert errors_logged(caplog) == []


# -- people's pages ----------------------------------------------------------------------------------


@pytest.fixture
def pages(user):
    """page -> (path, POST body pairs that would write something, a field the page reads).

    Every page people see, each with a POST that changes something when it is well formed.
    """
    app = ClientFactory(grant_types=["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"])
    own = ClientFactory(owner=user)
    consent = ConsentFactory(user=user, client=ClientFactory())
    _verifier, challenge = pkce_pair()
    device = DeviceAuthorizationFactory(client=app)
    new_client = [
        ("name", "New app"),
        ("client_type", "confidential"),
        ("redirect_uris", REDIRECT_URI),
        ("grant_types", "authorization_code"),
    ]
    return {
        "authorize": (
            authorize_url(app, code_challenge=challenge, code_challenge_method="S256"),
            [("action", "allow")],
            "action",
        ),
        "device": (
            reverse("oauth_provider:device"),
            [("user_code", device.user_code), ("action", "allow")],
            "user_code",
        ),
        "authorized_apps": (reverse("oauth_provider:authorized_apps"), [], None),
        "withdraw": (
            reverse("oauth_provider:withdraw_consent", args=[consent.pk]),
            [("confirm", "yes")],
            None,
        ),
        "client_list": (reverse("oauth_provider:client_list"), [], None),
        "client_create": (reverse("oauth_provider:client_create"), new_client, "name"),
        "client_detail": (reverse("oauth_provider:client_detail", args=[own.client_id]), [], None),
        "client_update": (reverse("oauth_provider:client_update", args=[own.client_id]), new_client, "name"),
        "client_secret": (
            reverse("oauth_provider:client_secret", args=[own.client_id]),
            [("confirm", "yes")],
            None,
        ),
        "client_delete": (
            reverse("oauth_provider:client_delete", args=[own.client_id]),
            [("confirm", "yes")],
            None,
        ),
        "logout": (reverse("oauth_provider:logout"), [("action", "logout")], "state"),
    }


POST_PAGES = [
    "authorize",
    "device",
    "withdraw",
    "client_create",
    "client_update",
    "client_secret",
    "client_delete",
    "logout",
]
PAGES = [*POST_PAGES, "authorized_apps", "client_list", "client_detail"]
PAGE_FAULTS = ["oversized", "too_many_fields", "non_utf8_charset", "broken_multipart"]


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def assert_error_page(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    # Extends the one base template, and says what went wrong.
    assert '<main id="content"' in page
    assert "<title>Bad request</title>" in page
    assert "<h1>This request can't be processed</h1>" in page
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("fault", PAGE_FAULTS)
@pytest.mark.parametrize("page", POST_PAGES)
def test_page_refuses_a_body_it_cannot_read(user, pages, caplog, page, fault):
    """In a real request the CSRF check is the first to read the body."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.cookies["csrftoken"] = "a" * 32
    path, pairs, name = pages[page]
    make, status = BODY_FAULTS[fault]
    content_type, body = make(pairs, name)
    before = snapshot()

    response = browser.post(path, body, content_type=content_type)

    assert_error_page(response, status)
    assert snapshot() == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("fault", PAGE_FAULTS)
@pytest.mark.parametrize("page", ["authorize", "device", "client_create", "client_update", "logout"])
def test_page_refuses_a_body_it_cannot_read_in_the_view(browser, pages, caplog, page, fault):
    """Without the CSRF check (the test client's default), the view is the first to read it."""
    path, pairs, name = pages[page]
    make, status = BODY_FAULTS[fault]
    content_type, body = make(pairs, name)
    before = snapshot()

    response = browser.post(path, body, content_type=content_type)

    assert_error_page(response, status)
    assert snapshot() == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("page", ["authorize", "device", "logout"])
def test_page_refuses_a_query_with_too_many_fields(browser, pages, caplog, page):
    path = pages[page][0]
    before = snapshot()

    response = browser.get(path + ("&" if "?" in path else "?") + "&x=" * 1001)

    assert_error_page(response, 400)
    assert snapshot() == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("page", PAGES)
def test_page_refuses_other_methods_with_a_page(browser, pages, caplog, page, method):
    path = pages[page][0]
    before = snapshot()

    response = getattr(browser, method)(path)

    assert_error_page(response, 405)
    assert "GET" in response["Allow"]
    assert snapshot() == before
    assert errors_logged(caplog) == []


def test_repeated_decision_on_the_consent_screen_is_a_denial(browser, pages, caplog):
    path, _pairs, _name = pages["authorize"]
    before = snapshot()

    response = browser.post(path, "action=allow&action=allow", content_type=FORM)

    assert response.status_code == 302
    assert "error=access_denied" in response["Location"]
    assert snapshot() == before
    assert errors_logged(caplog) == []


def test_repeated_user_code_on_the_device_page_is_refused(browser, pages, caplog):
    path, pairs, name = pages["device"]
    _content_type, body = repeated(pairs, name)
    before = snapshot()

    response = browser.post(path, body, content_type=FORM)

    assert response.status_code == 400
    assert snapshot() == before
    assert errors_logged(caplog) == []


def test_real_bugs_on_pages_are_not_hidden(browser, pages, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("oauth_provider.views.authorized_apps.authorized_apps", broken)

    with pytest.raises(RuntimeError):
        browser.get(pages["authorized_apps"][0])


def test_signed_out_visitor_with_an_endless_query_gets_the_page(client, caplog):
    """The login redirect would carry the query in ``next``, beyond what Django lets a redirect be."""
    response = client.get(reverse("oauth_provider:client_list") + "?x=" + "a" * 20000)

    assert_error_page(response, 400)
    assert errors_logged(caplog) == []


def test_error_page_is_in_the_visitors_language(browser, pages, monkeypatch):
    """The page goes through the translation machinery (the French catalog is filled in later)."""
    french = trans_real.translation("fr")
    texts = {
        "Bad request": "Requête incorrecte",
        "This request can't be processed": "Cette requête ne peut pas être traitée",
        "The request has too many parameters.": "La requête a trop de paramètres.",
        "Go back to the previous page and try again.": "Revenez à la page précédente et réessayez.",
    }
    gettext = french.gettext
    monkeypatch.setattr(french, "gettext", lambda message: texts.get(message) or gettext(message))
    path, pairs, name = pages["client_create"]

    response = browser.post(
        path, too_many_fields(pairs, name)[1], content_type=FORM, HTTP_ACCEPT_LANGUAGE="fr"
    )
    translation.deactivate()

    assert response.status_code == 400
    page = response.content.decode()
    assert '<html lang="fr"' in page
    assert all(text in page for text in texts.values()), page


class CutShort:
    """A request body whose client went away halfway (Django raises UnreadablePostError)."""

    def read(self, *args):
        raise OSError("connection reset")

    readline = read


def test_body_cut_short_is_invalid_request_at_protocol_endpoints(api_client, caplog):
    response = api_client.post(
        "/o/token/", "grant_type=client_credentials", content_type=FORM, **{"wsgi.input": CutShort()}
    )

    assert_protocol_error(response, 400)
    assert errors_logged(caplog) == []


def test_body_cut_short_gets_the_page_on_peoples_pages(browser, pages, caplog):
    # With the CSRF check on, Django's CSRF failure page (403) answers first.
    path, pairs, _name = pages["client_create"]
    before = snapshot()

    response = browser.post(path, urlencode(pairs), content_type=FORM, **{"wsgi.input": CutShort()})

    assert_error_page(response, 400)
    assert snapshot() == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("page", ["authorized_apps", "client_list", "client_detail"])
def test_account_pages_still_answer_head(browser, pages, page):
    assert browser.head(pages[page][0]).status_code == 200


@pytest.mark.parametrize("page", ["client_create", "client_update"])
@pytest.mark.parametrize("name", ["name", "client_type", "redirect_uris", "website"])
def test_repeated_field_in_a_client_form_is_refused(browser, pages, caplog, page, name):
    path, pairs, _name = pages[page]
    pairs = [*pairs, ("website", "https://client.example.com")]
    before = snapshot()

    response = browser.post(path, urlencode([*pairs, (name, dict(pairs)[name])]), content_type=FORM)

    assert response.status_code == 200
    assert "This field was sent more than once." in response.context["form"].errors[name]
    assert snapshot() == before
    assert errors_logged(caplog) == []


def test_checkbox_groups_may_repeat(browser, pages):
    path, pairs, _name = pages["client_create"]

    response = browser.post(path, urlencode([*pairs, ("grant_types", "refresh_token")]), content_type=FORM)

    assert response.status_code == 200
    app = OAuthClient.objects.get(name="New app")
    assert app.grant_types == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize("name", ["client_detail", "client_update", "client_secret", "client_delete"])
@pytest.mark.parametrize("client_id", ["\x00", "a\x00b", "\x1f", "\x7f"])
def test_client_id_in_the_path_with_a_control_character_is_not_found(browser, user, caplog, name, client_id):
    """No client_id holds control characters; PostgreSQL refuses NUL in a
    query outright, which was a 500 for any signed-in user."""
    ClientFactory(owner=user)
    path = (
        f"/o/clients/{quote(client_id)}/"
        + {
            "client_detail": "",
            "client_update": "edit/",
            "client_secret": "secret/",
            "client_delete": "delete/",
        }[name]
    )
    for response in (browser.get(path), browser.post(path, {"confirm": "yes"})):
        assert response.status_code == 404
    assert not errors_logged(caplog)
