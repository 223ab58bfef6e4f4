"""The revocation stream (``oauth_provider.revocation_stream``) in one process.

State (deny list, not-before times, the bounded LRU of token rows) is tested
on its own; the listener, publishing and fail-closed behaviour against the
real Redis (db 2) and, with ``DATABASE_URL`` on PostgreSQL, the real
LISTEN/NOTIFY. Other processes (gunicorn workers) are in
``test_revocation_stream_processes.py``.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import update_last_login
from django.db import connection, transaction
from django.test import override_settings

from oauth_provider import bearer, clock, revocation_stream, token_lookup
from oauth_provider.checks import check_settings
from oauth_provider.consents import withdraw_consent
from oauth_provider.errors import InvalidBearerToken
from oauth_provider.models import AccessToken
from oauth_provider.revocation import RevocationReason, end_grants, revoke_tokens
from oauth_provider.revocation_stream import events
from oauth_provider.revocation_stream.engines import RedisSubscription
from oauth_provider.revocation_stream.listener import Listener
from oauth_provider.revocation_stream.state import CLIENT, SUB, USER, State
from oauth_provider.subjects import subject

from .factories import AccessTokenFactory, ClientFactory, ConsentFactory, UserFactory
from .stream_helpers import READY_TIMEOUT, kill_redis_subscriptions, redis_config, use_stream

HASH = "a" * 64
OTHER = "b" * 64


def authenticates(value):
    """Whether a protected resource accepts the access token ``value``."""
    try:
        bearer.authenticate(value)
    except InvalidBearerToken:
        return False
    return True


def eventually(predicate, timeout=READY_TIMEOUT):
    """Whether ``predicate()`` became true within ``timeout`` seconds (a
    condition another thread or process brings about, not a measurement)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def state(**kwargs):
    return State(**{"max_rows": 100, "max_seconds": 300, **kwargs})


def later(**delta):
    return clock.now() + timedelta(**delta)


# -- State: the deny list and not-before times ----------------------------------------------------


def test_a_denied_hash_is_revoked_until_its_expiry(frozen_clock):
    s = state()
    s.deny([(HASH, later(seconds=60).timestamp())])
    assert s.is_revoked(token_hash=HASH, issued_at=clock.now(), client_id="c", user_pk=1, sub=None)
    assert not s.is_revoked(token_hash=OTHER, issued_at=clock.now(), client_id="c", user_pk=1, sub=None)
    s.prune()
    assert HASH in s.denied  # still needed
    frozen_clock.advance(seconds=61)
    s.prune()
    assert s.denied == {}


def test_revocations_outlive_expiry_by_the_jwt_leeway(frozen_clock):
    """A JWT is accepted up to the leeway past its ``exp``: so long is it denied."""
    s = state(grace=30)
    s.deny([(HASH, later(seconds=60).timestamp())])
    frozen_clock.advance(seconds=89)
    s.prune()
    assert HASH in s.denied
    frozen_clock.advance(seconds=1)
    s.prune()
    assert s.denied == {}


@pytest.mark.parametrize(
    ("holder", "token"),
    [
        ((CLIENT, "app"), {"client_id": "app", "user_pk": None, "sub": None}),
        ((USER, "7"), {"client_id": "x", "user_pk": 7, "sub": None}),
        ((SUB, "pairwise-sub"), {"client_id": "x", "user_pk": None, "sub": "pairwise-sub"}),
    ],
)
def test_not_before_refuses_tokens_issued_earlier_only(frozen_clock, holder, token):
    s = state()
    at = clock.now().timestamp()
    s.set_not_before([holder], at, at + 3600)
    assert s.is_revoked(token_hash=HASH, issued_at=later(seconds=-1), **token)
    assert not s.is_revoked(token_hash=HASH, issued_at=clock.now(), **token)
    assert not s.is_revoked(
        token_hash=HASH, issued_at=later(seconds=-1), client_id="other", user_pk=8, sub="s"
    )


def test_an_earlier_not_before_never_replaces_a_later_one():
    s = state()
    s.set_not_before([(USER, "1")], 2000.0, 9000.0)
    s.set_not_before([(USER, "1")], 1000.0, 5000.0)
    assert s.not_before[(USER, "1")] == (2000.0, 9000.0)


def test_not_before_times_are_dropped_once_every_token_they_cover_expired(frozen_clock):
    s = state()
    at = clock.now().timestamp()
    s.set_not_before([(CLIENT, "app")], at, at + 10)
    s.prune()
    assert s.not_before
    frozen_clock.advance(seconds=11)
    s.prune()
    assert s.not_before == {}


# -- State: the LRU of token rows -----------------------------------------------------------------


def test_the_lru_keeps_at_most_max_rows_and_drops_the_least_recently_used():
    s = state(max_rows=2)
    for name in ("one", "two"):
        s.remember(name, (name,), later(hours=1))
    assert s.cached("one") == ("one",)  # "two" is now the least recently used
    s.remember("three", ("three",), later(hours=1))
    assert [s.cached(name) for name in ("one", "two", "three")] == [("one",), None, ("three",)]


def test_a_row_is_kept_no_longer_than_its_token_lives(frozen_clock):
    s = state(max_seconds=300)
    s.remember(HASH, ("row",), later(seconds=30))
    frozen_clock.advance(seconds=29)
    assert s.cached(HASH) == ("row",)
    frozen_clock.advance(seconds=1)
    assert s.cached(HASH) is None
    assert HASH not in s.rows


def test_a_row_is_kept_no_longer_than_in_process_cache_seconds(frozen_clock):
    s = state(max_seconds=300)
    s.remember(HASH, ("row",), later(hours=1))
    frozen_clock.advance(seconds=299)
    assert s.cached(HASH) == ("row",)
    frozen_clock.advance(seconds=1)
    assert s.cached(HASH) is None


def test_an_expired_token_is_not_remembered():
    s = state()
    s.remember(HASH, ("row",), later(seconds=-1))
    assert s.rows == {}


def test_the_race_a_row_read_before_its_revocation_and_remembered_after_the_event():
    """Request thread: reads the row (active). Listener: the revocation's
    event arrives. Request thread: remembers what it read. The row must not
    be served: ``remember`` refuses a denied hash, and so does every hit."""
    s = state()
    row = ("read just before the revocation",)
    s.deny([(HASH, later(hours=1).timestamp())])  # the event
    s.remember(HASH, row, later(hours=1))  # the late remember
    assert s.cached(HASH) is None
    # The other interleaving: ``remember`` checked the deny list just before
    # the event landed and stored the row just after. Every hit checks again.
    s.remember(OTHER, row, later(hours=1))
    s.denied[OTHER] = later(hours=1).timestamp()
    assert s.cached(OTHER) is None


def test_a_not_before_race_is_caught_by_is_revoked_on_the_hit():
    """A user's not-before arrives; a row of theirs read before it is
    remembered after it. The LRU may hold it, but ``is_revoked`` (which bearer
    asks on every hit) refuses it."""
    s = state()
    issued = later(seconds=-5)
    at = clock.now().timestamp()
    events.apply(s, next(events.not_before(at=at, until=at + 3600, user="7", subs=["sub-7"])))
    s.remember(HASH, ("row",), later(hours=1), client_id="app", user_pk=7)
    assert s.cached(HASH) == ("row",)
    assert s.is_revoked(token_hash=HASH, issued_at=issued, client_id="app", user_pk=7, sub=None)


# -- Events ---------------------------------------------------------------------------------------


def test_revoked_events_are_cut_to_fit_a_notify_payload():
    tokens = [(f"{i:064x}", 1e9 + i) for i in range(events.CHUNK * 2 + 1)]
    messages = list(events.revoked(tokens))
    assert len(messages) == 3
    assert all(len(message.encode()) < 8000 for message in messages)
    s = state()
    for message in messages:
        events.apply(s, message)
    assert s.denied == dict(tokens)


def test_a_users_not_before_carries_its_subs_and_drops_only_its_rows():
    s = state()
    s.remember("mine", ("m",), later(hours=1), client_id="app", user_pk=7)
    s.remember("theirs", ("t",), later(hours=1), client_id="app", user_pk=8)
    (message,) = events.not_before(at=1000.0, until=9000.0, user="7", subs=["public-7", "pairwise-7"])
    events.apply(s, message)
    assert set(s.not_before) == {(USER, "7"), (SUB, "public-7"), (SUB, "pairwise-7")}
    assert s.cached("mine") is None
    assert s.cached("theirs") == ("t",)


def test_a_change_drops_the_rows_of_that_client_and_rows_of_unknown_holders():
    s = state()
    s.remember("app", ("a",), later(hours=1), client_id="app", user_pk=1)
    s.remember("other", ("o",), later(hours=1), client_id="other", user_pk=2)
    s.remember("unknown", ("u",), later(hours=1))
    events.apply(s, events.changed(client_id="app"))
    assert [s.cached(h) for h in ("app", "other", "unknown")] == [None, ("o",), None]
    assert s.denied == {} and s.not_before == {}  # a change revokes nothing


@pytest.mark.parametrize(
    "message", ["not json", "{}", '{"type": "bogus"}', '{"type": "revoked", "tokens": [1]}']
)
def test_messages_this_code_did_not_write_are_refused(message):
    with pytest.raises((ValueError, KeyError, TypeError)):
        events.apply(state(), message)


# -- Checks ---------------------------------------------------------------------------------------


def ids_for(**oauth):
    with override_settings(OAUTH_PROVIDER={"ISSUER": "https://auth.example.com", **oauth}):
        return sorted(m.id for m in check_settings() if "E03" in m.id or "E04" in m.id or "W01" in m.id)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"ENGINE": "redis", "LOCATION": "redis://127.0.0.1:6379/0"}, []),
        (
            {"ENGINE": "postgresql", "DATABASE": "default"},
            [] if connection.vendor == "postgresql" else ["E040"],
        ),
        ("redis", ["E038"]),
        ({"ENGINE": "kafka"}, ["E038"]),
        ({"ENGINE": "redis", "LOCATION": "redis://x", "TIMEOUT": 3}, ["E038"]),
        ({"ENGINE": "redis", "LOCATION": "redis://x", "CHANNEL": "has space"}, ["E038"]),
        ({"ENGINE": "redis", "LOCATION": "redis://x", "HEARTBEAT_SECONDS": 0}, ["E038"]),
        ({"ENGINE": "redis", "LOCATION": "http://127.0.0.1:6379"}, ["E039"]),
        ({"ENGINE": "redis"}, ["E039"]),
        ({"ENGINE": "postgresql", "DATABASE": "nope"}, ["E040"]),
    ],
)
def test_e038_to_e040_revocation_stream(config, expected):
    assert ids_for(REVOCATION_STREAM=config) == [f"oauth_provider.{i}" for i in expected]


@pytest.mark.parametrize("name", ["IN_PROCESS_CACHE_MAX_TOKENS", "IN_PROCESS_CACHE_SECONDS"])
@pytest.mark.parametrize("value", [0, -1, "10", 1.5, True])
def test_e041_in_process_cache_bounds(name, value):
    stream = {"ENGINE": "redis", "LOCATION": "redis://127.0.0.1:6379/0"}
    assert ids_for(REVOCATION_STREAM=stream, **{name: value}) == ["oauth_provider.E041"]


@pytest.mark.parametrize("name", ["TOKEN_CACHE", "TOKEN_CACHE_TIMEOUT_SECONDS"])
def test_w018_retired_token_cache_settings_say_what_replaces_them(name):
    with override_settings(OAUTH_PROVIDER={"ISSUER": "https://auth.example.com", name: "tokens"}):
        (warning,) = [m for m in check_settings() if m.id.startswith("oauth_provider.")]
    assert warning.id == "oauth_provider.W018"
    assert name in warning.msg and "IN_PROCESS_CACHE_SECONDS" in warning.hint


def test_w019_in_process_cache_settings_without_a_stream():
    assert ids_for(IN_PROCESS_CACHE_SECONDS=60) == ["oauth_provider.W019"]
    assert (
        ids_for(IN_PROCESS_CACHE_SECONDS=60, REVOCATION_STREAM={"ENGINE": "redis", "LOCATION": "redis://x"})
        == []
    )


# -- Without a stream -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_stream_nothing_is_kept_and_every_lookup_is_a_query(django_assert_num_queries):
    token = AccessTokenFactory()
    assert not revocation_stream.trusted()
    authenticates(token.value)
    with django_assert_num_queries(1):
        assert authenticates(token.value)
    assert revocation_stream.stream() is None


# -- A real stream in this process ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_cache_hit_costs_no_query_and_a_revocation_ends_it(any_stream, django_assert_num_queries):
    token = AccessTokenFactory()
    assert authenticates(token.value)  # read, remembered
    with django_assert_num_queries(0):
        assert authenticates(token.value)
    revoke_tokens([token], reason=RevocationReason.REVOKED)
    # This process applies its own revocation at commit, before hearing it back.
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
def test_a_revocation_reaches_another_listener(any_stream):
    """A second listener on the channel (what another process runs) hears the hashes."""
    other = State(max_rows=10, max_seconds=300)
    listener = Listener(any_stream.listener.engine, other, heartbeat=1)
    listener.start()
    try:
        assert listener.resynchronised.wait(READY_TIMEOUT)
        token = AccessTokenFactory()
        revoke_tokens([token], reason=RevocationReason.REVOKED)
        assert eventually(lambda: token.token_hash in other.denied)
        assert other.denied[token.token_hash] == token.expires_at.timestamp()
    finally:
        listener.stop()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_announced_for_a_revocation_rolled_back(any_stream):
    other = State(max_rows=10, max_seconds=300)
    listener = Listener(any_stream.listener.engine, other, heartbeat=1)
    listener.start()
    try:
        assert listener.resynchronised.wait(READY_TIMEOUT)
        rolled_back, committed = AccessTokenFactory(), AccessTokenFactory()
        with pytest.raises(RuntimeError), transaction.atomic():
            revoke_tokens([rolled_back], reason=RevocationReason.REVOKED)
            raise RuntimeError
        revoke_tokens([committed], reason=RevocationReason.REVOKED)
        # Messages on one channel arrive in order: once the second is here, the first never will.
        assert eventually(lambda: committed.token_hash in other.denied)
        assert rolled_back.token_hash not in other.denied
        assert rolled_back.token_hash not in any_stream.state.denied
    finally:
        listener.stop()


@pytest.mark.django_db(transaction=True)
def test_ending_a_users_grants_sends_a_not_before_with_its_subs(any_stream):
    user = UserFactory()
    pairwise = ClientFactory(subject_type="pairwise")
    tokens = [AccessTokenFactory(user=user), AccessTokenFactory(user=user, client=pairwise)]
    public_sub = subject(user, tokens[0].client)
    pairwise_sub = subject(user, pairwise)
    other = State(max_rows=10, max_seconds=300)
    listener = Listener(any_stream.listener.engine, other, heartbeat=1)
    listener.start()
    try:
        assert listener.resynchronised.wait(READY_TIMEOUT)
        end_grants(user=user, reason=RevocationReason.PASSWORD_CHANGED)
        assert eventually(lambda: (USER, str(user.pk)) in other.not_before)
        assert {(SUB, public_sub), (SUB, pairwise_sub)} <= other.not_before.keys()
        for token in tokens:
            assert eventually(
                lambda token=token: other.is_revoked(
                    token_hash=token.token_hash,
                    issued_at=token.created_at,
                    client_id="c",
                    user_pk=user.pk,
                    sub=None,
                )
            )
    finally:
        listener.stop()


@pytest.mark.django_db(transaction=True)
def test_a_token_issued_in_the_same_second_as_a_not_before_is_denied_by_hash(any_stream, frozen_clock):
    frozen_clock.current = frozen_clock.current.replace(microsecond=500_000)
    user = UserFactory()
    token = AccessTokenFactory(user=user, created_at=clock.now() - timedelta(microseconds=100_000))
    end_grants(user=user, reason=RevocationReason.PASSWORD_CHANGED)
    local = any_stream.state
    # Its whole-second issue time (a JWT's iat) equals the not-before time...
    whole = token.created_at.replace(microsecond=0)
    assert not local.is_revoked(token_hash="x", issued_at=whole, client_id="c", user_pk=user.pk, sub=None)
    # ...so it is denied by hash.
    assert local.is_revoked(
        token_hash=token.token_hash, issued_at=whole, client_id="c", user_pk=user.pk, sub=None
    )


@pytest.mark.django_db(transaction=True)
def test_deactivating_a_user_ends_its_tokens_in_the_database_and_here(any_stream):
    token = AccessTokenFactory()
    assert authenticates(token.value)
    token.user.is_active = False
    token.user.save()
    token.refresh_from_db()
    assert token.revoked_at is not None  # the database path agrees
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
def test_deactivating_a_client_ends_its_tokens(any_stream):
    token = AccessTokenFactory()
    assert authenticates(token.value)
    token.client.is_active = False
    token.client.save()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
def test_withdrawing_consent_ends_the_remembered_token(any_stream):
    consent = ConsentFactory()
    token = AccessTokenFactory(client=consent.client, user=consent.user)
    assert authenticates(token.value)
    withdraw_consent(consent)
    assert token.token_hash in any_stream.state.denied
    assert not authenticates(token.value)


@pytest.mark.django_db(transaction=True)
def test_a_user_change_drops_their_rows_but_a_sign_in_does_not(any_stream):
    token = AccessTokenFactory()
    authenticates(token.value)
    assert token.token_hash in any_stream.state.rows
    update_last_login(None, token.user)
    assert token.token_hash in any_stream.state.rows
    token.user.is_staff = True
    token.user.save()
    assert token.token_hash not in any_stream.state.rows


# -- Fail closed ----------------------------------------------------------------------------------


def lose_subscription(current):
    if isinstance(current.listener.engine, revocation_stream.RedisEngine):
        assert kill_redis_subscriptions() >= 1
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                ["oauth_provider-revocations"],
            )


@pytest.mark.django_db(transaction=True)
def test_a_lost_subscription_is_not_trusted_until_resynchronised(any_stream, monkeypatch):
    """While the listener cannot subscribe again, nothing is trusted, the
    rows are gone and every lookup is a query; a revocation whose event it
    missed is in the deny list once it is back."""
    token, missed = AccessTokenFactory(), AccessTokenFactory()
    authenticates(token.value)
    assert any_stream.state.rows
    engine = any_stream.listener.engine
    allowed = threading.Event()
    subscribe = engine.subscribe

    def blocked():
        allowed.wait()
        return subscribe()

    monkeypatch.setattr(engine, "subscribe", blocked)
    lose_subscription(any_stream)
    assert eventually(lambda: not revocation_stream.trusted())
    assert any_stream.state.rows == {}
    assert revocation_stream.cached(token.token_hash) is None
    # Revoked by another process whose event this one never hears.
    AccessToken.objects.filter(pk=missed.pk).update(revoked_at=clock.now())
    assert not authenticates(missed.value)  # the database says so
    assert revocation_stream.stream().state.rows == {}  # and nothing is remembered meanwhile
    allowed.set()
    assert any_stream.listener.resynchronised.wait(READY_TIMEOUT)
    assert revocation_stream.trusted()
    assert missed.token_hash in any_stream.state.denied


@pytest.mark.django_db(transaction=True)
def test_silence_is_a_lost_subscription(settings, monkeypatch):
    """No heartbeat heard for three intervals: not trusted, then resubscribed."""
    current = use_stream(settings, redis_config(HEARTBEAT_SECONDS=0.05))
    try:
        silent = threading.Event()
        silent.set()
        ping = RedisSubscription.ping
        monkeypatch.setattr(RedisSubscription, "ping", lambda self: None if silent.is_set() else ping(self))
        assert eventually(lambda: not revocation_stream.trusted())
        silent.clear()
        assert current.listener.resynchronised.wait(READY_TIMEOUT)
        assert eventually(revocation_stream.trusted)
    finally:
        revocation_stream.stop()


def test_a_forked_process_does_not_trust_its_parents_state(monkeypatch, settings):
    """State is keyed by process: a child (a gunicorn worker forked after
    the parent started listening) starts its own listener."""
    config = redis_config()
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "REVOCATION_STREAM": config}
    try:
        monkeypatch.setattr(revocation_stream.Listener, "start", lambda self: None)
        parent = revocation_stream.stream()
        assert revocation_stream.stream() is parent
        monkeypatch.setattr(revocation_stream.os, "getpid", lambda: parent.pid + 1)
        child = revocation_stream.stream()
        assert child is not parent and child.pid == parent.pid + 1
        assert child.state is not parent.state
        assert not revocation_stream.trusted()
    finally:
        revocation_stream.stop()


# -- The race, through the real lookup ------------------------------------------------------------


@pytest.mark.parametrize("end", ["revoke", "end_grants"])
@pytest.mark.django_db(transaction=True)
def test_a_row_read_just_before_its_revocation_is_never_served_after_it(any_stream, monkeypatch, end):
    """The request reads the token's row (active), the revocation commits and
    its message arrives, then the request remembers what it read: the next
    request is still refused, by hash (a revocation) or by the user's
    not-before time (``end_grants``, for a token issued seconds earlier)."""
    token = AccessTokenFactory(created_at=clock.now() - timedelta(seconds=10))
    fetch = token_lookup.PROTECTED.fetch

    def fetch_then_revoke(token_hash):
        found = fetch(token_hash)
        if end == "revoke":
            revoke_tokens([token], reason=RevocationReason.REVOKED)
        else:
            end_grants(user=token.user, reason=RevocationReason.PASSWORD_CHANGED)
        return found

    monkeypatch.setattr(token_lookup.PROTECTED, "fetch", fetch_then_revoke)
    # Read before the revocation, answered after it was heard: refused already.
    assert not authenticates(token.value)
    monkeypatch.undo()
    assert not authenticates(token.value)
    assert not authenticates(token.value)
