"""The pytest plugin that starts a PostgreSQL primary and its streaming
replica (``pair``) before Django is configured, for ``tests.replicas.settings``:

    python -m pytest tests/replicas -p tests.replicas.plugin --ds tests.replicas.settings

It passes the ports to the settings in ``REPLICA_TEST_PRIMARY_PORT`` and
``REPLICA_TEST_REPLICA_PORT``, and stops and deletes the pair at the end of
the run. Where the pair cannot be started the tests are skipped with the
reason, except in CI (``CI`` or ``REQUIRE_REPLICA=1`` set, as .ci/run sets
it), where the run stops with it.
"""

from __future__ import annotations

import os

import pytest

from . import pair

PRIMARY_PORT = "REPLICA_TEST_PRIMARY_PORT"
REPLICA_PORT = "REPLICA_TEST_REPLICA_PORT"
UNAVAILABLE = "REPLICA_TEST_UNAVAILABLE"

_running: list[pair.Pair] = []


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest-django imports the settings, which read the ports."""
    try:
        started = pair.start()
    except pair.Unavailable as error:
        if os.environ.get("CI") or os.environ.get("REQUIRE_REPLICA") == "1":
            raise pytest.UsageError(f"cannot start the PostgreSQL primary/replica pair: {error}") from None
        os.environ[UNAVAILABLE] = str(error)
        return
    _running.append(started)
    os.environ[PRIMARY_PORT] = str(started.primary_port)
    os.environ[REPLICA_PORT] = str(started.replica_port)


def pytest_collection_modifyitems(config, items):
    reason = os.environ.get(UNAVAILABLE)
    if reason:
        skip = pytest.mark.skip(reason=f"no PostgreSQL primary/replica pair: {reason}")
        for item in items:
            item.add_marker(skip)


def pytest_unconfigure(config):
    while _running:
        _running.pop().stop()
