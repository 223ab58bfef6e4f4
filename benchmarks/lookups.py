"""Is each precompiled lookup worth keeping? Each against the ORM, in one run.

The hot-path reads are built once as SQL (``oauth_provider/compiled_lookup.py``).
Every ``CompiledLookup`` also reads the very same row through the ORM
(``fetch_row_with_orm``: one query, built on each call), which the tests
compare it with (``tests/test_compiled_lookup.py``, ``tests/test_user_models.py``),
so the two are equivalent by test; this says what the precompiled one saves.

    python -m benchmarks.lookups
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python -m benchmarks.lookups

A fresh database is created and dropped by the run, with the benchmark's
settings (``benchmarks.settings``). Microseconds per lookup of a row that
exists, median of five rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from oauth_provider import client_auth, clock, id_tokens, token_lookup, userinfo  # noqa: E402
from oauth_provider.compiled_lookup import CompiledLookup  # noqa: E402
from oauth_provider.grants.base import credential_lookup  # noqa: E402
from oauth_provider.models import AccessToken, AuthorizationCode, Client, RefreshToken, SignIn  # noqa: E402
from oauth_provider.subjects import subject  # noqa: E402


def rows() -> list[tuple[str, CompiledLookup, object]]:
    """(what it is for, the lookup, the key of a row it finds)."""
    user = get_user_model().objects.create_user("lookups")
    client = Client(
        name="Lookups", redirect_uris="https://client.example.com/cb", grant_types=["authorization_code"]
    )
    client.set_secret()
    client.save()
    now, later = clock.now(), clock.now() + timedelta(hours=1)
    common = {"client": client, "user": user, "scope": "openid read", "created_at": now, "expires_at": later}
    access, _ = AccessToken.issue(**common)
    refresh, _ = RefreshToken.issue(**common, access_token=access, family_id=access.family_id)
    code, _ = AuthorizationCode.issue(
        **common,
        redirect_uri="https://client.example.com/cb",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    SignIn.objects.create(
        family_id=access.family_id,
        client=client,
        user=user,
        subject=subject(user, client),
        sid="lookups",
        auth_time=now,
    )
    return [
        ("protected request: the access token, client, user", token_lookup.PROTECTED, access.token_hash),
        (
            "introspection/revocation: an access token",
            token_lookup.TOKEN_TYPES["access_token"],
            access.token_hash,
        ),
        (
            "introspection/revocation: a refresh token",
            token_lookup.TOKEN_TYPES["refresh_token"],
            refresh.token_hash,
        ),
        ("client authentication: the client", client_auth.CLIENT, client.client_id),
        ("code exchange: the code with its user", credential_lookup(AuthorizationCode, ()), code.token_hash),
        ("refresh: the refresh token with its user", credential_lookup(RefreshToken, ()), refresh.token_hash),
        ("ID token: the sign-in with its user", id_tokens.SIGN_IN, access.family_id),
        ("UserInfo: the sign-in with its client", userinfo.SIGN_IN, access.family_id),
    ]


def per_call(call: Callable[[], object], calls: int) -> float:
    for _ in range(calls // 10):
        call()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="lookups per round")
    args = parser.parse_args()
    db = settings.DATABASES["default"]
    db["CONN_MAX_AGE"] = None
    lines = [
        f"Database: {connection.vendor} · µs per lookup, median of 5 rounds of {args.calls}",
        "",
        "| lookup | precompiled, µs | ORM, µs | ORM / precompiled |",
        "|---|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = connection.vendor == "sqlite"
        db["TEST"]["NAME"] = os.path.join(tmp, "lookups.sqlite3") if sqlite else "oauth_provider_lookups"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            for name, lookup, key in rows():
                alias = lookup.alias()
                if lookup.fetch_row(alias, key) != lookup.fetch_row_with_orm(alias, key):
                    raise SystemExit(f"{name}: the two paths read different rows")
                compiled, orm = [], []
                for _round in range(5):
                    compiled.append(per_call(lambda: lookup.fetch_row(alias, key), args.calls))  # noqa: B023
                    orm.append(per_call(lambda: lookup.fetch_row_with_orm(alias, key), args.calls))  # noqa: B023
                fast, slow = statistics.median(compiled), statistics.median(orm)
                lines.append(f"| {name} | {fast:.0f} | {slow:.0f} | {slow / fast:.1f} |")
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
