"""Protocol errors: one small class per RFC error code.

Each carries the RFC ``error`` code, the HTTP ``status_code``, a default
``description`` marked for translation, and ``redirectable``: whether the
authorization endpoint may send it back to the client's redirect URI. They are
turned into HTTP responses in ``responses.py`` and nowhere else.

Descriptions are constant strings chosen by the server. They never echo
request input, so building an error can never fail and never leaks a value.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class OAuthError(Exception):
    error: str = "server_error"
    status_code: int = 400
    description: str | Promise = _("The request could not be processed.")
    redirectable: bool = True

    def __init__(self, description: str | Promise | None = None) -> None:
        if description is not None:
            self.description = description
        super().__init__(str(self.description))


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


class AccessDenied(OAuthError):
    error = "access_denied"
    description = _("The user denied the request.")


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
