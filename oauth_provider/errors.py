"""Protocol errors: one small class per RFC error code.

Each carries the RFC ``error`` code, the HTTP ``status_code``, a default
``description`` marked for translation, and ``redirectable``: whether the
authorization endpoint may send it back to the client's redirect URI. They are
turned into HTTP responses in ``responses.py`` and nowhere else.

Descriptions are constant strings chosen by the server. They never echo
request input, so building an error can never fail and never leaks a value.
They stay lazy until rendered: the same error is English on the wire and in
the person's language on a page, so a description must never be translated
(``gettext``) or interpolated (``%``) when the error is built; placeholders
are filled in by the error itself, in whichever language it is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from .bearer import challenge


def _interpolate(text: str | Promise, params: Mapping[str, object]) -> str:
    return str(text) % params


# ``gettext_lazy("... %(name)s ...") % params`` would translate at once, in
# the language active when the error is raised; this waits until rendered.
_interpolate_lazy = lazy(_interpolate, str)


class OAuthError(Exception):
    error: str = "server_error"
    status_code: int = 400
    description: str | Promise = _("The request could not be processed.")
    redirectable: bool = True

    def __init__(self, description: str | Promise | None = None, **params: object) -> None:
        """``description`` replaces the class's; ``params`` fill its ``%(name)s``
        placeholders when it is rendered (server-chosen values, never request input)."""
        if description is not None:
            self.description = description
        if params:
            self.description = _interpolate_lazy(self.description, params)
        super().__init__(self.description)

    def challenge(self) -> str | None:
        """The ``WWW-Authenticate`` value this error's response carries, if any."""
        return None

    def headers(self) -> dict[str, str]:
        """The HTTP headers this error's response carries, whatever renders it."""
        challenge = self.challenge()
        return {} if challenge is None else {"WWW-Authenticate": challenge}

    def wire_description(self) -> str:
        """The ``error_description`` sent to a client: always in English.

        RFC 6749 §4.1.2.1 and §5.2 allow only printable ASCII in it, and it is
        meant for the client's developer; a person is shown ``description``
        in their own language instead (the authorization error page).
        """
        with translation.override("en"):
            return str(self.description)


# RFC 6749 §4.1.2.1 and §5.2


class InvalidRequest(OAuthError):
    error = "invalid_request"
    description = _("The request is missing a parameter or is otherwise malformed.")


class MethodNotAllowed(InvalidRequest):
    status_code = 405
    description = _("This endpoint does not accept this HTTP method.")


class InvalidClient(OAuthError):
    """Client authentication failed (RFC 6749 §5.2), or at the authorization
    endpoint the client_id is unknown: never redirected (§4.1.2.1)."""

    error = "invalid_client"
    status_code = 401
    description = _("Client authentication failed.")
    redirectable = False


class InvalidRedirectURI(InvalidRequest):
    """§4.1.2.1: a missing, invalid or mismatching redirect URI must not be
    redirected to; the user is told instead."""

    description = _("The redirect URI is missing or is not registered for this client.")
    redirectable = False


class InvalidGrant(OAuthError):
    error = "invalid_grant"
    description = _("The authorization grant is invalid, expired, revoked or was already used.")


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"
    description = _("This client is not allowed to use this grant type.")


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
    description = _("The grant type is not supported by this server.")


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"
    description = _("The response type is not supported by this server.")


class InvalidScope(OAuthError):
    error = "invalid_scope"
    description = _("The requested scope is invalid, unknown or not allowed for this client.")


class InvalidTarget(OAuthError):
    """RFC 8707 §2: "The requested resource is invalid, missing, unknown, or
    malformed", or not one the requested scopes fit; at the authorization
    endpoint it is redirected, like any error of a known client."""

    error = "invalid_target"
    description = _("The requested resource is invalid, unknown or not allowed with this scope.")


class AccessDenied(OAuthError):
    error = "access_denied"
    description = _("The user denied the request.")


# OpenID Connect Core 1.0 §3.1.2.6: the answers to prompt=none, which OAuth
# servers share, when the request cannot be granted without showing a page.


class InteractionRequired(OAuthError):
    """§3.1.2.6: "The Authorization Server requires End-User interaction of
    some form to proceed"; the codes below name the interaction."""

    error = "interaction_required"
    description = _("The request needs the user to see a page, and prompt=none does not allow showing one.")


class LoginRequired(InteractionRequired):
    error = "login_required"
    description = _("The user is not signed in, and prompt=none does not allow asking them to.")


class ConsentRequired(InteractionRequired):
    error = "consent_required"
    description = _("The user has not approved this request, and prompt=none does not allow asking them to.")


# OpenID Connect Core 1.0 §3.1.2.6 and §6: request parameters this server
# does not support. The request is refused rather than served without what
# the parameter would have changed.


class RequestNotSupported(OAuthError):
    error = "request_not_supported"
    description = _("This server does not support the request parameter (request objects).")


class RequestURINotSupported(OAuthError):
    error = "request_uri_not_supported"
    description = _("This server does not support the request_uri parameter.")


class RegistrationNotSupported(OAuthError):
    error = "registration_not_supported"
    description = _("This server does not support the registration parameter.")


# RP-Initiated Logout 1.0 §4: a logout request that fails validation is
# shown to the user and never redirected.


class InvalidIdTokenHint(InvalidRequest):
    """§2: "When an id_token_hint parameter is present, the OP MUST validate
    that it was the issuer of the ID Token"."""

    description = _("The id_token_hint is not an ID token issued by this server.")
    redirectable = False


class InvalidPostLogoutRedirectURI(InvalidRequest):
    """§3: a post_logout_redirect_uri that "does not exactly match one of the
    previously registered post_logout_redirect_uris values" is never redirected to."""

    description = _("The post_logout_redirect_uri is not registered for this client.")
    redirectable = False


class ServerError(OAuthError):
    error = "server_error"
    status_code = 500
    description = _("The server met an unexpected condition.")


# RFC 7009 §2.2.1


class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"
    description = _("This server does not revoke tokens of this type.")


# RFC 8628 §3.5: the token endpoint's answers while a device authorization is undecided.


class AuthorizationPending(OAuthError):
    error = "authorization_pending"
    description = _("The user has not yet approved or denied the request.")


class SlowDown(AuthorizationPending):
    error = "slow_down"
    description = _("Polling too fast: wait longer between requests.")


class ExpiredToken(OAuthError):
    error = "expired_token"
    description = _("The device code has expired; start a new device authorization.")


# RFC 7662 §2.3 and §4: callers of the introspection endpoint.


class IntrospectionNotAllowed(UnauthorizedClient):
    """An authenticated client that is not authorized to introspect (§4).

    403, not 401: its credentials are valid, so asking it to authenticate
    again (401 with a Basic challenge) would send its developer looking for a
    wrong secret. ``unauthorized_client`` is RFC 6749's code for an
    authenticated client that may not do what it asked.
    """

    status_code = 403
    description = _("This client is not allowed to introspect tokens.")


class BearerError(OAuthError):
    """A bearer-authorized call to one of the server's own endpoints that is
    refused (RFC 6750 §3): introspection with ``INTROSPECTION_SCOPE``, and
    UserInfo (below).

    RFC 7662 §2.3: "If the protected resource uses an OAuth 2.0 bearer token to
    authorize its call to the introspection endpoint and the token used for
    authorization does not contain sufficient privileges or is otherwise
    invalid for this request, the authorization server responds with an HTTP
    401 code as described in Section 3 of [RFC6750]."
    """

    status_code = 401
    redirectable = False

    def challenge(self) -> str:
        return challenge(error=self.error)


class InvalidBearerToken(BearerError):
    error = "invalid_token"
    description = _("The access token is invalid, expired or revoked.")


class InsufficientScope(BearerError):
    error = "insufficient_scope"
    description = _("The access token does not grant the scope needed to introspect tokens.")

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def challenge(self) -> str:
        return challenge(error=self.error, scope=[self.scope])


# RFC 6750 §3.1 at the UserInfo endpoint (OpenID Connect Core 1.0 §5.3.3),
# which, unlike introspection, answers as a protected resource does.


class BearerTokenMissing(InvalidBearerToken):
    """A request with no access token at all.

    RFC 6750 §3.1: "If the request lacks any authentication information
    (e.g., the client was unaware that authentication is necessary or
    attempted using an unsupported authentication method), the resource
    server SHOULD NOT include an error code or other error information" in
    the challenge, which names only the realm (as the DRF class does).
    """

    description = _("The request carries no access token.")

    def challenge(self) -> str:
        return challenge()


class InvalidBearerRequest(BearerError):
    """RFC 6750 §3.1 ``invalid_request``: a token sent more than one way, or
    in the query string, which this server never reads (RFC 9700 §4.3.2)."""

    error = "invalid_request"
    status_code = 400
    description = _("The request is malformed.")


class OpenIDScopeRequired(InsufficientScope):
    """Core §5.3: UserInfo is for access tokens granted ``openid``. RFC 6750
    §3.1: insufficient_scope "SHOULD respond with the HTTP 403 (Forbidden)
    status code"."""

    status_code = 403
    description = _("The access token was not granted the openid scope.")

    def __init__(self) -> None:
        super().__init__("openid")


# Requests refused before they are read, and RFC 7009 §2.1's check of whose token it is.


class RequestTooLarge(InvalidRequest):
    """A body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (RFC 9110 §15.5.14)."""

    status_code = 413
    description = _("The request body is too large.")


class TokenOfAnotherClient(UnauthorizedClient):
    """RFC 7009 §2.1: the server "verifies whether the token was issued to the
    client making the revocation request. If this validation fails, the request
    is refused and the client is informed of the error"."""

    description = _("The token was issued to another client.")


# RFC 6585 §4: throttled requests (throttling.py).


class TooManyRequests(InvalidRequest):
    """429 with ``Retry-After``: too many failures or requests lately.

    The code is ``invalid_request`` because RFC 6749 §5.2 (which RFC 7009
    §2.2.1, RFC 7662 §2.3 and RFC 8628 §3.2 reuse) has no code for rate
    limiting: ``slow_down`` is RFC 8628 §3.5's answer to a device polling with
    a device_code and means "add 5 seconds to the interval", ``invalid_client``
    and ``invalid_grant`` would tell a client whose credentials were never
    checked that they are wrong, and ``temporarily_unavailable`` exists only at
    the authorization endpoint. The status and ``Retry-After`` tell the client
    what to do; ``retry_after`` is in whole seconds.
    """

    status_code = 429
    description = _("Too many requests. Try again later.")

    def __init__(self, retry_after: int, description: str | Promise | None = None) -> None:
        super().__init__(description)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Retry-After": str(self.retry_after)}


# RFC 7591 §3.2.2 and RFC 7592 §2: the registration and management endpoints.


class InvalidClientMetadata(OAuthError):
    """§3.2.2: "The value of one of the client metadata fields is invalid and
    the server has rejected this request." Also a body that is not a JSON
    object, or a member of the wrong JSON type."""

    error = "invalid_client_metadata"
    description = _("The client metadata is invalid.")
    redirectable = False


class InvalidRegisteredRedirectURI(InvalidClientMetadata):
    """§3.2.2 ``invalid_redirect_uri``: "The value of one or more redirection URIs is invalid." """

    error = "invalid_redirect_uri"
    description = _("The value of one or more redirect_uris is invalid.")


class InvalidSoftwareStatement(InvalidClientMetadata):
    """§3.2.2: "The software statement presented is invalid." This server
    verifies no software statement, so it refuses every one rather than
    register metadata whose signer it cannot check (§2.3)."""

    error = "invalid_software_statement"
    description = _("This server does not accept software statements.")


class InvalidInitialAccessToken(InvalidBearerToken):
    """§3: "If the initial access token is invalid, the server MUST respond
    per RFC 6750": 401 with a Bearer challenge."""

    description = _("The initial access token is invalid, expired or used up.")


class InitialAccessTokenMissing(BearerTokenMissing):
    description = _("Registration needs an initial access token in the Authorization header.")


class InvalidRegistrationAccessToken(InvalidBearerToken):
    """RFC 7592 §2.1-§2.3: a registration access token that is not valid for
    this client, or a client that does not exist: 401 either way, so the
    answer never tells which client_ids exist."""

    description = _("The registration access token is invalid for this client.")


class RegistrationAccessTokenMissing(BearerTokenMissing):
    description = _("Send the registration access token in the Authorization header.")
