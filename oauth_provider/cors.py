"""Cross-origin resource sharing (the Fetch standard's CORS protocol) for the
endpoints a script in a browser calls: single-page apps and agents running in
a page. RFC 9700 §2.6: "endpoints directly accessed by such clients including
the Token Endpoint, Authorization Server Metadata Endpoint, jwks_uri Endpoint,
and Dynamic Client Registration Endpoint MAY support the use of Cross-Origin
Resource Sharing (CORS). However, CORS MUST NOT be supported at the
Authorization Endpoint, as the client does not access this endpoint directly".

Two rules, each a view decorator, and nothing else anywhere:

- ``any_origin``: public documents (RFC 8414 metadata, OpenID Connect
  Discovery, the JWK Set, RFC 9728 protected resource metadata) and UserInfo
  answer every origin with ``*``. They hold nothing private, or nothing the
  calling script does not already hold (UserInfo's access token).
- ``client_origins``: the token and revocation endpoints answer only origins
  that a client registered: the origins of its ``https`` and loopback ``http``
  redirect URIs, plus its ``allowed_origins``. The preflight cannot know the
  client (its ``client_id`` is in the body it does not carry), so it passes
  any origin some active client registered (``registered_origins``, a cached
  set); the actual response is readable only by the origins of the client it
  authenticated (``allow_client``). An error before client authentication is
  therefore unreadable to the page; its developer still sees it in the
  browser's network panel.

Never ``Access-Control-Allow-Credentials``: no endpoint here takes the
browser's cookies, and without that header the browser sends none
(Fetch §3.2.5, "credentials mode"). The authorization endpoint and people's
pages get nothing: they are navigated to, never fetched cross-origin.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from . import primary
from .redirect_uris import (
    LOOPBACK_NAMES,
    MAX_REDIRECT_URI_LENGTH,
    check_unambiguous_host,
    is_loopback_ip,
    shown,
    split_redirect_uris,
)

View = Callable[..., HttpResponseBase]

# How long a browser may reuse a preflight's answer (Chromium caps it at two
# hours). A stale "yes" only lets the request be sent: its response is
# still unreadable unless the actual answer allows the origin.
PREFLIGHT_MAX_AGE = "86400"
# The set of every active client's origins, in the default cache. Saving or
# deleting a client clears it (receivers.py); the timeout bounds how long a
# process with a cache of its own (local memory) keeps an outdated copy.
REGISTERED_ORIGINS_KEY = "oauth_provider:cors:registered_origins"
REGISTERED_ORIGINS_TIMEOUT = 300
MAX_ALLOWED_ORIGINS = 20
DEFAULT_PORTS = {"http": 80, "https": 443}
# Set on the request by the view once it knows the client (allow_client).
CLIENT_ATTRIBUTE = "oauth_provider_cors_client"


def origin_of(uri: str) -> str | None:
    """The origin (RFC 6454 §4, serialized as §6.2) of a registered ``https``
    or loopback ``http`` URI, or None for other URIs (a native app's
    private-use scheme has no web origin)."""
    parts = urlsplit(uri)
    host = parts.hostname
    if parts.scheme == "http" and not (is_loopback_ip(host) or host in LOOPBACK_NAMES):
        return None
    if parts.scheme not in DEFAULT_PORTS or not host:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets in an origin
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def split_origins(value: str) -> list[str]:
    """The origins of a one-per-line ``allowed_origins`` list."""
    return split_redirect_uris(value)


def validate_allowed_origins(value: str) -> None:
    """Raise ``ValidationError`` unless every line is an origin exactly as a
    browser sends it in ``Origin``: ``https://host[:port]`` (or ``http`` on a
    loopback host), lowercase, no default port, no path, no wildcard, each
    no longer than a redirect URI may be, at most ``MAX_ALLOWED_ORIGINS`` of
    them. Matching is exact, so anything else could never match and would
    only mislead its reader."""
    origins = split_origins(value)
    if len(origins) > MAX_ALLOWED_ORIGINS:
        raise ValidationError(
            _("Register at most %(limit)d origins."), code="too_many", params={"limit": MAX_ALLOWED_ORIGINS}
        )
    message = _("Enter an origin such as https://app.example.com, without a path.")
    errors = [f"{shown(origin)}: {message}" for origin in origins if not _is_origin(origin)]
    if errors:
        raise ValidationError(errors, code="invalid")


def _is_origin(value: str) -> bool:
    if len(value) > MAX_REDIRECT_URI_LENGTH or not value.isascii() or "*" in value:
        return False
    if origin_of(value) != value:
        return False
    try:
        # A lowercase DNS name or an IP address, nothing that reads otherwise.
        check_unambiguous_host(urlsplit(value))
    except ValidationError:
        return False
    return True


def client_origin_set(redirect_uris: Iterable[str], allowed_origins: Iterable[str]) -> frozenset[str]:
    """A client's origins: those of its redirect URIs, and those it listed."""
    derived = (origin_of(uri) for uri in redirect_uris)
    return frozenset(origin for origin in (*derived, *allowed_origins) if origin)


def registered_origins() -> frozenset[str]:
    """Every origin an active client registered, from the cache or rebuilt
    (one query over the active clients) when the cache has none."""
    origins = cache.get(REGISTERED_ORIGINS_KEY)
    if origins is None:
        from .models import Client  # the models import this module for its validator

        # From the primary: rebuilt from a replica that lags, the set would
        # bring back what the change that dropped it has just changed.
        active = Client.objects.using(primary.alias(Client)).filter(is_active=True)
        rows = active.values_list("redirect_uris", "allowed_origins")
        origins = frozenset().union(
            *(client_origin_set(split_redirect_uris(uris), split_origins(listed)) for uris, listed in rows)
        )
        cache.set(REGISTERED_ORIGINS_KEY, origins, REGISTERED_ORIGINS_TIMEOUT)
    return origins


def forget_registered_origins() -> None:
    """Drop the cached set, after a client's origins may have changed."""
    cache.delete(REGISTERED_ORIGINS_KEY)


def allow_client(request: HttpRequest, client: Any) -> None:
    """Let the origins ``client`` registered read this request's response.

    Called by a ``client_origins`` view as soon as the client is
    authenticated, so that its errors past that point (``invalid_grant``)
    are readable too."""
    setattr(request, CLIENT_ATTRIBUTE, client)


def _is_preflight(request: HttpRequest) -> bool:
    # Fetch §3.2.2: an OPTIONS request with Origin and Access-Control-Request-Method.
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def any_origin(
    methods: str = "GET", allow_headers: str = "*", expose_headers: str | None = None
) -> Callable[[View], View]:
    """Answer every origin with ``*``: preflights here (``allow_headers`` "*"
    admits any request header but Authorization, which must be named), and
    every response, errors included, so that a script can react to them."""
    headers = {"Access-Control-Allow-Origin": "*"}
    if expose_headers:
        headers["Access-Control-Expose-Headers"] = expose_headers
    preflight = {
        **headers,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": allow_headers,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if _is_preflight(request):
                return HttpResponse(status=204, headers=preflight)
            response = view(request, *args, **kwargs)
            for name, value in headers.items():
                response.headers.setdefault(name, value)
            return response

        return wrapped

    return decorator


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST",
        # RFC 6749 §2.3.1: client_secret_basic.
        "Access-Control-Allow-Headers": "Authorization",
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }


def client_origins(view: View) -> View:
    """Answer only registered origins (see the module docstring), always
    with ``Vary: Origin``: the answer depends on it."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if _is_preflight(request):
            origin = request.headers["Origin"]
            headers = _preflight(origin) if origin in registered_origins() else {}
            response: HttpResponseBase = HttpResponse(status=204, headers=headers)
        else:
            response = view(request, *args, **kwargs)
            origin = request.headers.get("Origin")
            client = getattr(request, CLIENT_ATTRIBUTE, None)
            if origin and client is not None and origin in client.cors_origins:
                response.headers["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ["Origin"])
        return response

    return wrapped
