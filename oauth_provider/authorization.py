"""The authorization endpoint's logic (RFC 6749 §4.1.1-§4.1.2, §4.2.1-§4.2.2, RFC 7636 §4.3-§4.4).

Validation runs in two stages because their errors are answered differently:
``redirect_target`` establishes the client and redirect URI, whose errors are
shown to the user and never redirected (§4.1.2.1); ``validate`` checks the
rest, whose errors are redirected back to the client.

``response_type=code`` is the authorization code flow. ``response_type=token``
is the legacy implicit grant (§4.2, advised against by RFC 9700 §2.1.2): it is
understood only when ``"implicit"`` is in ``OAUTH_PROVIDER["GRANT_TYPES"]``,
and answers in the redirect URI's fragment, errors included.

A request whose granted scopes include ``openid`` is an OpenID Connect
authentication request (``authentication_requests``); approving it records a
``SignIn``. With the implicit grant on, OpenID Connect's implicit and hybrid
response types (Core 1.0 §3.2, §3.3) are understood too, for such requests
only: they answer in the fragment, with an ID token (``id_tokens``) and/or an
access token from this endpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import QueryDict
from django.utils.http import MAX_URL_LENGTH
from django.utils.translation import gettext_lazy as _

from . import authentication_requests, client_metadata_documents, clock, id_tokens, primary, resources
from .claims import OPENID
from .consents import record_consent
from .errors import (
    InvalidClient,
    InvalidRedirectURI,
    InvalidRequest,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from .issuance import issue_tokens
from .login_sessions import LoginSession
from .models import AuthorizationCode, Client, Consent, SignIn
from .payload import AuthorizationRequest, check_length, multiple_values, single_values
from .pkce import validate_challenge
from .redirect_uris import is_claimable_by_any_app, redirect_uri_matches
from .scopes import describe, format_scope, resolve_scope
from .settings import AUTHORIZATION_CODE, IMPLICIT, oauth_settings
from .subjects import subject

PARAMETERS = ("response_type", "scope", "state", "code_challenge", "code_challenge_method", "prompt")
# The prompt values (OpenID Connect Core 1.0 §3.1.2.1) a plain OAuth request
# may use: "none" never shows a page, "consent" always shows the consent
# screen. An authentication request may use them all (authentication_requests.PROMPTS).
PROMPTS = ("none", "consent")
# response_type -> the grant types a client needs for it: OAuth's two, and
# OpenID Connect's implicit and hybrid ones (Core §3.2, §3.3), whose values
# are written here in the order the specification writes them.
RESPONSE_TYPES: dict[str, tuple[str, ...]] = {
    "code": (AUTHORIZATION_CODE,),
    "token": (IMPLICIT,),
    "id_token": (IMPLICIT,),
    "id_token token": (IMPLICIT,),
    "code id_token": (AUTHORIZATION_CODE, IMPLICIT),
    "code token": (AUTHORIZATION_CODE, IMPLICIT),
    "code id_token token": (AUTHORIZATION_CODE, IMPLICIT),
}
# Those only an authentication request (scope openid) may use.
OPENID_RESPONSE_TYPES = frozenset(RESPONSE_TYPES) - {"code", "token"}
RESPONSE_TYPE_ORDER = ("code", "id_token", "token")


def supported_response_types() -> dict[str, tuple[str, ...]]:
    """response_type -> the grant types it needs, for those this server
    offers: ``code``, and with the implicit grant ``token`` and, with
    ``OIDC_ENABLED``, OpenID Connect's implicit and hybrid ones."""
    if IMPLICIT not in oauth_settings.GRANT_TYPES:
        return {"code": RESPONSE_TYPES["code"]}
    if not oauth_settings.OIDC_ENABLED:
        return {name: RESPONSE_TYPES[name] for name in ("code", "token")}
    return dict(RESPONSE_TYPES)


def normalize_response_type(value: str) -> str:
    """``value`` with its space-separated values in the order of
    ``RESPONSE_TYPES`` ("token code" -> "code token"); RFC 6749 §3.1.1:
    "the order of values does not matter". Anything but distinct known
    values is returned as it is, to be refused."""
    values = value.split(" ")
    if len(set(values)) != len(values) or not set(values) <= set(RESPONSE_TYPE_ORDER):
        return value
    return " ".join(name for name in RESPONSE_TYPE_ORDER if name in values)


def answers_in_fragment(response_type: str) -> bool:
    """§4.2.2, §4.2.2.1 and Core §3.2.2.5, §3.3.2.5: everything but the
    code flow answers in the fragment, errors included, which the user agent
    keeps from the client's server. Only for a response type the server
    offers: any other is not understood, and its error goes in the query."""
    return response_type != "code" and response_type in supported_response_types()


@dataclass(frozen=True)
class RedirectTarget:
    """Where (and with which ``state``) the client may be answered."""

    client: Client
    redirect_uri: str
    redirect_uri_provided: bool
    state: str | None
    # Whether answers go in the fragment (implicit grant) rather than the query.
    fragment: bool = False


def redirect_target(query: QueryDict, meta: Mapping[str, str]) -> RedirectTarget:
    """The client and redirect URI of a request (``meta``: its ``META``, for
    the fetch limit of client ID metadata documents); errors here are never
    redirected."""
    try:
        params = single_values(query, ("client_id", "redirect_uri"))
    except InvalidRequest as error:
        raise InvalidRedirectURI(error.description) from None
    client_id = params.get("client_id")
    client = None
    if client_id and client_metadata_documents.names_document(client_id):
        client = client_metadata_documents.resolve(client_id, meta)
    elif client_id:
        client = primary.first_or_from_primary(Client.objects.filter(client_id=client_id))
    # A client awaiting review (new, or changed since approval) starts no new
    # authorization, and its possibly unreviewed redirect URIs are never used.
    if client is None or not client.accepts_new_authorizations:
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
    return len(values) == 1 and answers_in_fragment(normalize_response_type(values[0]))


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


def validate(query: QueryDict, target: RedirectTarget, *, issuer: str) -> AuthorizationRequest:
    """The rest of §4.1.1 / §4.2.1, RFC 7636 §4.3 and, for an authentication
    request, OpenID Connect Core §3.1.2.1, in order; errors are redirectable.
    ``issuer`` is the one ``id_token_hint`` must name."""
    params = single_values(query, PARAMETERS)
    client = target.client
    if "response_type" not in params:
        raise InvalidRequest(_("The response_type parameter is required."))
    response_type = normalize_response_type(params["response_type"])
    grant_types = supported_response_types().get(response_type)
    if grant_types is None:
        raise UnsupportedResponseType
    if not all(map(client.allows_grant_type, grant_types)):
        raise UnauthorizedClient
    scopes = resolve_scope(params.get("scope"), client)
    # RFC 8707 §2: "the resource parameter [...] MAY be used multiple times".
    audience = resources.resolve_resources(multiple_values(query, resources.PARAMETER), scopes)
    openid = oauth_settings.OIDC_ENABLED and OPENID in scopes
    # Core §3.1.2.1: redirect_uri is REQUIRED in an authentication request,
    # where RFC 6749 §3.1.2.3 lets a client with one registered URI omit it.
    if openid and not target.redirect_uri_provided:
        raise InvalidRequest(_("The redirect_uri parameter is required in an OpenID Connect request."))
    # Core §3.2.2.1, §3.3.2.1: these response types exist only in OpenID Connect.
    if response_type in OPENID_RESPONSE_TYPES and not openid:
        raise UnsupportedResponseType(_("This response_type is supported only with the openid scope."))
    method = ""
    # PKCE binds a code to its redemption; the implicit grant has neither.
    if AUTHORIZATION_CODE in grant_types:
        # RFC 9700 §2.1.1: public clients MUST use PKCE.
        # Draft-ietf-oauth-client-id-metadata-document: PKCE for every client
        # described by a metadata document, private_key_jwt ones included.
        pkce_required = (
            not client.is_confidential
            or client.is_metadata_document
            or oauth_settings.PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS
        )
        method = validate_challenge(
            params.get("code_challenge"), params.get("code_challenge_method"), required=pkce_required
        )
    prompts = _prompts(params.get("prompt"), authentication_requests.PROMPTS if openid else PROMPTS)
    openid_request = None
    if openid:
        openid_request = authentication_requests.parse(
            query, client=client, response_types=frozenset(response_type.split(" ")), issuer=issuer
        )
    return AuthorizationRequest(
        client=client,
        redirect_uri=target.redirect_uri,
        redirect_uri_provided=target.redirect_uri_provided,
        response_type=response_type,
        scopes=scopes,
        resources=audience,
        state=params.get("state"),
        code_challenge=params.get("code_challenge", "") if method else "",
        code_challenge_method=method,
        prompts=prompts,
        openid=openid_request,
    )


def consent_context(
    client: Client, user: AbstractBaseUser, scopes: list[str], audience: list[str], consent: Consent | None
) -> dict[str, object]:
    """What the consent screen shows: the client, the account, each scope
    described, which of them the user has not granted before, and the
    resources (APIs) the access is for, so the user knows who gets it.

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
        "resources": resources.describe(audience),
        "new_scopes": new_scopes,
        "asks_for_more": bool(granted and new_scopes),
    }


def _prompts(value: str | None, supported: tuple[str, ...]) -> frozenset[str]:
    """The values of a space-delimited ``prompt``, each one of ``supported``."""
    if value is None:
        return frozenset()
    prompts = frozenset(value.split(" "))
    if not prompts <= set(supported):
        raise InvalidRequest(_("The prompt value is not supported."))
    # §3.1.2.1: "none" promises no page at all, so it cannot be combined.
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest(_("prompt=none cannot be combined with other values."))
    return prompts


def needs_consent(request: AuthorizationRequest, consent: Consent | None) -> bool:
    """Whether the user must be asked: not for first-party clients, nor when
    an earlier consent already covers the scopes, unless ``prompt=consent``
    (or ``prompt=select_account``: the screen names the signed-in account,
    with its "Not you?" switch).

    Remembered consent is only honoured for clients that can prove who they
    are. RFC 8252 §8.6: "the authorization server SHOULD NOT process
    authorization requests automatically without user consent or interaction,
    except when the identity of the client can be assured"; for a redirect
    to a loopback address or a private-use scheme, any local program could
    be the one receiving the answer (RFC 6749 §10.2). Only a code redeemed
    with a confidential client's secret proves who got it; an implicit
    grant's token (or ID token) is used as it arrives.
    """
    if request.prompts & {"consent", "select_account"}:
        return True
    if request.client.skip_consent:
        return False
    proves_itself = request.client.is_confidential and request.response_type == "code"
    if not proves_itself and is_claimable_by_any_app(request.redirect_uri):
        return True
    return consent is None or not consent.covers(request.scopes, request.resources)


@primary.atomic(AuthorizationCode)
def approve(
    request: AuthorizationRequest,
    user: AbstractBaseUser,
    *,
    issuer: str,
    login_session: LoginSession | None = None,
) -> dict[str, str | None]:
    """Remember the consent and issue what ``response_type`` asks for: a
    code (§4.1.2), an access token (§4.2.2), an ID token (Core §3.2.2.5,
    §3.3.2.5), or several; return the redirect parameters.

    An authentication request (``request.openid``) needs ``login_session``,
    the signed-in user's browser session: its ``sid`` and ``auth_time`` are
    recorded in the ``SignIn`` that every ID token of this authorization,
    here and at the token endpoint, is built from. ``issuer`` is their ``iss``.
    """
    now = clock.now()
    record_consent(user, request.client, request.scopes, request.resources, now=now)
    # Shared by the code, the tokens and the sign-in: one authorization.
    family_id = uuid.uuid4()
    params: dict[str, str | None] = {}
    if "code" in request.response_types:
        _code, params["code"] = AuthorizationCode.issue(
            client=request.client,
            user=user,
            scope=format_scope(request.scopes),
            resources=format_scope(request.resources),
            family_id=family_id,
            redirect_uri=request.redirect_uri,
            redirect_uri_provided=request.redirect_uri_provided,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            created_at=now,
            expires_at=now + timedelta(seconds=oauth_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS),
        )
    sign_in = None
    if request.openid is not None:
        if login_session is None:
            raise ValueError("An authentication request is approved in a login session.")
        # Before the access token: a JWT one carries its auth_time (RFC 9068 §2.2.1).
        sign_in = SignIn.objects.create(
            family_id=family_id,
            client=request.client,
            user=user,
            subject=subject(user, request.client),
            sid=login_session.sid,
            auth_time=login_session.auth_time,
            nonce=request.openid.nonce,
            claims=request.openid.claims,
            created_at=now,
        )
    if "token" in request.response_types:
        params.update(_implicit_token(request, user, family_id, issuer=issuer))
    if sign_in is not None and "id_token" in request.response_types:
        params["id_token"] = id_tokens.build(
            sign_in,
            client=request.client,
            user=user,
            scopes=request.scopes,
            issuer=issuer,
            access_token=params.get("access_token"),
            code=params.get("code"),
            # Core §5.4: with no access token to ask UserInfo with, the
            # claims of the granted scopes go in the ID token.
            scope_claims=request.response_type == "id_token",
        )
    params["state"] = request.state
    return params


def _implicit_token(
    request: AuthorizationRequest, user: AbstractBaseUser, family_id: uuid.UUID, *, issuer: str
) -> dict[str, str]:
    """The §4.2.2 access token response, for the fragment."""
    # §4.2.2: "The authorization server MUST NOT issue a refresh token."
    token = issue_tokens(
        client=request.client,
        user=user,
        scopes=request.scopes,
        resources=request.resources,
        grant_type=IMPLICIT,
        family_id=family_id,
        refresh=False,
        issuer=issuer,
    )
    return {
        "access_token": token["access_token"],
        "token_type": token["token_type"],
        "expires_in": str(token["expires_in"]),
        # Always sent: §4.2.2 requires it whenever it differs from the request
        # (the request may have named no scope and got the default).
        "scope": token["scope"],
    }
