import time

import pytest
from django.conf import settings
from django.db import connections


def pytest_collection_modifyitems(config, items):
    """Outside their own run (``tests.replicas.settings``, as .ci/run starts
    it), these tests have no replica to read from: skipped, with how to run them."""
    if "replica" in settings.DATABASES:
        return
    skip = pytest.mark.skip(
        reason=(
            "run with: python -m pytest tests/replicas -p tests.replicas.plugin --ds tests.replicas.settings"
        )
    )
    for item in items:
        if "replicas" in item.nodeid.split("/"):
            item.add_marker(skip)


class Replication:
    """The primary (``default``) and its standby (``replica``), from the tests' side."""

    POLL_SECONDS = 0.01
    CATCH_UP_TIMEOUT_SECONDS = 30

    def caught_up(self) -> None:
        """Wait until the standby has replayed everything the primary has
        written so far (fails after ``CATCH_UP_TIMEOUT_SECONDS``)."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            (lsn,) = cursor.fetchone()
        deadline = time.monotonic() + self.CATCH_UP_TIMEOUT_SECONDS
        with connections["replica"].cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
                if cursor.fetchone()[0]:
                    return
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the replica did not replay up to {lsn} within {self.CATCH_UP_TIMEOUT_SECONDS} s"
                    )
                time.sleep(self.POLL_SECONDS)

    def pause(self) -> None:
        """Stop the standby replaying: from now on it serves what it had."""
        self._replay("pg_wal_replay_pause")

    def resume(self) -> None:
        self._replay("pg_wal_replay_resume")

    def _replay(self, function: str) -> None:
        with connections["replica"].cursor() as cursor:
            cursor.execute(f"SELECT {function}()")  # one of the two names above


@pytest.fixture
def replication(transactional_db):
    """The pair, caught up at the start of the test; replay resumed at the end."""
    replication = Replication()
    replication.caught_up()
    yield replication
    replication.resume()
