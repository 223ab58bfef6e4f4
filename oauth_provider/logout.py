"""RP-Initiated Logout 1.0: a client sends the user here to sign out.

A logout request (§2) carries ``id_token_hint`` (an ID token this server
issued, expired or not), ``client_id``, ``post_logout_redirect_uri`` (where
to send the user afterwards: registered for the client, matched exactly, §3),
``state`` (echoed on that redirect) and ``ui_locales`` (the pages' language).
Everything is validated before anything happens; a request that fails is
shown to the user and never redirected (§4).

Signing out on a link is logout CSRF: any site could send the user here.
§2: "the OP MUST ask the End-User this question if an id_token_hint was not
provided or if the supplied ID Token does not belong to the current OP
session with the RP and/or currently logged in End-User." So the user is
signed out at once only when the hint was issued in this very browser
session (its ``sid``) to this very user (its ``sub``); otherwise they are
asked first, on a CSRF-protected form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from . import id_tokens, primary, signing_keys
from .errors import InvalidClient, InvalidIdTokenHint, InvalidPostLogoutRedirectURI, InvalidRequest
from .login_sessions import session_sids
from .models import Client
from .payload import single_values
from .redirect_uris import redirect_uri_matches, split_redirect_uris
from .subjects import subject
from .ui_locales import preferred_language

PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


@dataclass(frozen=True)
class LogoutRequest:
    """A validated logout request (RP-Initiated Logout 1.0 §2)."""

    # Who asked: from client_id or the hint's audience; None if neither says.
    client: Client | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None
    ui_locales: str | None = None
    # The first language of ui_locales the site offers.
    language: str | None = None
    # The verified id_token_hint's claims.
    id_token: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def shown_client(self) -> Client | None:
        """The client to name to the user: not one that is inactive or whose
        (possibly changed) name awaits an admin's review."""
        client = self.client
        return client if client is not None and client.accepts_new_authorizations else None

    def form_fields(self) -> dict[str, str]:
        """What the confirmation form posts back: the request, with the hint
        replaced by the client it identified. It is validated again on POST."""
        fields = {
            "client_id": self.client.client_id if self.client is not None else None,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": self.state,
            "ui_locales": self.ui_locales,
        }
        return {name: value for name, value in fields.items() if value is not None}


def parse(data: QueryDict, issuer: str) -> LogoutRequest:
    """Validate a logout request's parameters (the query of a GET, the form
    body of a POST); raise an ``OAuthError`` to show the user otherwise."""
    params = single_values(data, PARAMETERS)
    claims = verified_id_token(params["id_token_hint"], issuer) if "id_token_hint" in params else None
    client = _client(params.get("client_id"), claims)
    uri = params.get("post_logout_redirect_uri")
    if uri is not None:
        # §3: without a hint "the OP MUST NOT perform post-logout redirection
        # unless the OP has other means of confirming the legitimacy of the
        # post-logout redirection target": a client_id whose registered URIs
        # include it exactly (and a signed-in user is asked first).
        if client is None:
            raise InvalidPostLogoutRedirectURI(
                _("A post_logout_redirect_uri needs an id_token_hint or a client_id.")
            )
        if not redirect_uri_matches(uri, registered_post_logout_redirect_uris(client)):
            raise InvalidPostLogoutRedirectURI
    ui_locales = params.get("ui_locales")
    return LogoutRequest(
        client=client,
        post_logout_redirect_uri=uri,
        state=params.get("state"),
        ui_locales=ui_locales,
        language=preferred_language(ui_locales),
        id_token=claims,
    )


def verified_id_token(token: str, issuer: str) -> dict[str, Any]:
    """The claims of ``token`` if it is an ID token this server signed.

    §2: "When an id_token_hint parameter is present, the OP MUST validate
    that it was the issuer of the ID Token. The OP SHOULD accept ID Tokens
    when the RP identified by the ID Token's aud claim and/or sid claim has a
    current session or had a recent session at the OP, even when the exp time
    has passed." (``id_tokens.verify_hint``).
    """
    try:
        return id_tokens.verify_hint(token, issuer=issuer)
    except signing_keys.InvalidJWT:
        raise InvalidIdTokenHint from None


def _client(client_id: str | None, claims: Mapping[str, Any] | None) -> Client | None:
    """The client a request comes from: ``client_id``, else the hint's
    ``azp`` or sole audience. §2: "When both client_id and id_token_hint are
    present, the OP MUST verify that the Client Identifier matches the one
    used when issuing the ID Token."
    """
    if claims is not None:
        audiences = id_tokens.audiences(claims)
        if client_id is not None and client_id not in audiences:
            raise InvalidRequest(_("The client_id is not an audience of the id_token_hint."))
        azp = claims.get("azp")
        if client_id is None:
            client_id = azp if isinstance(azp, str) else audiences[0] if len(audiences) == 1 else None
        # A hint whose client has since been deleted still signs the user out.
        return (
            primary.first_or_from_primary(Client.objects.filter(client_id=client_id)) if client_id else None
        )
    if client_id is None:
        return None
    client = primary.first_or_from_primary(Client.objects.filter(client_id=client_id))
    if client is None:
        raise InvalidClient(_("The client is unknown."))
    return client


def registered_post_logout_redirect_uris(client: Client) -> list[str]:
    """The URIs ``client`` may send users to after logout: none while it is
    inactive, and while its changes await review, the ones an admin approved."""
    if not client.is_active:
        return []
    return split_redirect_uris(client.approved_value("post_logout_redirect_uris") or "")


def is_for_this_session(logout_request: LogoutRequest, request: HttpRequest) -> bool:
    """Whether the hint ties the request to the signed-in user's session:
    issued in it (``sid``, Back-Channel Logout 1.0 §3) and, when the client
    is known, to this user (``sub``). Only then is no confirmation asked."""
    claims = logout_request.id_token
    if claims is None or not request.user.is_authenticated:
        return False
    client = logout_request.client
    sid = claims.get("sid")
    if sid is not None and sid not in session_sids(request.session):
        return False
    if client is None:
        # Without the client its sub cannot be computed: only the sid can tie it.
        return sid is not None
    return claims["sub"] == subject(request.user, client)
