"""Brute force and flooding limits (oauth_provider.throttling).

The counter itself, client authentication on every protocol endpoint, and
bursts of concurrent guesses: with a limit of 5, exactly 5 of 30 concurrent
wrong secrets, passwords or user codes are checked and the rest get 429, on
PostgreSQL with real threads and with Redis as ``THROTTLE_CACHE``. Reading the
counters first and counting failures afterwards (the design this replaced)
lets the whole burst through. The password grant, the device authorization
endpoint and the verification page have their own cases in their files.

The counter's behaviour is checked on each backend: local memory and
Django's ``RedisCache``. Tests that move the clock run on local memory, whose timeouts follow
``time.time``; on Redis the counter's own time to live is set instead.
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import redis
from django.core.cache import caches
from django.db import connections
from django.test import Client as BrowserClient
from rest_framework.test import APIClient

from oauth_provider import client_auth, device, throttling
from oauth_provider.errors import InvalidClient, InvalidRequest, TooManyRequests
from oauth_provider.models import Client, DeviceAuthorization
from oauth_provider.settings import CLIENT_CREDENTIALS, DEVICE_CODE, PASSWORD
from oauth_provider.signals import client_authentication_failed
from tests.factories import ClientFactory, DeviceAuthorizationFactory, PublicClientFactory, UserFactory
from tests.helpers import REDIS_URL, basic_auth, require_redis

LIMIT = 3
WINDOW = 600
HERE = {"REMOTE_ADDR": "10.0.0.1"}
THERE = {"REMOTE_ADDR": "10.0.0.2"}

REDIS_BACKENDS = {"django-redis": "django.core.cache.backends.redis.RedisCache"}
CACHE_KINDS = ["locmem", *REDIS_BACKENDS]


def cache_config(kind, name):
    """A cache of ``kind`` (``"locmem"`` or a REDIS_BACKENDS key) whose entries are under ``name``."""
    if kind == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    require_redis()
    return {"BACKEND": REDIS_BACKENDS[kind], "LOCATION": REDIS_URL, "KEY_PREFIX": name}


def empty(cache):
    """Remove ``cache``'s entries; on Redis only those under its prefix, where
    ``clear()`` (FLUSHDB) would empty the database other tests share."""
    if not cache.key_prefix:
        cache.clear()
        return
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{cache.key_prefix}:*"):
        client.delete(key)


def use_throttle_cache(settings, alias, config, **limits):
    """Make ``alias`` (``config``, emptied) THROTTLE_CACHE, with ``limits``; the cache."""
    settings.CACHES = {**settings.CACHES, alias: config}
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "THROTTLE_CACHE": alias, **limits}
    empty(caches[alias])
    return caches[alias]


LIMITS = {"CLIENT_AUTH_MAX_ATTEMPTS": LIMIT, "CLIENT_AUTH_ATTEMPT_WINDOW_SECONDS": WINDOW}


@pytest.fixture
def throttle_cache(settings):
    """A local-memory THROTTLE_CACHE of its own, and CLIENT_AUTH limited to LIMIT per WINDOW."""
    cache = use_throttle_cache(settings, "throttle", cache_config("locmem", "throttling"), **LIMITS)
    yield cache
    empty(cache)


@pytest.fixture(params=CACHE_KINDS)
def any_throttle_cache(request, settings):
    """Like ``throttle_cache``, on each backend in turn."""
    name = f"throttle-test-{uuid.uuid4().hex}"
    cache = use_throttle_cache(settings, "throttle", cache_config(request.param, name), **LIMITS)
    yield cache
    empty(cache)


@pytest.fixture
def now(monkeypatch):
    """time.time (which the cache's timeouts use too), moved by hand."""
    moment = [time.time()]
    monkeypatch.setattr(time, "time", lambda: moment[0])
    return moment


def fail(subject, meta):
    """One failed attempt."""
    reservation = throttling.reserve(throttling.CLIENT_AUTH, subject, meta, counted=(InvalidClient,))
    with pytest.raises(InvalidClient), reservation:
        raise InvalidClient


def succeed(subject, meta):
    with throttling.reserve(throttling.CLIENT_AUTH, subject, meta, counted=(InvalidClient,)):
        pass


def refused(subject, meta):
    try:
        succeed(subject, meta)
    except TooManyRequests as error:
        return error
    return None


# -- the counter ---------------------------------------------------------------------------------


def test_failures_count_up_to_the_limit(any_throttle_cache):
    for _ in range(LIMIT):
        fail("app", HERE)
    error = refused("app", HERE)
    assert error is not None
    assert (error.status_code, error.error, error.retry_after) == (429, "invalid_request", WINDOW)


def test_successes_give_their_place_back(any_throttle_cache):
    for _ in range(LIMIT * 5):
        succeed("app", HERE)
    for _ in range(LIMIT - 1):
        fail("app", HERE)
    assert refused("app", HERE) is None


def test_a_success_does_not_clear_earlier_failures(any_throttle_cache):
    fail("app", HERE)
    fail("app", HERE)
    succeed("app", HERE)
    fail("app", HERE)
    assert refused("app", HERE) is not None


def test_errors_that_are_not_failures_give_their_place_back(any_throttle_cache):
    for _ in range(LIMIT * 2):
        reservation = throttling.reserve(throttling.CLIENT_AUTH, "app", HERE, counted=(InvalidClient,))
        with pytest.raises(InvalidRequest), reservation:
            raise InvalidRequest
    assert refused("app", HERE) is None


def test_a_blocked_subject_is_blocked_from_a_new_address(any_throttle_cache):
    for _ in range(LIMIT):
        fail("app", HERE)
    assert refused("app", THERE) is not None


def test_a_blocked_address_is_blocked_for_another_subject(any_throttle_cache):
    for index in range(LIMIT):
        fail(f"app-{index}", HERE)
    assert refused("other-app", HERE) is not None
    assert refused("other-app", THERE) is None


@pytest.mark.parametrize(
    ("blocked", "same", "other"),
    [
        # One IPv6 subscriber gets a whole /64 (RFC 6177): a guesser walking
        # through its 2**64 addresses is still one address.
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:3::1"),
        ("2001:db8:1:2::1", "2001:0DB8:0001:0002:0000:0000:0000:0009", "2001:db8:1:3::1"),
        # A dual-stack server shows an IPv4 client either way.
        ("203.0.113.9", "::ffff:203.0.113.9", "203.0.113.10"),
    ],
)
def test_an_address_is_counted_as_the_network_one_client_holds(any_throttle_cache, blocked, same, other):
    for index in range(LIMIT):
        fail(f"app-{index}", {"REMOTE_ADDR": blocked})
    assert refused("other-app", {"REMOTE_ADDR": same}) is not None
    assert refused("other-app", {"REMOTE_ADDR": other}) is None


def test_refused_attempts_count_against_nothing(any_throttle_cache):
    for index in range(LIMIT):
        fail(f"app-{index}", HERE)
    for _ in range(LIMIT * 3):
        assert refused("victim", HERE) is not None
    # The victim's own counter was not filled by the refusals at the blocked address.
    for _ in range(LIMIT - 1):
        fail("victim", THERE)
    assert refused("victim", THERE) is None


def test_retry_after_is_the_time_left_in_the_window(throttle_cache, now):
    fail("app", HERE)
    now[0] += 100.5
    fail("app", HERE)
    fail("app", HERE)
    assert refused("app", HERE).retry_after == WINDOW - 100  # rounded up
    now[0] += WINDOW - 101
    assert refused("app", HERE).retry_after == 1


def test_the_window_ends_and_a_new_one_starts(throttle_cache, now):
    for _ in range(LIMIT):
        fail("app", HERE)
    now[0] += WINDOW + 1
    fail("app", HERE)
    assert refused("app", HERE) is None
    assert refused("app", THERE) is None


def test_a_counter_without_timeout_gets_the_window(throttle_cache, now):
    # Django's Redis backend checks that a key exists, then INCRs it: a
    # counter expiring in between is recreated by Redis with no timeout.
    subject_key, _address_key = throttling.CLIENT_AUTH.keys("app", HERE)
    throttle_cache.set(subject_key, 0, timeout=None)
    for _ in range(LIMIT):
        fail("app", HERE)
    assert refused("app", HERE).retry_after == WINDOW
    now[0] += WINDOW + 1
    assert throttle_cache.get(subject_key) is None
    assert refused("app", HERE) is None


def test_check_counts_nothing(any_throttle_cache):
    for _ in range(LIMIT * 3):
        throttling.check(throttling.CLIENT_AUTH, "app", HERE)
    for _ in range(LIMIT):
        fail("app", HERE)
    with pytest.raises(TooManyRequests):
        throttling.check(throttling.CLIENT_AUTH, "app", HERE)


def test_keys_hide_the_subject_and_the_address(throttle_cache):
    for key in throttling.CLIENT_AUTH.keys("my-app", {"REMOTE_ADDR": "203.0.113.9"}):
        assert "my-app" not in key
        assert "203.0.113.9" not in key
    assert throttling.CLIENT_AUTH.keys("a", HERE) != throttling.PASSWORD_GRANT.keys("a", HERE)


def test_giving_back_to_an_ended_window_creates_nothing(any_throttle_cache):
    reservation = throttling.reserve(throttling.CLIENT_AUTH, "app", HERE)
    keys = throttling.CLIENT_AUTH.keys("app", HERE)
    any_throttle_cache.delete_many(keys)  # both windows end while the attempt is checked
    reservation.release()
    # Not a counter at -1, which on Redis would never expire.
    assert any_throttle_cache.get_many(keys) == {}


# -- client authentication on every protocol endpoint ---------------------------------------------

ENDPOINTS = {
    "token": ("/o/token/", {"grant_type": CLIENT_CREDENTIALS}),
    "revoke": ("/o/revoke/", {"token": "opat_unknown"}),
    "introspect": ("/o/introspect/", {"token": "opat_unknown"}),
    "device_authorization": ("/o/device_authorization/", {}),
}


@pytest.fixture(params=ENDPOINTS)
def endpoint(request):
    return ENDPOINTS[request.param]


@pytest.fixture
def app(db):
    return ClientFactory(
        grant_types=[CLIENT_CREDENTIALS, DEVICE_CODE], allow_introspection=True, redirect_uris=""
    )


def call(endpoint, client_id, secret, **meta):
    return post(endpoint, {}, HTTP_AUTHORIZATION=basic_auth(client_id, secret), **meta)


def post(endpoint, data, **meta):
    path, defaults = endpoint
    return APIClient().post(
        path, urlencode({**defaults, **data}), content_type="application/x-www-form-urlencoded", **meta
    )


def spy(monkeypatch, owner, name, *, seconds=0.0):
    """Record every call of ``owner.name``, each taking at least ``seconds``; the list of calls.

    The bursts below slow the guessable work a little, as a real password
    hash does, so that counting after the work (instead of reserving before
    it) reliably lets more than the limit through.
    """
    calls = []
    original = getattr(owner, name)

    def wrapper(*args):
        calls.append(args)
        time.sleep(seconds)
        return original(*args)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


CHECK_SECONDS = 0.05


@pytest.fixture
def compared(monkeypatch):
    """How many times a client secret was compared."""
    return spy(monkeypatch, Client, "check_secret", seconds=CHECK_SECONDS)


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Too many failed attempts. Try again later.",
    }
    assert int(response["Retry-After"]) == WINDOW
    assert response["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response


def test_wrong_secrets_are_limited_per_client(endpoint, app, throttle_cache, compared):
    for _ in range(LIMIT):
        assert call(endpoint, app.client_id, "wrong", REMOTE_ADDR=f"10.1.0.{_}").status_code == 401
    # Even the right secret, from yet another address, is not compared any more.
    # The description is English whatever the language asked for (RFC 6749 §5.2).
    assert_throttled(
        call(endpoint, app.client_id, app.secret, REMOTE_ADDR="10.2.0.1", HTTP_ACCEPT_LANGUAGE="fr")
    )
    assert len(compared) == LIMIT


def test_wrong_secrets_are_limited_per_address(endpoint, app, throttle_cache, compared):
    for _ in range(LIMIT):
        other = ClientFactory()
        assert call(endpoint, other.client_id, "wrong", **HERE).status_code == 401
    assert_throttled(call(endpoint, app.client_id, app.secret, **HERE))
    assert len(compared) == LIMIT
    # The client itself is not blocked elsewhere.
    assert call(endpoint, app.client_id, app.secret, **THERE).status_code == 200


def test_unknown_client_ids_count_per_address(app, throttle_cache):
    for index in range(LIMIT):
        assert call(ENDPOINTS["token"], f"guess-{index}", "wrong", **HERE).status_code == 401
    assert_throttled(call(ENDPOINTS["token"], app.client_id, app.secret, **HERE))


def test_unknown_clients_are_compared_like_known_ones_until_throttled(app, throttle_cache, monkeypatch):
    compares = spy(monkeypatch, client_auth, "secrets_match")
    monkeypatch.setattr("oauth_provider.models.clients.secrets_match", client_auth.secrets_match)
    call(ENDPOINTS["token"], "unknown", "wrong", **HERE)
    call(ENDPOINTS["token"], app.client_id, "wrong", **HERE)
    assert len(compares) == 2  # one constant-time compare each
    call(ENDPOINTS["token"], "unknown", "wrong", **HERE)
    assert call(ENDPOINTS["token"], "unknown", "wrong", **HERE).status_code == 429
    assert len(compares) == 3


@pytest.mark.parametrize("claimed", ["public", "unknown"])
def test_nobody_can_lock_out_a_client_id_without_a_secret(db, throttle_cache, claimed):
    """A public client, or a client_id nobody has, has no secret to guess:
    failures naming it count only against their address. Else anyone could
    stop every user of a mobile app or a single-page app (whose client_id is
    public) from getting tokens, window after window."""
    public = PublicClientFactory(grant_types=[DEVICE_CODE])
    endpoint = ENDPOINTS["device_authorization"]
    claimed_id = public.client_id if claimed == "public" else "no-such-client"
    for index in range(LIMIT * 2):
        bogus = {"client_id": claimed_id, "client_secret": "x"}
        assert post(endpoint, bogus, REMOTE_ADDR=f"10.3.0.{index}").status_code == 401
    assert post(endpoint, {"client_id": public.client_id}, **HERE).status_code == 200
    # The addresses that failed are still counted.
    for _ in range(LIMIT - 1):
        post(endpoint, {"client_id": claimed_id, "client_secret": "x"}, REMOTE_ADDR="10.3.0.0")
    assert_throttled(post(endpoint, {"client_id": public.client_id}, REMOTE_ADDR="10.3.0.0"))


def test_successful_authentications_do_not_count(app, throttle_cache):
    for _ in range(LIMIT * 3):
        assert call(ENDPOINTS["token"], app.client_id, app.secret, **HERE).status_code == 200
    public = PublicClientFactory(grant_types=[DEVICE_CODE])
    for _ in range(LIMIT * 3):
        assert (
            post(ENDPOINTS["device_authorization"], {"client_id": public.client_id}, **HERE).status_code
            == 200
        )


def test_throttled_attempt_is_announced(app, throttle_cache):
    for _ in range(LIMIT):
        call(ENDPOINTS["token"], app.client_id, "wrong", **HERE)
    received = []
    client_authentication_failed.connect(
        lambda **kwargs: received.append(kwargs), weak=False, dispatch_uid="throttled-test"
    )
    try:
        call(ENDPOINTS["token"], app.client_id, app.secret, **HERE)
    finally:
        client_authentication_failed.disconnect(dispatch_uid="throttled-test")
    assert [(event["client_id"], event["reason"], event["remote_addr"]) for event in received] == [
        (app.client_id, "throttled", "10.0.0.1")
    ]


def test_limit_defaults():
    assert throttling.CLIENT_AUTH.max_attempts == 20
    assert throttling.CLIENT_AUTH.window == 600


# -- concurrent bursts ---------------------------------------------------------------------------

BURST = 30
BURST_LIMIT = 5


@pytest.fixture(params=CACHE_KINDS)
def burst_cache(request, settings):
    """THROTTLE_CACHE on each backend, every limit BURST_LIMIT."""
    cache = use_throttle_cache(
        settings,
        "burst",
        cache_config(request.param, f"throttle-test-{uuid.uuid4().hex}"),
        GRANT_TYPES=[*settings.OAUTH_PROVIDER.get("GRANT_TYPES", ["client_credentials"]), PASSWORD],
        CLIENT_AUTH_MAX_ATTEMPTS=BURST_LIMIT,
        PASSWORD_GRANT_MAX_ATTEMPTS=BURST_LIMIT,
        USER_CODE_MAX_ATTEMPTS=BURST_LIMIT,
    )
    yield cache
    empty(cache)


def burst(send):
    """Call ``send()`` from BURST threads released together; the responses."""
    barrier = threading.Barrier(BURST)

    def attempt(_):
        try:
            barrier.wait()
            return send()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(attempt, range(BURST)))


def statuses(responses):
    return sorted(response.status_code for response in responses)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_burst_of_wrong_secrets_gets_the_limit_checked(burst_cache, compared):
    app = ClientFactory(grant_types=[CLIENT_CREDENTIALS])
    responses = burst(lambda: call(ENDPOINTS["token"], app.client_id, "wrong", **HERE))
    assert statuses(responses) == [401] * BURST_LIMIT + [429] * (BURST - BURST_LIMIT)
    assert len(compared) == BURST_LIMIT


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_burst_of_wrong_passwords_gets_the_limit_checked(burst_cache, settings, monkeypatch):
    # Client authentication holds a place per request too; it is not what this measures.
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "CLIENT_AUTH_MAX_ATTEMPTS": BURST * 2}
    app = ClientFactory(grant_types=[PASSWORD])
    user = UserFactory()
    checked = spy(monkeypatch, type(user), "check_password", seconds=CHECK_SECONDS)
    data = {"grant_type": PASSWORD, "username": user.username, "password": "wrong"}
    auth = basic_auth(app.client_id, app.secret)
    responses = burst(lambda: post(ENDPOINTS["token"], data, HTTP_AUTHORIZATION=auth, **HERE))
    assert statuses(responses) == [400] * BURST_LIMIT + [429] * (BURST - BURST_LIMIT)
    assert len(checked) == BURST_LIMIT


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_burst_of_wrong_user_codes_gets_the_limit_checked(burst_cache, monkeypatch):
    user = UserFactory()
    pending = DeviceAuthorizationFactory(client=ClientFactory(grant_types=[DEVICE_CODE]))
    looked_up = spy(monkeypatch, device, "find_pending", seconds=CHECK_SECONDS)

    def guess():
        browser = BrowserClient()
        browser.force_login(user)
        return browser.post("/o/device/", {"user_code": "BBBB-BBBB"}, **HERE)

    responses = burst(guess)
    assert statuses(responses) == [400] * BURST_LIMIT + [429] * (BURST - BURST_LIMIT)
    assert len(looked_up) == BURST_LIMIT
    assert all(response.has_header("Retry-After") for response in responses if response.status_code == 429)
    assert DeviceAuthorization.objects.get(pk=pending.pk).status == DeviceAuthorization.Status.PENDING


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_burst_of_device_authorizations_stops_at_the_pending_cap(settings):
    # The request rate is not what this measures; the cap is the database's.
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "DEVICE_AUTHORIZATION_MAX_REQUESTS": BURST * 2,
        "DEVICE_AUTHORIZATION_MAX_PENDING": BURST_LIMIT,
    }
    public = PublicClientFactory(grant_types=[DEVICE_CODE])
    responses = burst(
        lambda: post(ENDPOINTS["device_authorization"], {"client_id": public.client_id}, **HERE)
    )
    assert statuses(responses) == [200] * BURST_LIMIT + [429] * (BURST - BURST_LIMIT)
    assert DeviceAuthorization.objects.filter(client=public).count() == BURST_LIMIT
