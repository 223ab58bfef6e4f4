"""Tests that need a local service skip without it, and fail in CI (``CI`` set)."""

import re

import pytest

from .helpers import require_redis

# Port 9 (discard) has no Redis listening on a test machine.
UNREACHABLE = "redis://127.0.0.1:9/0"


def test_unreachable_redis_skips_on_a_developer_machine(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=re.escape(f"Redis is not reachable at {UNREACHABLE}")):
        require_redis(UNREACHABLE)


def test_unreachable_redis_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Redis is not reachable"):
        require_redis(UNREACHABLE)
