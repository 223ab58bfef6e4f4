"""Bearer tokens as a protected resource sees them (RFC 6750).

    token = bearer.authenticate(value)      # a BearerToken, or errors.InvalidBearerToken
    header = bearer.challenge(error="invalid_token")

``authenticate`` is the one entry point for every protected request, whoever
issued the token: this server (``token_lookup``, which reads its database,
its in-process cache or a JWT's signature) or, with ``RESOURCE_SERVER_ISSUER``,
another one (``remote_resource_server``, which imports no model, so that a
project without this app in ``INSTALLED_APPS`` can use it). Either way the
answer is a ``BearerToken``, which is what DRF's ``request.auth`` holds.

``challenge`` builds every ``WWW-Authenticate: Bearer`` header this package
sends (RFC 6750 §3), with the one realm ``RESOURCE_SERVER_REALM``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import clock
from .settings import oauth_settings


@dataclass(frozen=True, eq=False)
class BearerToken:
    """What a protected resource knows of a valid access token.

    ``client_id`` is the client's public identifier (RFC 6749 §2.2) and
    ``sub`` the subject the token names, where known without a query (a JWT,
    RFC 9068 §2.2, or an introspection answer, RFC 7662 §2.2). ``client``
    and ``user`` are model instances on this server (loaded on first use
    for a JWT), None for a client-only token's user, and on a remote
    resource server None and a ``TokenUser``. ``audience`` holds the
    resource identifiers the token is meant for (RFC 8707), ``family_id``
    the authorization it descends from (None where unknown).
    """

    token_hash: str
    scope: str
    audience: tuple[str, ...]
    client_id: str
    sub: str | None
    expires_at: datetime
    issued_at: datetime
    jti: str | None
    family_id: uuid.UUID | None
    client: Any
    user: Any

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    def is_active(self) -> bool:
        """Unexpired; revocation was checked when the token was authenticated."""
        return clock.now() < self.expires_at


def authenticate(value: str) -> BearerToken:
    """The valid access token ``value`` (RFC 6750 §2), whoever issued it.

    Raises ``errors.InvalidBearerToken`` (RFC 6750 §3.1 ``invalid_token``) for a token
    that is unknown, expired, revoked, badly signed, or whose client or
    user is inactive. Whether it is meant for the resource asking is for
    the caller (``audience``).
    """
    if oauth_settings.RESOURCE_SERVER_ISSUER:
        from . import remote_resource_server

        return remote_resource_server.authenticate(value)
    from . import token_lookup

    return token_lookup.authenticate(value)


def _quoted(value: str) -> str:
    # RFC 6750 §3: auth-param values are quoted strings; the values sent here
    # are the server's own (realm, codes, scopes, URLs), which never hold quotes.
    return f'"{value}"'


def challenge(
    *, error: str | None = None, scope: Iterable[str] | None = None, resource_metadata: str | None = None
) -> str:
    """A ``WWW-Authenticate`` value for a refused bearer request (RFC 6750 §3).

    ``error`` is ``invalid_request``, ``invalid_token`` or
    ``insufficient_scope`` (§3.1), left out when the request carried no
    token at all; ``scope`` the scopes the request needs; and
    ``resource_metadata`` where a client learns about the resource
    (RFC 9728 §5.1).
    """
    params = [("realm", oauth_settings.RESOURCE_SERVER_REALM)]
    if error is not None:
        params.append(("error", error))
    if scope is not None:
        params.append(("scope", " ".join(scope)))
    if resource_metadata is not None:
        params.append(("resource_metadata", resource_metadata))
    return "Bearer " + ", ".join(f"{name}={_quoted(value)}" for name, value in params)
