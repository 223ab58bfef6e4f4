"""Back-Channel Logout 1.0: when a session ends (any sign-out) or consent is
withdrawn, the sign-ins end and each client with a backchannel_logout_uri
gets a logout token, posted to a real local HTTP endpoint after the
response; dead endpoints cost the user nothing."""

import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import alogin
from django.db import connections
from django.test import RequestFactory
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import KeySet

from oauth_provider import backchannel_logout, login_sessions, signing_keys
from oauth_provider.backchannel_logout import BACKCHANNEL_LOGOUT_EVENT, Delivery, deliver, end_sign_ins, flush
from oauth_provider.consents import withdraw_consent
from oauth_provider.login_sessions import SID_SESSION_KEY
from oauth_provider.middleware import LoginSessionMiddleware
from oauth_provider.models import AccessToken, RefreshToken, SignIn
from oauth_provider.signals import backchannel_logout_failed, backchannel_logout_sent, token_revoked
from oauth_provider.subjects import subject
from tests.factories import (
    PASSWORD,
    AccessTokenFactory,
    ClientFactory,
    ConsentFactory,
    RefreshTokenFactory,
    SignInFactory,
    UserFactory,
)
from tests.helpers import signed_id_token

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.com"
# Seconds a delivery may take in these tests before they give up waiting.
WAIT = 10


class Endpoint:
    """A client's back-channel logout endpoint: a real HTTP server in a
    thread, answering with ``statuses`` in turn (then 200), recording each POST."""

    def __init__(self, statuses=()):
        self.requests = []
        self.statuses = list(statuses)
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                endpoint.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"

    @property
    def tokens(self):
        return [parse_qs(request["body"])["logout_token"][0] for request in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def quick_deliveries(settings, monkeypatch):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS": 1,
        "BACKCHANNEL_LOGOUT_RETRIES": 2,
    }
    monkeypatch.setattr(backchannel_logout, "BACKOFF_SECONDS", 0)
    yield
    assert flush(WAIT), "a delivery outlived its test"


@pytest.fixture
def endpoint():
    endpoint = Endpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/backchannel-logout"


@pytest.fixture
def hanging_url():
    """An endpoint that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/backchannel-logout"
    sock.close()


@pytest.fixture
def outcomes():
    """What backchannel_logout_sent / _failed reported, as (signal name, kwargs)."""
    seen = []

    def sent(sender, signal, **kwargs):
        seen.append(("sent", kwargs))

    def failed(sender, signal, **kwargs):
        seen.append(("failed", kwargs))

    backchannel_logout_sent.connect(sent)
    backchannel_logout_failed.connect(failed)
    yield seen
    backchannel_logout_sent.disconnect(sent)
    backchannel_logout_failed.disconnect(failed)


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def signed_in_app(browser, user, uri, **fields):
    """A client ``user`` signed in to in the browser's session."""
    app = ClientFactory(backchannel_logout_uri=uri, **fields)
    SignInFactory(client=app, user=user, sid=browser.session[SID_SESSION_KEY])
    return app


def site_logout(browser, capture):
    """The site's own logout view (django.contrib.auth's LogoutView)."""
    with capture(execute=True):
        response = browser.post("/accounts/logout/")
    assert response.status_code == 302
    return response


def verified(token):
    """The logout token's header and claims, checked against the published JWKS."""
    key_set = KeySet.import_key_set(signing_keys.jwks())
    decoded = jwt.decode(token, key_set, algorithms=["RS256", "ES256", "EdDSA"])
    return decoded.header, decoded.claims


# -- Delivered, and what it says -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_site_logout_posts_a_logout_token_verifiable_with_the_jwks(
    browser, user, endpoint, django_capture_on_commit_callbacks, algorithm
):
    sid = browser.session[SID_SESSION_KEY]
    app = signed_in_app(browser, user, endpoint.url, id_token_signed_response_alg=algorithm)

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    (request,) = endpoint.requests
    assert request["path"] == "/backchannel-logout"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    (token,) = endpoint.tokens
    header, claims = verified(token)
    assert header["typ"] == "logout+jwt"
    assert header["alg"] == algorithm
    assert claims["iss"] == ISSUER
    assert claims["aud"] == app.client_id
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert claims["sub"] == subject(user, app)
    assert claims["sid"] == sid
    assert claims["exp"] - claims["iat"] == signing_keys.LOGOUT_TOKEN_EXPIRE_SECONDS
    assert abs(claims["iat"] - time.time()) < 60
    assert len(claims["jti"]) >= 16
    assert "nonce" not in claims


def test_each_logout_token_has_its_own_jti(browser, user, endpoint, django_capture_on_commit_callbacks):
    signed_in_app(browser, user, endpoint.url)
    signed_in_app(browser, user, endpoint.url)

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    first, second = (verified(token)[1] for token in endpoint.tokens)
    assert first["jti"] != second["jti"]


def test_rp_initiated_logout_posts_a_logout_token(
    browser, user, endpoint, django_capture_on_commit_callbacks
):
    app = signed_in_app(browser, user, endpoint.url)
    token = signed_id_token(app, user, sid=browser.session[SID_SESSION_KEY])

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.get("/o/logout/?" + urlencode({"id_token_hint": token}))
    assert response.status_code == 200
    assert flush(WAIT)

    assert verified(endpoint.tokens[0])[1]["aud"] == app.client_id


def test_confirmed_logout_posts_a_logout_token(browser, user, endpoint, django_capture_on_commit_callbacks):
    signed_in_app(browser, user, endpoint.url)

    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/o/logout/", {"action": "logout"})
    assert flush(WAIT)

    assert len(endpoint.requests) == 1


def test_nothing_is_posted_before_the_transaction_commits(browser, user, endpoint):
    signed_in_app(browser, user, endpoint.url)

    browser.post("/accounts/logout/")  # the test's transaction never commits
    assert flush(WAIT)

    assert endpoint.requests == []


def test_one_token_per_client_and_session(browser, user, endpoint, django_capture_on_commit_callbacks):
    app = signed_in_app(browser, user, endpoint.url)
    SignInFactory(client=app, user=user, sid=browser.session[SID_SESSION_KEY])  # a second authorization
    other = signed_in_app(browser, user, endpoint.url)

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert sorted(verified(token)[1]["aud"] for token in endpoint.tokens) == sorted(
        [app.client_id, other.client_id]
    )


def test_clients_without_a_uri_or_inactive_get_nothing(
    browser, user, endpoint, django_capture_on_commit_callbacks
):
    signed_in_app(browser, user, "")
    signed_in_app(browser, user, endpoint.url, is_active=False)

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert endpoint.requests == []
    assert not SignIn.objects.filter(ended_at__isnull=True).exists()


# -- Where it is posted (outbound) -----------------------------------------------------------------


def test_self_registered_client_is_not_posted_to_a_private_address(
    browser, user, endpoint, outcomes, django_capture_on_commit_callbacks
):
    # Saved without full_clean, which refuses the address at registration.
    signed_in_app(browser, user, endpoint.url, owner=UserFactory())

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert endpoint.requests == []
    ((name, report),) = outcomes
    assert (name, report["attempts"]) == ("failed", 1)  # not retried
    assert "not public" in report["reason"]


def test_setting_lets_self_registered_clients_be_posted_to_private_addresses(
    browser, user, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True}
    signed_in_app(browser, user, endpoint.url, owner=UserFactory())

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert len(endpoint.tokens) == 1


def test_a_changed_uri_awaiting_review_is_not_posted_to(
    browser, user, endpoint, settings, django_capture_on_commit_callbacks
):
    """The owner moved the URI; until an admin approves, the approved one is used."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": True}
    changed = Endpoint()
    try:
        app = signed_in_app(browser, user, endpoint.url, owner=UserFactory())
        approved_values = app.reviewed_values()
        app.backchannel_logout_uri = changed.url
        app.request_review(approved_values)
        app.save()
        assert app.under_review

        site_logout(browser, django_capture_on_commit_callbacks)
        assert flush(WAIT)
    finally:
        changed.close()

    assert changed.requests == []
    assert len(endpoint.tokens) == 1


# -- Which sign-ins end, which tokens go -----------------------------------------------------------


def test_only_the_sessions_sign_ins_end(browser, user, endpoint, django_capture_on_commit_callbacks):
    app = signed_in_app(browser, user, endpoint.url)
    other_session = SignInFactory(client=app, user=user, sid="another-session")
    other_user = SignInFactory(client=app, user=UserFactory(), sid=browser.session[SID_SESSION_KEY])

    site_logout(browser, django_capture_on_commit_callbacks)

    ended = SignIn.objects.filter(ended_at__isnull=False)
    assert other_session not in ended
    assert other_user not in ended
    assert ended.count() == 1


def test_tokens_of_the_ended_sign_ins_are_revoked_unless_offline_access(
    browser, user, django_capture_on_commit_callbacks
):
    sid = browser.session[SID_SESSION_KEY]
    online, offline = SignInFactory(user=user, sid=sid), SignInFactory(user=user, sid=sid)
    for sign_in, scope in ((online, "openid"), (offline, "openid offline_access")):
        RefreshTokenFactory(client=sign_in.client, user=user, family_id=sign_in.family_id, scope=scope)
        AccessTokenFactory(client=sign_in.client, user=user, family_id=sign_in.family_id, scope=scope)
    unrelated = RefreshTokenFactory(client=online.client, user=user, scope="openid")
    reasons = []

    def revoked(sender, tokens, reason, **kwargs):
        reasons.append(reason)

    token_revoked.connect(revoked)
    try:
        site_logout(browser, django_capture_on_commit_callbacks)
    finally:
        token_revoked.disconnect(revoked)

    for model in (RefreshToken, AccessToken):
        assert model.objects.get(family_id=online.family_id).revoked_at is not None
        assert model.objects.get(family_id=offline.family_id).revoked_at is None
    unrelated.refresh_from_db()
    assert unrelated.revoked_at is None
    assert set(reasons) == {"logged_out"}


def test_a_session_ends_once(user, endpoint, django_capture_on_commit_callbacks):
    app = ClientFactory(backchannel_logout_uri=endpoint.url)
    SignInFactory(client=app, user=user, sid="s1")

    with django_capture_on_commit_callbacks(execute=True):
        first = end_sign_ins(SignIn.objects.filter(sid="s1"), issuer=ISSUER, revoke=True)
        second = end_sign_ins(SignIn.objects.filter(sid="s1"), issuer=ISSUER, revoke=True)
    assert flush(WAIT)

    assert (len(first), len(second)) == (1, 0)
    assert len(endpoint.requests) == 1


def test_nothing_when_openid_connect_is_off(
    browser, user, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_ENABLED": False}
    signed_in_app(browser, user, endpoint.url)

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert endpoint.requests == []
    assert SignIn.objects.get().ended_at is None


# -- Sessions that end without a logout -----------------------------------------------------------


def sign_in_with_the_form(browser, user, capture):
    """The site's login form (django.contrib.auth's LoginView), as a person signs in."""
    with capture(execute=True):
        response = browser.post("/accounts/login/", {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_another_user_signing_in_on_the_browser_ends_the_previous_session(
    browser, user, endpoint, django_capture_on_commit_callbacks
):
    """Django's login() flushes another user's session without user_logged_out
    (LoginSessionMiddleware catches the flush)."""
    sid = browser.session[SID_SESSION_KEY]
    app = signed_in_app(browser, user, endpoint.url)
    token = RefreshTokenFactory(client=app, user=user, family_id=SignIn.objects.get().family_id)
    someone_else = UserFactory()

    sign_in_with_the_form(browser, someone_else, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert SignIn.objects.get().ended_at is not None
    (logout_token,) = endpoint.tokens
    _header, claims = verified(logout_token)
    assert (claims["sid"], claims["sub"]) == (sid, subject(user, app))
    token.refresh_from_db()
    assert token.revoked_at is not None
    # The new session is someone else's, with a sid of its own.
    assert browser.session[SID_SESSION_KEY] != sid


def test_signing_in_again_as_the_same_user_keeps_the_session_and_its_earlier_sid(
    browser, user, endpoint, django_capture_on_commit_callbacks
):
    """A fresh login (prompt=login, max_age) starts a new sid in the same
    session; the clients of the earlier one are told when the session ends."""
    first_sid = browser.session[SID_SESSION_KEY]
    before = signed_in_app(browser, user, endpoint.url)
    sign_in_with_the_form(browser, user, django_capture_on_commit_callbacks)
    second_sid = browser.session[SID_SESSION_KEY]
    after = signed_in_app(browser, user, endpoint.url)
    assert second_sid != first_sid
    assert endpoint.requests == [] and SignIn.objects.filter(ended_at__isnull=False).count() == 0

    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    told = {verified(token)[1]["aud"]: verified(token)[1]["sid"] for token in endpoint.tokens}
    assert told == {before.client_id: first_sid, after.client_id: second_sid}


def test_earlier_sids_are_kept_within_a_bound(browser, user):
    for _ in range(login_sessions.MAX_EARLIER_SIDS + 5):
        browser.force_login(user)

    assert len(login_sessions.session_sids(browser.session)) == login_sessions.MAX_EARLIER_SIDS + 1


def test_a_password_change_ends_every_sign_in_of_the_user(user, endpoint, django_capture_on_commit_callbacks):
    app = ClientFactory(backchannel_logout_uri=endpoint.url)
    SignInFactory(client=app, user=user, sid="s1")
    SignInFactory(client=app, user=user, sid="s2")
    SignInFactory(client=app, sid="someone-else")

    with django_capture_on_commit_callbacks(execute=True):
        user.set_password("a new password")
        user.save()
    assert flush(WAIT)

    assert set(SignIn.objects.filter(ended_at__isnull=False).values_list("sid", flat=True)) == {"s1", "s2"}
    assert sorted(verified(token)[1]["sid"] for token in endpoint.tokens) == ["s1", "s2"]
    assert {verified(token)[1]["iss"] for token in endpoint.tokens} == {ISSUER}


def test_a_session_django_drops_after_a_password_change_elsewhere_ends(
    browser, user, endpoint, settings, django_capture_on_commit_callbacks
):
    """Without token revocation on password change, the browser's session
    still ends on its next request (its session hash no longer matches), and
    its sign-ins with it."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REVOKE_TOKENS_ON_PASSWORD_CHANGE": False}
    sid = browser.session[SID_SESSION_KEY]
    signed_in_app(browser, user, endpoint.url)
    user.set_password("changed elsewhere")
    user.save()
    assert SignIn.objects.get().ended_at is None

    with django_capture_on_commit_callbacks(execute=True):
        assert browser.get("/o/authorized-apps/").status_code == 302  # signed out: to the login page
    assert flush(WAIT)

    (logout_token,) = endpoint.tokens
    assert verified(logout_token)[1]["sid"] == sid


def test_an_anonymous_session_flushed_ends_nothing(client, user):
    SignInFactory(user=user, sid="s1")
    request = RequestFactory().get("/")
    request.session = client.session

    LoginSessionMiddleware(lambda request: request.session.flush())(request)

    assert SignIn.objects.get().ended_at is None


def test_an_async_login_as_another_user_ends_the_previous_session(
    browser, user, endpoint, django_capture_on_commit_callbacks
):
    """alogin() flushes with aflush."""
    sid = browser.session[SID_SESSION_KEY]
    signed_in_app(browser, user, endpoint.url)
    request = RequestFactory().get("/")
    request.session = browser.session
    request.user = user

    def get_response(request):
        async_to_sync(alogin)(request, UserFactory(), backend="django.contrib.auth.backends.ModelBackend")

    with django_capture_on_commit_callbacks(execute=True):
        LoginSessionMiddleware(get_response)(request)
    assert flush(WAIT)

    (logout_token,) = endpoint.tokens
    assert verified(logout_token)[1]["sid"] == sid


# -- Consent withdrawal ----------------------------------------------------------------------------


def test_withdrawing_consent_ends_the_clients_sign_ins_and_tells_it(
    client, user, endpoint, django_capture_on_commit_callbacks
):
    app = ClientFactory(backchannel_logout_uri=endpoint.url)
    consent = ConsentFactory(user=user, client=app)
    SignInFactory(client=app, user=user, sid="s1")
    SignInFactory(client=app, user=user, sid="s2")
    elsewhere = SignInFactory(user=user, sid="s1")
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("oauth_provider:withdraw_consent", args=[consent.pk]))
    assert response.status_code == 302
    assert flush(WAIT)

    claims = [verified(token)[1] for token in endpoint.tokens]
    assert sorted(c["sid"] for c in claims) == ["s1", "s2"]
    assert {c["sub"] for c in claims} == {subject(user, app)}
    assert {c["iss"] for c in claims} == {ISSUER}
    assert not SignIn.objects.filter(client=app, ended_at__isnull=True).exists()
    elsewhere.refresh_from_db()
    assert elsewhere.ended_at is None


def test_admin_withdrawal_tells_the_client(admin_client, user, endpoint, django_capture_on_commit_callbacks):
    app = ClientFactory(backchannel_logout_uri=endpoint.url)
    consent = ConsentFactory(user=user, client=app)
    SignInFactory(client=app, user=user)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:oauth_provider_consent_delete", args=[consent.pk]), {"post": "yes"})
    assert flush(WAIT)

    assert len(endpoint.requests) == 1


def test_withdrawal_without_an_issuer_ends_sign_ins_and_sends_nothing(
    user, endpoint, settings, caplog, django_capture_on_commit_callbacks
):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}
    app = ClientFactory(backchannel_logout_uri=endpoint.url)
    SignInFactory(client=app, user=user)

    with django_capture_on_commit_callbacks(execute=True):
        withdraw_consent(ConsentFactory(user=user, client=app))
    assert flush(WAIT)

    assert endpoint.requests == []
    assert SignIn.objects.get().ended_at is not None
    assert "set OAUTH_PROVIDER['ISSUER']" in caplog.text


# -- Dead endpoints: the user never waits ----------------------------------------------------------


def test_closed_port_does_not_break_logout(
    browser, user, closed_port_url, outcomes, caplog, django_capture_on_commit_callbacks
):
    signed_in_app(browser, user, closed_port_url)

    with caplog.at_level(logging.WARNING, logger="oauth_provider"):
        site_logout(browser, django_capture_on_commit_callbacks)
        assert flush(WAIT)

    assert "_auth_user_id" not in browser.session
    ((name, report),) = outcomes
    assert name == "failed"
    assert report["attempts"] == 3  # BACKCHANNEL_LOGOUT_RETRIES + 1
    assert "refused" in report["reason"].lower()
    assert "Back-channel logout to client" in caplog.text


def test_hanging_endpoint_does_not_slow_logout(
    browser, user, hanging_url, outcomes, settings, django_capture_on_commit_callbacks
):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "BACKCHANNEL_LOGOUT_RETRIES": 1}
    signed_in_app(browser, user, hanging_url)

    started = time.monotonic()
    site_logout(browser, django_capture_on_commit_callbacks)
    took = time.monotonic() - started

    assert took < 1  # BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS
    assert not flush(0.1)  # still trying, after the response
    assert flush(WAIT)
    ((name, report),) = outcomes
    assert (name, report["attempts"]) == ("failed", 2)
    assert "timed out" in report["reason"]


def test_server_errors_are_retried_a_bounded_number_of_times(
    user, outcomes, django_capture_on_commit_callbacks
):
    endpoint = Endpoint(statuses=[503] * 10)
    try:
        app = ClientFactory(backchannel_logout_uri=endpoint.url)
        SignInFactory(client=app, user=user, sid="s1")
        with django_capture_on_commit_callbacks(execute=True):
            end_sign_ins(SignIn.objects.all(), issuer=ISSUER, revoke=True)
        assert flush(WAIT)
    finally:
        endpoint.close()

    assert len(endpoint.requests) == 3
    report = {"client_id": app.client_id, "sid": "s1", "attempts": 3, "reason": "HTTP 503"}
    assert outcomes == [("failed", report)]


def deliver_to(endpoint, outcomes):
    deliver([Delivery("client-1", endpoint.url, "s1", "header.claims.signature", private_allowed=True)])
    assert flush(WAIT)
    return [(name, report["attempts"], report.get("reason")) for name, report in outcomes]


def test_a_retry_that_succeeds_is_sent(outcomes):
    endpoint = Endpoint(statuses=[500])
    try:
        assert deliver_to(endpoint, outcomes) == [("sent", 2, None)]
    finally:
        endpoint.close()
    assert len(endpoint.requests) == 2


@pytest.mark.parametrize("status", [400, 404, 302])
def test_client_errors_and_redirects_are_not_retried_or_followed(outcomes, status):
    endpoint = Endpoint(statuses=[status])
    try:
        assert deliver_to(endpoint, outcomes) == [("failed", 1, f"HTTP {status}")]
    finally:
        endpoint.close()
    assert [request["path"] for request in endpoint.requests] == ["/backchannel-logout"]


def test_only_http_uris_are_posted_to(outcomes):
    deliver([Delivery("client-1", "file:///etc/passwd", "s1", "header.claims.signature")])
    assert flush(WAIT)

    assert [(name, report["reason"]) for name, report in outcomes] == [("failed", "not an http(s) URI")]


def test_deliveries_beyond_the_limit_are_dropped_and_reported(endpoint, outcomes, monkeypatch):
    monkeypatch.setattr(backchannel_logout, "MAX_PENDING", 0)

    deliver([Delivery("client-1", endpoint.url, "s1", "header.claims.signature", private_allowed=True)])

    assert endpoint.requests == []
    assert [(name, report["attempts"]) for name, report in outcomes] == [("failed", 0)]


def test_no_logout_token_in_the_logs(user, caplog, django_capture_on_commit_callbacks):
    endpoint = Endpoint(statuses=[500, 500, 500])
    try:
        app = ClientFactory(backchannel_logout_uri=endpoint.url)
        SignInFactory(client=app, user=user)
        with caplog.at_level(logging.DEBUG):
            with django_capture_on_commit_callbacks(execute=True):
                end_sign_ins(SignIn.objects.all(), issuer=ISSUER, revoke=True)
            assert flush(WAIT)
    finally:
        endpoint.close()

    (token, *_) = endpoint.tokens
    assert "failed after 3 attempt(s): HTTP 500" in caplog.text
    for part in token.split("."):
        assert part not in caplog.text


def test_a_receiver_that_raises_stops_nothing(endpoint, outcomes, caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("receiver bug")

    backchannel_logout_sent.connect(broken)
    try:
        assert deliver_to(endpoint, outcomes) == [("sent", 1, None)]
    finally:
        backchannel_logout_sent.disconnect(broken)
    assert "receiver bug" in caplog.text


def test_a_client_whose_token_cannot_be_signed_is_skipped(
    browser, user, endpoint, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    unsignable = signed_in_app(browser, user, endpoint.url, id_token_signed_response_alg="ES256")
    signed_in_app(browser, user, endpoint.url)
    sign = signing_keys.sign

    def no_es256_key(claims, algorithm, **kwargs):
        if algorithm == "ES256":
            raise LookupError("OIDC_SIGNING_KEYS has no active ES256 key.")
        return sign(claims, algorithm, **kwargs)

    monkeypatch.setattr(signing_keys, "sign", no_es256_key)
    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert "_auth_user_id" not in browser.session
    assert f"Signing a logout token for client {unsignable.client_id} failed" in caplog.text
    assert len(endpoint.requests) == 1
    assert not SignIn.objects.filter(ended_at__isnull=True).exists()


def test_a_failure_to_end_sign_ins_does_not_fail_the_logout(
    browser, user, endpoint, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    signed_in_app(browser, user, endpoint.url)

    def broken(*args, **kwargs):
        raise RuntimeError("database trouble")

    monkeypatch.setattr(backchannel_logout, "_revoke_session_tokens", broken)
    site_logout(browser, django_capture_on_commit_callbacks)
    assert flush(WAIT)

    assert "_auth_user_id" not in browser.session
    assert "Ending sign-ins for back-channel logout failed" in caplog.text
    # Undone with the failure: the session's sign-ins were neither ended nor announced.
    assert SignIn.objects.get().ended_at is None
    assert endpoint.requests == []


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_session_signed_out_of_concurrently_is_announced_once(user, endpoint):
    """Two tabs signing out at once: one ends each sign-in and tells its client."""
    app = ClientFactory(backchannel_logout_uri=endpoint.url)
    SignInFactory(client=app, user=user, sid="s1")
    threads = 10
    barrier = threading.Barrier(threads)

    def sign_out(_):
        try:
            barrier.wait()
            return len(end_sign_ins(SignIn.objects.filter(sid="s1"), issuer=ISSUER, revoke=True))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(threads) as pool:
        ended = list(pool.map(sign_out, range(threads)))
    assert flush(WAIT)

    assert sorted(ended) == [0] * (threads - 1) + [1]
    assert len(endpoint.requests) == 1
