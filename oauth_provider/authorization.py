"""The authorization endpoint's logic (RFC 6749 §4.1.1-§4.1.2, §4.2.1-§4.2.2, RFC 7636 §4.3-§4.4).

Validation runs in two stages because their errors are answered differently:
``redirect_target`` establishes the client and redirect URI, whose errors are
shown to the user and never redirected (§4.1.2.1); ``validate`` checks the
rest, whose errors are redirected back to the client.

``response_type=code`` is the authorization code flow. ``response_type=token``
is the legacy implicit grant (§4.2, advised against by RFC 9700 §2.1.2): it is
understood only when ``"implicit"`` is in ``OAUTH_PROVIDER["GRANT_TYPES"]``,
and answers in the redirect URI's fragment, errors included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import QueryDict
from django.utils.http import MAX_URL_LENGTH
from django.utils.translation import gettext_lazy as _

from . import clock
from .consents import record_consent
from .errors import (
    InvalidClient,
    InvalidRedirectURI,
    InvalidRequest,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from .issuance import issue_tokens
from .models import AuthorizationCode, Client, Consent
from .payload import AuthorizationRequest, check_length, single_values
from .pkce import validate_challenge
from .redirect_uris import is_claimable_by_any_app, redirect_uri_matches
from .scopes import describe, format_scope, resolve_scope
from .settings import AUTHORIZATION_CODE, IMPLICIT, oauth_settings

PARAMETERS = ("response_type", "scope", "state", "code_challenge", "code_challenge_method", "prompt")
# OpenID Connect Core 1.0 §3.1.2.1's prompt values this server understands:
# "none" never shows a page, "consent" always shows the consent screen.
PROMPTS = ("none", "consent")
# §4.2.2 and §4.2.2.1: the implicit grant's answers, errors included, go in
# the fragment, which the user agent keeps from the client's server.
FRAGMENT_RESPONSE_TYPES = frozenset({"token"})


def supported_response_types() -> dict[str, str]:
    """response_type -> the grant type it belongs to, for those this server offers."""
    response_types = {"code": AUTHORIZATION_CODE}
    if IMPLICIT in oauth_settings.GRANT_TYPES:
        response_types["token"] = IMPLICIT
    return response_types


@dataclass(frozen=True)
class RedirectTarget:
    """Where (and with which ``state``) the client may be answered."""

    client: Client
    redirect_uri: str
    redirect_uri_provided: bool
    state: str | None
    # Whether answers go in the fragment (implicit grant) rather than the query.
    fragment: bool = False


def redirect_target(query: QueryDict) -> RedirectTarget:
    """The client and redirect URI of a request; errors here are never redirected."""
    try:
        params = single_values(query, ("client_id", "redirect_uri"))
    except InvalidRequest as error:
        raise InvalidRedirectURI(error.description) from None
    client_id = params.get("client_id")
    # A client awaiting review (new, or changed since approval) starts no new
    # authorization, and its possibly unreviewed redirect URIs are never used.
    active = Client.objects.filter(is_active=True, awaiting_approval=False)
    client = active.filter(client_id=client_id).first() if client_id else None
    if client is None:
        raise InvalidClient(_("The client is unknown or inactive."))
    registered = client.redirect_uri_list
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        # §3.1.2.3: the parameter may be left out only when one URI is registered.
        if len(registered) != 1:
            raise InvalidRedirectURI
        return RedirectTarget(client, registered[0], False, _state(query), _fragment(query))
    if not redirect_uri_matches(redirect_uri, registered):
        raise InvalidRedirectURI
    return RedirectTarget(client, redirect_uri, True, _state(query), _fragment(query))


def _state(query: QueryDict) -> str | None:
    # Echoed in error redirects too, so read it even when other parameters are bad.
    values = query.getlist("state")
    if len(values) != 1 or not values[0]:
        return None
    # Every answer must carry it (§4.1.2, §4.1.2.1): one too long to echo is
    # told to the user rather than dropped or sent where it may not fit.
    check_length("state", values[0])
    return values[0]


def _fragment(query: QueryDict) -> bool:
    # Decided before validation, as errors need it too. An implicit request
    # to a server that does not offer the implicit grant is not understood as
    # one, so its unsupported_response_type goes in the query.
    values = query.getlist("response_type")
    return (
        len(values) == 1 and values[0] in FRAGMENT_RESPONSE_TYPES and values[0] in supported_response_types()
    )


def check_request_length(full_path: str) -> None:
    """Refuse a request longer than its way through the login page allows.

    ``full_path`` is the request's path and query. Django's login view
    follows ``next`` back only when it is at most ``MAX_URL_LENGTH``
    characters, so a longer request would be lost after signing in. It is
    refused whether or not the user is signed in, so that a link either works
    for everyone or fails for everyone. It also keeps every answer, which
    echoes ``state``, far within Django's limit on redirects.
    """
    if len(full_path) > MAX_URL_LENGTH:
        raise InvalidRequest(
            _("The authorization request is longer than %(limit)d characters."), limit=MAX_URL_LENGTH
        )


def validate(query: QueryDict, target: RedirectTarget) -> AuthorizationRequest:
    """The rest of §4.1.1 / §4.2.1 and RFC 7636 §4.3, in order; errors are redirectable."""
    params = single_values(query, PARAMETERS)
    client = target.client
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest(_("The response_type parameter is required."))
    grant_type = supported_response_types().get(response_type)
    if grant_type is None:
        raise UnsupportedResponseType
    if not client.allows_grant_type(grant_type):
        raise UnauthorizedClient
    scopes = resolve_scope(params.get("scope"), client)
    method = ""
    # PKCE binds a code to its redemption; the implicit grant has neither.
    if grant_type == AUTHORIZATION_CODE:
        # RFC 9700 §2.1.1: public clients MUST use PKCE.
        pkce_required = not client.is_confidential or oauth_settings.PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS
        method = validate_challenge(
            params.get("code_challenge"), params.get("code_challenge_method"), required=pkce_required
        )
    prompt = _prompt(params.get("prompt"))
    return AuthorizationRequest(
        client=client,
        redirect_uri=target.redirect_uri,
        redirect_uri_provided=target.redirect_uri_provided,
        response_type=response_type,
        scopes=scopes,
        state=params.get("state"),
        code_challenge=params.get("code_challenge", "") if method else "",
        code_challenge_method=method,
        prompt=prompt,
    )


def consent_context(
    client: Client, user: AbstractBaseUser, scopes: list[str], consent: Consent | None
) -> dict[str, object]:
    """What the consent screen shows: the client, the account, each scope
    described, and which of them the user has not granted before.

    ``asks_for_more`` is true only when the user allowed the client
    something before and the request adds something new: then the screen
    says so and marks each scope. A request for nothing new (``prompt=consent``,
    a repeated device flow) or a first request has no marks.
    """
    granted = consent.scopes if consent else []
    new_scopes = [scope for scope in scopes if scope not in granted]
    return {
        "client": client,
        "user": user,
        "scopes": describe(scopes),
        "new_scopes": new_scopes,
        "asks_for_more": bool(granted and new_scopes),
    }


def _prompt(value: str | None) -> str | None:
    """The one prompt value of a space-delimited list, or None."""
    if value is None:
        return None
    prompts = set(value.split(" "))
    if not prompts <= set(PROMPTS):
        raise InvalidRequest(_("The prompt value is not supported."))
    # §3.1.2.1: "none" promises no page at all, so it cannot be combined.
    if len(prompts) > 1:
        raise InvalidRequest(_("prompt=none cannot be combined with other values."))
    return prompts.pop()


def needs_consent(request: AuthorizationRequest, consent: Consent | None) -> bool:
    """Whether the user must be asked: not for first-party clients, nor when
    an earlier consent already covers the scopes, unless ``prompt=consent``.

    Remembered consent is only honoured for clients that can prove who they
    are. RFC 8252 §8.6: "the authorization server SHOULD NOT process
    authorization requests automatically without user consent or interaction,
    except when the identity of the client can be assured"; for a redirect
    to a loopback address or a private-use scheme, any local program could
    be the one receiving the answer (RFC 6749 §10.2). Only a code redeemed
    with a confidential client's secret proves who got it; an implicit
    grant's token is used as it arrives.
    """
    if request.prompt == "consent":
        return True
    if request.client.skip_consent:
        return False
    proves_itself = request.client.is_confidential and request.response_type not in FRAGMENT_RESPONSE_TYPES
    if not proves_itself and is_claimable_by_any_app(request.redirect_uri):
        return True
    return consent is None or not consent.covers(request.scopes)


@transaction.atomic
def approve(request: AuthorizationRequest, user: AbstractBaseUser) -> dict[str, str | None]:
    """Remember the consent and issue a code (§4.1.2), or for the implicit
    grant an access token (§4.2.2); return the redirect parameters."""
    now = clock.now()
    record_consent(user, request.client, request.scopes, now=now)
    if request.response_type == "token":
        return _implicit_token(request, user)
    _code, value = AuthorizationCode.issue(
        client=request.client,
        user=user,
        scope=format_scope(request.scopes),
        redirect_uri=request.redirect_uri,
        redirect_uri_provided=request.redirect_uri_provided,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        created_at=now,
        expires_at=now + timedelta(seconds=oauth_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS),
    )
    return {"code": value, "state": request.state}


def _implicit_token(request: AuthorizationRequest, user: AbstractBaseUser) -> dict[str, str | None]:
    """The §4.2.2 access token response, for the fragment."""
    # §4.2.2: "The authorization server MUST NOT issue a refresh token."
    token = issue_tokens(
        client=request.client, user=user, scopes=request.scopes, grant_type=IMPLICIT, refresh=False
    )
    return {
        "access_token": token["access_token"],
        "token_type": token["token_type"],
        "expires_in": str(token["expires_in"]),
        # Always sent: §4.2.2 requires it whenever it differs from the request
        # (the request may have named no scope and got the default).
        "scope": token["scope"],
        "state": request.state,
    }
