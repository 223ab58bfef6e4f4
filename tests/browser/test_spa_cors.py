"""A single-page app on another origin gets tokens with ``fetch`` (oauth_provider.cors).

The app is a page served by a small HTTP server of its own, on another
loopback port than the live server: another origin. It runs the code flow
with PKCE as browser apps do (RFC 9700 §2.1.1, §2.6):
it sends the browser to /o/authorize/, the user signs in and approves, the
browser comes back to the page with a code, and the page redeems it at
/o/token/ with ``fetch``, then calls UserInfo with the access token. Chromium
enforces CORS itself, so when the client has not registered the page's
origin the very same ``fetch`` fails, although the server issued the token.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oauth_provider.models import AccessToken
from tests.factories import PublicClientFactory, UserFactory

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

# The app itself: no library, what a browser offers (Web Crypto for S256).
SPA_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>SPA</title></head>
<body><pre id="result"></pre>
<script>
const config = %(config)s;
const show = (value) => { document.getElementById("result").textContent = JSON.stringify(value); };
const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");

async function start() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("verifier", verifier);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: "code", client_id: config.client_id, redirect_uri: config.redirect_uri,
    scope: "openid read", state: "spa-state", code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(config.server + "/o/authorize/?" + query);
}

async function finish(code) {
  let tokens;
  try {
    const response = await fetch(config.server + "/o/token/", {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code", code, redirect_uri: config.redirect_uri,
        client_id: config.client_id, code_verifier: sessionStorage.getItem("verifier"),
      }),
    });
    tokens = await response.json();
  } catch (error) {
    return show({ token_error: error.name });
  }
  // A header of its own (Authorization): this request is preflighted.
  const userinfo = await fetch(config.server + "/o/userinfo/", {
    headers: { Authorization: "Bearer " + tokens.access_token },
  });
  show({ token_type: tokens.token_type, userinfo: await userinfo.json() });
}

const params = new URLSearchParams(location.search);
params.has("code") ? finish(params.get("code")) : start();
</script></body></html>
"""


@pytest.fixture
def spa_origin(live_server) -> Iterator[tuple[str, dict]]:
    """The app's own server on another loopback port; the test fills in ``config``."""
    config: dict = {"server": live_server.url}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (SPA_PAGE % {"config": json.dumps(config)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    assert origin != live_server.url  # another origin, or this test proves nothing
    yield origin, config
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _openid(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": {**settings.OAUTH_PROVIDER["SCOPES"], "openid": "Sign you in"},
    }


def run_app(page, spa_origin, client) -> dict:
    """Open the app, sign in and approve, and return what the app showed."""
    origin, config = spa_origin
    config.update(client_id=client.client_id, redirect_uri=f"{origin}/callback")
    user = UserFactory()
    page.goto(f"{origin}/")
    sign_in(page, user)
    page.click("button[value=allow]")
    page.wait_for_url(f"{origin}/callback?code=*")
    page.wait_for_function("document.getElementById('result').textContent !== ''")
    return {"user": user, **json.loads(page.inner_text("#result"))}


def test_an_app_on_its_redirect_uris_origin_gets_tokens_with_fetch(page, spa_origin):
    origin, _config = spa_origin
    client = PublicClientFactory(redirect_uris=f"{origin}/callback", grant_types=["authorization_code"])

    shown = run_app(page, spa_origin, client)

    assert shown["token_type"] == "Bearer"
    assert shown["userinfo"]["sub"]


def test_an_app_on_a_listed_origin_gets_tokens_with_fetch(page, spa_origin):
    origin, _config = spa_origin
    # A loopback redirect URI matches on any port (RFC 8252 §7.3), but its
    # origin is port 80's: the app's origin is listed instead.
    client = PublicClientFactory(
        redirect_uris="http://127.0.0.1/callback", allowed_origins=origin, grant_types=["authorization_code"]
    )

    assert run_app(page, spa_origin, client)["token_type"] == "Bearer"


def test_fetch_fails_from_an_origin_the_client_did_not_register(page, spa_origin):
    client = PublicClientFactory(
        redirect_uris="http://127.0.0.1/callback", grant_types=["authorization_code"]
    )

    shown = run_app(page, spa_origin, client)

    # The browser refused the page the answer ("Failed to fetch")...
    assert shown["token_error"] == "TypeError"
    # ... although the server answered it: CORS, nothing else, made the difference.
    assert AccessToken.objects.filter(client=client, user=shown["user"]).exists()
