"""Requests to URLs clients register (outbound.py): for a client registered
through self-service, public addresses only, connected to as checked, with no
proxy in between; for clients an admin registered (or with
OUTBOUND_PRIVATE_ADDRESSES_ALLOWED), any address."""

import ipaddress
import socket
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from oauth_provider import outbound
from oauth_provider.models import Client
from tests.factories import UserFactory

PUBLIC = "93.184.216.34"


@pytest.fixture
def server():
    """A plain HTTP server on 127.0.0.1 recording the paths asked for."""
    paths = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    httpd.paths = paths
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata services
        "100.64.0.1",  # shared address space (RFC 6598)
        "0.0.0.0",  # noqa: S104 - an address refused, not one bound to
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_addresses_that_are_not_public(address):
    assert not outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2001:4860:4860::8888", "2002:808:808::"])
def test_public_addresses(address):
    assert outbound.is_public(ipaddress.ip_address(address))


def test_the_host_is_resolved_once_and_the_checked_address_connected_to(monkeypatch):
    """DNS rebinding: a name that answers a public address when checked and
    a private one when connected to gets nowhere, since it is asked once."""
    answers = [PUBLIC, "127.0.0.1"]
    resolved, connected = [], []

    def getaddrinfo(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers.pop(0), port))]

    def create_connection(address, *args):
        connected.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(outbound.socket, "create_connection", create_connection)

    with pytest.raises(urllib.error.URLError):
        outbound.opener(private_allowed=False).open("http://rebinding.example/", timeout=1)

    assert resolved == ["rebinding.example"]
    assert connected == [(PUBLIC, 80)]


def test_a_host_with_any_address_that_is_not_public_is_refused(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(outbound.socket, "create_connection", pytest.fail)

    with pytest.raises(outbound.NonPublicAddress):
        outbound.connect_public(("both.example", 443), 1)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_private_hosts_are_refused_before_connecting(server, host):
    url = server.url.replace("127.0.0.1", host) + "/internal"

    with pytest.raises(urllib.error.URLError) as raised:
        outbound.opener(private_allowed=False).open(url, timeout=5)

    assert isinstance(raised.value.reason, outbound.NonPublicAddress)
    assert server.paths == []


def test_private_addresses_when_allowed(server):
    with outbound.opener(private_allowed=True).open(server.url + "/internal", timeout=5) as response:
        assert response.read() == b"ok"
    assert server.paths == ["/internal"]


def test_no_proxy_from_the_environment_is_used(server, monkeypatch):
    """Through a proxy, the address checked would not be the one the request reaches."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")

    with outbound.opener(private_allowed=True).open(server.url + "/direct", timeout=5) as response:
        assert response.status == 200
    assert server.paths == ["/direct"]


def test_redirects_are_not_followed_unless_asked():
    assert not any(
        isinstance(handler, outbound.urllib.request.HTTPRedirectHandler)
        for handler in outbound.opener(private_allowed=False).handlers
    )


# -- whose requests may go anywhere ---------------------------------------------------------------


@pytest.mark.django_db
def test_clients_an_admin_registered_may_use_any_address():
    assert outbound.private_addresses_allowed(Client(owner=None))
    assert not outbound.private_addresses_allowed(Client(owner=UserFactory()))


@pytest.mark.django_db
def test_the_setting_allows_any_address_for_every_client(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True}
    assert outbound.private_addresses_allowed(Client(owner=UserFactory()))


@pytest.mark.parametrize(
    ("uri", "refused"),
    [
        ("http://127.0.0.1:8000/logout", True),
        ("http://localhost/logout", True),
        ("http://app.localhost/logout", True),
        ("http://[::1]/logout", True),
        ("http://169.254.169.254/latest/meta-data/", True),
        ("https://10.1.2.3/logout", True),
        ("https://rp.example.com/logout", False),
        (f"https://{PUBLIC}/logout", False),
        ("http://app:8000/logout", False),  # a name: its addresses are checked when connecting
    ],
)
def test_hosts_that_name_no_public_address(uri, refused):
    assert outbound.names_no_public_address(uri) is refused


def owned_client(**fields):
    return Client(
        name="Example",
        redirect_uris="https://rp.example.com/callback",
        grant_types=["authorization_code"],
        owner=UserFactory(),
        **fields,
    )


@pytest.mark.django_db
def test_a_self_registered_client_cannot_register_a_private_backchannel_logout_uri():
    client = owned_client(backchannel_logout_uri="http://169.254.169.254/latest/meta-data/")

    with pytest.raises(ValidationError) as raised:
        client.full_clean()

    assert raised.value.message_dict["backchannel_logout_uri"] == [
        "Logout tokens are only sent to public internet addresses, not to this host."
    ]


@pytest.mark.django_db
def test_an_admin_registered_client_may_register_an_internal_backchannel_logout_uri():
    client = owned_client(backchannel_logout_uri="http://127.0.0.1:8000/logout")
    client.owner = None

    client.full_clean()


@pytest.mark.django_db
def test_the_setting_allows_a_private_backchannel_logout_uri(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True}

    owned_client(backchannel_logout_uri="http://127.0.0.1:8000/logout").full_clean()


@pytest.mark.parametrize("host", ["a..example", "a" * 64 + ".example"])
def test_fetch_of_a_host_name_idna_cannot_encode_is_unreachable_not_an_exception(host):
    with pytest.raises(outbound.FetchError) as raised:
        outbound.fetch(f"https://{host}/x", private_allowed=False, context=None, timeout=1, max_bytes=10)

    assert raised.value.reason == outbound.FetchError.UNREACHABLE
