"""What a resource server on another machine asks its issuer over HTTP,
and the issuer's metadata (RFC 8414 §3, OpenID Connect Discovery 1.0 §4).

Requests use the standard library (``outbound.fetch``: a deadline on the
whole exchange, a size cap, no proxy, no redirects). The issuer is the
site's own configuration, not a client's, so private addresses are allowed
(an authorization server on the internal network is the usual case).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPMessage
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import clock, outbound
from ..settings import oauth_settings

# Each request to the issuer, whole, in seconds. A protected request makes
# one (introspection), or on first use up to three (metadata, its fallback, JWKS).
TIMEOUT_SECONDS = 5
# Metadata and key sets are a few kB; an introspection answer less.
MAX_BYTES = 256 * 1024
# Metadata is kept for its max-age within these bounds, in seconds: it
# changes rarely, and JWKS refetches do not need it again.
METADATA_MIN_SECONDS = 3600
# Nothing fetched is kept longer than this, whatever its max-age says.
MAX_CACHE_SECONDS = 24 * 3600


class IssuerUnavailable(Exception):
    """The issuer could not be asked, or gave an answer that cannot be used
    (unreachable, timed out, an error status, not JSON, metadata naming
    another issuer). A token that needed it is neither accepted nor called
    invalid: the DRF class answers 503 (``rest_framework.authentication``),
    and logs the message (a URL and a reason, never a token or a secret).
    ``status``: the HTTP status of an error answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def get_json(
    url: str, *, form: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], HTTPMessage]:
    """The JSON object at ``url`` (a POST of ``form`` if given) and the
    answer's headers; ``IssuerUnavailable`` for anything but 200 with a JSON
    object, whose message names the URL and the reason only (never the
    form, which may hold a token, nor the headers, which may hold credentials)."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise IssuerUnavailable(f"{url}: not an http(s) URL")
    try:
        body, answer_headers = outbound.fetch(
            url,
            private_allowed=True,
            context=None,
            timeout=TIMEOUT_SECONDS,
            max_bytes=MAX_BYTES,
            form=form,
            headers=headers,
        )
    except outbound.FetchError as error:
        status = f" {error.status}" if error.status is not None else ""
        raise IssuerUnavailable(f"{url}: {error.reason}{status}", error.status) from None
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise IssuerUnavailable(f"{url}: the answer is not a JSON object")
    return document, answer_headers


def fresh_until(headers: HTTPMessage, now: datetime, *, floor: int) -> datetime:
    """When an answer fetched at ``now`` stops being used: its max-age (or
    Expires), at least ``floor`` seconds (so ``no-store`` cannot make every
    request a fetch) and at most ``MAX_CACHE_SECONDS``."""
    seconds = min(max(outbound.freshness_seconds(headers, now), floor), MAX_CACHE_SECONDS)
    return now + timedelta(seconds=seconds)


def metadata_urls(issuer: str) -> list[str]:
    """Where the issuer's metadata may be, in the order asked: RFC 8414
    §3.1 inserts ``/.well-known/oauth-authorization-server`` between host and
    path; OpenID Connect Discovery 1.0 §4 appends
    ``/.well-known/openid-configuration`` to the issuer."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return [
        urlunsplit((parts.scheme, parts.netloc, f"/.well-known/oauth-authorization-server{path}", "", "")),
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]


@dataclass(frozen=True)
class Metadata:
    """What this resource server uses of the issuer's metadata; an endpoint
    the issuer does not offer is None."""

    issuer: str
    jwks_uri: str | None
    introspection_endpoint: str | None
    fresh_until: datetime


_metadata: dict[str, Metadata] = {}
_lock = threading.Lock()


def metadata() -> Metadata:
    """The configured issuer's metadata, fetched when not known or stale.

    RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the
    authorization server's issuer identifier value into which the
    well-known URI string was inserted [...]. If these values are not
    identical, the data contained in the response MUST NOT be used."
    """
    issuer = oauth_settings.RESOURCE_SERVER_ISSUER
    now = clock.now()
    known = _metadata.get(issuer)
    if known is not None and now < known.fresh_until:
        return known
    with _lock:
        known = _metadata.get(issuer)
        if known is not None and now < known.fresh_until:
            return known  # another thread fetched it meanwhile
        document, headers = _fetch_metadata(issuer)
        if document.get("issuer") != issuer:
            raise IssuerUnavailable(f"{issuer}: its metadata names another issuer (RFC 8414 §3.3)")
        known = _metadata[issuer] = Metadata(
            issuer=issuer,
            jwks_uri=_endpoint(document, "jwks_uri", issuer),
            introspection_endpoint=_endpoint(document, "introspection_endpoint", issuer),
            fresh_until=fresh_until(headers, now, floor=METADATA_MIN_SECONDS),
        )
    return known


def _fetch_metadata(issuer: str) -> tuple[dict[str, Any], HTTPMessage]:
    """RFC 8414's document, else (when the issuer answers that it has none:
    an OpenID Provider only) OpenID Connect's."""
    first, fallback = metadata_urls(issuer)
    try:
        return get_json(first)
    except IssuerUnavailable as error:
        if error.status is None or not 400 <= error.status < 500:
            raise
        return get_json(fallback)


def _endpoint(document: dict[str, Any], name: str, issuer: str) -> str | None:
    """An endpoint URL of the metadata: https, or http when the issuer
    itself is (a development server on loopback, which checks.E042 allows)."""
    value = document.get(name)
    if not isinstance(value, str):
        return None
    scheme = urlsplit(value).scheme
    return value if scheme == "https" or scheme == urlsplit(issuer).scheme == "http" else None


def forget() -> None:
    """Drop the metadata this process keeps (tests; a changed issuer is looked up afresh anyway)."""
    _metadata.clear()
