"""A resource server on another machine (oauth_provider.remote_resource_server)
against a fake issuer: a real HTTP server on 127.0.0.1 (tests/https_site.py)
whose metadata, key set and introspection answers each test writes, and
which counts what it is asked. The live provider is in
tests/test_remote_resource_server_live.py."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.test import override_settings
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from oauth_provider import bearer, remote_resource_server
from oauth_provider import checks as provider_checks
from oauth_provider.errors import InvalidBearerToken
from oauth_provider.remote_resource_server import IssuerUnavailable, TokenUser, authenticate
from oauth_provider.remote_resource_server.checks import check_deploy_settings, check_settings
from oauth_provider.remote_resource_server.memory import ExpiringCache
from tests.https_site import serve

RESOURCE = "https://api.example.com/"
INTROSPECTION = "/o/introspect/"
JWKS = "/o/jwks/"
RFC8414 = "/.well-known/oauth-authorization-server"
OIDC = "/.well-known/openid-configuration"


class Issuer:
    """The fake issuer: its URL, keys and introspection answers, and what it was asked."""

    def __init__(self, site, url):
        self.site, self.url = site, url
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "key-1", "alg": "RS256", "use": "sig"})]
        self.jwks_max_age = 3600
        self.answers: dict[str, dict] = {}
        self.introspection_requests: list[tuple[dict, dict]] = []
        self.publish_metadata(RFC8414)
        site.routes[INTROSPECTION] = self._introspect
        site.routes[JWKS] = self._jwks

    def publish_metadata(self, path, **members):
        document = {
            "issuer": self.url,
            "jwks_uri": self.url + JWKS,
            "introspection_endpoint": self.url + INTROSPECTION,
            **members,
        }
        self.site.routes[path] = (200, {"Content-Type": "application/json"}, json.dumps(document).encode())

    def _jwks(self, handler):
        body = json.dumps({"keys": [key.as_dict(private=False) for key in self.keys]}).encode()
        self._answer(handler, 200, body, {"Cache-Control": f"public, max-age={self.jwks_max_age}"})

    def _introspect(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(handler.rfile.read(length).decode()).items()}
        self.introspection_requests.append((dict(handler.headers), form))
        self._answer(
            handler, 200, json.dumps(self.answers.get(form.get("token"), {"active": False})).encode()
        )

    @staticmethod
    def _answer(handler, status, body, headers=None):
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def asked(self, path):
        return self.site.requests.count(path)

    def sign(self, claims=None, *, key=None, typ="at+jwt", kid=None):
        key = key or self.keys[0]
        now = int(frozen_now().timestamp())
        payload = {
            "iss": self.url,
            "aud": RESOURCE,
            "sub": "user-42",
            "client_id": "app",
            "scope": "read write",
            "iat": now,
            "exp": now + 300,
            "jti": "jti-1",
            **(claims or {}),
        }
        header = {"alg": "RS256", "kid": kid or key.kid, "typ": typ}
        return jwt.encode(header, payload, key, algorithms=["RS256", "HS256"])

    def answer(self, token, **members):
        now = int(frozen_now().timestamp())
        self.answers[token] = {
            "active": True,
            "token_type": "Bearer",
            "scope": "read",
            "client_id": "app",
            "sub": "user-42",
            "iss": self.url,
            "aud": RESOURCE,
            "iat": now,
            "exp": now + 3600,
            **members,
        }


_clock = {}


def frozen_now():
    return _clock["clock"]()


@pytest.fixture
def issuer(site, frozen_clock, settings):
    server, url = serve(site)
    _clock["clock"] = frozen_clock
    fake = Issuer(site, url)
    fake.server = server
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "RESOURCE_SERVER_ISSUER": url,
        "RESOURCE_SERVER_CLIENT_ID": "resource server",
        "RESOURCE_SERVER_CLIENT_SECRET": "s3cret:/+",
        "RESOURCE_SERVER_RESOURCE": RESOURCE,
    }
    remote_resource_server.forget()
    yield fake
    remote_resource_server.forget()
    server.shutdown()
    server.server_close()


# Discovery (RFC 8414 §3)


def test_metadata_is_found_at_the_rfc8414_address(issuer):
    authenticate(issuer.sign())
    assert issuer.asked(RFC8414) == 1
    assert issuer.asked(OIDC) == 0


def test_metadata_falls_back_to_openid_configuration(issuer):
    del issuer.site.routes[RFC8414]
    issuer.publish_metadata(OIDC)
    authenticate(issuer.sign())
    assert (issuer.asked(RFC8414), issuer.asked(OIDC)) == (1, 1)


def test_an_issuer_with_a_path_has_the_well_known_part_inserted_before_it():
    from oauth_provider.remote_resource_server.documents import metadata_urls

    assert metadata_urls("https://auth.example.com/tenant/a") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant/a",
        "https://auth.example.com/tenant/a/.well-known/openid-configuration",
    ]


def test_metadata_naming_another_issuer_is_not_used(issuer):
    issuer.publish_metadata(RFC8414, issuer="https://evil.example.com")
    with pytest.raises(IssuerUnavailable, match="another issuer"):
        authenticate(issuer.sign())
    assert issuer.asked(JWKS) == 0


# JWT access tokens (RFC 9068 §4)


def test_a_jwt_access_token_becomes_a_bearer_token_with_a_token_user(issuer):
    token = authenticate(issuer.sign())
    assert isinstance(token, bearer.BearerToken)
    assert token.scopes == ["read", "write"]
    assert token.audience == (RESOURCE,)
    assert (token.client_id, token.sub, token.jti, token.client) == ("app", "user-42", "jti-1", None)
    assert token.expires_at == frozen_now().replace(microsecond=0) + timedelta(seconds=300)
    assert token.user == TokenUser("user-42")
    assert token.user.is_authenticated and token.user.username == "user-42" and token.user.pk is None


def test_a_client_credentials_jwt_has_no_user(issuer):
    """RFC 9068 §2.2: sub is then the client's own identifier."""
    assert authenticate(issuer.sign({"sub": "app"})).user is None


def test_jwts_are_validated_without_asking_the_issuer_again(issuer):
    authenticate(issuer.sign())
    asked = list(issuer.site.requests)
    for _ in range(5):
        authenticate(issuer.sign({"jti": "another"}))
    assert issuer.site.requests == asked == [RFC8414, JWKS]


def test_a_jwt_is_verified_once_per_key_set(issuer, frozen_clock, monkeypatch):
    from oauth_provider import jwt_access_tokens

    verified = []
    decode = jwt_access_tokens.decode
    monkeypatch.setattr(jwt_access_tokens, "decode", lambda *a, **k: verified.append(1) or decode(*a, **k))
    issuer.jwks_max_age = 60
    token = issuer.sign()
    authenticate(token)
    frozen_clock.advance(seconds=59)
    authenticate(token)
    assert len(verified) == 1
    frozen_clock.advance(seconds=1)  # the key set is read again: a new one
    authenticate(token)
    assert (len(verified), issuer.asked(JWKS)) == (2, 2)


def test_a_remembered_jwt_is_refused_once_expired(issuer, frozen_clock, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ACCESS_TOKEN_LEEWAY_SECONDS": 0}
    token = issuer.sign({"exp": int(frozen_now().timestamp()) + 10})
    authenticate(token)
    frozen_clock.advance(seconds=10)
    with pytest.raises(InvalidBearerToken):
        authenticate(token)


@pytest.mark.parametrize(
    ("claims", "typ"),
    [
        ({"iss": "https://evil.example.com"}, "at+jwt"),
        ({"exp": 1}, "at+jwt"),
        ({}, "JWT"),
    ],
    ids=["iss", "exp", "typ"],
)
def test_a_jwt_with_a_wrong_claim_or_type_is_invalid(issuer, claims, typ):
    with pytest.raises(InvalidBearerToken):
        authenticate(issuer.sign(claims, typ=typ))


def test_a_tampered_jwt_is_invalid(issuer):
    header, payload, signature = issuer.sign().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "scope": "admin"}).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidBearerToken):
        authenticate(f"{header}.{forged}.{signature}")


def test_an_unreadable_jwt_header_is_invalid(issuer):
    with pytest.raises(InvalidBearerToken):
        authenticate("not-base64!.e30.sig")


def test_a_symmetric_key_in_the_key_set_is_never_used(issuer):
    """An HMAC key published in a JWKS is public: anyone could sign with it."""
    secret = OctKey.generate_key(256, parameters={"kid": "shared", "alg": "HS256"})
    issuer.keys.append(secret)
    header = {"alg": "HS256", "kid": "shared", "typ": "at+jwt"}
    now = int(frozen_now().timestamp())
    claims = {"iss": issuer.url, "aud": RESOURCE, "sub": "x", "client_id": "app", "exp": now + 60, "iat": now}
    with pytest.raises(InvalidBearerToken):
        authenticate(jwt.encode(header, claims, secret, algorithms=["HS256"]))


def test_an_unknown_kid_refetches_the_key_set_once(issuer, frozen_clock):
    authenticate(issuer.sign())
    frozen_clock.advance(seconds=60)  # RESOURCE_SERVER_JWKS_REFRESH_SECONDS since that fetch
    rotated = RSAKey.generate_key(2048, parameters={"kid": "key-2", "alg": "RS256", "use": "sig"})
    issuer.keys.append(rotated)
    assert authenticate(issuer.sign(key=rotated)).sub == "user-42"
    assert issuer.asked(JWKS) == 2
    authenticate(issuer.sign(key=rotated))
    assert issuer.asked(JWKS) == 2


def test_unknown_kid_refetches_are_rate_limited(issuer, frozen_clock):
    authenticate(issuer.sign())
    stranger = RSAKey.generate_key(2048, parameters={"kid": "made-up", "alg": "RS256"})
    for _ in range(3):
        with pytest.raises(InvalidBearerToken):
            authenticate(issuer.sign(key=stranger))
    # The first fetch was the last one within RESOURCE_SERVER_JWKS_REFRESH_SECONDS.
    assert issuer.asked(JWKS) == 1
    frozen_clock.advance(seconds=60)
    with pytest.raises(InvalidBearerToken):
        authenticate(issuer.sign(key=stranger))
    assert issuer.asked(JWKS) == 2


def test_the_key_set_is_kept_for_its_max_age(issuer, frozen_clock):
    issuer.jwks_max_age = 600
    authenticate(issuer.sign())
    frozen_clock.advance(seconds=599)
    authenticate(issuer.sign())
    assert issuer.asked(JWKS) == 1
    frozen_clock.advance(seconds=1)
    authenticate(issuer.sign())
    assert issuer.asked(JWKS) == 2


def test_a_key_set_without_max_age_is_kept_the_refresh_interval(issuer, frozen_clock):
    issuer.jwks_max_age = 0
    authenticate(issuer.sign())
    frozen_clock.advance(seconds=59)
    authenticate(issuer.sign())
    assert issuer.asked(JWKS) == 1
    frozen_clock.advance(seconds=1)
    authenticate(issuer.sign())
    assert issuer.asked(JWKS) == 2


# Opaque tokens: introspection (RFC 7662)


def test_an_opaque_token_is_introspected_with_client_secret_basic(issuer):
    issuer.answer("opaque-1", scope="read write")
    token = authenticate("opaque-1")
    assert (token.scopes, token.sub, token.client_id, token.audience) == (
        ["read", "write"],
        "user-42",
        "app",
        (RESOURCE,),
    )
    assert token.user == TokenUser("user-42")
    [(headers, form)] = issuer.introspection_requests
    assert form == {"token": "opaque-1", "token_type_hint": "access_token"}
    # RFC 6749 §2.3.1: both parts form-urlencoded before base64.
    credentials = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode()
    assert credentials == "resource%20server:s3cret%3A%2F%2B"


def test_an_introspection_answer_is_cached(issuer):
    issuer.answer("opaque-1")
    for _ in range(3):
        authenticate("opaque-1")
    assert len(issuer.introspection_requests) == 1


def test_a_cached_answer_is_used_no_longer_than_the_setting(issuer, frozen_clock):
    issuer.answer("opaque-1")
    authenticate("opaque-1")
    del issuer.answers["opaque-1"]  # revoked at the issuer
    frozen_clock.advance(seconds=59)
    authenticate("opaque-1")
    frozen_clock.advance(seconds=1)
    with pytest.raises(InvalidBearerToken):
        authenticate("opaque-1")
    assert len(issuer.introspection_requests) == 2


def test_a_cached_answer_is_used_no_longer_than_the_token_lives(issuer, frozen_clock, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ACCESS_TOKEN_LEEWAY_SECONDS": 0}
    issuer.answer("opaque-1", exp=int(frozen_now().timestamp()) + 10)
    authenticate("opaque-1")
    frozen_clock.advance(seconds=10)
    with pytest.raises(InvalidBearerToken):
        authenticate("opaque-1")
    assert len(issuer.introspection_requests) == 2


def test_no_cache_with_zero_seconds(issuer, settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS": 0}
    issuer.answer("opaque-1")
    authenticate("opaque-1")
    authenticate("opaque-1")
    assert len(issuer.introspection_requests) == 2


def test_an_inactive_answer_is_cached_too(issuer):
    for _ in range(2):
        with pytest.raises(InvalidBearerToken):
            authenticate("unknown")
    assert len(issuer.introspection_requests) == 1


@pytest.mark.parametrize(
    "members",
    [
        {"token_type": None},  # a refresh token's answer (our issuer's) has no token_type
        {"token_type": "refresh_token"},
        {"iss": "https://evil.example.com"},
        {"exp": None},
        {"exp": "tomorrow"},
        {"exp": 1},
        {"active": "true"},
    ],
    ids=[
        "no token_type",
        "refresh token",
        "iss",
        "no exp",
        "exp not a number",
        "expired",
        "active not boolean",
    ],
)
def test_an_answer_that_is_no_usable_access_token_is_refused(issuer, members):
    issuer.answer("opaque-1")
    issuer.answers["opaque-1"].update(members)
    issuer.answers["opaque-1"] = {k: v for k, v in issuer.answers["opaque-1"].items() if v is not None}
    with pytest.raises((InvalidBearerToken, IssuerUnavailable)):
        authenticate("opaque-1")


@pytest.mark.parametrize("value", ["x" * 4097, 'quote"d', "comma,", "é"])
def test_what_is_no_bearer_token_is_refused_unasked(issuer, value):
    """RFC 6750 §2.1's b64token syntax, within the length the token parameter
    may have: anything else is no token the issuer made."""
    with pytest.raises(InvalidBearerToken):
        authenticate(value)
    assert issuer.site.requests == []


def test_without_client_credentials_opaque_tokens_are_refused_unasked(issuer, settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "RESOURCE_SERVER_CLIENT_ID": None,
        "RESOURCE_SERVER_CLIENT_SECRET": None,
    }
    issuer.answer("opaque-1")
    with pytest.raises(InvalidBearerToken):
        authenticate("opaque-1")
    assert issuer.site.requests == []


def test_introspection_errors_are_unavailability_not_invalid_tokens(issuer):
    issuer.site.routes[INTROSPECTION] = (401, {}, b'{"error": "invalid_client"}')
    with pytest.raises(IssuerUnavailable, match="401"):
        authenticate("opaque-1")


def test_an_answer_that_is_not_json_is_unavailability(issuer):
    issuer.site.routes[INTROSPECTION] = (200, {}, b"<html>")
    with pytest.raises(IssuerUnavailable):
        authenticate("opaque-1")


def test_nothing_sent_to_the_issuer_appears_in_the_error(issuer, caplog):
    issuer.site.routes[INTROSPECTION] = (500, {}, b"")
    with caplog.at_level(logging.DEBUG), pytest.raises(IssuerUnavailable) as raised:
        authenticate("opaque-secret-token")
    assert "opaque-secret-token" not in str(raised.value) + caplog.text
    assert "s3cret" not in str(raised.value) + caplog.text


# The issuer down


def test_an_issuer_that_is_down_is_unavailability(issuer):
    issuer.site.routes.clear()
    with pytest.raises(IssuerUnavailable):
        authenticate(issuer.sign())
    with pytest.raises(IssuerUnavailable):
        authenticate("opaque-1")


def test_jwts_keep_working_while_the_issuer_is_down_and_opaque_tokens_wait(issuer):
    authenticate(issuer.sign())
    issuer.server.shutdown()
    issuer.server.server_close()  # connections are now refused
    assert authenticate(issuer.sign({"jti": "another"})).sub == "user-42"
    with pytest.raises(IssuerUnavailable):
        authenticate("opaque-1")


def test_a_key_set_that_could_not_be_fetched_is_asked_again_only_after_the_interval(issuer, frozen_clock):
    jwks = issuer.site.routes.pop(JWKS)
    with pytest.raises(IssuerUnavailable):
        authenticate(issuer.sign())
    issuer.site.routes[JWKS] = jwks
    with pytest.raises(IssuerUnavailable):
        authenticate(issuer.sign())
    assert issuer.asked(JWKS) == 1
    frozen_clock.advance(seconds=60)
    assert authenticate(issuer.sign()).sub == "user-42"


def test_the_answer_cache_is_bounded_and_drops_the_least_recently_used(frozen_clock):
    cache = ExpiringCache(2)
    now = frozen_clock()
    until = now + timedelta(seconds=60)
    cache.put("a", {"active": True}, until)
    cache.put("b", {"active": True}, until)
    assert cache.get("a", now) is not None
    cache.put("c", {"active": True}, until)
    assert [cache.get(key, now) is not None for key in "abc"] == [True, False, True]


# System checks (E042-E044, E033 with a remote issuer, W020), as a project
# with only oauth_provider.remote_resource_server installed runs them.

REMOTE = {
    "SCOPES": {"read": "Read your data"},
    "RESOURCE_SERVER_ISSUER": "https://auth.example.com",
    "RESOURCE_SERVER_CLIENT_ID": "rs",
    "RESOURCE_SERVER_CLIENT_SECRET": "secret",
    "RESOURCE_SERVER_RESOURCE": RESOURCE,
}


def check_ids(check, **overrides):
    with override_settings(OAUTH_PROVIDER={**REMOTE, **overrides}):
        return [message.id for message in check()]


def test_a_remote_resource_server_configuration_passes():
    assert check_ids(check_settings) == []
    assert check_ids(check_deploy_settings) == []


def test_the_authorization_servers_checks_include_them():
    overrides = {"RESOURCE_SERVER_ISSUER": None, "RESOURCE_SERVER_RESOURCE": None}
    errors = check_ids(provider_checks.check_settings, **overrides, RESOURCE_SERVER_JWKS_REFRESH_SECONDS=0)
    assert errors == ["oauth_provider.E044"]


def test_e042_the_authorization_server_itself_has_no_remote_issuer():
    """Its own endpoints (UserInfo...) would take the remote issuer's tokens."""
    assert check_ids(provider_checks.check_settings, RESOURCE_SERVER_RESOURCE=None) == ["oauth_provider.E042"]
    overrides = {"RESOURCE_SERVER_ISSUER": None, "RESOURCE_SERVER_RESOURCE": None}
    assert check_ids(provider_checks.check_settings, **overrides) == []


def test_unknown_keys_are_reported_without_the_other_checks():
    assert check_ids(check_settings, RESOURCE_SERVER_ISUER="typo", RESOURCE_SERVER_ISSUER=3) == [
        "oauth_provider.E002"
    ]


@pytest.mark.parametrize(
    "value",
    ["auth.example.com", "http://auth.example.com", "https://auth.example.com/?x=1", "https://a b/", 3],
)
def test_e042_issuer_is_not_an_https_url(value):
    assert check_ids(check_settings, RESOURCE_SERVER_ISSUER=value) == ["oauth_provider.E042"]


def test_e042_allows_plain_http_on_loopback():
    assert check_ids(check_settings, RESOURCE_SERVER_ISSUER="http://127.0.0.1:8000") == []


@pytest.mark.parametrize(
    ("client_id", "secret"), [("rs", None), (None, "secret"), ("", "secret"), ("rs", 42)]
)
def test_e043_client_credentials_are_both_set_or_both_none(client_id, secret):
    ids = check_ids(check_settings, RESOURCE_SERVER_CLIENT_ID=client_id, RESOURCE_SERVER_CLIENT_SECRET=secret)
    assert ids == ["oauth_provider.E043"]


def test_e043_no_credentials_at_all_is_fine():
    assert check_ids(check_settings, RESOURCE_SERVER_CLIENT_ID=None, RESOURCE_SERVER_CLIENT_SECRET=None) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS", -1),
        ("RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS", 1.5),
        ("RESOURCE_SERVER_JWKS_REFRESH_SECONDS", 0),
        ("RESOURCE_SERVER_JWKS_REFRESH_SECONDS", True),
    ],
)
def test_e044_times_are_whole_seconds(name, value):
    assert check_ids(check_settings, **{name: value}) == ["oauth_provider.E044"]


def test_e044_zero_turns_the_introspection_cache_off():
    assert check_ids(check_settings, RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS=0) == []


def test_e033_with_a_remote_issuer_the_resource_is_an_identifier_not_a_resources_entry():
    # No RESOURCES here: they are the issuer's.
    assert check_ids(check_settings, RESOURCE_SERVER_RESOURCE="https://api.example.com/") == []
    assert check_ids(check_settings, RESOURCE_SERVER_RESOURCE="api") == ["oauth_provider.E033"]


def test_w020_remote_issuer_without_resource_accepts_any_audience():
    assert check_ids(check_deploy_settings, RESOURCE_SERVER_RESOURCE=None) == ["oauth_provider.W020"]


# No model on this path


def test_the_drf_classes_import_no_model():
    """What a project without oauth_provider in INSTALLED_APPS imports
    (tests/resource_server_site serves such a project for real)."""
    script = (
        "import sys, django; django.setup();"
        "import oauth_provider.rest_framework.authentication, oauth_provider.rest_framework.permissions;"
        "import oauth_provider.remote_resource_server.checks;"
        "print(sorted(m for m in sys.modules if m.startswith('oauth_provider.models')))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.resource_server_site.settings",
        "RS_ISSUER": "https://auth.example.com",
        "RS_CLIENT_ID": "rs",
        "RS_CLIENT_SECRET": "secret",
        "RS_RESOURCE": RESOURCE,
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# TLS


@pytest.fixture
def https_issuer(site, https, frozen_clock, settings):
    _clock["clock"] = frozen_clock
    fake = Issuer(site, https)
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCE_SERVER_ISSUER": https}
    remote_resource_server.forget()
    yield fake
    remote_resource_server.forget()


def test_an_https_issuer_is_trusted_through_the_systems_authorities(
    https_issuer, authority, tmp_path, monkeypatch
):
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    assert authenticate(https_issuer.sign()).sub == "user-42"


def test_an_issuer_certificate_no_authority_vouches_for_is_refused(https_issuer):
    with pytest.raises(IssuerUnavailable, match="certificate"):
        authenticate(https_issuer.sign())
