"""Scope strings (RFC 6749 §3.3): parse, format, validate, describe.

scope       = scope-token *( SP scope-token )
scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from .errors import InvalidScope
from .settings import oauth_settings

if TYPE_CHECKING:
    from .models import Client

SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def is_scope_token(value: str) -> bool:
    return SCOPE_TOKEN.fullmatch(value) is not None


def parse_scope(value: str | None) -> list[str]:
    """Split a scope parameter into its tokens, in order, without repeats."""
    tokens = [token for token in (value or "").split(" ") if token]
    if not all(is_scope_token(token) for token in tokens):
        raise InvalidScope
    return list(dict.fromkeys(tokens))


def format_scope(scopes: Iterable[str]) -> str:
    return " ".join(scopes)


def privileged_scopes() -> frozenset[str]:
    """Scopes that give power over other clients' tokens: ``INTROSPECTION_SCOPE``
    and ``PRIVILEGED_SCOPES``. Only an admin gives them to a client, by listing
    them in its allowed scopes (admin or ``createclient``)."""
    introspection = oauth_settings.INTROSPECTION_SCOPE
    return frozenset(oauth_settings.PRIVILEGED_SCOPES) | ({introspection} if introspection else set())


def allowed_scopes(client: Client) -> list[str]:
    """The scopes a client may ask for: its own list, or every server scope
    that is not privileged (an empty list never means a privileged scope)."""
    server_scopes = list(oauth_settings.SCOPES)
    if not client.scopes:
        privileged = privileged_scopes()
        return [scope for scope in server_scopes if scope not in privileged]
    return [scope for scope in client.scopes if scope in server_scopes]


def resolve_scope(requested: str | None, client: Client) -> list[str]:
    """The scopes to grant for a request (RFC 6749 §3.3).

    "If the client omits the scope parameter when requesting authorization,
    the authorization server MUST either process the request using a
    pre-defined default value or fail the request indicating an invalid scope."
    """
    permitted = allowed_scopes(client)
    scopes = parse_scope(requested)
    if not scopes:
        scopes = [scope for scope in oauth_settings.DEFAULT_SCOPES if scope in permitted]
    if not scopes or any(scope not in permitted for scope in scopes):
        raise InvalidScope
    return scopes


def narrow_scope(requested: str | None, granted: list[str]) -> list[str]:
    """The scope of a refreshed access token (RFC 6749 §6).

    "The requested scope MUST NOT include any scope not originally granted by
    the resource owner, and if omitted is treated as equal to the scope
    originally granted."
    """
    scopes = parse_scope(requested)
    if not scopes:
        return list(granted)
    if not set(scopes) <= set(granted):
        raise InvalidScope
    return scopes


# OpenID Connect Core 1.0 §3.1.2.1 and §5.4: what each standard scope lets a
# client do or learn, in the words of a consent screen. A site that lists one
# in SCOPES with no description of its own ("" or None) gets these,
# translated; a description of its own wins.
STANDARD_DESCRIPTIONS = {
    "openid": _("Sign you in with your account"),
    "profile": _("Your name and username"),
    "email": _("Your e-mail address"),
    "address": _("Your postal address"),
    "phone": _("Your phone number"),
}


def description(scope: str) -> str:
    """What the person is told ``scope`` allows: the site's description,
    else the standard one, else the scope's name; in the active language."""
    text = oauth_settings.SCOPES.get(scope)
    if text is None or text == "":
        text = STANDARD_DESCRIPTIONS.get(scope, scope)
    return str(text)


def describe(scopes: Iterable[str]) -> list[tuple[str, str]]:
    """(name, description) pairs for showing scopes to a person."""
    return [(scope, description(scope)) for scope in scopes]
