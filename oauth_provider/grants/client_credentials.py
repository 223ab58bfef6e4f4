"""Client credentials grant (RFC 6749 §4.4).

"The client can request an access token using only its client credentials
when the client is requesting access to the protected resources under its
control, or those of another resource owner that have been previously
arranged with the authorization server."
"""

from __future__ import annotations

from ..errors import UnauthorizedClient
from ..issuance import TokenResponse, issue_tokens
from ..payload import TokenRequest
from ..resources import resolve_resources
from ..scopes import resolve_scope
from ..settings import CLIENT_CREDENTIALS
from .base import Grant


class ClientCredentialsGrant(Grant):
    """The token endpoint request of §4.4.2: ``grant_type``, an optional
    ``scope`` and any ``resource`` (RFC 8707 §2)."""

    grant_type = CLIENT_CREDENTIALS
    parameters = frozenset({"scope"})

    def handle(self, request: TokenRequest) -> TokenResponse:
        # §4.4: "The client credentials grant type MUST only be used by
        # confidential clients." Client.clean refuses the configuration; this
        # covers a row written around it.
        if not request.client.is_confidential:
            raise UnauthorizedClient
        scopes = resolve_scope(request.params.get("scope"), request.client)
        return issue_tokens(
            client=request.client,
            # The token acts for the client itself: no resource owner.
            user=None,
            scopes=scopes,
            resources=resolve_resources(request.resources, scopes),
            grant_type=self.grant_type,
            # §4.4.3: "A refresh token SHOULD NOT be included."
            refresh=False,
            issuer=self.issuer(request),
        )
