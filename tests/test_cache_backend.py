"""``oauth_provider.cache.RedisCache``: Django's Redis backend, one client
per pool, and throttling's counter scripts.

Run against the local Redis at ``REDIS_URL`` (skipped when it is down,
except in CI where that fails); the token cache's own behaviour on this backend is covered in
``test_token_cache.py``.
"""

import threading
import time
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from oauth_provider.cache import RedisCache

from .helpers import REDIS_URL, require_redis


@pytest.fixture
def cache():
    prefix = f"oauth-provider-test-{uuid.uuid4().hex}"
    require_redis()
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    yield backend
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_is_djangos_backend():
    assert issubclass(RedisCache, DjangoRedisCache)


def test_one_client_per_pool(cache):
    client = cache._cache.get_client("key")
    assert cache._cache.get_client("other", write=True) is client
    # Django's own backend builds a new client on every call, which is what this avoids.
    django_cache = DjangoRedisCache(REDIS_URL, {})
    assert django_cache._cache.get_client("key") is not django_cache._cache.get_client("key")


def test_each_read_server_gets_its_own_client():
    backend = RedisCache(f"{REDIS_URL};{REDIS_URL}", {})
    writer = backend._cache.get_client(write=True)
    reader = backend._cache.get_client(write=False)  # with two servers, reads go to the second
    assert reader is not writer
    assert backend._cache.get_client(write=False) is reader
    assert reader.connection_pool is not writer.connection_pool


def test_cache_operations(cache):
    assert cache.add("k", ("row", 1), 30)
    assert not cache.add("k", "other", 30)
    assert cache.get("k") == ("row", 1)
    cache.set_many({"a": 1, "b": "stale"}, 30)
    assert cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": "stale"}
    cache.delete("k")
    assert cache.get("k") is None


def test_shared_client_across_threads(cache, monkeypatch):
    """One client serves many threads: each gets its own value back."""
    errors = []
    make_pool = cache._cache._pool_class.from_url

    def slow_make_pool(*args, **kwargs):
        time.sleep(0.05)  # widen the window in which threads race to make the first pool
        return make_pool(*args, **kwargs)

    monkeypatch.setattr(
        cache._cache, "_pool_class", type("SlowPool", (), {"from_url": staticmethod(slow_make_pool)})
    )

    def work(n):
        try:
            for i in range(50):
                cache.set(f"t{n}", (n, i), 30)
                if cache.get(f"t{n}") != (n, i):
                    errors.append((n, i))
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    # Released together, the threads also race to make the first pool and client.
    barrier = threading.Barrier(8)
    threads = [threading.Thread(target=lambda n=n: (barrier.wait(), work(n))) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache._cache._clients) == 1
    assert len(cache._cache._pools) == 1


def test_counters_in_one_script_each_way(cache):
    """``reserve_counters`` / ``release_counters`` (throttling's counters): the
    cache's own keys and plain integers, so ``incr`` and ``get`` agree with them."""
    assert cache.reserve_counters(["a", "b"], 60) == [(1, 60), (1, 60)]
    assert cache.incr("a") == 2
    assert cache.reserve_counters(["a", "b"], 60) == [(3, 60), (2, 60)]
    cache.release_counters(["a", "b", "missing"])
    assert cache.get_many(["a", "b", "missing"]) == {"a": 2, "b": 1}
    assert cache.counter_seconds_left("a", 60) == 60


def test_a_counter_holding_something_else_is_an_error(cache):
    cache.set("a", "text", 60)
    with pytest.raises(redis.ResponseError):
        cache.reserve_counters(["a"], 60)
