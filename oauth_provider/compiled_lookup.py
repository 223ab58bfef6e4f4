"""Lookups by a unique column, compiled to SQL once instead of on every request.

The protocol's hottest reads (the token of a protected request, the client of
a token request, the token an introspection or revocation names) are each one
indexed SELECT by a unique column, joined to a row or two. Building such a
statement through a QuerySet costs several times more than running it
(measured in ``benchmarks/run.py``), so each is built once per database from
the models' metadata. Rows become model instances the way the ORM makes them
(``Model.from_db`` and each field's database converters), so they behave like
any fetched model; columns left out load on first access.

    CLIENT = CompiledLookup(Client, "client_id")
    client = CLIENT.get(client_id)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router

Row = tuple[Any, ...]
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Join:
    """A foreign key of the looked-up model to bring along: every concrete
    field of the related model, or only ``fields``, minus ``excluded``."""

    name: str
    fields: Sequence[str] | None = None
    excluded: Sequence[str] = ()


# The user behind a code or token, without the password hash: no protocol
# request needs it, so none reads it.
USER_WITHOUT_PASSWORD = Join("user", excluded=("password",))


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
class Statement:
    """The SQL of a lookup on one database, and how to read its rows."""

    sql: str
    root: Part
    # (foreign key on the root model, the related part), in row order.
    joined: tuple[tuple[models.ForeignKey, Part], ...]
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]

    def part(self, name: str) -> Part:
        """The part of the row that the foreign key ``name`` brings along."""
        return next(part for fk, part in self.joined if fk.name == name)


def _fields(model: type[models.Model], names: Sequence[str] | None, excluded: Sequence[str]) -> tuple:
    return tuple(
        f
        for f in model._meta.concrete_fields
        if (names is None or f.name in names) and f.name not in excluded
    )


class CompiledLookup:
    """``model`` by its unique column ``key``, with ``joins`` in the same row."""

    def __init__(
        self,
        model: type[models.Model],
        key: str,
        *,
        fields: Sequence[str] | None = None,
        joins: Sequence[Join] = (),
    ) -> None:
        self.model = model
        self.key = key
        self.fields = fields
        self.joins = tuple(joins)
        self._statements: dict[str, Statement] = {}

    def statement(self, alias: str) -> Statement:
        """The SQL and row layout for the database ``alias`` (built once)."""
        try:
            return self._statements[alias]
        except KeyError:
            statement = self._statements[alias] = self._compile(alias)
            return statement

    def _compile(self, alias: str) -> Statement:
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = self.model._meta
        root = Part(self.model, _fields(self.model, self.fields, ()), 0)
        parts, joined, clauses, start = [("t", root)], [], [], root.end
        for index, join in enumerate(self.joins):
            fk = meta.get_field(join.name)
            related = fk.related_model
            part = Part(related, _fields(related, join.fields, join.excluded), start)
            table = f"j{index}"
            kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
            clauses.append(
                f"{kind} {quote(related._meta.db_table)} {table} "
                f"ON t.{quote(fk.column)} = {table}.{quote(fk.target_field.column)}"
            )
            parts.append((table, part))
            joined.append((fk, part))
            start = part.end
        columns = ", ".join(f"{table}.{quote(f.column)}" for table, part in parts for f in part.fields)
        # Identifiers come from model metadata and are quoted; the value is a parameter.
        sql = (
            f"SELECT {columns} FROM {quote(meta.db_table)} t {' '.join(clauses)} "  # noqa: S608
            f"WHERE t.{quote(meta.get_field(self.key).column)} = %s"
        )
        # What the ORM would apply to each column (e.g. SQLite's text to datetime).
        converters = []
        columns_in_order = [(part.model, f) for _table, part in parts for f in part.fields]
        for index, (model, field) in enumerate(columns_in_order):
            col = field.get_col(model._meta.db_table)
            found = (*connection.ops.get_db_converters(col), *field.get_db_converters(connection))
            if found:
                converters.append((index, found, col))
        return Statement(sql, root, tuple(joined), tuple(converters))

    def alias(self) -> str:
        return router.db_for_read(self.model)

    def fetch_row(self, alias: str, value: Any) -> Row | None:
        """The row whose ``key`` is ``value``, converted to Python values; None if none."""
        statement = self.statement(alias)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, [value])
            raw = cursor.fetchone()
        if raw is None:
            return None
        row = list(raw)
        for index, converters, col in statement.converters:
            for converter in converters:
                row[index] = converter(row[index], col, connection)
        return tuple(row)

    def build(self, alias: str, row: Row) -> models.Model:
        """The instance of ``row``, its joined relations cached on it (None
        where a nullable foreign key is empty)."""
        statement = self.statement(alias)
        instance = statement.root.instance(alias, row)
        for fk, part in statement.joined:
            related = part.instance(alias, row) if getattr(instance, fk.attname) is not None else None
            fk.set_cached_value(instance, related)
        return instance

    def get(self, value: Any) -> models.Model | None:
        """The instance whose ``key`` is ``value``, or None: one query."""
        alias = self.alias()
        row = self.fetch_row(alias, value)
        return None if row is None else self.build(alias, row)
