"""Requests parsed once into typed payloads.

Grants and services never read ``request.POST`` or ``request.GET``: they get
these objects, whose parameters are allow-listed, single and clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .errors import InvalidRequest
from .redirect_uris import MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import Client

# Control characters can't appear in any OAuth parameter, and U+FFFD is how
# Django decodes bytes that were not UTF-8: refuse both rather than store them
# (PostgreSQL rejects NUL outright).
INVALID_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\ufffd]")

# The longest value, in characters, of every parameter this server reads (the
# README's "Input limits" table). A longer value is invalid_request before
# anything is looked up, shown to a person or written. Every name read through
# single_values is looked up here, so a new parameter without a limit fails at
# once. state and redirect_uri, which every authorization answer carries, fit
# together in the 2,048 characters the whole request may have
# (authorization.check_request_length).
MAX_LENGTHS: dict[str, int] = {
    # Client authentication (RFC 6749 §2.3.1), in the body or the Basic header.
    "client_id": 255,
    "client_secret": 255,
    # private_key_jwt (RFC 7523 §2.2): a JWT signed with RSA-4096 is under 2,000 characters.
    "client_assertion": 4096,
    "client_assertion_type": 64,
    # Authorization request (§4.1.1, RFC 7636 §4.3, OpenID Connect's prompt).
    "response_type": 64,
    "redirect_uri": 1024,
    "scope": 1024,
    "state": 1024,
    "code_challenge": 128,
    "code_challenge_method": 16,
    "prompt": 64,
    # OpenID Connect authentication request (Core 1.0 §3.1.2.1, §5.5, §6,
    # §7.2.1), read only when the scope includes openid.
    "nonce": 255,
    "max_age": 10,
    "login_hint": 255,
    # An ID token carries a signature and the claims a client asked for
    # (Core §5.5): as much room as any token. At the authorization endpoint
    # the request's own 2,048 characters bound it first.
    "id_token_hint": 4096,
    "ui_locales": 255,
    "claims": 2048,
    "display": 16,
    "acr_values": 255,
    "request": 2048,
    "request_uri": 512,
    "registration": 2048,
    # RFC 8707 §2 resource indicator, at the authorization, token and device
    # authorization endpoints; repeatable, each value at most this long.
    "resource": 512,
    # Token request (§4.1.3, §4.3.2, §6, RFC 7636 §4.5, RFC 8628 §3.4).
    "grant_type": 128,
    "code": 255,
    "code_verifier": 128,
    "refresh_token": 255,
    "device_code": 255,
    "username": 255,
    "password": 1024,
    # Revocation and introspection (RFC 7009 §2.1, RFC 7662 §2.1).
    "token": 4096,
    "token_type_hint": 64,
    # An access token in a form body (RFC 6750 §2.2; UserInfo): as long as "token".
    "access_token": 4096,
    # What a person types on the device verification page (RFC 8628 §3.3):
    # even "XXXX - XXXX" with spaces fits.
    "user_code": 32,
    # RP-Initiated Logout 1.0 §2 (client_id, state, id_token_hint and
    # ui_locales as above).
    "post_logout_redirect_uri": 1024,
}


def check_length(name: str, value: str) -> None:
    """Raise ``InvalidRequest`` if ``value`` is longer than ``MAX_LENGTHS[name]``."""
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        raise InvalidRequest(
            _("The %(name)s parameter is longer than %(limit)d characters."), name=name, limit=limit
        )


def single_values(data: QueryDict | Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The allow-listed parameters of ``data``, each at most once.

    RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they
    were omitted from the request. [...] Request and response parameters MUST
    NOT be included more than once."  Unknown parameters are dropped; known
    ones longer than ``MAX_LENGTHS`` allows, or with invalid characters, are
    ``InvalidRequest``.
    """
    params = {}
    for name in names:
        # DRF gives a plain dict, not a QueryDict, for a request without a body.
        values = data.getlist(name) if isinstance(data, QueryDict) else []
        if len(values) > 1:
            raise InvalidRequest(_("The %(name)s parameter was sent more than once."), name=name)
        if values and values[0] != "":
            check_length(name, values[0])
            if INVALID_CHARACTERS.search(values[0]):
                raise InvalidRequest(_("The %(name)s parameter contains invalid characters."), name=name)
            params[name] = values[0]
    return params


def multiple_values(data: QueryDict | Mapping[str, str], name: str) -> list[str]:
    """Every value of a repeatable parameter (RFC 8707 §2 ``resource``), in
    order without repeats; empty ones are omitted (RFC 6749 §3.1), the others
    checked as ``single_values`` checks one."""
    values = data.getlist(name) if isinstance(data, QueryDict) else []
    for value in values:
        check_length(name, value)
        if INVALID_CHARACTERS.search(value):
            raise InvalidRequest(_("The %(name)s parameter contains invalid characters."), name=name)
    return list(dict.fromkeys(value for value in values if value))


@dataclass(frozen=True)
class TokenRequest:
    """A token endpoint request (RFC 6749 §3.2) from an authenticated client."""

    grant_type: str
    client: Client
    params: Mapping[str, str] = field(default_factory=dict)
    # RFC 8707 §2: the resources the client asks the token for (none: the
    # grant's, or the default audience).
    resources: tuple[str, ...] = ()
    # The HTTP request, for grants that hand it on (the password grant passes
    # it to Django's authentication backends, which may rate-limit by client address).
    http_request: HttpRequest | None = field(default=None, repr=False, compare=False)

    def require(self, name: str) -> str:
        try:
            return self.params[name]
        except KeyError:
            raise InvalidRequest(_("The %(name)s parameter is required."), name=name) from None


@dataclass(frozen=True)
class OpenIDRequest:
    """What an OpenID Connect authentication request adds (Core 1.0 §3.1.2.1).

    Present on an ``AuthorizationRequest`` whose granted scopes include
    ``openid`` (with ``OIDC_ENABLED``); every value is validated.
    """

    # Echoed in the ID token (§3.1.2.1, §3.1.3.6); "" when not sent.
    nonce: str = ""
    # Seconds since the End-User last authenticated after which they must again.
    max_age: int | None = None
    # Passed to the login page.
    login_hint: str | None = None
    # The ``sub`` the End-User must have, as this client sees it: that of
    # ``id_token_hint``, or the value a ``claims`` request gives ``sub`` (§5.5.1).
    subject: str | None = None
    # The first of ``ui_locales`` the site offers (Django's ``LANGUAGES``).
    ui_language: str | None = None
    # §5.5: {"userinfo": {...}, "id_token": {...}}, or None.
    claims: dict[str, Any] | None = None


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3,
    OpenID Connect Core 1.0 §3.1.2.1)."""

    client: Client
    redirect_uri: str
    redirect_uri_provided: bool
    # Its values in the order OpenID Connect writes them ("code id_token").
    response_type: str
    scopes: list[str]
    # The audience (RFC 8707), resolved: requested or default.
    resources: list[str] = field(default_factory=list)
    state: str | None = None
    code_challenge: str = ""
    code_challenge_method: str = ""
    prompts: frozenset[str] = frozenset()
    # Set for an OpenID Connect authentication request.
    openid: OpenIDRequest | None = None

    @property
    def response_types(self) -> frozenset[str]:
        return frozenset(self.response_type.split(" "))


# The JSON members the registration endpoints read (RFC 7591 §2 and §3.1,
# RFC 7592 §2.2, OpenID Connect Registration 1.0 §2 and the logout specs),
# with the longest string each may be, or each item of a list member (the
# README's "Input limits" table, registration rows). Lists hold at most
# REGISTRATION_MAX_ITEMS items and the body at most REGISTRATION_MAX_BODY_BYTES.
REGISTRATION_MAX_LENGTHS: dict[str, int] = {
    "redirect_uris": MAX_REDIRECT_URI_LENGTH,
    "token_endpoint_auth_method": 64,
    "grant_types": 128,
    "response_types": 64,
    "client_name": 255,
    "client_uri": 200,
    "scope": 1024,
    "post_logout_redirect_uris": MAX_REDIRECT_URI_LENGTH,
    "backchannel_logout_uri": 512,
    "id_token_signed_response_alg": 16,
    "subject_type": 16,
    "sector_identifier_uri": 512,
    # RFC 7592 §2.2: an update names the client and may repeat its secret.
    "client_id": 255,
    "client_secret": 255,
}
REGISTRATION_MAX_ITEMS = MAX_REDIRECT_URIS
REGISTRATION_MAX_BODY_BYTES = 32 * 1024
