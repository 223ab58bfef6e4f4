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
    r"^\| (?P<name>[^|]+?) \| (?P<queries>\d+) \| [\d,]+ \| [\d.]+ \|[^|]*\|[^|]*\| "
    r"(?P<floor>[\d,]*) \| (?P<efficiency>[\d.]*) \|$",
    re.MULTILINE,
)


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
    queries = {match["name"]: int(match["queries"]) for match in ROW.finditer(result.stdout)}
    assert queries == {
        "Unprotected DRF view (baseline)": 0,
        "Protected view": 1,
        "Protected view, in-process cache hit (REVOCATION_STREAM redis)": 0,
        "Client credentials": queries["Client credentials"],
        "Authorization code exchange": queries["Authorization code exchange"],
        "Authorization code exchange, OpenID Connect (ID token)": queries[
            "Authorization code exchange, OpenID Connect (ID token)"
        ],
        "UserInfo": queries["UserInfo"],
        "Refresh (rotation)": queries["Refresh (rotation)"],
        "Introspection": queries["Introspection"],
        "Revocation": queries["Revocation"],
    }
    # Every scenario that sends SQL is set against that SQL replayed raw.
    for match in ROW.finditer(result.stdout):
        measured = bool(match["floor"]) and bool(match["efficiency"])
        assert measured == (int(match["queries"]) > 0), match[0]
    assert queries["Authorization code exchange"] <= 6
    assert queries["Refresh (rotation)"] <= 8
    # The report ends with the round-trip floor of each service, measured in the run.
    assert re.search(r"^- \w+ SELECT 1: \d+ µs", result.stdout, re.MULTILINE)
    assert re.search(r"^- Redis PING \(REVOCATION_STREAM server\): \d+ µs", result.stdout, re.MULTILINE)
