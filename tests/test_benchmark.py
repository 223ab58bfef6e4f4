"""The benchmark script runs end to end (one tiny round) and every scenario succeeds.

Not a timed test: it checks that the script still measures what the README
reports, with the query counts each scenario is allowed. Its in-process
cache scenario needs Redis for its revocation stream (skipped without it, except in CI).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from .helpers import require_redis

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(
    r"^\| (?P<name>[^|]+?) \| (?P<queries>\d+) \| (?P<transactions>\d+) \| [\d,]+ \| [\d.]+ \| "
    r"(?P<floor>[\d,]*) \| (?P<efficiency>[\d.]*) \|[^|]*\|[^|]*\|$",
    re.MULTILINE,
)
# The query and transaction targets: (queries, transactions that write) at most.
TARGETS = {
    "Unprotected DRF view (baseline)": (0, 0),
    "Protected view, JWT access token (stream on)": (0, 0),
    "Protected view, opaque token in the in-process cache (stream on)": (0, 0),
    "Protected view, opaque token (no stream)": (1, 0),
    "Protected view, JWT access token (no stream: the database decides)": (1, 0),
    "Client credentials": (2, 1),
    "Authorization code exchange": (5, 1),
    "Authorization code exchange, OpenID Connect (ID token)": (6, 1),
    "UserInfo": (2, 0),
    "Refresh (rotation)": (6, 1),
    "Introspection": (2, 0),
    "Revocation": (3, 1),
}


def test_benchmark_runs_every_scenario():
    require_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--rounds", "1", "--requests", "3"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = list(ROW.finditer(result.stdout))
    costs = {row["name"]: (int(row["queries"]), int(row["transactions"])) for row in rows}
    assert costs.keys() == TARGETS.keys()
    for name, (queries, transactions) in costs.items():
        assert queries <= TARGETS[name][0] and transactions <= TARGETS[name][1], (name, queries, transactions)
    # Every scenario that sends SQL is set against that SQL replayed raw.
    for row in rows:
        assert (bool(row["floor"]) and bool(row["efficiency"])) == (int(row["queries"]) > 0), row[0]
    # The report ends with the round-trip floor of each service, measured in the run.
    assert re.search(r"^- \w+ SELECT 1: \d+ µs", result.stdout, re.MULTILINE)
    assert re.search(r"^- Redis PING \(REVOCATION_STREAM server\): \d+ µs", result.stdout, re.MULTILINE)
