"""The access token cache (``TOKEN_CACHE``): zero queries, and never a stale answer.

Every test that uses the cache runs against Django's LocMemCache, its
RedisCache and ours (``oauth_provider.cache.RedisCache``), both Redis ones on
a local Redis at ``REDIS_URL``; the Redis runs are skipped when Redis is
down, except in CI where that fails. Each test gets its own key prefix, so concurrent runs
cannot see each other's entries.
"""

import pickle
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.core.cache import caches
from django.urls import reverse

from oauth_provider import bearer, token_cache
from oauth_provider.compiled_lookup import CompiledLookup
from oauth_provider.models import AccessToken
from oauth_provider.revocation import revoke_tokens

from .factories import AccessTokenFactory, RefreshTokenFactory
from .helpers import REDIS_URL, basic_auth, post_token, require_redis

pytestmark = pytest.mark.django_db

ALIAS = "oauth_tokens"
LAYOUT = bearer.LOOKUP.layout.fingerprint


def me(api_client, value):
    return api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {value}")


class LocMemEntries:
    """Raw keys and stored (pickled) values of a LocMemCache."""

    def __init__(self, cache):
        self.cache = cache

    def items(self):
        return dict(self.cache._cache)

    def ttl(self, key):
        return self.cache._expire_info[key] - time.time()

    def clear(self):
        self.cache.clear()


class RedisEntries:
    """Raw keys and stored values under one key prefix in Redis."""

    def __init__(self, cache, prefix):
        require_redis()
        self.client = redis.Redis.from_url(REDIS_URL)
        self.pattern = f"{prefix}:*"

    def items(self):
        return {key.decode(): self.client.get(key) for key in self.client.scan_iter(self.pattern)}

    def ttl(self, key):
        return self.client.pttl(key) / 1000

    def clear(self):
        for key in self.client.scan_iter(self.pattern):
            self.client.delete(key)


REDIS_BACKENDS = {
    "redis": "django.core.cache.backends.redis.RedisCache",
    "redis-reused-client": "oauth_provider.cache.RedisCache",
}


@pytest.fixture(params=["locmem", *REDIS_BACKENDS])
def entries(request, settings):
    """Turn the token cache on, with an empty cache of the parametrized kind."""
    prefix = f"oauth-provider-test-{uuid.uuid4().hex}"
    if request.param == "locmem":
        config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
    else:
        config = {
            "BACKEND": REDIS_BACKENDS[request.param],
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    settings.CACHES = {**settings.CACHES, ALIAS: config}
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "TOKEN_CACHE": ALIAS}
    cache = caches[ALIAS]
    raw = LocMemEntries(cache) if request.param == "locmem" else RedisEntries(cache, prefix)
    raw.clear()
    yield raw
    raw.clear()


def raw_key(token):
    return caches[ALIAS].make_and_validate_key(token_cache.KEY_PREFIX + token.token_hash)


def row_with_active_user(token):
    """The token's row as a process that read it before the user was deactivated holds it."""
    row = list(bearer.fetch_row("default", token.token_hash))
    part = bearer.LOOKUP.layout.part("user")
    row[part.start + part.attnames.index("is_active")] = True
    return tuple(row)


@pytest.fixture
def token(user):
    return AccessTokenFactory(user=user, scope="read")


@pytest.fixture
def cached(api_client, entries, token):
    """``token``, after one protected request has put it in the cache."""
    assert me(api_client, token.value).status_code == 200
    assert raw_key(token) in entries.items()
    return token


# Zero queries ---------------------------------------------------------------


def test_second_request_costs_no_query_and_finds_the_same_token(
    api_client, cached, user, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = me(api_client, cached.value)

    assert response.status_code == 200
    assert response.json() == {"username": user.username}
    assert response.wsgi_request.auth.pk == cached.pk
    assert response.wsgi_request.user.pk == user.pk


def test_first_request_costs_one_query(api_client, entries, token, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert me(api_client, token.value).status_code == 200


def test_without_cache_every_request_costs_one_query(api_client, token, django_assert_num_queries):
    for _ in range(2):
        with django_assert_num_queries(1):
            assert me(api_client, token.value).status_code == 200


def test_unknown_token_is_not_cached(api_client, entries):
    assert me(api_client, "opat_unknown").status_code == 401
    assert me(api_client, "opat_unknown").status_code == 401
    assert entries.items() == {}


# Revocation takes effect on the very next request ---------------------------


def test_revoke_tokens_takes_effect_at_once(api_client, cached):
    revoke_tokens([cached], reason="revoked")

    assert me(api_client, cached.value).status_code == 401


def test_refresh_rotation_takes_effect_at_once(api_client, entries, oauth_client, user):
    access = AccessTokenFactory(client=oauth_client, user=user)
    refresh = RefreshTokenFactory(
        client=oauth_client, user=user, access_token=access, family_id=access.family_id
    )
    assert me(api_client, access.value).status_code == 200

    data = {"grant_type": "refresh_token", "refresh_token": refresh.value}
    rotated = post_token(
        api_client, data, HTTP_AUTHORIZATION=basic_auth(oauth_client.client_id, oauth_client.secret)
    )
    assert rotated.status_code == 200

    assert me(api_client, access.value).status_code == 401
    assert me(api_client, rotated.json()["access_token"]).status_code == 200


def test_admin_revoke_action_takes_effect_at_once(api_client, admin_client, cached):
    changelist = reverse("admin:oauth_provider_accesstoken_changelist")
    response = admin_client.post(changelist, {"action": "revoke_selected", "_selected_action": [cached.pk]})
    assert response.status_code == 302

    assert me(api_client, cached.value).status_code == 401


@pytest.mark.parametrize("how", ["delete page", "delete action"])
def test_admin_deletion_takes_effect_at_once(api_client, admin_client, cached, how):
    """The admin may delete a token as well as revoke it: a deleted token
    must not live on in the cache either."""
    if how == "delete page":
        url = reverse("admin:oauth_provider_accesstoken_delete", args=[cached.pk])
        response = admin_client.post(url, {"post": "yes"})
    else:
        changelist = reverse("admin:oauth_provider_accesstoken_changelist")
        response = admin_client.post(
            changelist, {"action": "delete_selected", "_selected_action": [cached.pk], "post": "yes"}
        )
    assert response.status_code == 302
    assert not AccessToken.objects.filter(pk=cached.pk).exists()

    assert me(api_client, cached.value).status_code == 401


def test_stale_marker_stops_a_racing_process_from_caching_a_revoked_token(api_client, entries, token):
    # Another process read the token just before it was revoked ...
    read_before = bearer.fetch_row("default", token.token_hash)
    revoke_tokens([token], reason="revoked")
    # ... and tries to cache what it read after the revocation.
    token_cache.add(token.token_hash, LAYOUT, read_before, token.expires_at)

    assert me(api_client, token.value).status_code == 401
    assert token_cache.get(token.token_hash, LAYOUT) is None


# A deploy that changes the row's columns --------------------------------------


@pytest.fixture
def other_layout(entries, token):
    """The lookup of code whose row has one column fewer, after it cached ``token``."""
    fields = tuple(name for name in bearer.TOKEN_FIELDS if name != "scope")
    other = CompiledLookup(bearer.AccessToken, "token_hash", fields=fields, joins=bearer.LOOKUP.joins)
    assert other.layout.fingerprint != LAYOUT
    row = other.fetch_row("default", token.token_hash)
    token_cache.add(token.token_hash, other.layout.fingerprint, row, token.expires_at)
    assert token_cache.get(token.token_hash, other.layout.fingerprint) == row
    return other


def test_entry_of_another_layout_is_never_read_as_this_one(
    api_client, other_layout, token, user, django_assert_num_queries
):
    assert token_cache.get(token.token_hash, LAYOUT) is None
    for _ in range(2):  # the other code's entry stays until it expires: a query each time
        with django_assert_num_queries(1):
            response = me(api_client, token.value)
        assert response.status_code == 200
        assert response.json() == {"username": user.username}
        assert response.wsgi_request.auth.scope == "read"


def test_revocation_reaches_the_entry_of_another_layout(api_client, other_layout, token):
    revoke_tokens([token], reason="revoked")

    assert token_cache.get(token.token_hash, other_layout.layout.fingerprint) is None
    assert me(api_client, token.value).status_code == 401


def test_entry_from_before_layouts_is_a_miss(api_client, entries, token, django_assert_num_queries):
    # What the code before this version stored: the bare row.
    caches[ALIAS].set(
        token_cache.KEY_PREFIX + token.token_hash, bearer.fetch_row("default", token.token_hash)
    )

    assert token_cache.get(token.token_hash, LAYOUT) is None
    with django_assert_num_queries(1):
        assert me(api_client, token.value).status_code == 200


# Expiry ---------------------------------------------------------------------


def test_expired_token_is_never_served_from_cache(api_client, entries, frozen_clock, user):
    token = AccessTokenFactory(user=user, expires_at=frozen_clock() + timedelta(seconds=60))
    assert me(api_client, token.value).status_code == 200

    frozen_clock.advance(seconds=61)

    # The cache still holds it (its clock is the real one) but it is refused.
    assert token_cache.get(token.token_hash, LAYOUT) is not None
    assert me(api_client, token.value).status_code == 401


@pytest.mark.parametrize(("lifetime", "bound"), [(3600, 120), (60, 60), (121, 120)])
def test_entry_lives_no_longer_than_the_token_or_the_setting(
    api_client, entries, settings, frozen_clock, user, lifetime, bound
):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "TOKEN_CACHE_TIMEOUT_SECONDS": 120}
    token = AccessTokenFactory(user=user, expires_at=frozen_clock() + timedelta(seconds=lifetime))

    assert me(api_client, token.value).status_code == 200

    assert bound - 5 < entries.ttl(raw_key(token)) <= bound


def test_token_about_to_expire_is_not_cached(api_client, entries, frozen_clock, user):
    token = AccessTokenFactory(user=user, expires_at=frozen_clock() + timedelta(milliseconds=500))

    assert me(api_client, token.value).status_code == 200
    assert entries.items() == {}


# Users and clients ----------------------------------------------------------


def test_user_deactivation_takes_effect_at_once(api_client, cached, user):
    user.is_active = False
    user.save()

    assert me(api_client, cached.value).status_code == 401


def test_user_deletion_takes_effect_at_once(api_client, cached, user):
    user.delete()

    assert me(api_client, cached.value).status_code == 401


def test_client_deactivation_takes_effect_at_once(api_client, cached):
    client = cached.client
    client.is_active = False
    client.save()

    assert me(api_client, cached.value).status_code == 401


def test_client_deletion_takes_effect_at_once(api_client, cached):
    cached.client.delete()

    assert me(api_client, cached.value).status_code == 401


def test_user_change_is_seen_on_the_next_request(api_client, cached, user):
    user.username = "renamed"
    user.save()

    assert me(api_client, cached.value).json() == {"username": "renamed"}


def test_other_users_tokens_stay_cached(api_client, entries, cached, django_assert_num_queries):
    other = AccessTokenFactory()
    assert me(api_client, other.value).status_code == 200

    cached.user.save()

    with django_assert_num_queries(0):
        assert me(api_client, other.value).status_code == 200


def test_token_cached_before_commit_is_invalidated_after_commit(
    api_client, entries, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
        # Meanwhile another process issued a token and cached it with the user
        # as it was before this transaction commits (still active).
        token = AccessTokenFactory(user=user)
        token_cache.add(token.token_hash, LAYOUT, row_with_active_user(token), token.expires_at)

    assert me(api_client, token.value).status_code == 401


def test_saving_a_user_queries_tokens_only_when_the_cache_is_on(settings, user, django_assert_num_queries):
    # A full save also reads the stored password hash (password_change).
    with django_assert_num_queries(2):  # the stored hash, the UPDATE
        user.save()
    with django_assert_num_queries(1):  # the UPDATE
        user.save(update_fields=["first_name"])

    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "TOKEN_CACHE": "default"}
    with django_assert_num_queries(2):  # the UPDATE, then the user's live token hashes
        user.save(update_fields=["first_name"])


# What the cache holds -------------------------------------------------------


def test_entry_is_keyed_by_hash_and_holds_no_secret(cached, entries, user):
    stored = entries.items()

    assert list(stored) == [raw_key(cached)]
    [(key, blob)] = stored.items()
    assert cached.token_hash in key
    assert cached.value not in key
    assert cached.value.encode() not in blob
    assert user.password and user.password.encode() not in blob
    assert cached.client.client_secret_hash.encode() not in blob
    stored_entry = pickle.loads(blob)  # noqa: S301 - our own test data
    assert stored_entry["layout"] == LAYOUT
    entry = bearer.build("default", stored_entry["row"])
    assert entry.pk == cached.pk
    assert entry.user.pk == user.pk
    assert "password" not in vars(entry.user)
