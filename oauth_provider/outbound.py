"""Requests this server makes to URLs that clients register, guarded against
server-side request forgery.

URLs a client chooses are fetched by the server itself: the
``sector_identifier_uri`` (OpenID Connect Core 1.0 §8.1, fetched when the
client is saved), the ``backchannel_logout_uri`` (Back-Channel Logout 1.0
§2.5, posted to when a user signs out) and, for a client ID metadata document
(``client_metadata_documents``), the ``client_id`` itself and its
``jwks_uri``, which anyone may send. Whoever chooses them could point them
at what only the server can reach: its own loopback interface, the internal
network, a cloud provider's metadata service (``169.254.169.254``).

So a request for a client with an owner (registered through self-service),
or one that registered itself (RFC 7591), goes only to public addresses:
the host is resolved once, every address it resolves to must be public
(``is_public``), and the connection is made to
one of those very addresses, never by resolving the name again, so that a
name answering differently the second time (DNS rebinding) gains nothing.
TLS still verifies the certificate for the host name. Each redirect followed
is a new connection, checked the same way. A client an administrator
registered (no owner) may use any address, such as ``http://app:8000/`` on
an internal network, and so may every client with the
``OUTBOUND_PRIVATE_ADDRESSES_ALLOWED`` setting. Metadata documents, which
nobody registers, are fetched from public addresses unless that setting is on.

Requests go straight to the host, never through a proxy from the
environment (``HTTPS_PROXY``): the address checked must be the address
connected to.

``fetch`` is the one way to read a document a client controls (a sector
identifier, a client ID metadata document): with a deadline on the whole
exchange and a size cap, its failures told apart by ``FetchError.reason``
so that each caller words them for its own field, never with the remote
server's own words.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .settings import oauth_settings

if TYPE_CHECKING:
    from .models import Client

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class NonPublicAddress(OSError):
    """The host resolves to an address that is not public, and the client
    may only reach public ones. Never worth retrying."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} resolves to an address that is not public")


def private_addresses_allowed(client: Client) -> bool:
    """Whether requests for ``client`` may go to any address: it was
    registered by an administrator (it has no owner, did not register
    itself at the registration endpoint, and no metadata document describes
    it, which anyone may publish), or the site allows private addresses for
    every client."""
    return client.registered_by_admin or bool(oauth_settings.OUTBOUND_PRIVATE_ADDRESSES_ALLOWED)


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet: not loopback, private
    (RFC 1918, unique local), link-local (which holds cloud metadata
    services), shared (RFC 6598), reserved, multicast or unspecified; an IPv6
    address that embeds an IPv4 one (mapped, 6to4, Teredo) must embed a
    public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if not all(is_public(inner) for inner in embedded if inner is not None):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def names_no_public_address(uri: str) -> bool:
    """Whether the host of ``uri`` is one no request of a client restricted
    to public addresses could reach, whatever DNS says: an IP address that
    is not public, or ``localhost`` (RFC 6761 §6.3). For a clear error at
    registration; the address connected to is checked all the same."""
    try:
        host = urlsplit(uri).hostname
    except ValueError:
        return False  # not a URL: its own validator says so
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public(ipaddress.ip_address(host))
    except ValueError:
        return False  # a name


def connect_public(address: tuple[str, int], timeout: Any, source_address: Any = None) -> socket.socket:
    """``socket.create_connection`` that resolves the host once, refuses it
    (``NonPublicAddress``) unless every address is public, and connects to
    those addresses themselves."""
    host, port = address
    resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not all(is_public(ipaddress.ip_address(sockaddr[0])) for *_rest, sockaddr in resolved):
        raise NonPublicAddress(host)
    last_error: OSError | None = None
    for *_rest, sockaddr in resolved:
        try:
            # An address, not a name: nothing is resolved again.
            return socket.create_connection(sockaddr[:2], timeout, source_address)
        except OSError as error:
            last_error = error
    raise last_error or OSError(f"{host} resolves to no address")


class Deadline:
    """The end of one ``fetch``: when it comes, every connection the fetch
    opened is shut down, whatever it is waiting for. A socket timeout bounds
    one receive only, so a server sending a byte now and then (in its TLS
    handshake, status line or headers, where ``_read`` cannot look at the
    clock) would otherwise hold the request for as long as it likes."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        # Duplicates of the sockets: shutdown() acts on the connection, so it
        # reaches the socket even once TLS has taken it over (and detached it).
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> socket.socket:
        """``sock``, to be shut down at the deadline (or now, if it passed)."""
        with self._lock:
            if self.expired:
                sock.close()
                raise TimeoutError
            self._sockets.append(sock.dup())
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # already closed by the other end
                    sock.shutdown(socket.SHUT_RDWR)


class _PublicOnly:
    """An ``http.client`` connection that opens its socket with
    ``connect_public`` unless ``private_allowed``, and hands it to
    ``deadline`` if any. (HTTPS wraps that socket for ``self.host``: the
    certificate is verified for the name, whatever address was connected to.)"""

    def __init__(
        self, *args: Any, private_allowed: bool, deadline: Deadline | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # What HTTPConnection.connect opens its socket with (socket.create_connection).
        connect = socket.create_connection if private_allowed else connect_public
        if deadline is not None:
            self._create_connection = lambda *args: deadline.watch(connect(*args))
        elif not private_allowed:
            self._create_connection = connect_public


class _HTTPConnection(_PublicOnly, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_PublicOnly, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, private_allowed: bool, deadline: Deadline | None) -> None:
        super().__init__()
        self.private_allowed, self.deadline = private_allowed, deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(
            _HTTPConnection, private_allowed=self.private_allowed, deadline=self.deadline
        )
        return self.do_open(connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(
        self, private_allowed: bool, context: ssl.SSLContext | None, deadline: Deadline | None
    ) -> None:
        super().__init__(context=context)
        self.private_allowed, self.deadline = private_allowed, deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(
            _HTTPSConnection, private_allowed=self.private_allowed, deadline=self.deadline
        )
        return self.do_open(connection, req, context=self._context)


def opener(
    *handlers: urllib.request.BaseHandler,
    private_allowed: bool,
    context: ssl.SSLContext | None = None,
    deadline: Deadline | None = None,
) -> urllib.request.OpenerDirector:
    """An opener for http(s) URLs a client registered: with ``private_allowed``
    false, it connects to public addresses only. ``context`` is the TLS
    configuration (default: the system's authorities, host names verified).
    The connections it opens end at ``deadline``, if given.

    No redirect is followed unless ``handlers`` include a redirect handler
    (a 3xx answer is then an ``HTTPError``), and no proxy is used.
    """
    director = urllib.request.OpenerDirector()
    for handler in (
        _HTTPHandler(private_allowed, deadline),
        _HTTPSHandler(private_allowed, context, deadline),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        *handlers,
    ):
        director.add_handler(handler)
    return director


READ_CHUNK = 8192
# Cache-Control's max-age directive (RFC 9111 §5.2.2.1).
MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


def freshness_seconds(headers: http.client.HTTPMessage, now: datetime) -> float:
    """How long an answer stays fresh by its headers (RFC 9111 §4.2.1:
    ``Cache-Control: max-age``, else ``Expires``), in seconds; 0 without
    either, or with an invalid date (§5.3: "already expired"). Callers put
    a floor and a cap on it: ``no-store`` and ``no-cache`` read as 0."""
    cache_control = ",".join(headers.get_all("Cache-Control") or [])
    match = MAX_AGE.search(cache_control)
    if match:
        return float(match.group(1))
    if headers.get("Expires"):
        try:
            return (parsedate_to_datetime(headers["Expires"]) - now).total_seconds()
        except (TypeError, ValueError, OverflowError):  # OverflowError: a year too large to hold
            return 0.0
    return 0.0


class FetchError(Exception):
    """Why ``fetch`` got no document: ``reason`` is one of the constants
    below; ``status`` the HTTP status of an ``HTTP_STATUS`` answer."""

    HTTP_STATUS = "http_status"  # an answer other than 2xx (a 3xx too, when redirects are not followed)
    PRIVATE = "private"  # NonPublicAddress
    CERTIFICATE = "certificate"  # the TLS certificate could not be verified
    TIMEOUT = "timeout"  # no complete answer before the deadline
    TOO_LARGE = "too_large"  # more than max_bytes
    UNREACHABLE = "unreachable"  # anything else: refused, reset, cut short, not HTTP

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def fetch(
    uri: str,
    *handlers: urllib.request.BaseHandler,
    private_allowed: bool,
    context: ssl.SSLContext | None,
    timeout: float,
    max_bytes: int,
    accept: str = "application/json",
    form: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[bytes, http.client.HTTPMessage]:
    """The body and headers of a GET of ``uri`` through ``opener`` (the
    same arguments), or of a POST of ``form`` (an urlencoded body, sent
    as ``application/x-www-form-urlencoded``) with ``headers`` added; or
    ``FetchError``. The whole exchange, redirects followed by ``handlers``
    included, must end within ``timeout`` seconds and the body stay within
    ``max_bytes``. The caller checks the scheme."""
    deadline = Deadline(timeout)
    director = opener(*handlers, private_allowed=private_allowed, context=context, deadline=deadline)
    request = urllib.request.Request(uri, data=form, headers={**(headers or {}), "Accept": accept})  # noqa: S310 - scheme checked by the caller
    try:
        with deadline, director.open(request, timeout=timeout) as response:
            return _read(response, deadline, max_bytes), response.headers
    except FetchError:
        if deadline.expired:  # a connection the deadline shut down reads as cut short
            raise FetchError(FetchError.TIMEOUT) from None
        raise
    except urllib.error.HTTPError as error:
        error.close()
        raise FetchError(FetchError.HTTP_STATUS, error.code) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, UnicodeError) as error:
        # UnicodeError: a host name IDNA cannot encode (an empty or overlong label).
        reason = getattr(error, "reason", error)
        if deadline.expired:
            raise FetchError(FetchError.TIMEOUT) from None
        if isinstance(reason, NonPublicAddress):
            raise FetchError(FetchError.PRIVATE) from None
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise FetchError(FetchError.CERTIFICATE) from None
        if isinstance(reason, TimeoutError):
            raise FetchError(FetchError.TIMEOUT) from None
        raise FetchError(FetchError.UNREACHABLE) from None


def _read(response: http.client.HTTPResponse, deadline: Deadline, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of ``response``, before ``deadline``: a server
    sending slowly or endlessly is cut off (the socket timeout alone would
    let a byte every few seconds go on for hours)."""
    body = b""
    while chunk := response.read1(READ_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(FetchError.TOO_LARGE)
    if deadline.expired:
        # Shut down mid-answer: what arrived (the headers too) may be cut short.
        raise FetchError(FetchError.TIMEOUT)
    if response.length:
        # The connection closed before the Content-Length promised was sent.
        raise FetchError(FetchError.UNREACHABLE)
    return body
