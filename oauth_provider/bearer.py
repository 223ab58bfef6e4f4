"""Finding the access token of a protected API request: one precompiled query.

Every protected request runs this lookup, so it is kept to the minimum: one
indexed SELECT by token hash that joins the client and the user and reads
only the columns a protected request needs. The SQL is built once per
database from the models' metadata; building it through a QuerySet on every
request would cost several times more than running it (measured in
``benchmarks/run.py``). Rows are turned into model instances the way the ORM
does it (``Model.from_db`` and each field's database converters), so the
token, its client and its user behave like any fetched model; columns left
out load on first access.

The same row, as plain values, is what ``token_cache`` stores.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, models, router

from . import token_cache
from .crypto import hash_secret
from .models import AccessToken, Client

TOKEN_FIELDS = ("id", "token_hash", "client", "user", "scope", "expires_at", "revoked_at")
CLIENT_FIELDS = ("id", "client_id", "name", "is_active")
# The password hash is never needed to serve an API request, and so is never
# read here nor held by the token cache.
USER_EXCLUDED_FIELDS = ("password",)

Row = tuple[Any, ...]
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)  # not slots: attnames is computed once and cached on the instance
class Part:
    """The columns of one model in the row."""

    model: type[models.Model]
    fields: tuple[models.Field, ...]
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.fields)

    @functools.cached_property
    def attnames(self) -> tuple[str, ...]:
        return tuple(f.attname for f in self.fields)

    def instance(self, alias: str, row: Row) -> models.Model:
        """This part of ``row`` as a model instance, as the ORM would make it."""
        return self.model.from_db(alias, self.attnames, row[self.start : self.end])


@dataclass(frozen=True)
class Lookup:
    sql: str
    token: Part
    client: Part
    user: Part
    converters: tuple[tuple[int, tuple[Converter, ...], models.Field], ...]


def _fields(model: type[models.Model], names: Sequence[str] | None, excluded: Sequence[str] = ()) -> tuple:
    concrete = model._meta.concrete_fields
    return tuple(f for f in concrete if (names is None or f.name in names) and f.name not in excluded)


@functools.cache
def _lookup(alias: str) -> Lookup:
    """The SQL and row layout for the database ``alias`` (built once)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    token = Part(AccessToken, _fields(AccessToken, TOKEN_FIELDS), 0)
    client = Part(Client, _fields(Client, CLIENT_FIELDS), token.end)
    user = Part(user_model, _fields(user_model, None, USER_EXCLUDED_FIELDS), client.end)
    columns = [
        f"{table}.{quote(f.column)}"
        for table, part in (("t", token), ("c", client), ("u", user))
        for f in part.fields
    ]
    token_client = AccessToken._meta.get_field("client")
    token_user = AccessToken._meta.get_field("user")
    token_hash = AccessToken._meta.get_field("token_hash")
    # Identifiers come from model metadata and are quoted; the hash is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(AccessToken._meta.db_table)} t "  # noqa: S608
        f"INNER JOIN {quote(Client._meta.db_table)} c "
        f"ON t.{quote(token_client.column)} = c.{quote(Client._meta.pk.column)} "
        f"LEFT OUTER JOIN {quote(user_model._meta.db_table)} u "
        f"ON t.{quote(token_user.column)} = u.{quote(user_model._meta.pk.column)} "
        f"WHERE t.{quote(token_hash.column)} = %s"
    )
    # What the ORM would apply to each column (e.g. SQLite's text to datetime).
    converters = []
    columns_in_order = [(part, field) for part in (token, client, user) for field in part.fields]
    for index, (part, field) in enumerate(columns_in_order):
        col = field.get_col(part.model._meta.db_table)
        found = (*connection.ops.get_db_converters(col), *field.get_db_converters(connection))
        if found:
            converters.append((index, found, col))
    return Lookup(sql, token, client, user, tuple(converters))


def fetch_row(alias: str, token_hash: str) -> Row | None:
    """The row of the token with this hash, converted to Python values; None if unknown."""
    lookup = _lookup(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [token_hash])
        raw = cursor.fetchone()
    if raw is None:
        return None
    row = list(raw)
    for index, converters, col in lookup.converters:
        for converter in converters:
            row[index] = converter(row[index], col, connection)
    return tuple(row)


def build(alias: str, row: Row) -> AccessToken:
    """An ``AccessToken`` with its ``client`` and ``user`` (None for a client-only token)."""
    lookup = _lookup(alias)
    token = lookup.token.instance(alias, row)
    AccessToken.client.field.set_cached_value(token, lookup.client.instance(alias, row))
    user = lookup.user.instance(alias, row) if token.user_id is not None else None
    AccessToken.user.field.set_cached_value(token, user)
    return token


def find_token(value: str) -> AccessToken | None:
    """The access token with this raw value: from ``TOKEN_CACHE`` when it
    holds it, else from the one query (and then cached if it is active)."""
    token_hash = hash_secret(value)
    alias = router.db_for_read(AccessToken)
    row = token_cache.get(token_hash)
    if row is not None:
        return build(alias, row)
    row = fetch_row(alias, token_hash)
    if row is None:
        return None
    token = build(alias, row)
    if token.is_active():
        token_cache.add(token_hash, row, token.expires_at)
    return token
