"""Lookups by a unique column, compiled to SQL once instead of on every request.

The protocol's hottest reads (the token of a protected request, the client of
a token request, the token an introspection or revocation names) are each one
indexed SELECT by a unique column, joined to a row or two. Building such a
statement through a QuerySet costs several times more than running it
(measured in ``benchmarks/run.py``), so each is built once per database from
the models' metadata. Rows become model instances the way the ORM makes them
(``Model.from_db`` and each column's database converters), so they behave like
any fetched model; columns left out load on first access.

    CLIENT = CompiledLookup(Client, "client_id")
    client = CLIENT.get(client_id)

Which models the precompiled SQL serves
---------------------------------------
The statement names one table per model, so it is right only when every
column it reads lives in its model's own table and is selected as a plain
column. That is checked from the metadata when a lookup is first compiled;
where it does not hold, the lookup reads the very same columns through the ORM
instead (``values_list`` with the same joins: still one query, but built on
every call). The ORM is taken for:

- multi-table inheritance anywhere in the row (``class Member(User)`` as
  ``AUTH_USER_MODEL``): the parent's columns live in the parent's table, and
  the ORM already knows how to join every level of a parent chain (several
  levels, several parents, parent links of any name). Writing that again here
  would be a second, less tested copy of it, for sites that pay only the
  query's construction;
- a column the backend selects through an SQL expression of its own (a field
  whose ``select_format`` needs parameters).

Every other user model Django supports takes the precompiled path: a swapped
``AbstractUser`` or ``AbstractBaseUser`` subclass, a primary key of any name
and type, any ``USERNAME_FIELD``, proxies, a ``db_table`` that already carries
its quotes, fields with ``from_db_value`` (converted as the ORM converts them,
foreign keys to such a primary key included). The password hash is left out
by name (``USER_WITHOUT_PASSWORD``) on both paths, wherever the field lives.

Both paths give the same row: the looked-up model's columns, then each join's,
each model's in ``_meta.concrete_fields`` order. ``Layout.fingerprint`` names
that order, so a row kept outside the process (``token_cache``) is never read
back by code that expects other columns (a deploy that added, removed or
reordered fields).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router
from django.db.models.sql import Query

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


@dataclass(frozen=True)  # not slots: cached properties are computed once and kept on the instance
class Part:
    """The columns of one model in the row. ``prefix`` is how the ORM reaches
    the model from the looked-up one (``""`` for itself, ``"user__"``)."""

    model: type[models.Model]
    fields: tuple[models.Field, ...]
    start: int
    prefix: str = ""

    @property
    def end(self) -> int:
        return self.start + len(self.fields)

    @functools.cached_property
    def attnames(self) -> tuple[str, ...]:
        return tuple(f.attname for f in self.fields)

    @functools.cached_property
    def in_own_table(self) -> bool:
        """Whether every column lives in the model's own table (not so for the
        fields a multi-table child inherits, whose ``model`` is the parent)."""
        return all(_lives_in(f, self.model) for f in self.fields)

    def instance(self, alias: str, row: Row) -> models.Model:
        """This part of ``row`` as a model instance, as the ORM would make it."""
        return self.model.from_db(alias, self.attnames, row[self.start : self.end])


@dataclass(frozen=True)
class Layout:
    """Which columns a lookup's row holds, in order; the same on every database."""

    root: Part
    # (foreign key on the root model, the related part), in row order.
    joined: tuple[tuple[models.ForeignKey, Part], ...]

    @property
    def parts(self) -> tuple[Part, ...]:
        return (self.root, *(part for _fk, part in self.joined))

    def part(self, name: str) -> Part:
        """The part of the row that the foreign key ``name`` brings along."""
        return next(part for fk, part in self.joined if fk.name == name)

    @functools.cached_property
    def paths(self) -> tuple[str, ...]:
        """The row's columns as ``values_list`` names them (``"user__email"``)."""
        return tuple(part.prefix + attname for part in self.parts for attname in part.attnames)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hex digest of the models, fields, columns and types in row
        order: it changes whenever a row of this layout would be read wrongly."""
        described = [
            (part.model._meta.label, f.attname, f.column, f.get_internal_type())
            for part in self.parts
            for f in part.fields
        ]
        return hashlib.sha256(repr(described).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Statement:
    """The SQL of a lookup on one database, and how to convert its rows; ``sql``
    is None where the precompiled SQL cannot be proven right (module docstring)."""

    sql: str | None
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...] = ()


def _fields(model: type[models.Model], names: Sequence[str] | None, excluded: Sequence[str]) -> tuple:
    return tuple(
        f
        for f in model._meta.concrete_fields
        if (names is None or f.name in names) and f.name not in excluded
    )


def _lives_in(field: models.Field, model: type[models.Model]) -> bool:
    """Whether ``field``'s column is in ``model``'s own table (a proxy's is its concrete model's)."""
    return field.model._meta.concrete_model is model._meta.concrete_model


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

    @functools.cached_property
    def layout(self) -> Layout:
        """The row's columns (read from the models' metadata on first use)."""
        meta = self.model._meta
        root = Part(self.model, _fields(self.model, self.fields, ()), 0)
        joined, start = [], root.end
        for join in self.joins:
            fk = meta.get_field(join.name)
            related = fk.related_model
            part = Part(related, _fields(related, join.fields, join.excluded), start, f"{join.name}__")
            joined.append((fk, part))
            start = part.end
        return Layout(root, tuple(joined))

    def statement(self, alias: str) -> Statement:
        """The SQL and row converters for the database ``alias`` (built once)."""
        try:
            return self._statements[alias]
        except KeyError:
            statement = self._statements[alias] = self._compile(alias)
            return statement

    def _compile(self, alias: str) -> Statement:
        layout = self.layout
        key = self.model._meta.get_field(self.key)
        if not self._in_own_tables(key):
            return Statement(None)
        connection = connections[alias]
        quote = connection.ops.quote_name
        compiler = Query(self.model).get_compiler(connection=connection)
        tables = [("t", layout.root)]
        clauses = []
        for index, (fk, part) in enumerate(layout.joined):
            table = f"j{index}"
            kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
            clauses.append(
                f"{kind} {quote(part.model._meta.db_table)} {table} "
                f"ON t.{quote(fk.column)} = {table}.{quote(fk.target_field.column)}"
            )
            tables.append((table, part))
        columns, converters = [], []
        for index, (table, field) in enumerate((t, f) for t, part in tables for f in part.fields):
            col = field.get_col(table)
            # As the ORM selects and converts each column (compiler.get_select and
            # get_converters): the column's own field and, through a foreign key,
            # its target's (e.g. SQLite's text to datetime, a from_db_value).
            sql, params = col.select_format(compiler, f"{table}.{quote(field.column)}", [])
            if params:
                return Statement(None)
            columns.append(sql)
            found = (*connection.ops.get_db_converters(col), *col.get_db_converters(connection))
            if found:
                converters.append((index, found, col))
        # Identifiers come from model metadata and are quoted; the value is a parameter.
        sql = (
            f"SELECT {', '.join(columns)} FROM {quote(self.model._meta.db_table)} t "  # noqa: S608
            f"{' '.join(clauses)} WHERE t.{quote(key.column)} = %s"
        )
        return Statement(sql, tuple(converters))

    def _in_own_tables(self, key: models.Field) -> bool:
        """Whether every column the SQL would name lives in its model's own
        table: the row's columns, the key, and both ends of each join."""
        layout = self.layout
        return (
            all(part.in_own_table for part in layout.parts)
            and _lives_in(key, self.model)
            and all(
                _lives_in(fk, self.model) and _lives_in(fk.target_field, fk.related_model)
                for fk, _ in layout.joined
            )
        )

    def alias(self) -> str:
        return router.db_for_read(self.model)

    def fetch_row(self, alias: str, value: Any) -> Row | None:
        """The row whose ``key`` is ``value``, converted to Python values; None if none."""
        statement = self.statement(alias)
        if statement.sql is None:
            return self.fetch_row_with_orm(alias, value)
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

    def fetch_row_with_orm(self, alias: str, value: Any) -> Row | None:
        """The same row as ``fetch_row``, read through the ORM: one query, built
        on each call. What the precompiled SQL falls back to, and what tests
        compare it with."""
        queryset = self.model._base_manager.using(alias).filter(**{self.key: value})
        return next(iter(queryset.values_list(*self.layout.paths)[:1]), None)

    def build(self, alias: str, row: Row) -> models.Model:
        """The instance of ``row``, its joined relations cached on it (None
        where a nullable foreign key is empty)."""
        layout = self.layout
        instance = layout.root.instance(alias, row)
        for fk, part in layout.joined:
            related = part.instance(alias, row) if getattr(instance, fk.attname) is not None else None
            fk.set_cached_value(instance, related)
        return instance

    def get(self, value: Any) -> models.Model | None:
        """The instance whose ``key`` is ``value``, or None: one query."""
        alias = self.alias()
        row = self.fetch_row(alias, value)
        return None if row is None else self.build(alias, row)
