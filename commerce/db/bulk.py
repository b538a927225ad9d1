"""The bulk writer: the conversion jobs' hot tables written with the database driver.

The ORM's ``bulk_create`` builds a model instance per row and compiles every value of
every row into SQL; for the tens of thousands of rows a conversion batch writes, that
Python work is most of the job's time. Here rows are plain tuples in a declared column
order, each column's value prepared once by its field's own ``get_db_prep_save`` (only
for the field types that need it; UUIDs and ``JSONText`` take a shorter path, see
``_preparer``), then written in one statement per call:

- SQLite: ``executemany`` of one INSERT;
- PostgreSQL: ``COPY ... FROM STDIN`` (up to ``VALUES_ROWS`` rows one ``INSERT``).

Upserts on a unique key (``rows_upsert``) take the same rows: SQLite ``executemany`` of
one ``INSERT ... ON CONFLICT DO UPDATE``; PostgreSQL ``COPY`` into a temporary table,
then one ``INSERT ... SELECT ... ON CONFLICT`` (a few rows: ``VALUES``). Ids by key.
``rows_delete`` deletes by lists of keys sent as one parameter each; ``rows_update_from``
updates one table from another joined on a key, in one statement.

Columns a caller leaves out take the field's default (``auto_now``/``auto_now_add``:
the time of the call), as ``bulk_create`` would. Parents whose children are written in
the same batch get their primary keys first from ``ids_reserve``, so no row is read back.

Statements go through Django's cursor: execute wrappers (query counting), the query
log and Django's database exceptions (``IntegrityError``, ``DataError``) behave as for
any other query, so record isolation (``commerce.isolation``) works unchanged. The caller
owns the transaction (``transaction.atomic(using=...)``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from django.db import connections, models, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.utils import timezone

from commerce.db.lookups import field_is_plain, in_values_sql


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Layout:
    """How one model's rows are written for a given set of caller columns."""

    table: str
    columns: tuple[str, ...]  # caller's columns, then defaulted ones
    given: tuple[models.Field, ...]
    defaulted: tuple[models.Field, ...]


@cache
def _layout(model: type[models.Model], names: tuple[str, ...]) -> _Layout:
    by_name = {}
    for field in model._meta.concrete_fields:
        by_name[field.name] = field
        by_name[field.attname] = field
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(unknown)}")
    given = tuple(by_name[name] for name in names)
    if len({f.attname for f in given}) != len(given):
        raise ValueError(f"{model.__name__}: a column is named twice in {names}")
    given_names = {f.attname for f in given}
    defaulted = tuple(
        f for f in model._meta.concrete_fields if f.attname not in given_names and not f.primary_key
    )
    return _Layout(
        table=model._meta.db_table,
        columns=tuple(f.column for f in (*given, *defaulted)),
        given=given,
        defaulted=defaulted,
    )


def _default(field: models.Field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    # A NOT NULL column without a default: the INSERT fails as the ORM's would.
    return None


@dataclass(frozen=True, slots=True)
class JSONText:
    """A JSON document encoded already, for a ``JSONField`` column: written as this
    text, not encoded again. SQLite stores the text as it is (so a checksum over it is
    a checksum over what is stored); PostgreSQL's ``jsonb`` parses it (the value is
    kept, not the spelling). ``JSONText.dumps`` gives the canonical text of a value
    (sorted keys, ASCII, ``json``'s default separators) - the same text again for the
    value read back on either engine."""

    text: str

    @classmethod
    def dumps(cls, value) -> JSONText:
        return cls(json.dumps(value, sort_keys=True))


# A UUID as text in its canonical form (``str(uuid)``), which both engines take as it is
# once the dashes are dropped (SQLite's ``char(32)``) or not (PostgreSQL's ``uuid``).
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _preparer(field: models.Field, connection):
    """The function that turns a Python value of ``field`` into the driver's, or None
    (the value is the driver's already). The field's own ``get_db_prep_save``, except for
    the values a conversion batch writes by the ten thousand, prepared here as that would
    prepare them, without building a ``uuid.UUID`` per value: ``UUIDField`` (a UUID, its
    canonical text, or None) and ``JSONField`` (a ``JSONText``, written as its text)."""
    if field_is_plain(field):
        return None

    def generic(value):
        return field.get_db_prep_save(value, connection)

    kind = field.get_internal_type()
    if kind == "UUIDField":
        native = connection.features.has_native_uuid_field

        def prepare_uuid(value):
            if value is None:
                return None
            if isinstance(value, uuid.UUID):
                return value if native else value.hex
            if isinstance(value, str) and _UUID_TEXT.fullmatch(value):
                return value if native else value.replace("-", "")
            return generic(value)  # any other form Django takes (or refuses)

        return prepare_uuid
    if kind == "JSONField":
        return lambda value: value.text if isinstance(value, JSONText) else generic(value)
    if kind == "DateTimeField":
        # A batch stamps its rows with one time (events, sessions): prepare it once.
        last: list = [object(), None]

        def prepare_datetime(value):
            if value is not last[0]:
                last[:] = [value, generic(value)]
            return last[1]

        return prepare_datetime
    return generic


def _preparers(fields: Sequence[models.Field], connection):
    """Per column, the function that turns a Python value into the driver's, or None."""
    return [_preparer(field, connection) for field in fields]


def _prepared(layout: _Layout, rows: Iterable[Sequence], connection) -> list:
    """The rows as the driver takes them: the caller's values prepared per column where
    the field type needs it, then the left-out columns' defaults."""
    prepare = _preparers(layout.given, connection)
    now = timezone.now()
    tail = tuple(
        field.get_db_prep_save(_default(field, now), connection) for field in layout.defaulted
    )
    converting = [(i, p) for i, p in enumerate(prepare) if p is not None]
    if not converting:
        return [(*row, *tail) for row in rows]
    prepared = []
    for row in rows:
        values = list(row)
        for i, p in converting:
            values[i] = p(values[i])
        values.extend(tail)
        prepared.append(values)
    return prepared


# Up to this many rows a PostgreSQL insert or upsert is one ``INSERT ... VALUES``; above
# it, ``COPY`` (whose set-up costs more than a few rows, then stays flat).
VALUES_ROWS = 20


def _values_sql(layout: _Layout, rows: int) -> str:
    """``INSERT INTO table (columns) VALUES (...), ...`` with ``rows`` rows of markers."""
    names = ", ".join(_quote(c) for c in layout.columns)
    values = ", ".join([f"({', '.join(['%s'] * len(layout.columns))})"] * rows)
    return f"INSERT INTO {_quote(layout.table)} ({names}) VALUES {values}"


def rows_insert(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    using: str,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order; field names or attnames, the primary
    key only if the caller reserved it) into ``model``'s table. Returns the row count."""
    layout = _layout(model, tuple(columns))
    connection = connections[using]
    prepared = _prepared(layout, rows, connection)
    if not prepared:
        return 0
    if connection.vendor == "postgresql" and len(prepared) > VALUES_ROWS:
        names = ", ".join(_quote(c) for c in layout.columns)
        _copy(connection, f"COPY {_quote(layout.table)} ({names}) FROM STDIN", prepared)
    else:  # SQLite; PostgreSQL with a few rows (one round trip where COPY takes two)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_values_sql(layout, len(prepared)), [v for r in prepared for v in r])
            else:
                cursor.executemany(_values_sql(layout, 1), prepared)
    return len(prepared)


def _copy(connection, sql: str, rows: list) -> None:
    """COPY through Django's cursor: execute wrappers see it, the query log records it
    and driver errors become Django's."""
    with connection.cursor() as cursor:

        def executor(sql, params, many, context):
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for row in params:
                    copy.write_row(row)

        logged = (
            cursor.debug_sql(sql, rows, many=True)
            if isinstance(cursor, CursorDebugWrapper)
            else contextlib.nullcontext()
        )
        with logged:
            cursor._execute_with_wrappers(sql, rows, many=True, executor=executor)


_temporary_tables = itertools.count(1)


def rows_upsert(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    unique: Sequence[str],
    update: Sequence[str] | None = None,
    only_rising: str | None = None,
    return_ids: bool = False,
    using: str,
) -> list[int] | int:
    """Insert ``rows`` (as ``rows_insert``), or where a row with the same ``unique``
    columns (a unique constraint of the table) is there already, update its ``update``
    columns (default: every given column outside ``unique``) and its ``auto_now``
    columns. Each key at most once per call.

    ``only_rising`` names a column whose stored value never goes down: an existing row
    whose value is higher than the new one is left as it is. ``return_ids``: the rows'
    primary keys in ``rows`` order (keys of plain types only, no ``only_rising``); else
    the row count.

    - SQLite: ``executemany`` of one ``INSERT ... ON CONFLICT DO UPDATE``, then (ids)
      one ``SELECT`` of the keys, passed as one JSON parameter;
    - PostgreSQL: ``COPY`` into a temporary table dropped at commit, then one
      ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` (``RETURNING`` the ids); up to
      ``VALUES_ROWS`` rows, one ``INSERT ... VALUES ... ON CONFLICT`` instead.

    A row the table refuses raises Django's ``IntegrityError`` or ``DataError`` and
    writes nothing. Runs in the caller's transaction, or in one of its own."""
    layout = _layout(model, tuple(columns))
    unique_fields, update_fields, rising = _upsert_fields(
        model, layout, unique=unique, update=update, only_rising=only_rising
    )
    if return_ids and rising is not None:
        raise ValueError("return_ids and only_rising: rows left as they are have no id back")
    if return_ids and not all(field_is_plain(f) for f in unique_fields):
        raise ValueError(f"{model.__name__}: return_ids needs unique columns of plain types")
    connection = connections[using]
    prepared = _prepared(layout, rows, connection)
    if not prepared:
        return [] if return_ids else 0
    positions = [[f.attname for f in layout.given].index(f.attname) for f in unique_fields]
    keys = [tuple(row[i] for i in positions) for row in prepared]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{model.__name__}: a key is given twice in one upsert")

    table = _quote(layout.table)
    key_names = ", ".join(_quote(f.column) for f in unique_fields)
    sets = ", ".join(f"{_quote(f.column)} = EXCLUDED.{_quote(f.column)}" for f in update_fields)
    conflict = f"ON CONFLICT ({key_names}) DO UPDATE SET {sets}"
    if rising is not None:
        column = _quote(rising.column)
        conflict += f" WHERE {table}.{column} <= EXCLUDED.{column}"
    postgresql = connection.vendor == "postgresql"
    write = _upsert_postgresql if postgresql else _upsert_sqlite
    # One INSERT ... VALUES is atomic by itself; the other paths take several statements.
    atomic = (
        contextlib.nullcontext()
        if postgresql and len(prepared) <= VALUES_ROWS
        else transaction.atomic(using=using, savepoint=False)
    )
    with atomic, connection.cursor() as cursor:
        found = write(
            connection,
            cursor,
            model=model,
            layout=layout,
            prepared=prepared,
            conflict=conflict,
            unique_fields=unique_fields,
            keys=keys if return_ids else None,
        )
    if not return_ids:
        return len(prepared)
    ids = {tuple(row[1:]): row[0] for row in found}
    return [ids[key] for key in keys]


def _upsert_fields(model, layout: _Layout, *, unique, update, only_rising):
    """The unique, updated and only-rising fields of an upsert, checked."""
    unique_fields = _given_fields(model, layout, unique)
    if update is None:
        update_fields = [f for f in layout.given if f not in unique_fields and not f.primary_key]
    else:
        update_fields = _given_fields(model, layout, update)
    update_fields += [f for f in layout.defaulted if getattr(f, "auto_now", False)]
    if not update_fields:
        raise ValueError(f"{model.__name__}: no column to update on conflict")
    rising = _given_fields(model, layout, [only_rising])[0] if only_rising else None
    return unique_fields, update_fields, rising


def _upsert_postgresql(
    connection, cursor, *, model, layout, prepared, conflict, unique_fields, keys
):
    """``COPY`` into a temporary table dropped at commit, then one ``INSERT ... SELECT
    ... ON CONFLICT`` (``RETURNING`` the ids when ``keys`` are given)."""
    table, pk = _quote(layout.table), _quote(model._meta.pk.column)
    names = ", ".join(_quote(c) for c in layout.columns)
    key_names = ", ".join(_quote(f.column) for f in unique_fields)
    returning = f" RETURNING {pk}, {key_names}" if keys is not None else ""
    if len(prepared) <= VALUES_ROWS:  # a demand, one request's parts: no table to create
        values = [value for row in prepared for value in row]
        cursor.execute(f"{_values_sql(layout, len(prepared))} {conflict}{returning}", values)
        return cursor.fetchall() if keys is not None else None
    temporary = _quote(f"bulk_upsert_{next(_temporary_tables)}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP AS "
        f"SELECT {names} FROM {table} WITH NO DATA"
    )
    _copy(connection, f"COPY {temporary} ({names}) FROM STDIN", prepared)
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {temporary} {conflict}{returning}"
    )
    return cursor.fetchall() if keys is not None else None


def _upsert_sqlite(connection, cursor, *, model, layout, prepared, conflict, unique_fields, keys):
    """``executemany`` of one ``INSERT ... ON CONFLICT``, then (``keys`` given) one
    ``SELECT`` of the ids, the keys passed as one JSON array joined on the unique index:
    one statement whatever the row count (no limit on the number of parameters)."""
    table, pk = _quote(layout.table), _quote(model._meta.pk.column)
    cursor.executemany(f"{_values_sql(layout, 1)} {conflict}", prepared)
    if keys is None:
        return None
    match = " AND ".join(
        f"t.{_quote(f.column)} = json_extract(k.value, '$[{i}]')"
        for i, f in enumerate(unique_fields)
    )
    keyed = ", ".join(f"t.{_quote(f.column)}" for f in unique_fields)
    cursor.execute(
        f"SELECT t.{pk}, {keyed} FROM json_each(%s) AS k JOIN {table} AS t ON {match}",
        [json.dumps(keys)],
    )
    return cursor.fetchall()


def rows_delete(*, model: type[models.Model], any_of: dict[str, Sequence], using: str) -> int:
    """Delete the rows of ``model`` whose column is one of its values, for any of the
    ``any_of`` columns (field names or attnames): one statement per column, its values
    sent as one parameter (``in_values_sql``), whatever their count. One statement per
    column, not one with OR: each finds its rows through its column's index, where an
    OR makes the database read the whole table. No cascade and no signals: only for
    tables no foreign key points to (refused otherwise). Returns the count deleted."""
    if model._meta.related_objects:
        raise ValueError(f"{model.__name__}: rows other tables point to are deleted by the ORM")
    connection = connections[using]
    table = _quote(model._meta.db_table)
    deleted = 0
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        for name, values in any_of.items():
            field = _given_fields(model, _layout(model, (name,)), [name])[0]
            values = list(values)
            if not values:
                continue
            condition, param = in_values_sql(_quote(field.column), field, values, connection)
            cursor.execute(f"DELETE FROM {table} WHERE {condition}", [param])
            deleted += cursor.rowcount
    return deleted


def rows_update_from(
    *,
    model: type[models.Model],
    source: type[models.Model],
    key: str,
    assignments: dict[str, str],
    values: dict[str, object] | None = None,
    where_null: str,
    source_any_of: tuple[str, Sequence],
    using: str,
) -> int:
    """``UPDATE model SET ... FROM source``: one statement joining the two tables on the
    column ``key`` (the same name in both), restricted to the ``source`` rows whose
    column ``source_any_of[0]`` is one of the values ``source_any_of[1]`` (sent as one
    parameter, ``in_values_sql``), and to the ``model`` rows whose ``where_null`` column
    is still NULL. ``assignments`` maps a ``model`` field to the ``source`` field it
    takes; ``values`` sets ``model`` fields to one value each, prepared by the field.
    Names are field names or attnames. A join, not a correlated subquery per row:
    PostgreSQL and SQLite (3.33+) both plan it as one pass. No signals, no
    ``auto_now``. Returns the count updated."""
    connection = connections[using]
    target_field, source_field = model._meta.get_field, source._meta.get_field
    table = _quote(model._meta.db_table)

    def target(name: str) -> str:
        return _quote(target_field(name).column)

    def joined(name: str) -> str:
        return f"s.{_quote(source_field(name).column)}"

    sets = [f"{target(name)} = {joined(taken)}" for name, taken in assignments.items()]
    params: list = []
    for name, value in (values or {}).items():
        sets.append(f"{target(name)} = %s")
        params.append(target_field(name).get_db_prep_value(value, connection))
    column, any_of = source_any_of
    restrict, restrict_param = in_values_sql(
        joined(column), source_field(column), any_of, connection
    )
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} FROM {_quote(source._meta.db_table)} AS s "
        f"WHERE {joined(key)} = {table}.{target(key)} AND {table}.{target(where_null)} IS NULL "
        f"AND {restrict}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, restrict_param])
        return cursor.rowcount


def _given_fields(
    model: type[models.Model], layout: _Layout, names: Sequence[str]
) -> list[models.Field]:
    """The fields of ``names`` (field names or attnames), each among the given columns."""
    fields = []
    for name in names:
        field = next((f for f in layout.given if name in (f.name, f.attname)), None)
        if field is None:
            raise ValueError(f"{model.__name__}: {name} is not among the columns written")
        fields.append(field)
    return fields


def ids_reserve(*, model: type[models.Model], count: int, using: str) -> list[int]:
    """``count`` new primary keys of ``model``, taken from the table's own sequence so no
    other writer gets them: PostgreSQL's identity sequence, SQLite's AUTOINCREMENT
    counter (moved inside the caller's transaction, which holds the write lock).
    Rolled back with the transaction on SQLite; on PostgreSQL a sequence never goes
    back, as with any insert."""
    if count <= 0:
        return []
    connection = connections[using]
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [_quote(table), pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # The counter moves past both the highest id ever given and the highest present.
        highest = f"(SELECT coalesce(max({_quote(pk)}), 0) FROM {_quote(table)})"
        cursor.execute(
            f"UPDATE sqlite_sequence SET seq = max(seq, {highest}) + %s "
            "WHERE name = %s RETURNING seq",
            [count, table],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO sqlite_sequence (name, seq) SELECT %s, {highest} + %s RETURNING seq",
                [table, count],
            )
            row = cursor.fetchone()
    last = row[0]
    return list(range(last - count + 1, last + 1))
