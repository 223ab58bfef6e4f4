"""The one place that validates and matches redirect URIs.

Registration (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1): absolute, no
fragment, no wildcard; ``http`` only for loopback hosts; private-use schemes
for native apps must look like a reversed domain name ("com.example.app").

Matching (RFC 9700 §4.1.3): the requested URI must equal a registered one
character for character. The one relaxation is RFC 8252 §7.3: "The
authorization server MUST allow any port to be specified at the time of the
request for loopback IP redirect URIs".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .payload import MAX_LENGTHS

# Schemes that can run code or read local data in the user agent.
FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})
LOOPBACK_NAMES = frozenset({"localhost"})


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return parts


def is_loopback_ip(host: str | None) -> bool:
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def validate_redirect_uri(uri: str) -> None:
    """Raise ``ValidationError`` unless ``uri`` may be registered."""
    limit = MAX_LENGTHS["redirect_uri"]
    if len(uri) > limit:
        # Longer than an authorization request may carry: it could never be used.
        raise ValidationError(
            _("A redirect URI may be at most %(limit)d characters long."),
            code="max_length",
            params={"limit": limit},
        )
    parts = _split(uri)
    if parts is None or not parts.scheme or uri != uri.strip() or any(c.isspace() for c in uri):
        raise ValidationError(_("Enter an absolute URI without spaces."), code="invalid")
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        raise ValidationError(_("A redirect URI must not contain a fragment."), code="fragment")
    if "*" in uri:
        raise ValidationError(_("Wildcards are not allowed in redirect URIs."), code="wildcard")
    if scheme in FORBIDDEN_SCHEMES:
        raise ValidationError(_("This URI scheme is not allowed."), code="scheme")
    if scheme == "https":
        if not parts.hostname:
            raise ValidationError(_("An https redirect URI needs a host."), code="host")
    elif scheme == "http":
        if not (is_loopback_ip(parts.hostname) or parts.hostname in LOOPBACK_NAMES):
            raise ValidationError(
                _("Plain http is only allowed for loopback addresses such as 127.0.0.1."),
                code="insecure",
            )
    elif "." not in scheme:
        # RFC 8252 §7.1: private-use schemes based on a domain name the app controls.
        raise ValidationError(
            _("Use https, http on a loopback address, or a reversed domain name scheme."),
            code="scheme",
        )


def redirect_uri_matches(requested: str, registered: Iterable[str]) -> bool:
    """Whether ``requested`` is one of ``registered`` (exact, or loopback port)."""
    registered = list(registered)
    if requested in registered:
        return True
    portless = _without_loopback_port(requested)
    return portless is not None and any(
        _without_loopback_port(candidate) == portless for candidate in registered
    )


def _without_loopback_port(uri: str) -> str | None:
    """``uri`` with its port removed, if it is an ``http`` loopback IP URI.

    Works on the text so everything but the port still compares exactly.
    """
    parts = _split(uri)
    if parts is None or not uri.startswith("http://") or "@" in parts.netloc:
        return None
    if not is_loopback_ip(parts.hostname):
        return None
    netloc = parts.netloc
    if parts.port is not None or netloc.endswith(":"):
        netloc = netloc[: netloc.rindex(":")]
    return "http://" + netloc + uri[len("http://") + len(parts.netloc) :]
