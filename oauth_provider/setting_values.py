"""What valid ``OAUTH_PROVIDER`` values look like: the checks and predicates
that both ``checks.py`` and ``remote_resource_server.checks`` use.

It imports no models, so a project that only uses the DRF classes against
a remote issuer (without ``oauth_provider`` in ``INSTALLED_APPS``) can
run these checks too.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error

from .redirect_uris import LOOPBACK_NAMES, is_loopback_ip
from .settings import DEFAULTS


def error(id_: int, msg: str, hint: str) -> Error:
    """The check error ``oauth_provider.E<id_>``."""
    return Error(msg, hint=hint, id=f"oauth_provider.E{id_:03d}")


# Settings that no longer do anything -> what replaces them (checks.py: W018).
RETIRED_SETTINGS = {
    "TOKEN_CACHE": "REVOCATION_STREAM with IN_PROCESS_CACHE_MAX_TOKENS and IN_PROCESS_CACHE_SECONDS",
    "TOKEN_CACHE_TIMEOUT_SECONDS": "IN_PROCESS_CACHE_SECONDS (with REVOCATION_STREAM)",
}


def check_dict() -> list[Error]:
    """E001: ``OAUTH_PROVIDER`` is not a dict; E002: it has unknown keys."""
    value = getattr(settings, "OAUTH_PROVIDER", {})
    if not isinstance(value, dict):
        return [error(1, "OAUTH_PROVIDER must be a dict.", "Set OAUTH_PROVIDER = {...} in settings.")]
    unknown = sorted((key for key in value if key not in DEFAULTS and key not in RETIRED_SETTINGS), key=str)
    if unknown:
        return [
            error(
                2,
                f"OAUTH_PROVIDER has unknown keys: {', '.join(map(str, unknown))}.",
                f"Known keys: {', '.join(DEFAULTS)}.",
            )
        ]
    return []


def positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def plain_http(uri: str) -> bool:
    """Whether ``uri`` is plain http to a host other than this machine."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and not (is_loopback_ip(parts.hostname) or parts.hostname in LOOPBACK_NAMES)


# RFC 3986 §2: the characters a URI is written with. The identifier goes,
# quoted, into WWW-Authenticate's resource_metadata (RFC 9728 §5.1), which a
# quote, a backslash, a space or a non-ASCII character would break.
URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def resource_identifier_problem(identifier: Any) -> bool:
    """Whether ``identifier`` is no RFC 9728 §1.2 resource identifier: an
    https URL (http only on loopback, for development) without query or
    fragment, written in URI characters only."""
    if not isinstance(identifier, str) or not URI_CHARACTERS.fullmatch(identifier):
        return True
    try:
        parts = urlsplit(identifier)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return True
    secure = parts.scheme == "https" or (parts.scheme == "http" and not plain_http(identifier))
    return not secure or not parts.hostname or bool(parts.query or parts.fragment) or "#" in identifier
