"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
client_metadata_documents.py), fetched from a real local HTTPS server whose
certificate comes from a test authority (trustme)."""

import base64
import json
import secrets
import time
from urllib.parse import urlencode

import pytest
from django.core.checks import Warning
from django.test import override_settings
from django.urls import reverse
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OctKey

from oauth_provider import client_metadata_documents, outbound
from oauth_provider.checks import check_deploy_settings, check_settings
from oauth_provider.errors import InvalidClient, TooManyRequests
from oauth_provider.models import AccessToken, Client
from oauth_provider.signals import client_authentication_failed
from tests.factories import ConsentFactory, UserFactory
from tests.helpers import pkce_pair, post_token, redirect_params
from tests.https_site import trust

pytestmark = pytest.mark.django_db

PATH = "/client.json"
CALLBACK = "https://app.example.org/callback"


@pytest.fixture
def trusted(monkeypatch, authority):
    """Production verification plus trust in the test authority, through the
    one seam ``client_metadata_documents.ssl_context``."""
    trust(monkeypatch, client_metadata_documents, authority)


def enable(settings, **overrides):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "CLIENT_ID_METADATA_DOCUMENTS": True,
        # The test server is on 127.0.0.1; the guard itself is tested with this off.
        "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True,
        **overrides,
    }


@pytest.fixture
def on(settings, trusted):
    enable(settings)


def document(url, **fields):
    return {
        "client_id": url,
        "client_name": "Example App",
        "client_uri": "https://app.example.org/",
        "logo_uri": "https://app.example.org/logo.png",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **fields,
    }


def publish(site, url, body=None, headers=None, **fields):
    """Serve the document for ``url`` (or ``body``) at PATH."""
    raw = body if body is not None else json.dumps(document(url, **fields)).encode()
    site.routes[PATH] = (200, {"Content-Type": "application/json", **(headers or {})}, raw)


@pytest.fixture
def url(https):
    return https + PATH


def refusal(client_id):
    with pytest.raises(InvalidClient) as raised:
        client_metadata_documents.resolve(client_id)
    return str(raised.value.wire_description())


# -- accepted ------------------------------------------------------------------------------------


def test_document_becomes_a_public_client(on, site, url):
    publish(site, url, scope="read")

    client = client_metadata_documents.resolve(url)

    client.refresh_from_db()
    assert client.client_id == url
    assert client.is_metadata_document
    assert client.metadata_document_host == "127.0.0.1"
    assert (client.name, client.website) == ("Example App", "https://app.example.org/")
    assert client.redirect_uri_list == [CALLBACK]
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert client.scopes == ["read"]
    assert client.client_type == Client.ClientType.PUBLIC
    assert client.owner is None
    assert client.accepts_new_authorizations
    assert site.requests == [PATH]


def test_document_without_name_is_named_by_its_host(on, site, url):
    fields = document(url)
    del fields["client_name"]
    publish(site, url, body=json.dumps(fields).encode())

    assert client_metadata_documents.resolve(url).name == "127.0.0.1"


def test_outbound_requests_for_such_a_client_stay_public_although_it_has_no_owner(on, site, url, settings):
    publish(site, url)
    client = client_metadata_documents.resolve(url)
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": False}

    assert not outbound.private_addresses_allowed(client)


# -- refused: the fetch ----------------------------------------------------------------------------


def test_private_address_is_refused_with_the_development_setting_off(settings, trusted, site, url):
    enable(settings, OUTBOUND_PRIVATE_ADDRESSES_ALLOWED=False)
    publish(site, url)

    assert refusal(url) == "The client ID metadata document's host is not a public address."
    assert site.requests == []
    assert not Client.objects.exists()


def test_redirect_is_not_followed_even_to_its_own_host(on, site, url, https):
    site.routes[PATH] = (302, {"Location": f"{https}/moved.json"}, b"")
    site.routes["/moved.json"] = (200, {}, json.dumps(document(url)).encode())

    assert refusal(url) == "The client ID metadata document URL did not answer with 200 OK."
    assert site.requests == [PATH]


def test_redirect_to_a_private_address_is_refused(on, site, url):
    site.routes[PATH] = (302, {"Location": "https://169.254.169.254/latest/meta-data/"}, b"")

    assert refusal(url) == "The client ID metadata document URL did not answer with 200 OK."


def test_oversize_document_is_refused(on, site, url):
    publish(site, url, client_name="x" * (client_metadata_documents.MAX_BYTES + 1))

    assert refusal(url) == "The client ID metadata document is larger than 5 kB."


def test_slow_server_is_refused(on, site, url, monkeypatch):
    monkeypatch.setattr(client_metadata_documents, "TIMEOUT_SECONDS", 0.3)
    site.routes[PATH] = lambda handler: time.sleep(1)

    assert refusal(url) == "The client ID metadata document did not arrive in time."


def test_server_sending_its_headers_slowly_is_cut_off_at_the_deadline(on, site, url, monkeypatch):
    """Each header line arrives within the socket timeout, the whole never: the
    deadline bounds the exchange, not only the body."""
    monkeypatch.setattr(client_metadata_documents, "TIMEOUT_SECONDS", 0.3)

    def dribble(handler):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(20):
            handler.wfile.write(b"X-Slow: y\r\n")
            handler.wfile.flush()
            time.sleep(0.1)

    site.routes[PATH] = dribble
    started = time.monotonic()

    assert refusal(url) == "The client ID metadata document did not arrive in time."
    assert time.monotonic() - started < 1


def test_untrusted_certificate_is_refused(settings, site, url):
    enable(settings)  # without the test authority: production verification
    publish(site, url)

    assert refusal(url) == "The client ID metadata document's TLS certificate is not valid."


def test_error_status_is_refused(on, site, url):
    assert refusal(url) == "The client ID metadata document URL did not answer with 200 OK."


# -- refused: the document -----------------------------------------------------------------------


def test_wrong_client_id_is_refused(on, site, url):
    publish(site, url, client_id=url + "?other")

    assert refusal(url) == "The client ID metadata document's client_id is not its URL."


@pytest.mark.parametrize("body", [b"<html>not json</html>", b'["a list"]', b"\xff\xfe"])
def test_non_json_or_non_object_is_refused(on, site, url, body):
    publish(site, url, body=body)

    assert refusal(url) == "The client ID metadata document is not a JSON object."


def test_deeply_nested_document_is_refused(on, site, url):
    nested = json.dumps(document(url))[:-1] + ', "extra": ' + "[" * 2000 + "]" * 2000 + "}"
    publish(site, url, body=nested.encode())

    assert refusal(url) == "The client ID metadata document is not a JSON object."


@pytest.mark.parametrize(
    "redirect_uris",
    [["http://app.example.org/callback"], ["not a url"], [], "https://app.example.org/callback"],
)
def test_invalid_redirect_uris_are_refused(on, site, url, redirect_uris):
    publish(site, url, redirect_uris=redirect_uris)

    assert refusal(url) == "The client ID metadata document is not valid: redirect_uris."
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "method", ["client_secret_basic", "client_secret_post", "client_secret_jwt", "tls_client_auth", ""]
)
def test_shared_secret_and_unknown_auth_methods_are_refused(on, site, url, method):
    publish(site, url, token_endpoint_auth_method=method)

    assert refusal(url) == (
        "Client ID metadata documents must use token_endpoint_auth_method none or private_key_jwt."
    )


def test_document_with_a_client_secret_is_refused(on, site, url):
    publish(site, url, client_secret="shh")

    assert "token_endpoint_auth_method none or private_key_jwt" in refusal(url)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("grant_types", ["client_credentials"]),
        ("grant_types", ["urn:ietf:params:oauth:grant-type:device_code"]),
        ("grant_types", []),
        ("response_types", ["token"]),
        ("client_name", "Bank\u202eevil"),
        ("client_name", "\u3164"),  # a Hangul filler: a blank name
        ("client_uri", "javascript:alert(1)"),
        ("client_name", ["not", "a", "string"]),
    ],
)
def test_invalid_metadata_is_refused(on, site, url, field, value):
    publish(site, url, **{field: value})

    assert refusal(url) == f"The client ID metadata document is not valid: {field}."


def test_grant_type_the_site_does_not_enable_is_refused(on, site, url, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["authorization_code"]}
    publish(site, url)  # asks for refresh_token too

    assert refusal(url) == "The client ID metadata document is not valid: grant_types."


@pytest.mark.parametrize("scope", ["read unknown", "admin"])
def test_unknown_or_privileged_scope_is_refused(on, site, url, settings, scope):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "PRIVILEGED_SCOPES": ["admin"]}
    publish(site, url, scope=scope)

    assert refusal(url) == "The client ID metadata document is not valid: scope."


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1",  # no path
        "https://127.0.0.1/",
        "https://127.0.0.1/a/../client.json",
        "https://127.0.0.1/./client.json",
        "https://127.0.0.1/client.json#fragment",
        "https://user:pass@127.0.0.1/client.json",
        "https://127.0.0.1:0/client.json",
        "https://127.0.0.1:99999/client.json",
        "https://[::1/client.json",
        "https://b\u00fccher.example/client.json",  # IDNs in A-label form only
        "https://\u202eevil.example/client.json",
        "https://a..example/client.json",  # IDNA cannot encode an empty label
        "https://" + "a" * 64 + ".example/client.json",
        "https://app.example.\n/client.json",
        "https://app.exa\nmple/client.json",  # urlsplit would drop the newline
        "https://app example/client.json",
        # IPv4 addresses in forms the resolver reads without DNS: 127.0.0.1 under another name.
        "https://2130706433/client.json",
        "https://127.1/client.json",
        "https://0x7f.0.0.1/client.json",
        "https://0177.0.0.1/client.json",
    ],
)
def test_client_id_that_is_not_a_valid_document_url_is_refused(on, site, client_id):
    assert refusal(client_id) == "The client_id is not a valid client ID metadata document URL."
    assert site.requests == []


# -- hosts ---------------------------------------------------------------------------------------


def test_blocked_host_is_refused_without_a_fetch(settings, trusted, site, url):
    enable(settings, CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS=["127.0.0.1"])
    publish(site, url)

    assert refusal(url) == "The client ID metadata document's host is not allowed on this server."
    assert site.requests == []


def test_host_not_in_the_allow_list_is_refused(settings, trusted, site, url):
    enable(settings, CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS=[".example.com"])
    publish(site, url)

    assert refusal(url) == "The client ID metadata document's host is not allowed on this server."
    assert site.requests == []


@pytest.mark.parametrize(
    ("allowed", "blocked", "host", "permitted"),
    [
        ([], [], "app.example.com", True),
        ([".example.com"], [], "app.example.com", True),
        ([".example.com"], [], "example.com", False),  # a leading dot means hosts under it
        ([".example.com"], [], "badexample.com", False),
        (["app.example.com"], [], "x.app.example.com", False),  # no dot: that host only
        ([".example.com"], ["evil.example.com"], "evil.example.com", False),  # blocked wins
        ([], [".example.com"], "app.example.com", False),
    ],
)
def test_host_lists(settings, allowed, blocked, host, permitted):
    enable(
        settings,
        CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS=allowed,
        CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS=blocked,
    )

    assert client_metadata_documents.host_permitted(host) is permitted


# -- caching -------------------------------------------------------------------------------------


def test_no_refetch_within_max_age_and_refetch_after(on, site, url, frozen_clock):
    publish(site, url, headers={"Cache-Control": "public, max-age=3600"})
    client_metadata_documents.resolve(url)
    publish(site, url, headers={"Cache-Control": "max-age=3600"}, client_name="Renamed")

    frozen_clock.advance(seconds=3599)
    assert client_metadata_documents.resolve(url).name == "Example App"
    assert site.requests == [PATH]

    frozen_clock.advance(seconds=2)
    assert client_metadata_documents.resolve(url).name == "Renamed"
    assert site.requests == [PATH, PATH]
    assert Client.objects.count() == 1


def serve_document(site, https, url):
    body = json.dumps(document(url)).encode()
    site.routes[url.removeprefix(https)] = (200, {"Content-Type": "application/json"}, body)


def test_fetches_one_address_causes_are_limited_and_cached_copies_are_free(on, site, https, settings):
    """Anyone may send a new https client_id, and each costs a fetch (and a
    stored client): one address gets CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES
    per window, then 429; another address, or a cached document, is not held up."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES": 2}
    urls = [f"{https}/client-{n}.json" for n in range(3)]
    for url in urls:
        site.routes[url.removeprefix(https)] = (
            200,
            {"Content-Type": "application/json"},
            json.dumps(document(url)).encode(),
        )
    attacker, other = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}

    client_metadata_documents.resolve(urls[0], attacker)
    client_metadata_documents.resolve(urls[1], attacker)
    with pytest.raises(TooManyRequests):
        client_metadata_documents.resolve(urls[2], attacker)

    assert client_metadata_documents.resolve(urls[0], attacker) is not None  # cached: no fetch
    assert client_metadata_documents.resolve(urls[2], other) is not None
    assert len(site.requests) == 3


def test_fetch_limit_at_the_authorization_endpoint_is_a_page(on, site, https, settings, client):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES": 1}
    first, second = f"{https}/a.json", f"{https}/b.json"
    for url in (first, second):
        site.routes[url.removeprefix(https)] = (
            200,
            {"Content-Type": "application/json"},
            json.dumps(document(url)).encode(),
        )

    client.get("/o/authorize/", {"client_id": first, "redirect_uri": CALLBACK})
    response = client.get("/o/authorize/", {"client_id": second, "redirect_uri": CALLBACK})

    assert response.status_code == 429
    assert "Retry-After" in response


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, 300),  # no caching headers: the floor
        ({"Cache-Control": "no-store"}, 300),
        ({"Cache-Control": "max-age=5"}, 300),  # below the floor
        ({"Cache-Control": "max-age=999999999"}, 24 * 3600),  # above the cap
        ({"Expires": "Thu, 01 Jan 2099 00:00:00 GMT"}, 24 * 3600),
        ({"Expires": "not a date"}, 300),
        ({"Expires": "Mon, 01 Jan 99999999999 00:00:00 GMT"}, 300),  # a year no date can hold
        ({"Cache-Control": "max-age=7200", "Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, 7200),  # max-age wins
    ],
)
def test_cache_lifetime_follows_headers_within_floor_and_cap(on, site, url, frozen_clock, headers, seconds):
    publish(site, url, headers=headers)

    client = client_metadata_documents.resolve(url)

    assert (client.metadata_document_expires_at - frozen_clock()).total_seconds() == seconds


def test_refetch_failure_refuses_the_client(on, site, url, frozen_clock):
    publish(site, url)
    client_metadata_documents.resolve(url)
    del site.routes[PATH]
    frozen_clock.advance(seconds=301)

    assert refusal(url) == "The client ID metadata document URL did not answer with 200 OK."


def test_refresh_keeps_a_client_an_admin_deactivated_inactive(on, site, url, frozen_clock):
    publish(site, url)
    client_metadata_documents.resolve(url)
    Client.objects.filter(client_id=url).update(is_active=False)
    frozen_clock.advance(seconds=301)

    assert not client_metadata_documents.resolve(url).is_active


# -- approval ------------------------------------------------------------------------------------


def test_approval_setting_makes_new_clients_wait(settings, trusted, site, url):
    enable(settings, CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED=True)
    publish(site, url)

    client = client_metadata_documents.resolve(url)

    assert client.awaiting_approval
    assert not client.accepts_new_authorizations


def test_allowed_hosts_need_no_approval(settings, trusted, site, url):
    enable(
        settings,
        CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED=True,
        CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS=["127.0.0.1"],
    )
    publish(site, url)

    assert client_metadata_documents.resolve(url).accepts_new_authorizations


def test_changed_document_of_an_approved_client_goes_back_to_review(
    settings, trusted, site, url, frozen_clock
):
    enable(settings, CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED=True)
    publish(site, url)
    client = client_metadata_documents.resolve(url)
    client.approve()
    client.save()
    publish(site, url, redirect_uris=["https://evil.example.net/callback"])
    frozen_clock.advance(seconds=301)

    client = client_metadata_documents.resolve(url)

    assert client.under_review
    assert client.approved_value("redirect_uris") == CALLBACK


# -- the endpoints -------------------------------------------------------------------------------


def authorize_query(url, challenge, **params):
    """/o/authorize/ parameters for the client ``url``; None leaves one out."""
    query = {
        "response_type": "code",
        "client_id": url,
        "redirect_uri": CALLBACK,
        "scope": "read",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return {name: value for name, value in query.items() if value is not None}


def test_authorize_and_token_exchange_end_to_end(on, site, url, client, api_client):
    publish(site, url)
    client.force_login(UserFactory())
    verifier, challenge = pkce_pair()

    consent = client.get("/o/authorize/", authorize_query(url, challenge))

    assert consent.status_code == 200
    html = consent.content.decode()
    assert '<strong class="host"><bdi>127.0.0.1</bdi></strong>' in html
    assert "This app was not reviewed by <bdi>testserver</bdi>" in html
    assert "Authorize it only if you trust <bdi>127.0.0.1</bdi>." in html

    approved = client.post("/o/authorize/?" + consent.request["QUERY_STRING"], {"action": "allow"})
    code = redirect_params(approved)["code"]
    token = post_token(
        api_client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": url,
            "code_verifier": verifier,
        },
    )

    assert token.status_code == 200, token.content
    assert AccessToken.objects.get().client.client_id == url
    assert site.requests == [PATH]  # the token request used the stored copy


@pytest.mark.parametrize(
    ("client_uri", "shown"),
    [("https://bank.example/", False), ("https://127.0.0.1/about", True)],
)
def test_consent_screen_shows_a_website_only_on_the_documents_host(on, site, url, client, client_uri, shown):
    """Anyone may claim a bank's site as their client_uri: next to "only the
    host vouches for it", only a page on that host is shown as the app's."""
    publish(site, url, client_uri=client_uri)
    client.force_login(UserFactory())

    consent = client.get("/o/authorize/", authorize_query(url, pkce_pair()[1]))

    assert consent.status_code == 200
    assert (client_uri in consent.content.decode()) is shown
    assert Client.objects.get(client_id=url).website == client_uri  # kept for the admin


def test_authorized_apps_page_shows_a_website_only_on_the_documents_host(on, site, url, client):
    publish(site, url, client_uri="https://bank.example/")
    consent = ConsentFactory(client=client_metadata_documents.resolve(url))
    client.force_login(consent.user)

    page = client.get(reverse("oauth_provider:authorized_apps"))

    assert "Example App" in page.content.decode()
    assert "bank.example" not in page.content.decode()


def test_registered_clients_consent_screen_has_no_unreviewed_notice(client, user, oauth_client):
    client.force_login(user)
    _verifier, challenge = pkce_pair()
    query = authorize_query(oauth_client.client_id, challenge, redirect_uri=oauth_client.redirect_uri_list[0])

    response = client.get("/o/authorize/", query)

    assert response.status_code == 200
    assert b"unreviewed-client" not in response.content


def test_authorize_without_pkce_is_refused(on, site, url, client):
    publish(site, url)
    client.force_login(UserFactory())

    response = client.get("/o/authorize/", authorize_query(url, None, code_challenge_method=None))

    assert redirect_params(response)["error"] == "invalid_request"


def test_authorize_shows_the_refusal_and_does_not_redirect(on, site, url, client):
    publish(site, url, client_id="https://other.example/client.json")

    response = client.get("/o/authorize/", authorize_query(url, "x" * 43))

    assert response.status_code == 400
    assert not response.has_header("Location")
    assert b"client_id is not its URL" in response.content


def test_client_awaiting_approval_cannot_authorize(settings, trusted, site, url, client):
    enable(settings, CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED=True)
    publish(site, url)

    response = client.get("/o/authorize/", authorize_query(url, "x" * 43))

    assert response.status_code == 400
    assert b"invalid_client" in response.content


def test_token_endpoint_refusal_is_invalid_client_and_announced(on, site, url, api_client):
    publish(site, url, body=b"not json")
    reasons = []

    def receiver(sender, reason, **kwargs):
        reasons.append(reason)

    client_authentication_failed.connect(receiver)
    try:
        response = post_token(
            api_client, {"grant_type": "refresh_token", "refresh_token": "x", "client_id": url}
        )
    finally:
        client_authentication_failed.disconnect(receiver)

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "The client ID metadata document is not a JSON object.",
    }
    assert reasons == ["metadata_document_refused"]


def test_token_endpoint_refuses_a_secret_from_such_a_client(on, site, url, api_client):
    publish(site, url)

    response = post_token(
        api_client,
        {"grant_type": "refresh_token", "refresh_token": "x", "client_id": url, "client_secret": "guess"},
    )

    assert response.status_code == 401


def test_off_by_default_an_https_client_id_is_an_unknown_client(trusted, site, url, client, api_client):
    publish(site, url)

    authorize = client.get("/o/authorize/", authorize_query(url, "x" * 43))
    token = post_token(api_client, {"grant_type": "refresh_token", "refresh_token": "x", "client_id": url})

    assert authorize.status_code == 400
    assert b"unknown or inactive" in authorize.content
    assert token.status_code == 401
    assert site.requests == []


def test_a_stored_client_is_unknown_once_the_feature_is_off(on, site, url, settings, api_client):
    publish(site, url)
    client_metadata_documents.resolve(url)
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "CLIENT_ID_METADATA_DOCUMENTS": False}

    response = post_token(api_client, {"grant_type": "refresh_token", "refresh_token": "x", "client_id": url})

    assert response.status_code == 401


def test_example_project_turns_them_on():
    from example_project.settings import OAUTH_PROVIDER

    assert OAUTH_PROVIDER["CLIENT_ID_METADATA_DOCUMENTS"] is True
    assert OAUTH_PROVIDER.get("OUTBOUND_PRIVATE_ADDRESSES_ALLOWED", False) is False


def test_metadata_says_so_only_when_on(client, settings):
    assert (
        "client_id_metadata_document_supported"
        not in client.get("/.well-known/oauth-authorization-server").json()
    )

    enable(settings)

    assert client.get("/.well-known/oauth-authorization-server").json()[
        "client_id_metadata_document_supported"
    ]


# -- admin ---------------------------------------------------------------------------------------


def test_admin_list_filters_clients_from_metadata_documents(on, site, url, admin_client, oauth_client):
    publish(site, url, client_name="From A Document")
    client_metadata_documents.resolve(url)

    documents = admin_client.get("/admin/oauth_provider/client/", {"described_by": "metadata_document"})
    registered = admin_client.get("/admin/oauth_provider/client/", {"described_by": "registration"})

    assert b"From A Document" in documents.content
    assert oauth_client.name.encode() not in documents.content
    assert b"From A Document" not in registered.content
    assert oauth_client.name.encode() in registered.content
    by_admin = admin_client.get("/admin/oauth_provider/client/", {"registered_by": "admin"})
    assert b"From A Document" not in by_admin.content


# -- system checks -------------------------------------------------------------------------------


def check_ids(**overrides):
    with override_settings(OAUTH_PROVIDER=overrides):
        return [message.id for message in check_settings()]


@pytest.mark.parametrize(
    "overrides",
    [
        {"CLIENT_ID_METADATA_DOCUMENTS": "yes"},
        {"CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED": 1},
        {"CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS": "example.com"},
        {"CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS": ["https://example.com"]},
        {"CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS": ["Example.com"]},
        {"CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS": ["*.example.com"]},
        {"CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS": ["."]},
    ],
)
def test_e034_bad_switches_and_host_lists(overrides):
    assert check_ids(**overrides) == ["oauth_provider.E034"]


def test_host_lists_in_both_forms_pass():
    assert (
        check_ids(
            CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS=["app.example.com", ".example.org"],
            CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS=[".evil-example.net"],
        )
        == []
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"CLIENT_ID_METADATA_DOCUMENT_CACHE_MIN_SECONDS": 0},
        {"CLIENT_ID_METADATA_DOCUMENT_CACHE_MAX_SECONDS": "3600"},
        {
            "CLIENT_ID_METADATA_DOCUMENT_CACHE_MIN_SECONDS": 7200,
            "CLIENT_ID_METADATA_DOCUMENT_CACHE_MAX_SECONDS": 3600,
        },
    ],
)
def test_e035_bad_cache_times(overrides):
    assert check_ids(**overrides) == ["oauth_provider.E035"]


def test_w015_metadata_documents_with_private_addresses_allowed():
    def deploy_ids(**overrides):
        with override_settings(OAUTH_PROVIDER={"ISSUER": "https://auth.example.com", **overrides}):
            return [m.id for m in check_deploy_settings() if isinstance(m, Warning)]

    assert "oauth_provider.W015" in deploy_ids(
        CLIENT_ID_METADATA_DOCUMENTS=True, OUTBOUND_PRIVATE_ADDRESSES_ALLOWED=True
    )
    assert "oauth_provider.W015" not in deploy_ids(CLIENT_ID_METADATA_DOCUMENTS=True)
    assert "oauth_provider.W015" not in deploy_ids(OUTBOUND_PRIVATE_ADDRESSES_ALLOWED=True)


# -- private_key_jwt (RFC 7523 §2.2) -------------------------------------------------------------

ISSUER = "https://auth.example.com"
TOKEN_ENDPOINT = ISSUER + "/o/token/"


@pytest.fixture(scope="module")
def key():
    return ECKey.generate_key("P-256", auto_kid=True)


def public_jwks(*keys):
    return {"keys": [key.as_dict(private=False) for key in keys]}


@pytest.fixture
def keyed(on, site, url, key):
    """A private_key_jwt client with its keys inline, stored."""
    publish(site, url, token_endpoint_auth_method="private_key_jwt", jwks=public_jwks(key))
    return client_metadata_documents.resolve(url)


def assertion(key, url, *, alg="ES256", **claims):
    now = int(time.time())
    payload = {
        "iss": url,
        "sub": url,
        "aud": ISSUER,
        "exp": now + 60,
        "iat": now,
        "jti": secrets.token_hex(8),
    }
    payload.update(claims)
    header = {"alg": alg, "kid": key.kid} if key.kid else {"alg": alg}
    return jwt.encode(header, {name: value for name, value in payload.items() if value is not None}, key)


def authenticate(api_client, url, signed, address="127.0.0.1", **params):
    """A token request that fails after client authentication (invalid_grant: 400) or in it (401)."""
    data = {
        "grant_type": "refresh_token",
        "refresh_token": "unknown",
        "client_id": url,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed,
        **params,
    }
    return post_token(
        api_client,
        {name: value for name, value in data.items() if value is not None},
        REMOTE_ADDR=address,
    )


def test_private_key_jwt_client_with_inline_keys(keyed, key):
    keyed.refresh_from_db()

    assert keyed.client_type == Client.ClientType.CONFIDENTIAL
    assert keyed.jwks == public_jwks(key)
    assert not keyed.client_secret_hash


def test_private_key_jwt_client_with_keys_from_its_jwks_uri(on, site, url, https, key):
    site.routes["/jwks.json"] = (200, {}, json.dumps(public_jwks(key)).encode())
    publish(site, url, token_endpoint_auth_method="private_key_jwt", jwks_uri=f"{https}/jwks.json")

    client = client_metadata_documents.resolve(url)

    assert client.jwks == public_jwks(key)
    assert site.requests == [PATH, "/jwks.json"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "The client ID metadata document is not valid: jwks_uri."),  # neither
        (
            {"jwks": "K", "jwks_uri": "https://127.0.0.1/jwks.json"},
            "The client ID metadata document is not valid: jwks_uri.",
        ),
        ({"jwks": {"keys": []}}, "The client ID metadata document is not valid: jwks."),
        (
            {"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}},
            "The client ID metadata document is not valid: jwks.",
        ),
        (
            {"jwks_uri": "http://127.0.0.1/jwks.json"},
            "The client ID metadata document is not valid: jwks_uri.",
        ),
        (
            {"jwks_uri": "https://127.0.0.1/missing.json"},
            "The client's jwks_uri could not be fetched as a JSON key set.",
        ),
    ],
)
def test_private_key_jwt_without_usable_public_keys_is_refused(on, site, url, fields, message):
    publish(site, url, token_endpoint_auth_method="private_key_jwt", **fields)

    assert refusal(url) == message


def test_private_keys_in_the_document_are_refused(on, site, url, key):
    publish(
        site, url, token_endpoint_auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=True)]}
    )

    assert refusal(url) == "The client ID metadata document is not valid: jwks."


def test_jwks_uri_on_a_blocked_host_is_refused(settings, trusted, site, url):
    enable(settings, CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS=["keys.example.net"])
    publish(site, url, token_endpoint_auth_method="private_key_jwt", jwks_uri="https://keys.example.net/jwks")

    assert refusal(url) == "The client ID metadata document is not valid: jwks_uri."


@pytest.mark.parametrize("aud", [ISSUER, TOKEN_ENDPOINT, [ISSUER, "https://other.example"]])
def test_valid_assertion_authenticates(keyed, key, url, api_client, aud):
    response = authenticate(api_client, url, assertion(key, url, aud=aud))

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"


def test_client_id_may_be_left_out_the_assertion_names_the_client(keyed, key, url, api_client):
    response = authenticate(api_client, url, assertion(key, url), client_id=None)

    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://other.example"},
        {"aud": None},
        {"exp": int(time.time()) - 120},
        {"exp": None},
        {"exp": int(time.time()) + 3600},  # valid for longer than MAX_LIFETIME_SECONDS
        {"jti": None},
        {"iss": "https://evil.example/client.json"},
        {"sub": "https://evil.example/client.json"},
        {"nbf": int(time.time()) + 600},
    ],
)
def test_assertion_with_wrong_claims_is_refused(keyed, key, url, api_client, claims):
    response = authenticate(api_client, url, assertion(key, url, **claims))

    assert response.status_code == 401
    assert response.json()["error_description"] == "The client assertion is not valid."


def test_deeply_nested_key_set_is_refused(on, site, url, https):
    site.routes["/jwks.json"] = (200, {}, b"[" * 5000)
    publish(site, url, token_endpoint_auth_method="private_key_jwt", jwks_uri=https + "/jwks.json")

    assert refusal(url) == "The client's jwks_uri could not be fetched as a JSON key set."


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_unreadable_assertion_without_client_id_is_invalid_client(api_client):
    """The unverified sub is looked for in a payload nested too deep to read."""
    forged = b64url(b'{"alg":"ES256"}') + "." + b64url(b"[" * 2000) + ".AAAA"

    response = authenticate(api_client, None, forged, client_id=None)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_signed_assertion_nested_too_deep_is_refused(keyed, key, url, api_client):
    signed = jws.serialize_compact({"alg": "ES256", "kid": key.kid}, b"[" * 2000, key)

    response = authenticate(api_client, url, signed)

    assert response.status_code == 401
    assert response.json()["error_description"] == "The client assertion is not valid."


def test_assertion_signed_with_another_key_is_refused(keyed, url, api_client):
    other = ECKey.generate_key("P-256", auto_kid=True)

    response = authenticate(api_client, url, assertion(other, url))

    assert response.status_code == 401


def test_symmetric_assertion_made_with_the_public_key_is_refused(keyed, key, url, api_client):
    """HS256 keyed with the public JWK's bytes: the classic algorithm confusion."""
    forged = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())

    response = authenticate(api_client, url, assertion(forged, url, alg="HS256"))

    assert response.status_code == 401


def test_replayed_assertion_is_refused(keyed, key, url, api_client):
    once = assertion(key, url)
    assert authenticate(api_client, url, once).status_code == 400

    response = authenticate(api_client, url, once)

    assert response.status_code == 401
    assert response.json()["error_description"] == "The client assertion was used before."


def test_failed_assertions_from_elsewhere_do_not_lock_the_client_out(keyed, key, url, api_client, settings):
    """A signature cannot be guessed: failures naming a client with keys count
    against the sender's address only, or anyone could lock a popular app out."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "CLIENT_AUTH_MAX_ATTEMPTS": 2}
    other = ECKey.generate_key("P-256", auto_kid=True)
    for _ in range(3):
        authenticate(api_client, url, assertion(other, url), address="203.0.113.7")

    response = authenticate(api_client, url, assertion(key, url), address="198.51.100.1")

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"


def test_client_with_keys_cannot_authenticate_with_its_client_id_alone(keyed, url, api_client):
    response = post_token(api_client, {"grant_type": "refresh_token", "refresh_token": "x", "client_id": url})

    assert response.status_code == 401
    assert response.json()["error_description"] == (
        "This client authenticates with a client assertion (private_key_jwt)."
    )


def test_assertion_for_a_client_without_keys_is_refused(on, site, url, key, api_client):
    publish(site, url)  # token_endpoint_auth_method none

    response = authenticate(api_client, url, assertion(key, url))

    assert response.status_code == 401
    assert response.json()["error_description"] == "The client assertion is not valid."


def test_assertion_with_a_client_secret_is_invalid_request(keyed, key, url, api_client):
    response = authenticate(api_client, url, assertion(key, url), client_secret="x")

    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "params",
    [
        {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
        {"client_assertion": None},
    ],
)
def test_other_assertion_types_or_a_missing_assertion_are_refused(keyed, key, url, api_client, params):
    response = authenticate(api_client, url, assertion(key, url), **params)

    assert response.status_code == 401
    assert response.json()["error_description"].startswith("client_assertion_type must be")


def test_revocation_accepts_a_client_assertion(keyed, key, url, api_client):
    response = api_client.post(
        "/o/revoke/",
        urlencode(
            {
                "token": "unknown",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion(key, url),
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200  # RFC 7009 §2.2: an unknown token too


def test_private_key_jwt_end_to_end_with_pkce(keyed, key, url, client, api_client):
    client.force_login(UserFactory())
    verifier, challenge = pkce_pair()
    without_pkce = client.get("/o/authorize/", authorize_query(url, None, code_challenge_method=None))
    assert redirect_params(without_pkce)["error"] == "invalid_request"  # PKCE even with keys

    approved = client.post("/o/authorize/?" + urlencode(authorize_query(url, challenge)), {"action": "allow"})
    token = post_token(
        api_client,
        {
            "grant_type": "authorization_code",
            "code": redirect_params(approved)["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(key, url, aud=TOKEN_ENDPOINT),
        },
    )

    assert token.status_code == 200, token.content


def test_metadata_offers_private_key_jwt_when_on(client, settings):
    enable(settings)

    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert "private_key_jwt" in metadata["revocation_endpoint_auth_methods_supported"]
    assert "private_key_jwt" not in metadata["introspection_endpoint_auth_methods_supported"]
    # RFC 8414 §2: each endpoint offering private_key_jwt lists its algorithms.
    for endpoint in ("token", "revocation"):
        assert "ES256" in metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert "HS256" not in metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
