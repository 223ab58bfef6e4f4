"""What the OpenID Connect end-to-end tests share: the provider as relying
parties see it (discovery, JWKS), a person's browser driven with ``requests``,
ID token checks done the way a relying party does them, and small local HTTP
servers that play the relying parties' endpoints.

Nothing here imports the provider's code: everything goes over HTTP, as it
would for a relying party on another machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.factories import PASSWORD

# The scopes of an OpenID Provider: what a site adds to OAUTH_PROVIDER["SCOPES"].
SCOPES = {
    "openid": "Sign you in",
    "profile": "Your name and username",
    "email": "Your e-mail address",
    "address": "Your postal address",
    "phone": "Your phone number",
    "read": "Read your data",
}
DISCOVERY_PATH = "/.well-known/openid-configuration"
# A relying party's redirect URIs; the user agent stops there and never fetches them.
REDIRECT_URI = "https://rp.example.com/callback"
POST_LOGOUT_REDIRECT_URI = "https://rp.example.com/signed-out"
TIMEOUT = 10
# Authorization errors that mean "a person must interact" (OIDC Core §3.1.2.6), as the
# suite's CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface accepts them.
USER_INTERFACE_ERRORS = frozenset(
    {"login_required", "interaction_required", "consent_required", "account_selection_required"}
)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOGIN_FORM = 'name="password"'
CONSENT_BUTTON = 'value="allow"'
# joserfc calls EdDSA by its RFC 8037 name, which RFC 9864 deprecates; OpenID
# Connect relying parties still use it.
EDDSA_WARNING = "EdDSA is deprecated"


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def url_params(url: str) -> dict[str, str]:
    """Query and fragment parameters of ``url`` (first value of each)."""
    parts = urlsplit(url)
    found = parse_qs(parts.query)
    found.update(parse_qs(parts.fragment))
    return {key: values[0] for key, values in found.items()}


@dataclass(frozen=True)
class Provider:
    """The OpenID Provider at ``url`` (its issuer), as relying parties see it."""

    url: str

    @property
    def discovery_url(self) -> str:
        return self.url + DISCOVERY_PATH

    def discovery(self) -> dict[str, Any]:
        response = requests.get(self.discovery_url, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    def jwks(self) -> dict[str, Any]:
        response = requests.get(self.discovery()["jwks_uri"], timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()


@dataclass
class Arrival:
    """Where a browser trip through the provider ended.

    ``url`` is the client's redirect URI with the response (None when the
    trip stopped on one of the provider's pages, then in ``page``);
    ``pages`` names the provider's pages the person saw on the way
    ("login", "consent", "logout-confirmation").
    """

    url: str | None
    pages: list[str] = field(default_factory=list)
    page: requests.Response | None = None

    @property
    def params(self) -> dict[str, str]:
        assert self.url is not None, f"stopped on a page: {self.page and self.page.text[:500]}"
        return url_params(self.url)


class UserAgent:
    """A person's browser, driven with ``requests``: it follows the provider's
    redirects, fills in the login form with ``user``'s credentials, presses
    a consent button, and stops at the first redirect out of the provider
    (the relying party's redirect URI), which it never fetches."""

    def __init__(self, provider: Provider, user: Any) -> None:
        self.provider = provider
        self.user = user
        self.session = requests.Session()

    def close(self) -> None:
        close_session(self.session)

    def _submit_login(self, form: requests.Response) -> requests.Response:
        return self.session.post(
            form.url,
            data={
                "username": self.user.get_username(),
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf_token(form.text),
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    def log_out(self, *, confirm: bool = True, **params: str) -> Arrival:
        """RP-Initiated Logout 1.0 §2: send the browser to the provider's
        end_session_endpoint with ``params``. A confirmation page, when the
        provider shows one, is noted in ``pages`` and confirmed (unless
        ``confirm`` is false)."""
        endpoint = self.provider.discovery()["end_session_endpoint"]
        arrival = self.visit(f"{endpoint}?{urlencode(params)}" if params else endpoint)
        forms = post_forms(arrival.page.text) if arrival.page is not None else []
        if not (confirm and arrival.page is not None and arrival.page.status_code == 200 and forms):
            return arrival
        form = forms[0]
        name, value = form["buttons"][0] if form["buttons"] else (None, "")
        data = {**form["fields"], **({name: value} if name else {})}
        action = urljoin(arrival.page.url, form["action"] or arrival.page.url)
        confirmed = self.visit(action, method="POST", data=data)
        confirmed.pages[:0] = [*arrival.pages, "logout-confirmation"]
        return confirmed

    def visit(self, url: str, *, consent: str = "allow", method: str = "GET", data: Any = None) -> Arrival:
        """Open ``url`` at the provider and go where it leads."""
        arrival = Arrival(url=None)
        response = self.session.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(self.provider.url + "/"):
                    arrival.url = location
                    return arrival
                response = self.session.get(location, allow_redirects=False, timeout=TIMEOUT)
            elif response.status_code == 200 and LOGIN_FORM in response.text:
                arrival.pages.append("login")
                response = self._submit_login(response)
            elif response.status_code == 200 and CONSENT_BUTTON in response.text:
                arrival.pages.append("consent")
                response = self.session.post(
                    response.url,
                    data={"action": consent, "csrfmiddlewaretoken": csrf_token(response.text)},
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
            else:
                arrival.page = response
                return arrival
        raise AssertionError(f"too many steps, last at {response.url}")


def close_session(session: requests.Session) -> None:
    """Close ``session`` and its keep-alive connections. urllib3 2's
    ``PoolManager.clear`` leaves pooled connections open until garbage
    collection, and one kept alive (a failed test's traceback holds its
    response) would outlive the live server and its database connection."""
    for adapter in session.adapters.values():
        pools = adapter.poolmanager.pools
        for key in pools.keys():  # noqa: SIM118 - RecentlyUsedContainer refuses plain iteration
            pools[key].close()
    session.close()


class _Forms(HTMLParser):
    """The POST forms of a page: action, hidden fields, submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and found.get("method", "get").lower() == "post":
            self.forms.append({"action": found.get("action", ""), "fields": {}, "buttons": []})
        elif self.forms and tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.forms[-1]["fields"][found["name"]] = found.get("value", "")
        elif self.forms and tag == "button" and found.get("type", "submit") == "submit":
            self.forms[-1]["buttons"].append((found.get("name"), found.get("value", "")))


def post_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6 (and §3.3.2.11 for ``c_hash``): the left half of the
    token's hash with the hash of ``alg`` (SHA-512 for Ed25519, as the OpenID
    Foundation's errata and every library do), base64url without padding."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def jwt_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS, unverified."""
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def decode_jwt(token: str, jwks: dict[str, Any]) -> jwt.Token:
    """Verify ``token``'s signature with the JWKS key its ``kid`` names (joserfc)."""
    header = jwt_header(token)
    assert header.get("alg") not in (None, "none"), header
    assert header.get("kid"), header
    assert header["kid"] in {key.get("kid") for key in jwks["keys"]}, "kid not in JWKS"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=EDDSA_WARNING)
        return jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[header["alg"]])


def verify_id_token(
    provider: Provider,
    id_token: str,
    client_id: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    jwks: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """OIDC Core §3.1.3.7: what a relying party checks before trusting an ID
    token, as the certification suite's ValidateIdToken, ValidateIdTokenNonce,
    ValidateIdTokenSignatureUsingKid and ValidateAtHash do. Returns the claims."""
    token = decode_jwt(id_token, jwks or provider.jwks())
    claims = dict(token.claims)
    now = time.time()
    assert claims["iss"] == provider.url
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert client_id in audience
    if len(audience) > 1 or "azp" in claims:
        assert claims["azp"] == client_id
    assert isinstance(claims["sub"], str) and 0 < len(claims["sub"]) <= 255
    assert isinstance(claims["exp"], int) and claims["exp"] > now
    # A few minutes of clock skew, as relying parties allow.
    assert isinstance(claims["iat"], int) and claims["iat"] <= now + 300
    if "auth_time" in claims:
        assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= now + 300
    if nonce is not None:
        assert claims["nonce"] == nonce
    if access_token is not None and "at_hash" in claims:
        assert claims["at_hash"] == at_hash(access_token, token.header["alg"])
    return claims


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with the server's ``status`` and records it."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.record(self, self.rfile.read(length))  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self.server.record(self, b"")  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what arrived."""


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


class Receiver(ThreadingHTTPServer):
    """A real HTTP endpoint on 127.0.0.1 that records what it is sent, for a
    relying party's back-channel logout URI or loopback redirect URI."""

    daemon_threads = True

    def __init__(self, status: int = 200, delay: float = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.status = status
        self.delay = delay
        self.requests: list[Received] = []
        self._arrived = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._arrived:
            self.requests.append(Received(handler.command, handler.path, dict(handler.headers), body))
            self._arrived.notify_all()
        if self.delay:
            # An endpoint too slow to answer: the caller's timeout should give up first.
            time.sleep(self.delay)
        try:
            handler.send_response(self.status)
            handler.send_header("Content-Length", "0")
            handler.send_header("Cache-Control", "no-store")
            handler.end_headers()
        except OSError:
            pass  # the caller gave up waiting and closed the connection

    def received(self, method: str = "POST") -> list[Received]:
        with self._arrived:
            return [request for request in self.requests if request.method == method]

    def wait_for(self, count: int, method: str = "POST", timeout: float = 10) -> list[Received]:
        """The first ``count`` ``method`` requests, waiting for them
        (back-channel delivery comes after the response that caused it)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received(method)) >= count, timeout)
            found = self.received(method)
        assert arrived, f"{len(found)} {method} request(s) arrived, expected {count}"
        return found[:count]


@contextmanager
def receiver(status: int = 200, delay: float = 0) -> Iterator[Receiver]:
    """A ``Receiver`` serving in a thread for the duration of the block."""
    server = Receiver(status, delay)
    # A short poll, so that shutting it down at the end of the block is quick.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def refused_url(path: str = "/logout") -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def verify_logout_token(
    provider: Provider, logout_token: str, client_id: str, jwks: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Back-Channel Logout 1.0 §2.6: what a relying party checks before acting
    on a logout token. Returns the claims."""
    token = decode_jwt(logout_token, jwks or provider.jwks())
    claims = dict(token.claims)
    # §2.4: explicitly typed, so it can never pass for an ID token.
    assert token.header.get("typ") == "logout+jwt", token.header
    assert claims["iss"] == provider.url
    assert client_id in (claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    assert isinstance(claims["iat"], int) and claims["iat"] <= time.time() + 300
    assert claims.get("exp", time.time() + 1) > time.time()
    assert claims["jti"]
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert "sub" in claims or "sid" in claims
    assert "nonce" not in claims
    return claims


@dataclass
class SignIn:
    """One completed authorization code flow, as the certification suite's
    AbstractOIDCCServerTest runs it: what came back at each step."""

    state: str
    nonce: str | None
    arrival: Arrival
    token: dict[str, Any]
    id_token: dict[str, Any]

    @property
    def code(self) -> str:
        return self.arrival.params["code"]

    @property
    def raw_id_token(self) -> str:
        return self.token["id_token"]


class CodeFlow:
    """A static client's authorization code flow against ``provider``: the
    authentication request, the response, the token request with
    ``client_secret_basic`` (or ``client_secret_post``), and the checks the
    suite makes on each answer."""

    def __init__(self, provider: Provider, client: Any, agent: UserAgent, redirect_uri: str = REDIRECT_URI):
        self.provider = provider
        self.client = client
        self.agent = agent
        self.redirect_uri = redirect_uri

    def request_url(self, **params: str | None) -> str:
        """The authentication request (``None`` leaves a parameter out)."""
        query = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            **params,
        }
        return f"{self.provider.url}/o/authorize/?" + urlencode(
            {key: value for key, value in query.items() if value is not None}
        )

    def authorize(self, **params: str | None) -> tuple[Arrival, str, str | None]:
        """Send the person with a fresh ``state`` and ``nonce`` (unless given);
        check the response carries the state and the issuer (RFC 9207)."""
        state = params.pop("state", None) or secrets.token_urlsafe(16)
        nonce = params.pop("nonce") if "nonce" in params else secrets.token_urlsafe(16)
        arrival = self.agent.visit(self.request_url(state=state, nonce=nonce, **params))
        assert arrival.url is not None, arrival.page is not None and arrival.page.text[:2000]
        assert arrival.url.startswith(self.redirect_uri + "?"), arrival.url
        assert arrival.params["state"] == state
        assert arrival.params["iss"] == self.provider.url
        return arrival, state, nonce

    def redeem(
        self, code: str, *, auth: str = "client_secret_basic", client: Any = None
    ) -> requests.Response:
        client = client or self.client
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        return self.token_request(data, auth=auth, client=client)

    def token_request(
        self, data: dict[str, str], *, auth: str = "client_secret_basic", client: Any = None
    ) -> requests.Response:
        client = client or self.client
        if auth == "client_secret_post":
            data = {**data, "client_id": client.client_id, "client_secret": client.secret}
            return requests.post(f"{self.provider.url}/o/token/", data=data, timeout=TIMEOUT)
        return requests.post(
            f"{self.provider.url}/o/token/",
            data=data,
            auth=(client.client_id, client.secret),
            timeout=TIMEOUT,
        )

    def sign_in(self, *, auth: str = "client_secret_basic", **params: str | None) -> SignIn:
        arrival, state, nonce = self.authorize(**params)
        response = self.redeem(arrival.params["code"], auth=auth)
        token = check_token_response(response)
        claims = verify_id_token(
            self.provider,
            token["id_token"],
            self.client.client_id,
            nonce=nonce,
            access_token=token["access_token"],
        )
        return SignIn(state, nonce, arrival, token, claims)

    def userinfo(self, access_token: str, method: str = "GET", *, in_body: bool = False) -> requests.Response:
        url = self.provider.discovery()["userinfo_endpoint"]
        if in_body:
            return requests.post(url, data={"access_token": access_token}, timeout=TIMEOUT)
        headers = {"Authorization": f"Bearer {access_token}"}
        return requests.request(method, url, headers=headers, timeout=TIMEOUT)


def check_token_response(response: requests.Response) -> dict[str, Any]:
    """RFC 6749 §5.1 and OIDC Core §3.1.3.3: 200, JSON, ``no-store``, a
    Bearer access token with a positive ``expires_in``, and an ID token."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "no-store" in response.headers["Cache-Control"]
    token = response.json()
    assert token["token_type"].lower() == "bearer"
    assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
    assert token["access_token"] and token["id_token"]
    return token
