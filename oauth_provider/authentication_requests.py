"""OpenID Connect authentication requests (Core 1.0 §3.1.2).

An authorization request whose granted scopes include ``openid`` (with
``OIDC_ENABLED``) is an authentication request. ``parse`` reads what it adds
to OAuth's parameters (§3.1.2.1, §5.5); ``sign_in_needed`` decides, for a
signed-in user, whether they must first sign in again: because the client
asked for a fresh login (``prompt=login``), because their last one is older
than ``max_age``, or because the client wants another account than the one
signed in (``id_token_hint``, or a ``claims`` request naming ``sub``).

A fresh login goes through the site's own login page (``LOGIN_URL``) and
comes back to the same request. So that it is not demanded again when the
user returns, the session remembers, per request, which login session
(``sid``) the request sent away: a sign-in since then starts another one
(``login_sessions``), and the request goes on (``authenticated_since_demanded``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from . import clock
from .errors import (
    InvalidRequest,
    RegistrationNotSupported,
    RequestNotSupported,
    RequestURINotSupported,
)
from .id_tokens import audiences, verify_hint
from .login_sessions import auth_time, session_id
from .models import Client
from .payload import INVALID_CHARACTERS, AuthorizationRequest, OpenIDRequest, single_values
from .signing_keys import InvalidJWT
from .subjects import subject
from .ui_locales import preferred_language

# §3.1.2.1, §5.5, §6.1-§6.2 and §7.2.1: what an authentication request adds.
OPENID_PARAMETERS = (
    "request",
    "request_uri",
    "registration",
    "nonce",
    "max_age",
    "display",
    "ui_locales",
    "claims",
    "id_token_hint",
    "login_hint",
    "acr_values",
)
# §3.1.2.1: "none" shows no page; "login" asks for a fresh sign-in; "consent"
# always shows the consent screen; "select_account" shows it too, where the
# signed-in account is named with its "Not you?" switch.
PROMPTS = ("none", "login", "consent", "select_account")
DISPLAYS = ("page", "popup", "touch", "wap")

INVALID_CLAIMS = _("The claims parameter is not a valid claims request (OpenID Connect Core section 5.5).")
INVALID_HINT = _("The id_token_hint is not an ID token this server issued to this client.")
# Lone surrogates: JSON may escape them ("\\ud800"), but they are no Unicode
# text, and PostgreSQL refuses them in a JSON column.
SURROGATES = re.compile(r"[\ud800-\udfff]")
# §5.5 nests a claim's request three levels down ({"id_token": {"address":
# {"value": ...}}}), and a value is a claim's value (an address is an
# object of strings): deeper is no claims request, and would exhaust the
# stack of whatever walks it.
MAX_CLAIMS_DEPTH = 8
MAX_REMEMBERED_DEMANDS = 10
DEMANDS_SESSION_KEY = "_oauth_provider_authentication_demands"


def parse(query: QueryDict, *, client: Client, response_types: frozenset[str], issuer: str) -> OpenIDRequest:
    """The OpenID parameters of an authentication request; errors are redirectable (§3.1.2.6)."""
    params = single_values(query, OPENID_PARAMETERS)
    # §6: a server that does not support request objects answers these
    # rather than serve the request without what the object says.
    if "request" in params:
        raise RequestNotSupported
    if "request_uri" in params:
        raise RequestURINotSupported
    if "registration" in params:
        raise RegistrationNotSupported
    nonce = params.get("nonce", "")
    # §3.2.2.1, §3.3.2.11: an ID token from the authorization endpoint must
    # carry a nonce, the client's only defence against its replay.
    if not nonce and "id_token" in response_types:
        raise InvalidRequest(_("The nonce parameter is required when the response_type includes id_token."))
    max_age = params.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit()):
        raise InvalidRequest(_("The max_age parameter must be a non-negative integer."))
    display = params.get("display")
    if display is not None and display not in DISPLAYS:
        raise InvalidRequest(_("The display value is not supported."))
    claims = _claims(params.get("claims"))
    # acr_values is voluntary (§3.1.2.1): this server has no authentication
    # context classes to choose from, and acr is never claimed.
    return OpenIDRequest(
        nonce=nonce,
        max_age=int(max_age) if max_age is not None else None,
        login_hint=params.get("login_hint"),
        subject=_required_subject(params.get("id_token_hint"), claims, client, issuer),
        ui_language=preferred_language(params.get("ui_locales")),
        claims=claims,
    )


def _claims(value: str | None) -> dict[str, Any] | None:
    """§5.5's ``claims``: a JSON object whose ``userinfo`` and ``id_token``
    members map claim names to null or to {"essential", "value", "values"}.
    Other members are ignored (§5.5: "not understood"); None when none is asked."""
    if value is None:
        return None
    try:
        request = json.loads(value, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise InvalidRequest(INVALID_CLAIMS) from None
    if not isinstance(request, dict):
        raise InvalidRequest(INVALID_CLAIMS)
    claims = {}
    for member in ("userinfo", "id_token"):
        entries = request.get(member)
        if entries is None:
            continue
        if not isinstance(entries, dict) or not all(map(_valid_entry, entries.values())):
            raise InvalidRequest(INVALID_CLAIMS)
        claims[member] = entries
    # Stored (SignIn.claims): no string may hold what the database refuses.
    if not _clean(claims):
        raise InvalidRequest(INVALID_CLAIMS)
    return claims or None


def _refuse_constant(name: str) -> float:
    # NaN and Infinity are not JSON (RFC 8259 §6), and PostgreSQL refuses them.
    raise ValueError(name)


def _finite_float(text: str) -> float:
    # A number beyond a double's range ("1e999") parses as infinity, which
    # the claims request could not be stored with either.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _valid_entry(entry: object) -> bool:
    """§5.5.1: null, or an object whose ``essential`` is a boolean and ``values`` an array."""
    if entry is None:
        return True
    if not isinstance(entry, dict):
        return False
    return isinstance(entry.get("essential", False), bool) and isinstance(entry.get("values", []), list)


def _clean(value: object, depth: int = 0) -> bool:
    """No key or string anywhere in ``value`` holds a control character or a
    lone surrogate, and nothing nests deeper than ``MAX_CLAIMS_DEPTH``."""
    if isinstance(value, str):
        return not INVALID_CHARACTERS.search(value) and not SURROGATES.search(value)
    if isinstance(value, (dict, list)) and depth >= MAX_CLAIMS_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_clean(key) and _clean(item, depth + 1) for key, item in value.items())
    if isinstance(value, list):
        return all(_clean(item, depth + 1) for item in value)
    return True


def _required_subject(
    hint: str | None, claims: dict[str, Any] | None, client: Client, issuer: str
) -> str | None:
    """The ``sub`` the End-User must have: ``id_token_hint``'s, or the value a
    ``claims`` request gives ``sub`` in the ID token (§5.5.1: "the
    Authorization Server MUST NOT reply with an ID Token or Access Token for
    a different user"). Both given, they must agree."""
    required = _hinted_subject(hint, client, issuer) if hint is not None else None
    entry = ((claims or {}).get("id_token") or {}).get("sub")
    if isinstance(entry, dict) and "value" in entry:
        value = entry["value"]
        if not isinstance(value, str):
            raise InvalidRequest(INVALID_CLAIMS)
        if required is not None and value != required:
            raise InvalidRequest(_("The sub the claims parameter requires does not match the id_token_hint."))
        required = value
    return required


def _hinted_subject(hint: str, client: Client, issuer: str) -> str:
    """The ``sub`` of an ``id_token_hint``: an ID token this server signed
    for this client, expired or not (``id_tokens.verify_hint``)."""
    try:
        claims = verify_hint(hint, issuer=issuer)
    except InvalidJWT:
        raise InvalidRequest(INVALID_HINT) from None
    if client.client_id not in audiences(claims):
        raise InvalidRequest(INVALID_HINT)
    return claims["sub"]


# -- signing in again --------------------------------------------------------------------------


def sign_in_needed(http_request: HttpRequest, auth_request: AuthorizationRequest) -> bool:
    """Whether the signed-in user must sign in before the request goes on:
    the client wants another user than the one signed in, or a fresh login
    that has not happened yet since it asked."""
    openid = auth_request.openid
    if openid is None:
        return False
    user: AbstractBaseUser = http_request.user  # type: ignore[assignment]
    if openid.subject is not None and openid.subject != subject(user, auth_request.client):
        return True
    return demands_fresh_login(http_request, auth_request) and not authenticated_since_demanded(http_request)


def demands_fresh_login(http_request: HttpRequest, auth_request: AuthorizationRequest) -> bool:
    """§3.1.2.1: ``prompt=login`` ("The Authorization Server SHOULD prompt
    the End-User for reauthentication"), or a last authentication longer ago
    than ``max_age`` ("the OP MUST attempt to actively re-authenticate")."""
    openid = auth_request.openid
    if openid is None:
        return False
    if "login" in auth_request.prompts:
        return True
    max_age = openid.max_age
    return max_age is not None and clock.now() - auth_time(http_request) > timedelta(seconds=max_age)


def may_demand_fresh_login(auth_request: AuthorizationRequest) -> bool:
    """Whether the request, once the user has signed in, could still ask for
    a fresh login: then sending them to sign in records the demand."""
    openid = auth_request.openid
    return openid is not None and ("login" in auth_request.prompts or openid.max_age is not None)


def _request_key(http_request: HttpRequest) -> str:
    # The request's parameters, however the browser encoded them on the way back.
    canonical = json.dumps(sorted(http_request.GET.lists()), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def demand_authentication(http_request: HttpRequest) -> None:
    """Remember that this request sent the user to sign in, in this login
    session; the few latest demands are kept (several tabs)."""
    demands = dict(http_request.session.get(DEMANDS_SESSION_KEY, {}))
    key = _request_key(http_request)
    demands.pop(key, None)
    demands[key] = session_id(http_request)
    while len(demands) > MAX_REMEMBERED_DEMANDS:
        del demands[next(iter(demands))]
    http_request.session[DEMANDS_SESSION_KEY] = demands


def authenticated_since_demanded(http_request: HttpRequest) -> bool:
    """Whether the user signed in after this request sent them to: the
    login session then (``sid``) is no longer the current one."""
    recorded = http_request.session.get(DEMANDS_SESSION_KEY, {}).get(_request_key(http_request))
    return recorded is not None and recorded != session_id(http_request)


def forget_demand(http_request: HttpRequest) -> None:
    """The request is answered: the same request again needs its own login."""
    demands = http_request.session.get(DEMANDS_SESSION_KEY)
    if demands and demands.pop(_request_key(http_request), None) is not None:
        http_request.session[DEMANDS_SESSION_KEY] = demands
