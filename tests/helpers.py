"""Small builders shared by the endpoint and grant tests."""

import base64
import functools
import os
import secrets
from html.parser import HTMLParser
from typing import NoReturn
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from joserfc import jwt

from oauth_provider import clock, signing_keys
from oauth_provider.pkce import s256
from oauth_provider.subjects import subject

REDIRECT_URI = "https://client.example.com/callback"
# Tests use database 9 of the local Redis, each with its own key prefix.
REDIS_URL = "redis://127.0.0.1:6379/9"


def missing_service(message: str) -> NoReturn:
    """Skip a test whose service or tool (Redis, Chromium, gettext) is missing
    on this machine; in CI (``CI`` set), where .ci/run provides them all, fail."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_redis(url: str = REDIS_URL) -> None:
    """Skip (or in CI fail) unless Redis answers at ``url``."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing_service(f"Redis is not reachable at {url}: {error}")


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def authorize_url(client, **params) -> str:
    """/o/authorize/ for ``client`` with sensible defaults; pass None to omit a parameter."""
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "af0ifjsldkj",
        **params,
    }
    return "/o/authorize/?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)


def query_params(url: str) -> dict[str, str]:
    """The query parameters of ``url`` (first value of each)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def redirect_params(response) -> dict[str, str]:
    """The query parameters of a redirect response's Location."""
    assert response.status_code == 302, response.status_code
    return query_params(response["Location"])


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def post_token(api_client, data, **headers):
    """POST form-encoded ``data`` (a dict, or a list of pairs for repeats) to the token endpoint."""
    return api_client.post(
        "/o/token/",
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def request_cost(queries) -> tuple[int, int]:
    """(statements, transactions that write) of one request's captured queries.

    A test runs in a transaction, so the view's own transactions show as
    savepoints; a write outside one is a transaction of its own in
    production (autocommit). Transaction control is not a statement.
    """
    statements = transactions = depth = 0
    wrote = False
    for query in queries.captured_queries:
        sql = query["sql"].lstrip().upper()
        if sql.startswith("SAVEPOINT"):
            depth += 1
        elif sql.startswith("RELEASE SAVEPOINT"):
            depth -= 1
            if depth == 0 and wrote:
                transactions, wrote = transactions + 1, False
        elif not sql.startswith(("ROLLBACK", "BEGIN", "COMMIT")):
            statements += 1
            if sql.startswith(("INSERT", "UPDATE", "DELETE")) or sql.endswith("FOR UPDATE"):
                if depth:
                    wrote = True
                else:
                    transactions += 1
    return statements, transactions


def hidden_fields(response) -> dict[str, list[str]]:
    """The hidden inputs of an HTML response, as a form posts them back: {name: [values]}."""
    fields: dict[str, list[str]] = {}

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "input" and found.get("type") == "hidden" and found.get("name"):
                fields.setdefault(found["name"], []).append(found.get("value") or "")

    Parser().feed(response.content.decode())
    return fields


def signed_id_token(client, user, *, sid=None, typ="JWT", **claims) -> str:
    """An ID token this server could have issued to ``client`` for ``user``
    (OpenID Connect Core 1.0 §2), signed with the client's algorithm; for
    id_token_hint. ``claims`` override or, with None, drop the defaults."""
    now = int(clock.now().timestamp())
    defaults = {
        "iss": settings.OAUTH_PROVIDER["ISSUER"],
        "sub": subject(user, client),
        "aud": client.client_id,
        "iat": now,
        "exp": now + 3600,
        "sid": sid,
    }
    body = {name: value for name, value in {**defaults, **claims}.items() if value is not None}
    return signing_keys.sign(body, client.id_token_signed_response_alg, typ=typ)


def signed_without_typ(claims, algorithm="RS256") -> str:
    """``claims`` signed with this server's active ``algorithm`` key but
    without the ``typ`` header that every token signed here carries."""
    key = signing_keys.signing_key(algorithm)
    header = {"alg": key.algorithm, "kid": key.kid}
    return jwt.encode(header, claims, key.jose_key, algorithms=[key.algorithm], default_type=None)


@functools.cache
def private_pem(algorithm: str, *, rsa_size: int = 2048, curve: str = "P-256") -> str:
    """A new PKCS#8 PEM private key for ``algorithm`` (RS256, ES256 or
    EdDSA), as a team managing keys outside Django would put in
    ``OIDC_SIGNING_KEYS``; one per arguments, made once per test run."""
    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_size)
    elif algorithm == "ES256":
        key = ec.generate_private_key({"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[curve])
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
