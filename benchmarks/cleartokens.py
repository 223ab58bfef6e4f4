"""``manage.py cleartokens`` at volume: seconds and peak memory.

    python -m benchmarks.cleartokens                      # SQLite, a file in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cleartokens python -m benchmarks.cleartokens
    python -m benchmarks.cleartokens --count 20000 --batch-size 5000

A fresh database (``<NAME>_cleartokens`` on PostgreSQL, a temporary file for
SQLite, dropped afterwards) is filled with ``--count`` expired access tokens,
each with its expired refresh token, in rotation chains of ``--chain``
refresh tokens (each pointing at the one it replaced, as rotation leaves
them), and ``--live`` live pairs that must stay; the rows are written with
bulk inserts, outside the measurement. The command then runs in a child
process, so that what it allocates is measured alone: the report gives its
seconds (the command only, not Python's start-up) and its peak resident
memory above what the process held before it ran (Linux ``/proc``;
constant memory means that this does not grow with ``--count``), and
checks that exactly the expired rows went.

A benchmark scenario, not a test: nothing here fails on a slow machine. The
target of issue 13 is under 10 s for 200,000 pairs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from oauth_provider import clock  # noqa: E402
from oauth_provider.management.commands.cleartokens import DEFAULT_BATCH_SIZE  # noqa: E402
from oauth_provider.models import AccessToken, Client, RefreshToken  # noqa: E402

# Rows per INSERT while filling the tables.
INSERT_BATCH = 5000


def fill(count: int, live: int, chain: int) -> None:
    """``count`` expired access/refresh token pairs and ``live`` live ones.

    Token hashes are SHA-256 of counters: as scattered over their unique
    index as real ones, which matters to what a DELETE costs.
    """
    client = Client(name="Benchmark app", grant_types=["authorization_code", "refresh_token"])
    client.set_secret()
    client.save()
    now = clock.now()
    expired, alive = now - timedelta(hours=1), now + timedelta(days=1)
    # Interleaved, as a real table is: live rows among the expired ones.
    total = count + live
    live_at = {k * total // live for k in range(live)}
    states = [alive if i in live_at else expired for i in range(total)]
    for start in range(0, len(states), INSERT_BATCH):
        with transaction.atomic():
            insert(client, states[start : start + INSERT_BATCH], start, chain)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def insert(client: Client, expiries: list, offset: int, chain: int) -> None:
    """One batch of pairs; refresh tokens chained ``chain`` to a family."""
    accesses = AccessToken.objects.bulk_create(
        AccessToken(client=client, token_hash=digest(f"a{offset + i}"), scope="read", expires_at=expires_at)
        for i, expires_at in enumerate(expiries)
    )
    refreshes = [
        RefreshToken(
            client=client,
            token_hash=digest(f"r{offset + i}"),
            scope="read",
            expires_at=access.expires_at,
            access_token=access,
            family_id=access.family_id,
        )
        for i, access in enumerate(accesses)
    ]
    # A rotated chain: each refresh token replaced the one before it, so the
    # links are written one position at a time, after the ones they point at.
    for position in range(chain):
        links = refreshes[position::chain]
        if position:
            for link, previous in zip(links, refreshes[position - 1 :: chain], strict=False):
                link.previous = previous
        RefreshToken.objects.bulk_create(links)


def resident_kb(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in KiB (Linux)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def child(batch_size: int) -> None:
    """Run the command in this (fresh) process and print what it cost, as JSON."""
    connection.settings_dict["NAME"] = os.environ["CLEARTOKENS_BENCHMARK_DB"]
    connection.ensure_connection()
    # Reset the peak to what the process holds now (Linux's clear_refs), so
    # that Django's start-up does not hide what the command takes.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = resident_kb("VmRSS")
    out = io.StringIO()
    start = time.perf_counter()
    call_command("cleartokens", "--batch-size", str(batch_size), stdout=out)
    seconds = time.perf_counter() - start
    peak = resident_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "before_kb": before, "peak_kb": peak, "output": out.getvalue()}))


def measure(batch_size: int) -> dict:
    env = {**os.environ, "CLEARTOKENS_BENCHMARK_DB": str(connection.settings_dict["NAME"])}
    connection.close()  # SQLite: let the child have the file
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.cleartokens", "--child", "--batch-size", str(batch_size)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def describe_database() -> str:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
        return (
            f"SQLite {connection.Database.sqlite_version} (journal_mode={journal}, synchronous={synchronous})"
        )
    return f"PostgreSQL {connection.pg_version // 10000} (psycopg {connection.Database.__version__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="expired access/refresh token pairs")
    parser.add_argument("--live", type=int, help="live pairs that must stay (default: count / 10)")
    parser.add_argument("--chain", type=int, default=4, help="refresh tokens per rotation chain")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.batch_size)
        return
    live = args.count // 10 if args.live is None else args.live

    db = connection.settings_dict
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = connection.vendor == "sqlite"
        db["TEST"]["NAME"] = (
            os.path.join(tmp, "cleartokens.sqlite3") if sqlite else f"{db['NAME']}_cleartokens"
        )
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            start = time.perf_counter()
            fill(args.count, live, args.chain)
            filled = time.perf_counter() - start
            database = describe_database()
            result = measure(args.batch_size)
            left = (AccessToken.objects.count(), RefreshToken.objects.count())
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"{database} · Django {django.get_version()} · Python {sys.version.split()[0]}")
    print(f"{args.count:,} expired + {live:,} live access/refresh token pairs (filled in {filled:.1f} s)")
    print(f"cleartokens --batch-size {args.batch_size}: {result['seconds']:.2f} s")
    peak, growth = result["peak_kb"] / 1024, (result["peak_kb"] - result["before_kb"]) / 1024
    print(f"peak resident memory while it ran: {peak:.0f} MiB, {growth:.1f} MiB above the process before")
    print(result["output"].strip())
    if left != (live, live):
        raise SystemExit(f"expected {live} access and refresh tokens left, found {left}")


if __name__ == "__main__":
    main()
