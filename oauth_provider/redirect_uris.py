"""The one place that validates and matches redirect URIs.

Registration (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1): absolute, no
fragment, no wildcard; ``http`` only for loopback hosts; private-use schemes
for native apps must look like a reversed domain name ("com.example.app").
Nothing that could mislead the person reading the URI (an admin reviewing a
client, a developer) is accepted: no userinfo (``https://good@evil``), no
backslash, only ASCII (internationalized hosts in their ``xn--`` form), scheme
and host in lowercase. A client has at most ``MAX_REDIRECT_URIS`` URIs of at
most ``MAX_REDIRECT_URI_LENGTH`` characters each, since every authorization
request compares against all of them.

Matching (RFC 9700 §4.1.3): the requested URI must equal a registered one
character for character. The one relaxation is RFC 8252 §7.3: "The
authorization server MUST allow any port to be specified at the time of the
request for loopback IP redirect URIs".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Schemes that can run code or read local data in the user agent.
FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})
LOOPBACK_NAMES = frozenset({"localhost"})
# Registration limits: each authorization request, signed in or not, compares
# its redirect_uri with every registered one, so a client's list stays small.
MAX_REDIRECT_URIS = 20
MAX_REDIRECT_URI_LENGTH = 512
# How much of a refused URI an error message repeats.
SHOWN_LENGTH = 100

# RFC 3986 §2: the characters a URI consists of (unreserved, reserved, "%").
URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
MALFORMED_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 1123 §2.1 host name labels, lowercase only: "paypaI.com" (capital i) must
# not pass for "paypal.com" in front of a reviewer.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# RFC 8252 §7.1: "a URI scheme based on a domain name under their control,
# expressed in reverse order": a top-level domain of letters, then at least
# one more label ("com.example.app"). "a.b" or "App.Example" are refused.
PRIVATE_USE_SCHEME = re.compile(rf"[a-z]{{2,63}}(?:\.{_LABEL})+")


def split_redirect_uris(value: str) -> list[str]:
    """The URIs of a one-per-line list, without blank lines."""
    return [line.strip() for line in value.splitlines() if line.strip()]


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


def is_claimable_by_any_app(uri: str) -> bool:
    """Whether any program on the user's device could receive a redirect to ``uri``.

    RFC 8252 §8.6: loopback addresses and private-use URI schemes are not
    owned by one app, so a redirect to them does not prove which app gets the
    code; only a claimed ``https`` URI (§7.2) on a host that is not loopback
    (an IP address, ``localhost`` or a ``*.localhost`` name, RFC 6761 §6.3) does.
    """
    parts = _split(uri)
    if parts is None:
        return True
    if parts.scheme.lower() not in ("https", "http"):
        return True
    # https proves nothing on a loopback host either: any local program can
    # listen there, and no certificate authority vouches for "localhost".
    host = parts.hostname or ""
    return is_loopback_ip(host) or host in LOOPBACK_NAMES or host.endswith(".localhost")


def shown(uri: str) -> str:
    """``uri`` as an error message may repeat it: shortened, and with anything
    but printable ASCII written as an escape, so it cannot reorder or hide text."""
    text = "".join(c if " " <= c <= "~" else ascii(c)[1:-1] for c in uri[:SHOWN_LENGTH])
    return text + ("…" if len(uri) > SHOWN_LENGTH else "")


def validate_redirect_uris(value: str) -> None:
    """Raise ``ValidationError`` unless every URI of a one-per-line list may be
    registered and there are at most ``MAX_REDIRECT_URIS`` of them."""
    uris = split_redirect_uris(value)
    if len(uris) > MAX_REDIRECT_URIS:
        # Before looking at any: a list of 50,000 gets one message, not 50,000.
        raise ValidationError(
            _("Register at most %(limit)d redirect URIs."),
            code="too_many",
            params={"limit": MAX_REDIRECT_URIS},
        )
    errors = []
    for uri in uris:
        try:
            validate_redirect_uri(uri)
        except ValidationError as error:
            errors.extend(f"{shown(uri)}: {message}" for message in error.messages)
    if errors:
        raise ValidationError(errors)


def validate_redirect_uri(uri: str) -> None:
    """Raise ``ValidationError`` unless ``uri`` may be registered.

    The error's ``code`` says why: ``too_long``, ``invalid`` (not an absolute
    URI, spaces, a bad port), ``backslash``, ``non_ascii``, ``characters``
    (outside RFC 3986 §2), ``fragment``, ``wildcard``, ``scheme``, ``case``,
    ``host``, ``insecure`` (http off loopback) or ``userinfo``.
    """
    check_length(uri, _("A redirect URI may be at most %(limit)d characters long."))
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
    check_unambiguous_text(uri, parts)
    if not uri.startswith(scheme + ":"):
        raise ValidationError(_("Write the URI scheme in lowercase."), code="case")
    if scheme == "https":
        if not parts.hostname:
            raise ValidationError(_("An https redirect URI needs a host."), code="host")
    elif scheme == "http":
        if not (is_loopback_ip(parts.hostname) or parts.hostname in LOOPBACK_NAMES):
            raise ValidationError(
                _("Plain http is only allowed for loopback addresses such as 127.0.0.1."),
                code="insecure",
            )
    elif not PRIVATE_USE_SCHEME.fullmatch(scheme) or not uri[len(scheme) + 1 :].startswith("/"):
        # RFC 8252 §7.1: private-use schemes based on a domain name the app
        # controls, followed by a path ("com.example.app:/callback").
        raise ValidationError(
            _(
                "Use https, http on a loopback address, or a reversed domain name scheme "
                "followed by a path, such as com.example.app:/callback."
            ),
            code="scheme",
        )
    check_unambiguous_host(parts)


def check_length(uri: str, message: str) -> None:
    """Raise ``ValidationError`` (code ``too_long``, ``message`` given the
    limit) when ``uri`` is longer than ``MAX_REDIRECT_URI_LENGTH``."""
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        raise ValidationError(message, code="too_long", params={"limit": MAX_REDIRECT_URI_LENGTH})


def validate_called_url(uri: str, schemes: tuple[str, ...], scheme_error: ValidationError) -> None:
    """Raise ``ValidationError`` unless ``uri`` may be registered as a URL
    this server itself calls (``outbound``): of one of ``schemes`` with a
    host (else ``scheme_error``), no longer than a redirect URI, without a
    fragment, and unambiguous as redirect URIs are."""
    check_length(uri, _("A URI may be at most %(limit)d characters long."))
    parts = _split(uri)
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        raise scheme_error
    if parts.fragment or "#" in uri:
        raise ValidationError(_("The URL must not contain a fragment."), code="fragment")
    check_unambiguous_text(uri, parts)
    check_unambiguous_host(parts)


def validate_backchannel_logout_uri(uri: str) -> None:
    """Raise ``ValidationError`` unless ``uri`` may be registered as a
    ``backchannel_logout_uri`` (Back-Channel Logout 1.0 §2.2): an absolute
    http or https URL with a host and no fragment, unambiguous as above.

    Plain http is accepted for any host: the server calls it directly, often
    on an internal network (``http://app:8000/``, for clients an admin
    registers: ``outbound``); ``manage.py check --deploy`` warns about it
    (oauth_provider.W009).
    """
    validate_called_url(
        uri,
        ("http", "https"),
        ValidationError(_("Enter an absolute http or https URL."), code="invalid"),
    )


def check_unambiguous_text(uri: str, parts: SplitResult) -> None:
    """Refuse characters that make a URI read differently from where it leads:
    backslashes (some browsers read them as "/"), anything outside ASCII, and
    anything outside RFC 3986 §2."""
    if "\\" in uri:
        raise ValidationError(_("A URI must not contain a backslash."), code="backslash")
    if not uri.isascii():
        try:
            ascii_host = (parts.hostname or "").encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = ""
        if ascii_host != (parts.hostname or "") and ascii_host:
            raise ValidationError(
                _("Write the host name in its ASCII form, %(host)s."),
                code="non_ascii",
                params={"host": ascii_host},
            )
        raise ValidationError(
            _("A URI may contain only ASCII characters: percent-encode the others (RFC 3986)."),
            code="non_ascii",
        )
    if not URI_CHARACTERS.fullmatch(uri) or MALFORMED_PERCENT.search(uri):
        raise ValidationError(
            _("A URI may contain only the characters RFC 3986 allows, and “%” only in “%XX”."),
            code="characters",
        )


def check_unambiguous_host(parts: SplitResult) -> None:
    """Refuse an authority that hides where a URI leads: userinfo
    (``https://good.example@evil.example``) and a host that is neither a
    lowercase DNS name nor an IP address."""
    if not parts.netloc:
        return
    if "@" in parts.netloc:
        raise ValidationError(_("A URI must not contain a user name or password (“…@”)."), code="userinfo")
    host = parts.netloc
    if host.startswith("["):
        host = host[1 : host.find("]")]
    elif ":" in host:
        host = host[: host.rindex(":")]
    if host != host.lower():
        raise ValidationError(_("Write the host name in lowercase."), code="case")
    if not (HOST_NAME.fullmatch(host) or _is_ip(host)):
        raise ValidationError(_("The host is not a valid host name or IP address."), code="host")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
