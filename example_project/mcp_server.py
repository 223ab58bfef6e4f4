"""An MCP server whose tools need a token from the example site (oauth_provider).

It is a resource server only (the MCP authorization spec's split): the example
site is the authorization server, this process checks the tokens it is shown.

- It publishes its protected resource metadata (RFC 9728) at
  ``/.well-known/oauth-protected-resource/mcp``, naming the site as its
  authorization server, and every 401 points there (``resource_metadata`` in
  ``WWW-Authenticate``, RFC 9728 §5.1), so an MCP client given only this
  server's URL finds everything else.
- It validates each token by asking the site's introspection endpoint
  (RFC 7662) as a client allowed to introspect, and accepts it only when its
  audience (``aud``) names this server (RFC 8707): a token the user granted
  for another API is refused, so no token is reusable here by accident.

Run the example site (``python manage.py runserver``), give this server a
client that may introspect, then start it::

    python manage.py createclient --name "MCP server" --grant-type client_credentials \\
        --allow-introspection --json
    MCP_INTROSPECTION_CLIENT_ID=... MCP_INTROSPECTION_CLIENT_SECRET=... \\
        python example_project/mcp_server.py

Environment: ``OAUTH_PROVIDER_ISSUER`` (the site, default
``http://127.0.0.1:8000``), ``MCP_SERVER_URL`` (this server's resource
identifier, as declared in the site's ``RESOURCES``; default
``http://127.0.0.1:8001/mcp``) and the two credentials above.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import httpx2
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

# The scope a token must carry to call the tools; the site's RESOURCES entry
# for this server lists it, and our metadata advertises it (scopes_supported).
REQUIRED_SCOPES = ["read"]


class IntrospectionTokenVerifier:
    """The SDK's ``TokenVerifier``: an RFC 7662 introspection call per token.

    Opaque tokens mean nothing to anyone but their issuer, so the verifier
    asks it (§2.1), authenticating with ``client_secret_basic``.
    """

    def __init__(self, issuer: str, resource: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self.resource = resource
        self.credentials = (client_id, client_secret)
        self.endpoint: str | None = None

    async def introspection_endpoint(self, http: httpx2.AsyncClient) -> str:
        """The endpoint the site announces in its RFC 8414 metadata (§2), read once."""
        if self.endpoint is None:
            response = await http.get(f"{self.issuer}/.well-known/oauth-authorization-server")
            response.raise_for_status()
            self.endpoint = response.json()["introspection_endpoint"]
        return self.endpoint

    async def verify_token(self, token: str) -> AccessToken | None:
        """Return the token's grant, or None (the SDK answers 401) unless it is
        active (RFC 7662 §2.2) and issued for this server (RFC 8707 §2: "the
        resource server MUST validate that the audience is itself")."""
        async with httpx2.AsyncClient(timeout=10) as http:
            response = await http.post(
                await self.introspection_endpoint(http),
                data={"token": token, "token_type_hint": "access_token"},
                auth=self.credentials,
            )
        if response.status_code != 200:
            return None
        claims = response.json()
        audience = claims.get("aud", [])
        # §2.2: aud is a string or an array of strings.
        audience = [audience] if isinstance(audience, str) else audience
        if not claims.get("active") or self.resource not in audience:
            return None
        return AccessToken(
            token=token,
            client_id=claims["client_id"],
            scopes=claims.get("scope", "").split(),
            expires_at=claims.get("exp"),
            resource=self.resource,
            subject=claims.get("sub"),
            claims={"iss": claims.get("iss", self.issuer), "username": claims.get("username")},
        )


def build_server(issuer: str, resource: str, client_id: str, client_secret: str) -> MCPServer:
    """The MCP server for ``resource`` (its URL), trusting tokens from ``issuer``."""
    server = MCPServer(
        "Example notes",
        token_verifier=IntrospectionTokenVerifier(issuer, resource, client_id, client_secret),
        # Strings, not AnyHttpUrl objects: the SDK's settings keep a path-less
        # issuer as is, and RFC 8414 §3.3 compares issuers as exact strings.
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=resource,
            required_scopes=REQUIRED_SCOPES,
            # The verifier already refused tokens for other audiences; the SDK
            # checks AccessToken.resource once more.
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def whoami() -> dict[str, object]:
        """Who the user who approved this client is, as the site told us."""
        # Set for every call: the SDK answers 401 before a tool runs without one.
        token = get_access_token()
        if token is None:
            raise PermissionError("no access token")
        return {
            "subject": token.subject,
            "username": (token.claims or {}).get("username"),
            "client_id": token.client_id,
            "scopes": token.scopes,
        }

    return server


def main() -> None:
    issuer = os.environ.get("OAUTH_PROVIDER_ISSUER", "http://127.0.0.1:8000").rstrip("/")
    resource = os.environ.get("MCP_SERVER_URL", "http://127.0.0.1:8001/mcp")
    client_id = os.environ.get("MCP_INTROSPECTION_CLIENT_ID")
    client_secret = os.environ.get("MCP_INTROSPECTION_CLIENT_SECRET")
    if not (client_id and client_secret):
        sys.exit("Set MCP_INTROSPECTION_CLIENT_ID and MCP_INTROSPECTION_CLIENT_SECRET (see the docstring).")
    server = build_server(issuer, resource, client_id, client_secret)
    url = urlsplit(resource)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    server.run("streamable-http", host=host, port=port, streamable_http_path=url.path)


if __name__ == "__main__":
    main()
