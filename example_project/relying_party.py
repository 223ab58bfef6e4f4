"""A tiny OpenID Connect relying party: "Sign in with the example site" from a terminal.

It discovers the provider (``/.well-known/openid-configuration``), listens on
a loopback port for the redirect (RFC 8252 §7.3: a public client registered
with ``http://127.0.0.1/callback`` may use any port), sends the browser to
the authorization endpoint with PKCE (S256), ``state`` and ``nonce``,
redeems the code, verifies the ID token against the provider's JWKS
(signature, ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``at_hash``),
calls UserInfo and prints the claims as JSON.

Only the standard library, ``requests`` and Authlib (with joserfc, which it
installs). Register it once, then run it::

    python manage.py createclient --name "Tiny relying party" --type public \\
        --redirect-uri http://127.0.0.1/callback --scope openid --scope profile --scope email
    python example_project/relying_party.py --client-id <client_id>
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

TIMEOUT = 10
# How long to wait for the person to sign in before giving up.
SIGN_IN_TIMEOUT = 300


class CallbackServer(HTTPServer):
    """Receives the one redirect back from the provider on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), CallbackHandler)
        self.callback_url: str | None = None
        self.arrived = threading.Event()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback"

    def serve_until_called_back(self) -> None:
        while not self.arrived.is_set():
            self.handle_request()


class CallbackHandler(BaseHTTPRequestHandler):
    server: CallbackServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path != "/callback":
            self.send_error(404)
            return
        self.server.callback_url = f"{self.server.redirect_uri}?{urlsplit(self.path).query}"
        body = b"<!doctype html><title>Signed in</title><p>Done: you can close this window.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the terminal for the result."""


def discover(issuer: str) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §4: the provider's configuration, whose
    ``issuer`` must be the one we asked (§4.3)."""
    response = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=TIMEOUT)
    response.raise_for_status()
    metadata = response.json()
    if metadata["issuer"] != issuer.rstrip("/"):
        raise SystemExit(f"issuer mismatch: asked {issuer}, the document says {metadata['issuer']}")
    return metadata


def verify_id_token(metadata: dict[str, Any], client_id: str, token: dict[str, Any], nonce: str) -> dict:
    """OpenID Connect Core 1.0 §3.1.3.7, with Authlib's ``CodeIDToken``: the
    signature with the JWKS key the header's ``kid`` names, then ``iss``,
    ``aud``, ``exp``, ``iat``, ``nonce`` and ``at_hash``."""
    jwks = requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json()
    decoded = jwt.decode(
        token["id_token"],
        KeySet.import_key_set(jwks),
        registry=JWSRegistry(algorithms=metadata["id_token_signing_alg_values_supported"]),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": client_id},
        },
        {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=60)
    return dict(claims)


def sign_in(
    issuer: str, client_id: str, client_secret: str | None, scope: str, port: int, browser: bool
) -> dict:
    metadata = discover(issuer)
    server = CallbackServer(port)
    threading.Thread(target=server.serve_until_called_back, daemon=True).start()
    nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    with OAuth2Session(
        client_id,
        client_secret,
        scope=scope,
        redirect_uri=server.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if client_secret else "none",
    ) as session:
        url, state = session.create_authorization_url(
            metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier
        )
        print(f"Sign in at: {url}", flush=True)
        if browser:
            webbrowser.open(url)
        if not server.arrived.wait(SIGN_IN_TIMEOUT):
            raise SystemExit("No answer from the browser.")
        server.server_close()
        params = {key: values[0] for key, values in parse_qs(urlsplit(server.callback_url).query).items()}
        if "error" in params:
            raise SystemExit(
                f"The provider answered {params['error']}: {params.get('error_description', '')}"
            )
        # RFC 9207: the response names its issuer; a mix-up attack would show here.
        if params.get("iss", metadata["issuer"]) != metadata["issuer"]:
            raise SystemExit(f"The response came from {params['iss']}, not {metadata['issuer']}.")
        # Authlib checks the state and sends the PKCE verifier.
        token = session.fetch_token(
            metadata["token_endpoint"],
            authorization_response=server.callback_url,
            state=state,
            code_verifier=verifier,
        )
        claims = verify_id_token(metadata, client_id, token, nonce)
        userinfo = session.get(metadata["userinfo_endpoint"], timeout=TIMEOUT)
        userinfo.raise_for_status()
    return {"id_token": claims, "userinfo": userinfo.json()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--issuer", default="http://127.0.0.1:8000", help="the provider (default: %(default)s)"
    )
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", help="for a confidential client (default: a public client)")
    parser.add_argument("--scope", default="openid profile email", help="default: %(default)s")
    parser.add_argument("--port", type=int, default=0, help="loopback port for the redirect (default: any)")
    parser.add_argument("--no-browser", action="store_true", help="print the sign-in URL, do not open it")
    args = parser.parse_args(argv)
    result = sign_in(
        args.issuer, args.client_id, args.client_secret, args.scope, args.port, not args.no_browser
    )
    print(f"Signed in as {result['userinfo'].get('preferred_username', result['id_token']['sub'])}.")
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
