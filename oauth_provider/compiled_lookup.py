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

Any user model Django supports
------------------------------
The statement is built from the metadata the ORM builds its own from, and
follows the same rules, so that it is right for every model a joined foreign
key can point to (above all ``AUTH_USER_MODEL``):

- each column is read from the table that holds it: a multi-table child's
  inherited columns (``class Member(Person)``, any depth, any number of
  parents) from its parents' tables, joined along the parent links as
  ``Options.get_path_to_parent`` gives them, outer-joined when the child is;
- a foreign key joins its target column, whatever the primary key is called
  and whatever its type; a proxy reads its concrete model's table; a
  ``db_table`` that carries its own quotes (a schema) is used as the ORM uses it;
- each column is converted as the ORM's compiler converts it (the backend's
  converters, the field's ``from_db_value``, and through a foreign key those of
  its target), and selected through the field's ``select_format``.

Where the SQL built here could not be proven the same as the ORM's (a field
whose ``select_format`` needs query parameters, which the statement does not
carry), the lookup reads the very same columns through the ORM instead
(``values_list`` with the same joins): still one query, but built on every
call, which makes the lookup about ten times slower. The password hash is
left out by name (``USER_WITHOUT_PASSWORD``) on both paths, wherever it
lives. ``tests/test_user_models.py`` runs the whole code flow with each kind
of user model and compares both paths' rows.

Both paths give the same row: the looked-up model's columns, then each join's,
each model's in ``_meta.concrete_fields`` order. ``Layout.fingerprint`` names
that order, so that a row kept outside the process (``token_cache``) is never
read back by code that expects other columns (a deploy that added, removed or
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
    """A related row to bring along: every concrete field of the related
    model, or only ``fields``, minus ``excluded``.

    ``name`` is a foreign key of the looked-up model or, with ``through``
    (the ``name`` of an earlier join), a reverse one-to-one relation of
    that join's model, such as the user's ``oauth_subject``: outer-joined,
    since the related row may not exist (then the relation is cached as
    missing, and reading it raises ``DoesNotExist`` without a query).
    """

    name: str
    fields: Sequence[str] | None = None
    excluded: Sequence[str] = ()
    through: str | None = None


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

    def instance(self, alias: str, row: Row) -> models.Model:
        """This part of ``row`` as a model instance, as the ORM would make it."""
        return self.model.from_db(alias, self.attnames, row[self.start : self.end])


@dataclass(frozen=True)
class Joined:
    """A part of the row brought along by ``relation`` (a foreign key, or a
    reverse one-to-one relation) of the part numbered ``origin`` (0: the
    looked-up model; parts are numbered in row order)."""

    name: str
    relation: models.ForeignKey | models.OneToOneRel
    part: Part
    origin: int

    @property
    def reverse(self) -> bool:
        return not self.relation.concrete

    @property
    def joined_field(self) -> models.Field:
        """The field whose column the join compares: the foreign key's
        target in the related model, or the related model's own one-to-one
        field (whose column is NULL in the row when no related row exists)."""
        relation = self.relation
        return relation.field if isinstance(relation, models.OneToOneRel) else relation.target_field


@dataclass(frozen=True)
class Layout:
    """Which columns a lookup's row holds, in order; the same on every database."""

    root: Part
    joined: tuple[Joined, ...]  # in row order

    @property
    def parts(self) -> tuple[Part, ...]:
        return (self.root, *(joined.part for joined in self.joined))

    def part(self, name: str) -> Part:
        """The part of the row that the join ``name`` brings along."""
        return next(joined.part for joined in self.joined if joined.name == name)

    @functools.cached_property
    def paths(self) -> tuple[str, ...]:
        """The row's columns as ``values_list`` names them (``"user__email"``)."""
        return tuple(part.prefix + attname for part in self.parts for attname in part.attnames)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hex digest of the models, fields, columns and field classes
        in row order: it changes whenever a row of this layout would be read
        wrongly (a column added, removed, moved, renamed or given another type)."""
        described = [
            (part.model._meta.label, f.attname, f.column, type(f).__module__, type(f).__qualname__)
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


class _Tables:
    """The FROM clause of a statement: ``t`` for the looked-up model, one
    alias per joined part, and each multi-table parent a part's columns need,
    joined once along its parent link, as the ORM joins it
    (``Options.get_path_to_parent``). Parts are numbered as in the row (0 is
    the looked-up model)."""

    def __init__(self, quote: Callable[[str], str], model: type[models.Model]) -> None:
        self.quote = quote
        self.first = f"{quote(model._meta.db_table)} t"
        self.clauses: list[str] = []
        self.aliases: dict[tuple[int, type[models.Model]], str] = {(0, model._meta.concrete_model): "t"}
        self.kinds: dict[int, str] = {0: "INNER JOIN"}

    def join(self, index: int, model: type[models.Model], kind: str, left: str, target: models.Field) -> None:
        """Join ``model``'s table for part ``index`` where ``left`` (an aliased
        column) equals the column of ``target``; ``kind`` is the SQL join."""
        table = f"j{len(self.aliases)}"
        right = f"{table}.{self.quote(target.column)}"
        self.clauses.append(f"{kind} {self.quote(model._meta.db_table)} {table} ON {left} = {right}")
        self.aliases[(index, model._meta.concrete_model)] = table
        self.kinds.setdefault(index, kind)

    def holding(self, index: int, model: type[models.Model], field: models.Field) -> str:
        """The alias of the table that holds ``field``'s column, for part
        ``index`` (of ``model``): its own, or a parent's joined for it."""
        for step in model._meta.get_path_to_parent(field.model._meta.concrete_model):
            parent = step.to_opts.model
            if (index, parent) not in self.aliases:
                # A parent row exists for every child row, but an outer-joined
                # part may have no child row: its parents are joined the same way.
                child = self.aliases[(index, step.from_opts.model)]
                left = f"{child}.{self.quote(step.join_field.column)}"
                self.join(index, parent, self.kinds[index], left, step.target_fields[0])
        return self.aliases[(index, field.model._meta.concrete_model)]

    def sql(self) -> str:
        return " ".join((self.first, *self.clauses))


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
        root = Part(self.model, _fields(self.model, self.fields, ()), 0)
        parts, joined, names = [root], [], [None]
        for join in self.joins:
            origin = names.index(join.through)
            relation = parts[origin].model._meta.get_field(join.name)
            if not isinstance(relation, models.ForeignKey | models.OneToOneRel):
                raise ValueError(f"{join.name} is neither a foreign key nor a reverse one-to-one relation.")
            related = relation.related_model
            fields = _fields(related, join.fields, join.excluded)
            if isinstance(relation, models.OneToOneRel) and relation.field not in fields:
                # Its column tells whether the outer join found a row.
                fields = (relation.field, *fields)
            part = Part(related, fields, parts[-1].end, f"{parts[origin].prefix}{join.name}__")
            joined.append(Joined(join.name, relation, part, origin))
            parts.append(part)
            names.append(join.name)
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
        connection = connections[alias]
        quote = connection.ops.quote_name
        compiler = Query(self.model).get_compiler(connection=connection)
        tables = _Tables(quote, self.model)
        for index, joined in enumerate(layout.joined, start=1):
            origin = layout.parts[joined.origin]
            relation = joined.relation
            if joined.reverse:
                # origin's key (the one-to-one's target) = the related row's one-to-one column.
                left_field = relation.field.target_field
                outer = True
            else:
                # The target is in the related model's own table: Django refuses a
                # to_field that is not local to it (FieldError).
                left_field = relation
                outer = relation.null or tables.kinds[joined.origin] != "INNER JOIN"
            left = f"{tables.holding(joined.origin, origin.model, left_field)}.{quote(left_field.column)}"
            kind = "LEFT OUTER JOIN" if outer else "INNER JOIN"
            tables.join(index, joined.part.model, kind, left, joined.joined_field)
        columns, converters = [], []
        numbered = ((index, part, field) for index, part in enumerate(layout.parts) for field in part.fields)
        for position, (index, part, field) in enumerate(numbered):
            table = tables.holding(index, part.model, field)
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
                converters.append((position, found, col))
        key = self.model._meta.get_field(self.key)
        where = f"{tables.holding(0, self.model, key)}.{quote(key.column)} = %s"  # before tables.sql()
        # Identifiers come from model metadata and are quoted; the value is a parameter.
        sql = f"SELECT {', '.join(columns)} FROM {tables.sql()} WHERE {where}"  # noqa: S608
        return Statement(sql, tuple(converters))

    def alias(self) -> str:
        return router.db_for_read(self.model)

    def fetch_row(self, alias: str, value: Any) -> Row | None:
        """The row whose ``key`` is ``value``, converted to Python values; None if none."""
        statement = self.statement(alias)
        if statement.sql is None:
            return self.fetch_row_with_orm(alias, value)
        connection = connections[alias]
        # As the ORM would send it (a UUID is text on SQLite, say).
        parameter = self.model._meta.get_field(self.key).get_db_prep_value(value, connection)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, [parameter])
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
        where a nullable foreign key is empty or no related row exists)."""
        layout = self.layout
        instances = [layout.root.instance(alias, row)]
        for joined in layout.joined:
            owner, part, relation = instances[joined.origin], joined.part, joined.relation
            related = None
            if owner is not None and joined.reverse:
                if row[part.start + part.fields.index(relation.field)] is not None:
                    related = part.instance(alias, row)
                    relation.field.set_cached_value(related, owner)
                relation.set_cached_value(owner, related)
            elif owner is not None:
                if getattr(owner, relation.attname) is not None:
                    related = part.instance(alias, row)
                relation.set_cached_value(owner, related)
            instances.append(related)
        return instances[0]

    def fetch(self, value: Any) -> tuple[str, Row] | None:
        """The database alias read and the row whose ``key`` is ``value``; None if none."""
        alias = self.alias()
        row = self.fetch_row(alias, value)
        return None if row is None else (alias, row)

    def get(self, value: Any) -> models.Model | None:
        """The instance whose ``key`` is ``value``, or None: one query."""
        found = self.fetch(value)
        return None if found is None else self.build(*found)
