"""How long a revocation takes to reach every worker process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/propagation python -m benchmarks.propagation

For each engine of ``REVOCATION_STREAM`` (Redis pub/sub, PostgreSQL
LISTEN/NOTIFY): gunicorn serves ``tests.stream_site`` with 2 workers on a
fresh PostgreSQL database (``test_`` + the URL's name, created and dropped
by the run). Each of ``--revocations`` tokens is first remembered by both
workers (so a worker that has not heard of the revocation would still
accept it), then revoked here (``revocation.revoke_tokens``, one
transaction); the time from the call until each worker has refused the
token once is that revocation's propagation time. Workers are reached over
loopback HTTP, one new connection per request, so a time includes the
requests spent finding each worker: an upper bound, reported with its
floor (the same search right after, when nothing is left to propagate).

Redis is ``REDIS_URL`` (default redis://127.0.0.1:6379/2).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import uuid

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oauth_provider_propagation")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from oauth_provider.revocation import RevocationReason, revoke_tokens  # noqa: E402
from tests.factories import AccessTokenFactory, ClientFactory, UserFactory  # noqa: E402
from tests.gunicorn_site import GunicornSite  # noqa: E402

WORKERS = 2
# Requests, at most, to find every worker in one state; more means broken.
ATTEMPTS = 2000
ME = "/api/me/"


def until_every_worker(site: GunicornSite, token: str, status: int, *, remembered: bool = False) -> None:
    seen: set[int] = set()
    for _ in range(ATTEMPTS):
        answer = site.get(ME, token)
        if answer.status == status and (answer.remembered or not remembered):
            seen.add(answer.worker)
            if len(seen) == WORKERS:
                return
    raise SystemExit(f"Workers {sorted(seen)} of {WORKERS} answered {status} in {ATTEMPTS} requests")


def measure(
    config: dict, database: str, revocations: int, conn_max_age: int
) -> tuple[list[float], list[float]]:
    """Milliseconds from each revocation until every worker refused the token,
    and, as its floor, the same search for refusals right after (nothing left
    to propagate): what the requests themselves cost."""
    times, floors = [], []
    with (
        override_settings(OAUTH_PROVIDER={**settings.OAUTH_PROVIDER, "REVOCATION_STREAM": config}),
        GunicornSite(database=database, config=config, workers=WORKERS, conn_max_age=conn_max_age) as site,
    ):
        client, user = ClientFactory(), UserFactory()
        for _ in range(revocations):
            token = AccessTokenFactory(client=client, user=user)
            until_every_worker(site, token.value, 200, remembered=True)
            start = time.perf_counter()
            revoke_tokens([token], reason=RevocationReason.REVOKED)
            until_every_worker(site, token.value, 401)
            times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            until_every_worker(site, token.value, 401)
            floors.append((time.perf_counter() - start) * 1000)
    return times, floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--revocations", type=int, default=1000)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="the workers' CONN_MAX_AGE (default 0, Django's: a refused request opens a connection)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The workers share the database with this process: set DATABASE_URL=postgres://...")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2")
    channel = f"propagation_{uuid.uuid4().hex[:12]}"
    engines = {
        "Redis pub/sub": {"ENGINE": "redis", "LOCATION": redis_url, "CHANNEL": channel},
        "PostgreSQL LISTEN/NOTIFY": {"ENGINE": "postgresql", "DATABASE": "default", "CHANNEL": channel},
    }
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = {
            name: measure(config, database, args.revocations, args.conn_max_age)
            for name, config in engines.items()
        }
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
    print(
        f"Revocation seen by every process: {WORKERS} gunicorn workers, {args.revocations} revocations each, "
        f"Python {sys.version.split()[0]}, CONN_MAX_AGE {args.conn_max_age}, "
        "ms from revoke_tokens() until every worker refused the token\n"
    )
    print("| engine | p50 ms | p99 ms | max ms | floor p50 ms | floor p99 ms | target p99 | met |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for name, (times, floors) in results.items():
        p50, p99 = percentiles(times)
        floor50, floor99 = percentiles(floors)
        met = "yes" if p99 <= 100 else "**no**"
        cells = [name, *(f"{ms:.1f}" for ms in (p50, p99, max(times), floor50, floor99)), "<= 100", met]
        print(f"| {' | '.join(cells)} |")
    print(
        "\nFloor: the same search for a refusal from every worker, right after (nothing left to "
        "propagate): a refusal is a database lookup (on a new connection unless CONN_MAX_AGE)."
    )


def percentiles(times: list[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank)."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


if __name__ == "__main__":
    main()
