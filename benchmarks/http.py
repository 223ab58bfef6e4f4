"""A protected API over HTTP: gunicorn with two worker processes, loaded by wrk.

``benchmarks.run`` measures inside one process, without a socket. This
measures what a deployment sees: the same two views served by gunicorn
(``--workers 2``, sync workers) and loaded by ``wrk`` from Debian's package,
with the protected view's token validated

- as a JWT access token (RFC 9068), with the revocation stream on: no query,
  no network;
- as an opaque token held in each worker's memory (the in-process cache on
  the same stream): no query, no network after each worker's first request;
- as an opaque token without a stream: one query per request.

    python -m benchmarks.http                        # SQLite file in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python -m benchmarks.http

Each scenario is a ratio to the unprotected view measured in the same run,
rounds interleaved, medians. The stream is Redis (``REDIS_URL``, default
redis://127.0.0.1:6379/0). The database is a fresh one, created and dropped
by the run (``oauth_provider_benchmark_http`` on PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import environ

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PG_NAME = "oauth_provider_benchmark_http"


@dataclass
class Scenario:
    name: str
    path: str
    token: str | None = None
    min_ratio: float | None = None
    rates: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(tmp: str) -> str:
    """The benchmark's own database: a file for SQLite, a fresh PostgreSQL database otherwise."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        return f"sqlite:///{os.path.join(tmp, 'benchmark.sqlite3')}"
    psql("DROP DATABASE IF EXISTS " + PG_NAME, "CREATE DATABASE " + PG_NAME)
    return re.sub(r"/[^/]*$", f"/{PG_NAME}", given)


def psql(*statements: str) -> None:
    """Run ``statements`` on the server of ``DATABASE_URL``, in its own database."""
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    server = ["-h", config["HOST"] or "127.0.0.1", "-p", str(config["PORT"] or 5432), "-U", config["USER"]]
    for sql in statements:
        subprocess.run(["psql", *server, "-d", config["NAME"], "-qc", sql], check=True)


def setup(env: dict[str, str]) -> tuple[str, str, str]:
    """Migrate the database; return (JWT access token, opaque token, opaque token) for
    the stream scenarios and the database scenario, all meant for the protected view."""
    script = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.conf import settings
from django.contrib.auth import get_user_model
from oauth_provider.issuance import issue_tokens
from oauth_provider.models import Client
user = get_user_model().objects.create_user("bench")
resource = settings.OAUTH_PROVIDER["RESOURCE_SERVER_RESOURCE"]
def token(access_token_format):
    client = Client.objects.create(name="HTTP benchmark " + access_token_format,
        redirect_uris="https://client.example.com/callback", grant_types=["authorization_code"],
        access_token_format=access_token_format)
    return issue_tokens(client=client, user=user, scopes=["read"], resources=[resource],
        grant_type="authorization_code", refresh=False)["access_token"]
print(token("jwt"), token("opaque"), token("opaque"))
"""
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    jwt, cached, uncached = out.stdout.split()
    return jwt, cached, uncached


@contextmanager
def gunicorn(env: dict[str, str], port: int) -> Iterator[str]:
    """Serve ``benchmarks.wsgi`` with two sync workers on ``port``."""
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--log-level", "warning", "benchmarks.wsgi"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/open/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        yield url
    finally:
        server.terminate()
        server.wait(10)


def wrk(url: str, token: str | None, seconds: int, connections: int) -> float:
    """Requests per second that wrk measured; every response must be a 200."""
    headers = ["-H", f"Authorization: Bearer {token}"] if token else []
    args = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", *headers, url]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url}: some responses were not 200:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load per scenario per round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="the workers' CONN_MAX_AGE (default 60, as the README recommends; Django's is 0)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "BENCHMARK_CONN_MAX_AGE": str(args.conn_max_age),
            "DATABASE_URL": database_url(tmp),
        }
        jwt, cached, uncached = setup(env)
        streamed = {**env, "BENCHMARK_REVOCATION_STREAM": REDIS_URL}
        runs = [
            (
                streamed,
                [
                    Scenario("Unprotected DRF view (baseline)", "/open/"),
                    Scenario("Protected view, JWT access token", "/protected/", jwt, 0.85),
                    Scenario(
                        "Protected view, opaque token in the in-process cache", "/protected/", cached, 0.85
                    ),
                ],
            ),
            (
                env,
                [
                    Scenario("Unprotected DRF view (baseline, no stream)", "/open/"),
                    Scenario("Protected view, opaque token, no stream (1 query)", "/protected/", uncached),
                ],
            ),
        ]
        lines = [
            f"gunicorn 2 sync workers · wrk 1 thread, {args.connections} connections · "
            f"{args.rounds} rounds of {args.seconds} s, medians · {env['DATABASE_URL'].split(':')[0]}, "
            f"CONN_MAX_AGE {args.conn_max_age}",
            "",
            "| scenario | requests / s | ratio to baseline | target | met |",
            "|---|---:|---:|---|---|",
        ]
        for server_env, scenarios in runs:
            with gunicorn(server_env, free_port()) as url:
                for scenario in scenarios:  # warm every worker (keys, caches, connections)
                    wrk(url + scenario.path, scenario.token, 1, args.connections)
                for _round in range(args.rounds):
                    for scenario in scenarios:
                        scenario.rates.append(
                            wrk(url + scenario.path, scenario.token, args.seconds, args.connections)
                        )
            baseline = statistics.median(scenarios[0].rates)
            for scenario in scenarios:
                rate = statistics.median(scenario.rates)
                ratio = rate / baseline
                target = f">= {scenario.min_ratio:.2f}" if scenario.min_ratio else ""
                met = ("yes" if ratio >= scenario.min_ratio else "**no**") if scenario.min_ratio else ""
                lines.append(f"| {scenario.name} | {rate:,.0f} | {ratio:.2f} | {target} | {met} |")
        if env["DATABASE_URL"].startswith("postgres"):
            psql("DROP DATABASE IF EXISTS " + PG_NAME)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
