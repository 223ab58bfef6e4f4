"""A resource server on another machine, end to end: two live Django sites.

The provider is pytest-django's live server (the example project with the
test settings, its issuer set to its live URL), counting what it is asked.
The resource server is tests/resource_server_site, a separate gunicorn
process (one worker, so its in-process caches are the ones observed) with
rest_framework but not oauth_provider installed and no database, knowing
the provider only by its issuer URL and its own client credentials.

Its clock cannot be frozen from here, so the tests that need time to pass
give it short intervals (``RS_JWKS_REFRESH_SECONDS``) rather than waiting
for the defaults.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.core.signals import request_started

from oauth_provider import clock, signing_keys
from oauth_provider.models import AccessToken, Client
from oauth_provider.revocation import revoke_tokens
from oauth_provider.subjects import subject
from tests.factories import AccessTokenFactory, ClientFactory, JWTAccessTokenFactory, UserFactory

ROOT = Path(__file__).resolve().parents[1]
RESOURCE = "https://notes.example.com/"
OTHER_RESOURCE = "https://billing.example.com/"
TIMEOUT = 10
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")

pytestmark = pytest.mark.usefixtures("transactional_db")


@dataclass
class Provider:
    url: str
    served: list[str] = field(default_factory=list)

    def asked(self, suffix: str) -> int:
        return sum(path.endswith(suffix) for path in self.served)


@pytest.fixture
def provider(live_server, settings) -> Iterator[Provider]:
    """The provider, as issuer at its live URL, declaring the resource
    server's API; ``served`` lists the paths of the requests it answered.
    Not an OpenID Provider (no "openid" scope): its RFC 8414 metadata
    still names the JWKS that JWT access tokens are checked with."""
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "ISSUER": live_server.url,
        "RESOURCES": {RESOURCE: {"scopes": ["read", "write"]}, OTHER_RESOURCE: {"scopes": ["read"]}},
    }
    found = Provider(live_server.url)

    def record(sender, environ, **kwargs):
        found.served.append(environ["PATH_INFO"])

    request_started.connect(record, dispatch_uid="remote-resource-server-live")
    yield found
    request_started.disconnect(dispatch_uid="remote-resource-server-live")


@pytest.fixture
def introspector(provider) -> Client:
    """The resource server's own confidential client, allowed to introspect."""
    return ClientFactory(name="Notes API", allow_introspection=True, grant_types=["client_credentials"])


@dataclass
class ResourceServer:
    url: str

    def get(self, path: str, token: str) -> requests.Response:
        return requests.get(self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)

    def post(self, path: str, token: str) -> requests.Response:
        return requests.post(self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


@pytest.fixture
def start_resource_server(provider, introspector) -> Iterator[Callable[..., ResourceServer]]:
    """Starts the resource server site under gunicorn; keyword arguments
    override its environment (``RS_ISSUER``, ``RS_JWKS_REFRESH_SECONDS``...)."""
    processes = []

    def start(**overrides: str) -> ResourceServer:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.resource_server_site.settings",
            "RS_ISSUER": provider.url,
            "RS_CLIENT_ID": introspector.client_id,
            "RS_CLIENT_SECRET": introspector.secret,
            "RS_RESOURCE": RESOURCE,
            **overrides,
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tests.resource_server_site.wsgi:application",
                "--bind",
                "127.0.0.1:0",
                "--workers",
                "1",
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        for line in process.stderr:
            match = LISTENING.search(line)
            if match:
                return ResourceServer(match.group(1))
        raise AssertionError(f"the resource server did not start (exit code {process.poll()})")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


@pytest.fixture
def resource_server(start_resource_server) -> ResourceServer:
    return start_resource_server()


@pytest.fixture
def person():
    return UserFactory(username="ada")


@pytest.fixture
def app(provider):
    return ClientFactory(name="Notes app")


@pytest.fixture
def jwt_app(provider):
    """A client whose access tokens are JWTs (RFC 9068)."""
    return ClientFactory(name="Notes app (JWT)", access_token_format="jwt")


def opaque_token(app, person, *, scope="read", resources=RESOURCE, **fields) -> AccessToken:
    return AccessTokenFactory(client=app, user=person, scope=scope, resources=resources, **fields)


def jwt_access_token(app, person, *, scope="read", resources=RESOURCE) -> str:
    """An RFC 9068 access token as the provider issues it (its encode,
    signed with its current key, stored by its hash)."""
    return JWTAccessTokenFactory(client=app, user=person, scope=scope, resources=resources).value


def assert_invalid_token(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# Opaque tokens: introspection


def test_an_opaque_token_is_accepted_through_introspection_and_cached(provider, resource_server, app, person):
    token = opaque_token(app, person)
    first = resource_server.get("/api/me/", token.value)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "username": subject(person, app),
        "client_id": app.client_id,
        "scope": "read",
        "audience": [RESOURCE],
    }
    assert resource_server.get("/api/me/", token.value).status_code == 200
    assert provider.asked("/introspect/") == 1


def test_a_revoked_token_is_refused_once_the_cached_answer_ends(provider, start_resource_server, app, person):
    token = opaque_token(app, person)
    caching = start_resource_server()
    uncached = start_resource_server(RS_INTROSPECTION_CACHE_SECONDS="0")
    assert caching.get("/api/me/", token.value).status_code == 200
    assert uncached.get("/api/me/", token.value).status_code == 200
    revoke_tokens([token], reason="revoked")
    # RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS (60) is the price of the
    # cache: the answer is reused until then. Without it, refused at once.
    assert caching.get("/api/me/", token.value).status_code == 200
    assert_invalid_token(uncached.get("/api/me/", token.value))


def test_an_expired_token_is_refused(resource_server, app, person):
    token = opaque_token(app, person, expires_at=clock.now() - timedelta(seconds=1))
    assert_invalid_token(resource_server.get("/api/me/", token.value))


def test_a_token_for_another_resource_is_refused(resource_server, app, person):
    token = opaque_token(app, person, resources=OTHER_RESOURCE)
    assert_invalid_token(resource_server.get("/api/me/", token.value))


def test_a_refresh_token_opens_nothing(resource_server, app, person):
    from tests.factories import RefreshTokenFactory

    refresh = RefreshTokenFactory(client=app, user=person, resources=RESOURCE)
    assert_invalid_token(resource_server.get("/api/me/", refresh.value))


def test_insufficient_scope_is_403_with_the_challenge(resource_server, app, person):
    token = opaque_token(app, person, scope="read")
    response = resource_server.post("/api/notes/", token.value)
    assert response.status_code == 403, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="write"' in challenge
    allowed = opaque_token(app, person, scope="read write")
    assert resource_server.post("/api/notes/", allowed.value).status_code == 201


def test_no_token_is_a_bare_challenge(resource_server):
    response = requests.get(resource_server.url + "/api/me/", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_the_challenge_points_at_metadata_that_names_the_provider(provider, resource_server):
    """RFC 9728 §5.1: an agent that knows only the API's URL follows the
    challenge's resource_metadata to the authorization server."""
    challenge = requests.get(resource_server.url + "/api/me/", timeout=TIMEOUT).headers["WWW-Authenticate"]
    metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge).group(1)
    assert metadata_url == "https://notes.example.com/.well-known/oauth-protected-resource"
    # The identifier is the API's public name; this one is served on loopback.
    response = requests.get(resource_server.url + urlsplit(metadata_url).path, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "resource": RESOURCE,
        "authorization_servers": [provider.url],
        "bearer_methods_supported": ["header"],
    }
    other_path = urlsplit(metadata_url).path + "/other"
    assert requests.get(resource_server.url + other_path, timeout=TIMEOUT).status_code == 404


# JWT access tokens: the provider's JWKS


def test_jwts_are_validated_without_asking_the_provider_after_the_first_key_fetch(
    provider, resource_server, jwt_app, person
):
    assert resource_server.get("/api/me/", jwt_access_token(jwt_app, person)).status_code == 200
    asked = list(provider.served)
    for scope in ("read", "read write", "read"):
        response = resource_server.get("/api/me/", jwt_access_token(jwt_app, person, scope=scope))
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == scope
    assert provider.served == asked
    assert provider.asked("/jwks/") == 1
    assert provider.asked("/introspect/") == 0


def test_a_jwt_for_another_resource_is_refused(provider, resource_server, jwt_app, person):
    token = jwt_access_token(jwt_app, person, resources=OTHER_RESOURCE)
    assert_invalid_token(resource_server.get("/api/me/", token))


def test_a_rotated_key_is_fetched_once(provider, start_resource_server, jwt_app, person):
    resource_server = start_resource_server(RS_JWKS_REFRESH_SECONDS="1")
    assert resource_server.get("/api/me/", jwt_access_token(jwt_app, person)).status_code == 200
    signing_keys.rotate(["RS256"], delay=timedelta(0))
    # The refetch is rate-limited to once per RESOURCE_SERVER_JWKS_REFRESH_SECONDS since the last fetch.
    time.sleep(1)
    for _ in range(3):
        assert resource_server.get("/api/me/", jwt_access_token(jwt_app, person)).status_code == 200
    assert provider.asked("/jwks/") == 2


def test_unknown_kid_refetches_are_rate_limited(provider, resource_server, jwt_app, person):
    assert resource_server.get("/api/me/", jwt_access_token(jwt_app, person)).status_code == 200
    signing_keys.rotate(["RS256"], delay=timedelta(0))
    for _ in range(3):
        assert_invalid_token(resource_server.get("/api/me/", jwt_access_token(jwt_app, person)))
    assert provider.asked("/jwks/") == 1


# The provider down


def test_an_unreachable_provider_is_a_clear_503_not_a_500(
    provider, start_resource_server, app, jwt_app, person
):
    from tests.oidc.support import refused_url

    resource_server = start_resource_server(RS_ISSUER=refused_url(""))
    for token in (opaque_token(app, person).value, jwt_access_token(jwt_app, person)):
        response = resource_server.get("/api/me/", token)
        assert response.status_code == 503, response.text
        assert response.json()["detail"]
        assert "Retry-After" in response.headers


def test_a_jwt_from_the_token_endpoint_works_for_a_client_acting_for_itself(provider, resource_server):
    machine = ClientFactory(name="Batch job", grant_types=["client_credentials"], access_token_format="jwt")
    issued = requests.post(
        provider.url + "/o/token/",
        data={"grant_type": "client_credentials", "scope": "read", "resource": RESOURCE},
        auth=(machine.client_id, machine.secret),
        timeout=TIMEOUT,
    )
    assert issued.status_code == 200, issued.text
    response = resource_server.get("/api/me/", issued.json()["access_token"])
    assert response.status_code == 200, response.text
    # RFC 9068 §2.2: sub is the client itself, so there is no user.
    assert response.json() == {
        "username": None,
        "client_id": machine.client_id,
        "scope": "read",
        "audience": [RESOURCE],
    }
