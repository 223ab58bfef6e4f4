"""Throughput and SQL queries per request of the protocol endpoints and a protected API.

Every scenario is measured in the same run, on the same machine, as a ratio
to an unprotected DRF view (the baseline), so the numbers travel between
machines better than raw requests per second. Requests go through Django's
full WSGI stack (middleware included) in this process, without a network, so
what is measured is our code and the database, not a socket.

    python -m benchmarks.run                       # SQLite, a file in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python -m benchmarks.run

The database is a fresh one (``oauth_provider_benchmark`` on PostgreSQL, a
temporary file for SQLite), created and dropped by the run; PostgreSQL runs
with prepared statements unless ``--no-prepare``. The in-process cache
scenario needs Redis for its revocation stream (``REDIS_URL``, default
redis://127.0.0.1:6379/0). The report ends
with what one round trip to each service costs in the same run, the floor
under every scenario that makes one.
Each scenario runs ``--requests`` requests per round; the table shows the
median over ``--rounds`` rounds, which are interleaved so that a slow moment
of the machine hits every scenario alike.

Each scenario's *floor* is its own SQL replayed raw: the statements (with
their parameters) that its requests sent, captured in a transaction that is
rolled back, then executed again through a bare cursor, in the same run.
No implementation can send that SQL faster, and none can answer faster than
the baseline view plus that SQL: *efficiency* is that sum over the
scenario's time per request (1.00: nothing beyond Django, DRF and the
database's own work). A request that writes is replayed in a transaction
that is rolled back (its statements refer to rows the capture rolled back,
so it could not be committed), and the floor adds what one commit costs,
measured in the same round: the least any implementation can pay to keep
what it wrote (on SQLite with Django's defaults, a journal written and
synced to disk).
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from benchmarks.settings import REVOCATION_STREAM  # noqa: E402
from oauth_provider import clock, revocation_stream  # noqa: E402
from oauth_provider.issuance import issue_tokens  # noqa: E402
from oauth_provider.models import AccessToken, AuthorizationCode, Client, RefreshToken, SignIn  # noqa: E402
from oauth_provider.pkce import s256  # noqa: E402
from oauth_provider.settings import JWT  # noqa: E402
from oauth_provider.subjects import subject  # noqa: E402

Environ = dict[str, object]

# Transaction control is not counted as a query: Django logs SQLite's BEGIN and
# COMMIT but not PostgreSQL's (psycopg sends them itself), and savepoints are
# bookkeeping of nested transactions.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
VERIFIER = "benchmark-code-verifier-" + "x" * 40
REDIRECT_URI = "https://client.example.com/callback"
OPENID_SCOPE = "openid profile email read"


def environ(method: str, path: str, data: dict[str, str] | None = None, authorization: str = "") -> Environ:
    """A WSGI environ as a server would hand it to Django."""
    body = urlencode(data or {}).encode()
    env: Environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
    }
    if data is not None:
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    if authorization:
        env["HTTP_AUTHORIZATION"] = authorization
    return env


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class Scenario:
    name: str
    # Builds the environs of one round, outside the timed part (codes and
    # tokens are single use, so each round gets fresh ones).
    prepare: Callable[[int], list[Environ]]
    settings: dict[str, object] = field(default_factory=dict)
    min_ratio: float | None = None
    max_queries: int | None = None
    min_efficiency: float | None = None
    # Transactions that write, one request may commit: an atomic block, or a
    # write autocommitted on its own. Reads before the first write run on
    # their own and are not counted: in the transaction they would see
    # nothing more (READ COMMITTED) and cost BEGIN and COMMIT.
    max_transactions: int | None = None
    # Called once its settings are in force, before any request is timed.
    ready: Callable[[], object] = lambda: None
    rates: list[float] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)
    queries: int = 0
    transactions: int = 0


class Fixture:
    """The clients, user and credentials the scenarios use."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        self.user = get_user_model().objects.create_user("bench")
        self.client = Client(
            name="Benchmark app",
            redirect_uris=REDIRECT_URI,
            grant_types=["authorization_code", "client_credentials", "refresh_token"],
            allow_introspection=True,
        )
        self.secret = self.client.set_secret()
        self.client.save()
        self.auth = basic(self.client.client_id, self.secret)
        _token, self.access_token = self.issue(AccessToken)
        self.jwt_client = Client(
            name="Benchmark app (JWT access tokens)",
            redirect_uris=REDIRECT_URI,
            grant_types=["authorization_code"],
            access_token_format=JWT,
        )
        self.jwt_client.save()
        openid_token, self.openid_access_token = self.issue(AccessToken, scope=OPENID_SCOPE)
        self.sign_in(openid_token.family_id)

    def issue(self, model: type, **fields: object) -> tuple[object, str]:
        now = clock.now()
        fields.setdefault("scope", "read")
        # Meant for the example API, which enforces its audience (RFC 8707).
        fields.setdefault("resources", settings.OAUTH_PROVIDER.get("RESOURCE_SERVER_RESOURCE") or "")
        return model.issue(
            client=self.client,
            user=self.user,
            created_at=now,
            expires_at=now + timedelta(hours=1),
            **fields,
        )

    def codes(self, n: int, *, openid: bool = False) -> Iterator[str]:
        """Codes; with ``openid``, of OpenID Connect sign-ins (the token
        response then carries an ID token)."""
        for _ in range(n):
            code, value = self.issue(
                AuthorizationCode,
                scope=OPENID_SCOPE if openid else "read",
                redirect_uri=REDIRECT_URI,
                code_challenge=s256(VERIFIER),
                code_challenge_method="S256",
            )
            if openid:
                self.sign_in(code.family_id)
            yield value

    def sign_in(self, family_id: object) -> None:
        SignIn.objects.create(
            family_id=family_id,
            client=self.client,
            user=self.user,
            subject=subject(self.user, self.client),
            sid="benchmark",
            auth_time=clock.now(),
        )

    def refresh_tokens(self, n: int) -> Iterator[str]:
        for _ in range(n):
            access, _value = self.issue(AccessToken)
            yield self.issue(RefreshToken, access_token=access, family_id=access.family_id)[1]

    def jwt_access_token(self) -> str:
        """A fresh JWT access token (RFC 9068), as the token endpoint issues it:
        one per round, since they live only JWT_ACCESS_TOKEN_EXPIRE_SECONDS."""
        resource = settings.OAUTH_PROVIDER["RESOURCE_SERVER_RESOURCE"]
        response = issue_tokens(
            client=self.jwt_client,
            user=self.user,
            scopes=["read"],
            resources=[resource],
            grant_type="authorization_code",
            refresh=False,
        )
        return response["access_token"]

    def access_tokens(self, n: int) -> Iterator[str]:
        for _ in range(n):
            yield self.issue(AccessToken)[1]


def scenarios(fx: Fixture) -> list[Scenario]:
    bearer = environ("GET", "/protected/", authorization=f"Bearer {fx.access_token}")
    streamed = {"REVOCATION_STREAM": REVOCATION_STREAM}

    def jwt_bearer(n: int) -> list[Environ]:
        return [environ("GET", "/protected/", authorization=f"Bearer {fx.jwt_access_token()}")] * n

    def token_request(data: dict[str, str]) -> Environ:
        return environ("POST", "/o/token/", data, fx.auth)

    def code_exchange(code: str) -> Environ:
        return token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": VERIFIER,
            }
        )

    return [
        Scenario("Unprotected DRF view (baseline)", lambda n: [environ("GET", "/open/")] * n),
        Scenario(
            "Protected view, JWT access token (stream on)",
            jwt_bearer,
            settings=streamed,
            min_ratio=0.85,
            max_queries=0,
            ready=wait_for_revocation_stream,
        ),
        Scenario(
            "Protected view, opaque token in the in-process cache (stream on)",
            lambda n: [bearer] * n,
            settings=streamed,
            min_ratio=0.85,
            max_queries=0,
            ready=wait_for_revocation_stream,
        ),
        Scenario(
            "Protected view, opaque token (no stream)",
            lambda n: [bearer] * n,
            max_queries=1,
            min_efficiency=0.85,
        ),
        Scenario(
            "Protected view, JWT access token (no stream: the database decides)", jwt_bearer, max_queries=1
        ),
        Scenario(
            "Client credentials",
            lambda n: [token_request({"grant_type": "client_credentials", "scope": "read"})] * n,
            max_queries=2,
            max_transactions=1,
            min_efficiency=0.75,
        ),
        Scenario(
            "Authorization code exchange",
            lambda n: [code_exchange(code) for code in fx.codes(n)],
            max_queries=5,
            max_transactions=1,
            min_efficiency=0.75,
        ),
        Scenario(
            "Authorization code exchange, OpenID Connect (ID token)",
            lambda n: [code_exchange(code) for code in fx.codes(n, openid=True)],
        ),
        Scenario(
            "UserInfo",
            lambda n: [environ("GET", "/o/userinfo/", authorization=f"Bearer {fx.openid_access_token}")] * n,
        ),
        Scenario(
            "Refresh (rotation)",
            lambda n: [
                token_request({"grant_type": "refresh_token", "refresh_token": token})
                for token in fx.refresh_tokens(n)
            ],
            max_queries=6,
            max_transactions=1,
            min_efficiency=0.75,
        ),
        Scenario(
            "Introspection",
            lambda n: [environ("POST", "/o/introspect/", {"token": fx.access_token}, fx.auth)] * n,
            max_queries=2,
            min_efficiency=0.85,
        ),
        Scenario(
            "Revocation",
            lambda n: [
                environ("POST", "/o/revoke/", {"token": token, "token_type_hint": "access_token"}, fx.auth)
                for token in fx.access_tokens(n)
            ],
            max_queries=3,
            max_transactions=1,
            min_efficiency=0.75,
        ),
    ]


class App:
    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, env: Environ) -> int:
        """Serve one request; return its status code."""
        status: list[str] = []
        env = {**env, "wsgi.input": io.BytesIO(env["wsgi.input"].getvalue())}
        response = self.handler(env, lambda s, headers, exc_info=None: status.append(s))
        for _chunk in response:
            pass
        response.close()
        return int(status[0].split()[0])


def measure(app: App, scenario: Scenario, requests: int) -> None:
    """One round of ``scenario``: ``requests`` timed requests, each of which must succeed."""
    environs = scenario.prepare(requests)
    gc.collect()
    start = time.perf_counter()
    statuses = [app(env) for env in environs]
    elapsed = time.perf_counter() - start
    failed = [status for status in statuses if status != 200]
    if failed:
        raise SystemExit(f"{scenario.name}: {len(failed)} of {requests} requests failed (status {failed[0]})")
    scenario.rates.append(requests / elapsed)


def count_queries(app: App, scenario: Scenario) -> tuple[int, int]:
    """Statements one warm request of ``scenario`` sends to the database, and
    the transactions that write (see ``Scenario.max_transactions``)."""
    (env,) = scenario.prepare(1)
    app(env)  # warm: the in-process cache scenario's first request fills the cache
    (env,) = scenario.prepare(1)
    autocommitted = []

    def record(execute, sql, params, many, context):
        statement = sql.lstrip().upper()
        if not connection.in_atomic_block and not statement.startswith(("SELECT", *TRANSACTION_CONTROL)):
            autocommitted.append(sql)
        return execute(sql, params, many, context)

    ends = []
    commit, rollback = connection.commit, connection.rollback
    connection.commit = lambda: (ends.append("commit"), commit())[1]
    connection.rollback = lambda: (ends.append("rollback"), rollback())[1]
    try:
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
            status = app(env)
    finally:
        del connection.commit, connection.rollback
    if status != 200:
        raise SystemExit(f"{scenario.name}: status {status}")
    queries = sum(
        1 for query in captured.captured_queries if not query["sql"].startswith(TRANSACTION_CONTROL)
    )
    return queries, len(ends) + len(autocommitted)


Statement = tuple[str, object]


def capture_sql(app: App, environs: list[Environ]) -> list[list[Statement]]:
    """The statements each request sends, with parameters, leaving no trace:
    every request runs inside a transaction that is rolled back (its own
    transactions become savepoints), so its codes and tokens stay unused."""
    captured: list[list[Statement]] = []

    def record(execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL):
            captured[-1].append((sql, params))
        return execute(sql, params, many, context)

    # Django closes a connection left in a transaction at the end of a request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        for env in environs:
            captured.append([])
            with transaction.atomic(), connection.execute_wrapper(record):
                status = app(env)
                transaction.set_rollback(True)
            if status != 200:
                raise SystemExit(f"capturing SQL: status {status}")
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return captured


def replay(requests: list[list[Statement]], commit: float) -> float:
    """Seconds to execute ``requests``' statements through a bare cursor, plus
    ``commit`` seconds for each request that writes (see the module
    docstring); one that only reads runs without a transaction, as it did."""
    start = time.perf_counter()
    commits = 0
    for statements in requests:
        writes = any(not sql.lstrip().upper().startswith("SELECT") for sql, _params in statements)
        if writes:
            commits += 1
            with transaction.atomic():
                execute_all(statements)
                transaction.set_rollback(True)
        else:
            execute_all(statements)
    return time.perf_counter() - start + commits * commit


def execute_all(statements: list[Statement]) -> None:
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()


# A table of the run's own database, for measuring what a commit costs.
COMMIT_TABLE = "benchmark_commit"


def commit_cost(times: int = 50) -> float:
    """Seconds one commit adds to a one-row write: an INSERT committed, less
    the same rolled back. (A write that changes nothing, such as an UPDATE
    to the value a row holds, is not one: SQLite then syncs nothing.)"""

    def write(commit: bool) -> float:
        start = time.perf_counter()
        for _ in range(times):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {COMMIT_TABLE} (n) VALUES (1)")  # noqa: S608
                transaction.set_rollback(not commit)
        return (time.perf_counter() - start) / times

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {COMMIT_TABLE} (n integer)")
    return max(0.0, statistics.median(write(True) - write(False) for _ in range(3)))


def measure_floor(app: App, scenario: Scenario, requests: int, commit: float) -> None:
    """One round of ``scenario``'s floor: its requests' own SQL, replayed,
    and a commit for each request that writes."""
    captured = capture_sql(app, scenario.prepare(requests))
    gc.collect()
    elapsed = replay(captured, commit)
    scenario.floors.append(requests / elapsed if elapsed else float("inf"))


def run(rounds: int, requests: int, only: str | None = None) -> list[Scenario]:
    app = App()
    fx = Fixture()
    baseline, *others = scenarios(fx)
    all_scenarios = [baseline, *(s for s in others if not only or only.lower() in s.name.lower())]
    for scenario in all_scenarios:
        with override_settings(OAUTH_PROVIDER={**settings.OAUTH_PROVIDER, **scenario.settings}):
            scenario.ready()
            scenario.queries, scenario.transactions = count_queries(app, scenario)
    for _round in range(rounds):
        commit = commit_cost()
        for scenario in all_scenarios:
            with override_settings(OAUTH_PROVIDER={**settings.OAUTH_PROVIDER, **scenario.settings}):
                scenario.ready()
                measure(app, scenario, requests)
                if scenario.queries:
                    measure_floor(app, scenario, requests, commit)
    return all_scenarios


def round_trips(calls: int = 2000) -> dict[str, float]:
    """Microseconds per call of the cheapest statement each service answers,
    through Django (cursor, cache), measured in this run."""

    def per_call(call: Callable[[], object]) -> float:
        for _ in range(100):
            call()
        start = time.perf_counter()
        for _ in range(calls):
            call()
        return (time.perf_counter() - start) / calls * 1e6

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    stream = redis.Redis.from_url(REVOCATION_STREAM["LOCATION"])
    return {
        f"{connection.vendor} SELECT 1": per_call(select_one),
        "Redis PING (REVOCATION_STREAM server)": per_call(stream.ping),
    }


def wait_for_revocation_stream() -> None:
    """Until this process trusts its stream (the cache is used only then) and
    vouches for a token issued now (one issued before it subscribed is
    checked against the database once: ``revocation_stream.heard_since``)."""
    revocation_stream.trusted()
    if not revocation_stream.stream().listener.resynchronised.wait(30):
        raise SystemExit("The revocation stream never became trusted: is Redis running?")
    deadline = time.monotonic() + 30
    # A JWT's iat is in whole seconds.
    while not revocation_stream.heard_since(clock.now().replace(microsecond=0)):
        if time.monotonic() > deadline:
            raise SystemExit("The revocation stream never vouched for a new token.")
        time.sleep(0.05)


def report(results: list[Scenario], rounds: int, requests: int, trips: dict[str, float]) -> str:
    baseline = statistics.median(results[0].rates)
    lines = [
        f"Database: {connection.vendor} {connection.Database.__name__} · Python {sys.version.split()[0]} · "
        f"Django {django.get_version()} · {rounds} rounds of {requests} requests, medians",
        "",
        "| scenario | SQL queries / request | write transactions / request | requests / s "
        "| ratio to baseline | own SQL replayed raw, µs | efficiency: (baseline + own SQL) / request "
        "| target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for scenario in results:
        rate = statistics.median(scenario.rates)
        ratio = rate / baseline
        floor = statistics.median(scenario.floors) if scenario.floors else None
        efficiency = (1 / baseline + 1 / floor) * rate if floor else None
        targets, met = [], True
        if scenario.min_ratio is not None:
            targets.append(f"ratio >= {scenario.min_ratio:.2f}")
            met &= ratio >= scenario.min_ratio
        if scenario.min_efficiency is not None:
            targets.append(f"efficiency >= {scenario.min_efficiency:.2f}")
            met &= efficiency is not None and efficiency >= scenario.min_efficiency
        if scenario.max_queries is not None:
            targets.append(f"<= {scenario.max_queries} queries")
            met &= scenario.queries <= scenario.max_queries
        if scenario.max_transactions is not None:
            targets.append(f"{scenario.max_transactions} transaction")
            met &= scenario.transactions <= scenario.max_transactions
        verdict = ("yes" if met else "**no**") if targets else ""
        cells = [
            scenario.name,
            scenario.queries,
            scenario.transactions,
            f"{rate:,.0f}",
            f"{ratio:.2f}",
            f"{1e6 / floor:.0f}" if floor else "",
            f"{efficiency:.2f}" if efficiency else "",
            ", ".join(targets),
            verdict,
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += ["", f"One baseline request: {1e6 / baseline:.0f} µs. One round trip through Django:"]
    lines += [
        f"- {name}: {micros:.0f} µs ({micros * baseline / 1e6:.2f} of a baseline request)"
        for name, micros in trips.items()
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario per round")
    parser.add_argument("--only", help="run the baseline and the scenarios whose name contains this")
    parser.add_argument("--no-prepare", action="store_true", help="PostgreSQL without prepared statements")
    args = parser.parse_args()

    db = settings.DATABASES["default"]
    db["CONN_MAX_AGE"] = None  # one connection for the run, as a production pool would give
    if args.no_prepare:
        db["OPTIONS"].pop("server_side_binding", None)
        db["OPTIONS"].pop("prepare_threshold", None)
    with tempfile.TemporaryDirectory() as tmp:
        # Its own database, never the test suite's: a file for SQLite, as in
        # production (an in-memory database would flatter every number).
        sqlite = connection.vendor == "sqlite"
        db["TEST"]["NAME"] = os.path.join(tmp, "benchmark.sqlite3") if sqlite else "oauth_provider_benchmark"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            results = run(args.rounds, args.requests, args.only)
            trips = round_trips()
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print(report(results, args.rounds, args.requests, trips))


if __name__ == "__main__":
    main()
