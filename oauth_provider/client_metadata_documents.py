"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document).

A client needs no registration: its ``client_id`` is an https URL, and the
JSON document at that URL describes it with the RFC 7591 §2 metadata names
(``client_name``, ``redirect_uris``, ...). When ``CLIENT_ID_METADATA_DOCUMENTS``
is on, the authorization, token, revocation, introspection and device
authorization endpoints resolve such a ``client_id`` here: the document is
fetched, checked with the rules a client registered in the admin must meet,
and kept as a ``Client`` row whose ``client_id`` is the URL
(``Client.is_metadata_document``). The row is used for as long as the
document's HTTP caching headers say, within
``CLIENT_ID_METADATA_DOCUMENT_CACHE_MIN_SECONDS`` and ``..._MAX_SECONDS``;
then the next request that names the client fetches it again.

Fetching is a security boundary, since anyone can make the server fetch a
URL by sending it as a ``client_id``: https only, through ``outbound`` (public
addresses only unless ``OUTBOUND_PRIVATE_ADDRESSES_ALLOWED``, no proxy), no
redirect followed, ``MAX_BYTES`` and ``TIMEOUT_SECONDS``; hosts can be allowed
or blocked by settings.

The threat is impersonation: anyone may publish a document named "Your Bank".
Such clients have no shared secret (the draft's restrictions on metadata): they are public, or
authenticate with ``private_key_jwt`` (RFC 7523, keys from the document's
``jwks`` or ``jwks_uri``); PKCE is required of them all, and the consent screen shows the host that serves the
document, which the author cannot choose freely, and that the site did not
review the app. With ``CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED``, new
ones (and changed ones) wait for an admin, except from allowed hosts.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Mapping
from datetime import datetime, timedelta
from http.client import HTTPMessage
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from . import clock, outbound, primary, throttling
from .client_assertions import PRIVATE_KEY_JWT, public_key_set
from .errors import InvalidClient
from .models import Client
from .scopes import parse_scope, privileged_scopes
from .settings import AUTHORIZATION_CODE, REFRESH_TOKEN, oauth_settings

# The draft's security considerations suggest a 5 kB limit; a document with many redirect URIs still fits.
MAX_BYTES = 5 * 1024
# The whole fetch, in seconds: a user (or a token request) waits for it.
TIMEOUT_SECONDS = 3
# Only the browser flow and its refresh: a device or client credentials
# request would let an unreviewed app act with no redirect URI to check.
GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN)
# The draft: shared secrets are impossible (the document is public); a
# client that can keep a private key proves itself with it (RFC 7523).
AUTH_METHODS = ("none", PRIVATE_KEY_JWT)
# A key set with a few keys, rotation included, fits many times over.
JWKS_MAX_BYTES = 16 * 1024
UNPRINTABLE = re.compile(r"[^\x21-\x7e]")
HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

# Each way the fetch can fail, in this feature's words (outbound.FetchError.reason).
FETCH_ERRORS = {
    # A redirect too: the document must be at its own URL.
    outbound.FetchError.HTTP_STATUS: _("The client ID metadata document URL did not answer with 200 OK."),
    outbound.FetchError.PRIVATE: _("The client ID metadata document's host is not a public address."),
    outbound.FetchError.CERTIFICATE: _("The client ID metadata document's TLS certificate is not valid."),
    outbound.FetchError.TIMEOUT: _("The client ID metadata document did not arrive in time."),
    outbound.FetchError.TOO_LARGE: _("The client ID metadata document is larger than 5 kB."),
    outbound.FetchError.UNREACHABLE: _("The client ID metadata document could not be fetched."),
}
INVALID_DOCUMENT = _("The client ID metadata document is not valid: %(field)s.")


def ssl_context() -> ssl.SSLContext:
    """The TLS settings of the fetch: the system's certificate authorities,
    certificate and host name verified. Tests replace this function to trust
    their own authority; nothing else does."""
    return ssl.create_default_context()


def names_document(client_id: str) -> bool:
    """Whether ``client_id`` is meant as a metadata document URL (and so is
    never a registered client's, which are generated tokens)."""
    return client_id.startswith("https://")


def resolve(client_id: str, meta: Mapping[str, str] | None = None) -> Client | None:
    """The client ``client_id`` (``names_document``) names, fetched if no
    fresh copy is stored; None while the feature is off (an unknown client).
    ``InvalidClient`` says why the document is refused.

    ``meta`` is the request's ``META``: each fetch counts against its
    address (``CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES``, then
    ``TooManyRequests``); None only where there is no request.

    The caller checks, as for any client, whether it is active and approved.
    """
    if oauth_settings.CLIENT_ID_METADATA_DOCUMENTS is not True:
        return None
    host = _check_url(client_id)
    if not host_permitted(host):
        raise InvalidClient(_("The client ID metadata document's host is not allowed on this server."))
    client = primary.first_or_from_primary(Client.objects.filter(client_id=client_id))
    now = clock.now()
    fresh_until = client.metadata_document_expires_at if client is not None else None
    if fresh_until is not None and fresh_until > now:
        return client
    if meta is not None:
        throttling.count_request(throttling.METADATA_DOCUMENT_FETCH, None, meta)
    body, headers = _fetch(client_id)
    return _store(client_id, host, client, _parse(client_id, body), now, now + _lifetime(headers, now))


def _check_url(client_id: str) -> str:
    """The draft's client identifier URL "MUST have an https scheme, MUST
    contain a path component, MUST NOT contain single-dot or double-dot path
    segments, MAY contain a query string component, MUST NOT contain a
    fragment component and MUST NOT contain a username or password"; returns its host."""
    try:
        parts: SplitResult | None = urlsplit(client_id)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        # urlsplit drops tabs and newlines: "https://ex\nample.com/" would be fetched from example.com.
        or UNPRINTABLE.search(client_id)
        or not port_ok
        or parts.scheme != "https"
        or not _is_host(parts.hostname)
        or parts.username is not None
        or parts.password is not None
        or "#" in client_id
        or parts.path in ("", "/")
        or any(segment in (".", "..") for segment in parts.path.split("/"))
    ):
        raise InvalidClient(_("The client_id is not a valid client ID metadata document URL."))
    return parts.hostname


def _is_host(host: str | None) -> bool:
    """An IP address or a host name in ASCII (RFC 1123 §2.1 labels; an
    internationalized name in its A-label form): what the host lists match
    and the consent screen shows, with nothing that could render deceptively.
    An IPv4 address only in its usual dotted form: the resolver reads
    "2130706433", "127.1" or "0x7f.0.0.1" as 127.0.0.1 without asking DNS,
    so such a "name" would slip past a host list naming the address."""
    if not host or len(host) > 253:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            socket.inet_aton(host)
        except OSError:
            return all(HOST_LABEL.fullmatch(label) for label in host.split("."))
        return False
    return True


def _matches(host: str, patterns: list[str]) -> bool:
    """``host`` is one of ``patterns``: an exact name, or under one with a leading dot."""
    return any(host == pattern or (pattern[:1] == "." and host.endswith(pattern)) for pattern in patterns)


def host_permitted(host: str) -> bool:
    """Not blocked, and allowed when an allow list is set."""
    if _matches(host, oauth_settings.CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS):
        return False
    allowed = oauth_settings.CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS
    return not allowed or _matches(host, allowed)


def approval_required(host: str) -> bool:
    """Whether a client from ``host`` waits for an admin: the setting is on
    and the admin has not allowed the host by name."""
    return oauth_settings.CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED is True and not _matches(
        host, oauth_settings.CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS
    )


def _fetch(url: str) -> tuple[bytes, HTTPMessage]:
    """The document's bytes and headers. No redirect is followed (a 3xx is
    refused like any other status): the document must be at its own URL."""
    try:
        return outbound.fetch(
            url,
            private_allowed=bool(oauth_settings.OUTBOUND_PRIVATE_ADDRESSES_ALLOWED),
            context=ssl_context(),
            timeout=TIMEOUT_SECONDS,
            max_bytes=MAX_BYTES,
        )
    except outbound.FetchError as error:
        raise InvalidClient(FETCH_ERRORS[error.reason]) from None


def _lifetime(headers: HTTPMessage, now: datetime) -> timedelta:
    """How long the document may be used (RFC 9111 §4.2.1: max-age, else
    Expires), within the floor and cap of the settings. ``no-store`` and
    ``no-cache`` get the floor: refetching on every request would let anyone
    make the server fetch at will."""
    floor = oauth_settings.CLIENT_ID_METADATA_DOCUMENT_CACHE_MIN_SECONDS
    cap = oauth_settings.CLIENT_ID_METADATA_DOCUMENT_CACHE_MAX_SECONDS
    seconds = outbound.freshness_seconds(headers, now)
    return timedelta(seconds=min(max(seconds, floor), cap))


def _parse(url: str, body: bytes) -> dict[str, Any]:
    """The document as a JSON object whose ``client_id`` is exactly ``url``
    (the draft: "simple string comparison")."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        document = None
    if not isinstance(document, dict):
        raise InvalidClient(_("The client ID metadata document is not a JSON object."))
    if document.get("client_id") != url:
        raise InvalidClient(_("The client ID metadata document's client_id is not its URL."))
    return document


def _strings(document: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = document.get(name, default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidClient(INVALID_DOCUMENT, field=name)
    return value


def _string(document: dict[str, Any], name: str, default: str) -> str:
    value = document.get(name, default)
    if not isinstance(value, str):
        raise InvalidClient(INVALID_DOCUMENT, field=name)
    return value


def _client_values(document: dict[str, Any], host: str) -> dict[str, Any]:
    """The ``Client`` fields the document gives, or ``InvalidClient``."""
    # The draft: no shared secret can be established with a metadata document.
    method = _string(document, "token_endpoint_auth_method", "none")
    if "client_secret" in document or method not in AUTH_METHODS:
        raise InvalidClient(
            _("Client ID metadata documents must use token_endpoint_auth_method none or private_key_jwt.")
        )
    grant_types = _strings(document, "grant_types", [AUTHORIZATION_CODE])
    enabled = [name for name in GRANT_TYPES if name in oauth_settings.GRANT_TYPES]
    if not grant_types or not set(grant_types) <= set(enabled):
        raise InvalidClient(INVALID_DOCUMENT, field="grant_types")
    # RFC 7591 §2.1: response_type code goes with the authorization_code grant.
    if not set(_strings(document, "response_types", ["code"])) <= {"code"}:
        raise InvalidClient(INVALID_DOCUMENT, field="response_types")
    scopes = parse_scope(_string(document, "scope", "")) if "scope" in document else []
    if privileged_scopes() & set(scopes):
        raise InvalidClient(INVALID_DOCUMENT, field="scope")
    return {
        # Without a name, the host names it: still who vouches for it.
        "name": _string(document, "client_name", host),
        "website": _string(document, "client_uri", ""),
        "redirect_uris": "\n".join(_strings(document, "redirect_uris", [])),
        "grant_types": grant_types,
        "scopes": scopes,
        "client_type": Client.ClientType.CONFIDENTIAL
        if method == PRIVATE_KEY_JWT
        else Client.ClientType.PUBLIC,
        "jwks": _keys(document) if method == PRIVATE_KEY_JWT else None,
    }


def _keys(document: dict[str, Any]) -> dict[str, Any]:
    """A private_key_jwt client's public keys: its ``jwks``, or the key set
    its ``jwks_uri`` serves, fetched now like the document (RFC 7591 §2:
    "The jwks_uri and jwks parameters MUST NOT both be present")."""
    if ("jwks" in document) == ("jwks_uri" in document):
        raise InvalidClient(INVALID_DOCUMENT, field="jwks_uri")
    jwks = document.get("jwks")
    if "jwks_uri" in document:
        jwks = _fetch_jwks(document["jwks_uri"])
    if public_key_set(jwks) is None:
        raise InvalidClient(INVALID_DOCUMENT, field="jwks")
    return jwks


def _fetch_jwks(uri: Any) -> Any:
    """The JSON a ``jwks_uri`` serves: an https URL on a permitted host,
    fetched as the document is (``outbound``, no redirects)."""
    try:
        parts = urlsplit(uri) if isinstance(uri, str) else None
    except ValueError:
        parts = None
    if (
        parts is None
        or UNPRINTABLE.search(uri)
        or parts.scheme != "https"
        or not _is_host(parts.hostname)
        or parts.username is not None
        or "#" in uri
        or not host_permitted(parts.hostname)
    ):
        raise InvalidClient(INVALID_DOCUMENT, field="jwks_uri")
    try:
        body, _headers = outbound.fetch(
            uri,
            private_allowed=bool(oauth_settings.OUTBOUND_PRIVATE_ADDRESSES_ALLOWED),
            context=ssl_context(),
            timeout=TIMEOUT_SECONDS,
            max_bytes=JWKS_MAX_BYTES,
        )
        return json.loads(body)
    except (outbound.FetchError, UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidClient(_("The client's jwks_uri could not be fetched as a JSON key set.")) from None


# Client field -> the document's name for it, to say which one is wrong.
DOCUMENT_NAMES = {
    "name": "client_name",
    "website": "client_uri",
    "redirect_uris": "redirect_uris",
    "grant_types": "grant_types",
    "scopes": "scope",
}


def _store(
    url: str, host: str, client: Client | None, document: dict[str, Any], now: datetime, expires: datetime
) -> Client:
    """Create or refresh the client's row from ``document``, checked like a
    client saved in the admin (``Client.full_clean``)."""
    values = _client_values(document, host)
    if client is None:
        waits = approval_required(host)
        client = Client(client_id=url, is_active=not waits, awaiting_approval=waits)
    before = client.reviewed_values()
    for name, value in values.items():
        setattr(client, name, value)
    try:
        client.full_clean(validate_unique=False)
    except ValidationError as error:
        fields = getattr(error, "error_dict", {})
        field = next((DOCUMENT_NAMES[name] for name in fields if name in DOCUMENT_NAMES), "client_id")
        raise InvalidClient(INVALID_DOCUMENT, field=field) from None
    if client.pk is not None and approval_required(host):
        # A changed document is a changed client: back to review (kept active,
        # as for self-service changes; no new authorization until approved).
        client.request_review(before)
    client.metadata_document_fetched_at, client.metadata_document_expires_at = now, expires
    try:
        with primary.atomic(Client):
            client.save()
    except IntegrityError:
        # Another request stored the same document first (or a replica had
        # not yet shown it this one's row): use its row, from the primary.
        return Client.objects.using(primary.alias(Client)).get(client_id=url)
    return client
