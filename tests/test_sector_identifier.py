"""sector_identifier_uri (OpenID Connect Core 1.0 §8.1, Registration 1.0 §5), fetched
from a real local HTTPS server whose certificate comes from a test authority (trustme)."""

import ssl
import time

import pytest
from django.core.exceptions import ValidationError

from oauth_provider import outbound, sector_identifiers
from oauth_provider.forms import ClientForm, OwnClientForm
from oauth_provider.models import Client
from oauth_provider.subjects import subject
from tests.factories import ClientFactory, UserFactory
from tests.https_site import Site, serve, trust

pytestmark = pytest.mark.django_db

REDIRECT_URIS = ["https://www.example.org/callback", "https://m.example.net/callback"]
LISTING = b'["https://www.example.org/callback", "https://m.example.net/callback", "https://x.example/cb"]'


@pytest.fixture
def trusted(monkeypatch, authority):
    """Production verification, plus trust in the test authority: the only seam is
    ``sector_identifiers.ssl_context``."""
    trust(monkeypatch, sector_identifiers, authority)


def json_route(body=LISTING, status=200):
    return (status, {"Content-Type": "application/json"}, body)


def pairwise(uri, redirect_uris=REDIRECT_URIS, **kwargs):
    return Client(
        name="Example",
        redirect_uris="\n".join(redirect_uris),
        grant_types=["authorization_code"],
        subject_type=Client.SubjectType.PAIRWISE,
        sector_identifier_uri=uri,
        **kwargs,
    )


def self_service_form(uri):
    """A developer registering a pairwise client with this sector identifier URI on /o/clients/."""
    return OwnClientForm(
        owner=UserFactory(),
        data={
            "name": "Example",
            "client_type": "confidential",
            "redirect_uris": REDIRECT_URIS[0],
            "grant_types": ["authorization_code"],
            "subject_type": "pairwise",
            "sector_identifier_uri": uri,
        },
    )


def refusal(client):
    with pytest.raises(ValidationError) as raised:
        client.full_clean()
    return raised.value.message_dict["sector_identifier_uri"]


# -- accepted ------------------------------------------------------------------------------------


def test_listing_every_redirect_uri_is_accepted(https, site, trusted):
    site.routes["/sector.json"] = json_route()
    client = pairwise(f"{https}/sector.json")

    client.full_clean()

    assert site.requests == ["/sector.json"]


def test_https_redirects_are_followed(https, site, trusted):
    site.routes["/old"] = (301, {"Location": f"{https}/sector.json"}, b"")
    site.routes["/sector.json"] = json_route()

    pairwise(f"{https}/old").full_clean()

    assert site.requests == ["/old", "/sector.json"]


def test_admin_form_saves_a_pairwise_client_with_a_sector_identifier_uri(https, site, trusted):
    site.routes["/sector.json"] = json_route()
    form = ClientForm(
        data={
            "name": "Example",
            "client_type": "confidential",
            "redirect_uris": "\n".join(REDIRECT_URIS),
            "grant_types": ["authorization_code"],
            "subject_type": "pairwise",
            "sector_identifier_uri": f"{https}/sector.json",
            "is_active": "on",
        }
    )

    assert form.is_valid(), form.errors
    client = form.save()

    assert client.sector_identifier_uri == f"{https}/sector.json"


def test_clients_of_one_sector_identifier_uri_share_pairwise_subs(https, site, trusted):
    """Redirect URIs on two hosts, one sector: that of the document's host."""
    site.routes["/sector.json"] = json_route()
    user = UserFactory()
    web = ClientFactory(
        subject_type="pairwise", redirect_uris=REDIRECT_URIS[0], sector_identifier_uri=f"{https}/sector.json"
    )
    mobile = ClientFactory(
        subject_type="pairwise", redirect_uris=REDIRECT_URIS[1], sector_identifier_uri=f"{https}/sector.json"
    )
    elsewhere = ClientFactory(subject_type="pairwise", redirect_uris=REDIRECT_URIS[0])

    assert subject(user, web) == subject(user, mobile) != subject(user, elsewhere)


# -- refused -------------------------------------------------------------------------------------


def test_document_missing_a_redirect_uri_is_refused_and_named(https, site, trusted):
    site.routes["/sector.json"] = json_route(b'["https://www.example.org/callback"]')

    (message,) = refusal(pairwise(f"{https}/sector.json"))

    assert message == (
        "The sector identifier URI does not list these redirect URIs: https://m.example.net/callback."
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"redirect_uris": []}',
        b"not json",
        b"[1, 2]",
        b'"https://www.example.org/callback"',
        b"\xff\xfe",
        b"[" * 3000,
    ],
)
def test_document_that_is_not_a_json_array_of_strings_is_refused(https, site, trusted, body):
    site.routes["/sector.json"] = json_route(body)

    assert refusal(pairwise(f"{https}/sector.json")) == [
        "The sector identifier URI must return a JSON array of redirect URIs."
    ]


def test_http_error_is_refused_with_its_status(https, site, trusted):
    assert refusal(pairwise(f"{https}/missing.json")) == [
        "The sector identifier URI answered with HTTP status 404."
    ]


@pytest.mark.parametrize(
    "uri", ["http://sector.example.org/list.json", "ftp://sector.example.org/list.json", "https:///x"]
)
def test_uri_that_is_not_https_is_refused_without_fetching(uri, monkeypatch):
    monkeypatch.setattr(sector_identifiers, "fetch", pytest.fail)

    assert "The sector identifier URI must be an https URL." in refusal(pairwise(uri))


def test_redirect_to_plain_http_is_refused(https, site, trusted):
    plain_site = Site()
    plain_site.routes["/sector.json"] = json_route()
    server, plain = serve(plain_site)
    site.routes["/old"] = (302, {"Location": f"{plain}/sector.json"}, b"")
    try:
        assert refusal(pairwise(f"{https}/old")) == [
            "The sector identifier URI redirects to a URL that is not https."
        ]
    finally:
        server.shutdown()
        server.server_close()
    assert plain_site.requests == []


def test_endless_redirects_are_cut_short(https, site, trusted):
    site.routes["/loop"] = (302, {"Location": f"{https}/loop"}, b"")

    (message,) = refusal(pairwise(f"{https}/loop"))

    assert message == "The sector identifier URI redirects more than 3 times."
    assert len(site.requests) == sector_identifiers.MAX_REDIRECTS + 1


def test_document_over_the_size_cap_is_refused(https, site, trusted):
    big = b'["' + b"a" * sector_identifiers.MAX_BYTES + b'"]'
    site.routes["/sector.json"] = json_route(big)

    assert refusal(pairwise(f"{https}/sector.json")) == [
        "The sector identifier document is larger than 64 kB."
    ]


def test_certificate_not_trusted_by_the_system_is_refused(https, site):
    """Without the test seam, the test authority is unknown: production
    verification is on, and nothing in settings can turn it off."""
    site.routes["/sector.json"] = json_route()

    assert refusal(pairwise(f"{https}/sector.json")) == [
        "The sector identifier URI's TLS certificate could not be verified."
    ]
    assert site.requests == []


def test_host_name_must_match_the_certificate(authority, site, trusted):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("sector.example.org").configure_cert(context)
    server, url = serve(site, context)
    site.routes["/sector.json"] = json_route()
    try:
        assert refusal(pairwise(f"{url}/sector.json")) == [
            "The sector identifier URI's TLS certificate could not be verified."
        ]
    finally:
        server.shutdown()
        server.server_close()


def test_server_that_does_not_answer_in_time_is_refused(https, site, trusted, monkeypatch):
    monkeypatch.setattr(sector_identifiers, "TIMEOUT_SECONDS", 0.3)
    site.routes["/sector.json"] = lambda handler: time.sleep(1)

    assert refusal(pairwise(f"{https}/sector.json")) == ["The sector identifier URI did not answer in time."]


def test_server_sending_slowly_is_cut_off_at_the_deadline(https, site, trusted, monkeypatch):
    """The socket timeout alone would wait as long as each byte comes in time."""
    monkeypatch.setattr(sector_identifiers, "TIMEOUT_SECONDS", 0.5)

    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)

    site.routes["/sector.json"] = drip
    started = time.monotonic()

    assert refusal(pairwise(f"{https}/sector.json")) == ["The sector identifier URI did not answer in time."]
    assert time.monotonic() - started < 1.5


def test_answer_cut_short_is_refused(https, site, trusted):
    def cut(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b'["https://')
        handler.close_connection = True

    site.routes["/sector.json"] = cut

    assert refusal(pairwise(f"{https}/sector.json")) == ["The sector identifier URI could not be fetched."]


def test_answer_that_is_not_http_is_refused(https, site, trusted):
    def garbage(handler):
        handler.wfile.write(b"hello\r\n\r\n")
        handler.close_connection = True

    site.routes["/sector.json"] = garbage

    assert refusal(pairwise(f"{https}/sector.json")) == ["The sector identifier URI could not be fetched."]


def test_unreachable_server_is_refused(trusted):
    server, url = serve(Site())
    server.server_close()  # nothing listens there any more

    assert refusal(pairwise(url.replace("http:", "https:") + "/sector.json")) == [
        "The sector identifier URI could not be fetched."
    ]


# -- server-side request forgery (outbound) ------------------------------------------------------

PRIVATE_HOST = "The sector identifier URI's host is not a public internet address."


def test_self_registered_client_cannot_make_the_server_fetch_a_private_address(https, site, trusted):
    site.routes["/sector.json"] = json_route()

    assert refusal(pairwise(f"{https}/sector.json", owner=UserFactory())) == [PRIVATE_HOST]
    assert site.requests == []


def test_self_service_form_checks_the_address_of_a_new_client(https, site, trusted):
    """The owner is the client's before it is validated: a new self-service
    client is not taken for one an admin registered."""
    site.routes["/sector.json"] = json_route()
    form = self_service_form(f"{https}/sector.json")

    assert not form.is_valid()
    assert form.errors["sector_identifier_uri"] == [PRIVATE_HOST]
    assert site.requests == []


def test_each_redirect_is_checked_again(https, site, trusted, monkeypatch):
    """A public host redirecting to an internal one: the redirect is a new
    connection, refused before it is made (here 127.0.0.1 plays the public
    host, and 127.0.0.2 the internal one)."""
    checked = outbound.is_public

    def is_public(address):
        return str(address) == "127.0.0.1" or checked(address)

    monkeypatch.setattr(outbound, "is_public", is_public)
    port = https.rsplit(":", 1)[1]
    site.routes["/old"] = (302, {"Location": f"https://127.0.0.2:{port}/sector.json"}, b"")

    assert refusal(pairwise(f"{https}/old", owner=UserFactory())) == [PRIVATE_HOST]
    assert site.requests == ["/old"]


def test_setting_allows_self_registered_clients_private_addresses(https, site, trusted, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True}
    site.routes["/sector.json"] = json_route()

    pairwise(f"{https}/sector.json", owner=UserFactory()).full_clean()

    assert site.requests == ["/sector.json"]


# -- when the document is fetched ----------------------------------------------------------------


def test_unchanged_client_is_saved_without_fetching_again(https, site, trusted, monkeypatch):
    site.routes["/sector.json"] = json_route()
    client = pairwise(f"{https}/sector.json")
    client.full_clean()
    client.save()
    monkeypatch.setattr(sector_identifiers, "fetch", pytest.fail)  # the sector's host is down

    client.name = "Renamed"
    client.redirect_uris = REDIRECT_URIS[0]  # one fewer: the document listed it
    client.full_clean()


def test_new_redirect_uri_or_new_sector_identifier_uri_is_checked_again(https, site, trusted):
    site.routes["/sector.json"] = json_route()
    site.routes["/other.json"] = json_route(b'["https://www.example.org/callback"]')
    client = pairwise(f"{https}/sector.json")
    client.full_clean()
    client.save()

    client.redirect_uris += "\nhttps://new.example/cb"
    assert "https://new.example/cb" in refusal(client)[0]

    client.redirect_uris = "\n".join(REDIRECT_URIS)
    client.sector_identifier_uri = f"{https}/other.json"
    assert "https://m.example.net/callback" in refusal(client)[0]


def test_self_service_form_shows_the_refusal_on_its_field(https, site, trusted, settings):
    # The test server is on 127.0.0.1, which owned clients may not reach otherwise.
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True}
    site.routes["/sector.json"] = json_route(b"[]")
    form = self_service_form(f"{https}/sector.json")

    assert not form.is_valid()
    assert "does not list these redirect URIs" in form.errors["sector_identifier_uri"][0]
