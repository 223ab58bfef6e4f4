"""Sector identifiers: which clients share a pairwise ``sub`` (OpenID Connect Core 1.0 §8.1).

A pairwise client's sector is the host of its ``sector_identifier_uri`` or,
without one, the host of its redirect URIs, which must then all be on that
one host. Registration 1.0 §5: "If there are multiple hostnames in the
registered redirect_uris, the Client MUST register a sector_identifier_uri."

Core §8.1: "The value of the sector_identifier_uri MUST be a URL using the
https scheme that points to a JSON file containing an array of redirect_uri
values. The values of the registered redirect_uris MUST be included in the
elements of the array." The server fetches the file when a client is saved
with a new URI or new redirect URIs (``Client.clean``): that proves whoever
controls the sector's host lists the client, so no client can join a sector
(and learn the ``sub`` its users have there) without the sector's consent.

The fetch uses only the standard library: https only, also after redirects,
with the system's certificate authorities (``ssl_context``, which tests
replace to trust a local test authority), a short deadline and a size cap.
It goes through ``outbound``: for a client registered through self-service,
only to public addresses, checked again at each redirect.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Iterable
from http.client import HTTPMessage
from typing import IO
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import outbound
from .redirect_uris import is_claimable_by_any_app, shown, validate_called_url

# The whole fetch, connecting and every redirect included, in seconds.
TIMEOUT_SECONDS = 5
# A list of MAX_REDIRECT_URIS redirect URIs fits many times over.
MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3


def _split(uri: str) -> SplitResult | None:
    try:
        return urlsplit(uri)
    except ValueError:
        return None


def ssl_context() -> ssl.SSLContext:
    """The TLS settings of the fetch: the system's certificate authorities,
    certificate and host name verified (Python's defaults). Tests replace
    this function to trust their own authority; nothing else does."""
    return ssl.create_default_context()


def sector_host(redirect_uri: str) -> str | None:
    """The host that names the sector of ``redirect_uri``, or None when any
    program on a user's device could receive it (a loopback address or a
    private-use scheme, RFC 8252 §8.6): such a host is nobody's sector, so a
    client with only those redirect URIs is a sector of its own."""
    if is_claimable_by_any_app(redirect_uri):
        return None
    parts = _split(redirect_uri)
    return parts.hostname if parts is not None else None


def redirect_uri_sectors(redirect_uris: Iterable[str]) -> set[str | None]:
    """The sectors ``redirect_uris`` are in (None: the client's own); a
    pairwise client without a ``sector_identifier_uri`` must have one."""
    return {sector_host(uri) for uri in redirect_uris}


def validate_sector_identifier_uri(uri: str) -> None:
    """Raise ``ValidationError`` unless ``uri`` is an https URL with a host,
    no fragment, and nothing that hides where it leads (as redirect URIs)."""
    validate_called_url(
        uri,
        ("https",),
        ValidationError(_("The sector identifier URI must be an https URL."), code="insecure"),
    )


def verify(uri: str, redirect_uris: list[str], *, private_allowed: bool) -> None:
    """Raise ``ValidationError`` unless ``uri`` may be the sector identifier
    URI of a client with ``redirect_uris``: valid (above), and a JSON array
    that includes every one of them, fetched now (from any address only with
    ``private_allowed``, ``outbound.private_addresses_allowed``)."""
    validate_sector_identifier_uri(uri)
    try:
        listed = json.loads(fetch(uri, private_allowed=private_allowed))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        listed = None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise ValidationError(
            _("The sector identifier URI must return a JSON array of redirect URIs."), code="not_a_list"
        )
    missing = [redirect_uri for redirect_uri in redirect_uris if redirect_uri not in listed]
    if missing:
        raise ValidationError(
            _("The sector identifier URI does not list these redirect URIs: %(missing)s."),
            code="missing",
            params={"missing": ", ".join(map(shown, missing))},
        )


class HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most ``MAX_REDIRECTS`` redirects, each to https only: the
    document's authenticity is what the fetch is for."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        parts = _split(newurl)
        if parts is None or parts.scheme != "https":
            raise ValidationError(
                _("The sector identifier URI redirects to a URL that is not https."), code="insecure_redirect"
            )
        redirects = getattr(req, "redirects", 0) + 1
        if redirects > MAX_REDIRECTS:
            raise ValidationError(
                _("The sector identifier URI redirects more than %(limit)d times."),
                code="too_many_redirects",
                params={"limit": MAX_REDIRECTS},
            )
        new_request = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new_request is not None:
            new_request.redirects = redirects
        return new_request


# Each way the fetch can fail, in this field's words (outbound.FetchError.reason).
FETCH_ERRORS = {
    outbound.FetchError.PRIVATE: _("The sector identifier URI's host is not a public internet address."),
    outbound.FetchError.CERTIFICATE: _("The sector identifier URI's TLS certificate could not be verified."),
    outbound.FetchError.TIMEOUT: _("The sector identifier URI did not answer in time."),
    outbound.FetchError.UNREACHABLE: _("The sector identifier URI could not be fetched."),
}


def fetch(uri: str, *, private_allowed: bool) -> bytes:
    """The body of an https GET of ``uri``, or ``ValidationError`` saying
    why not (never the server's own words, which the client's owner controls).
    Without ``private_allowed``, only from public addresses (``outbound``)."""
    try:
        body, _headers = outbound.fetch(
            uri,
            HttpsOnlyRedirects(),
            private_allowed=private_allowed,
            context=ssl_context(),
            timeout=TIMEOUT_SECONDS,
            max_bytes=MAX_BYTES,
        )
    except outbound.FetchError as error:
        if error.reason == outbound.FetchError.HTTP_STATUS:
            raise ValidationError(
                _("The sector identifier URI answered with HTTP status %(status)d."),
                code="http_status",
                params={"status": error.status},
            ) from None
        if error.reason == outbound.FetchError.TOO_LARGE:
            raise ValidationError(
                _("The sector identifier document is larger than %(limit)d kB."),
                code="too_large",
                params={"limit": MAX_BYTES // 1024},
            ) from None
        # Codes as before the fetch moved to outbound: only a private address has its own.
        code = "private" if error.reason == outbound.FetchError.PRIVATE else "unreachable"
        raise ValidationError(FETCH_ERRORS[error.reason], code=code) from None
    return body
