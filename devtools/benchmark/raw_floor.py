"""The raw floor: the pipeline's own rows written with the database driver.

The pipeline child dumps every table of every database to pickle files twice: after
generating (before its clock starts) and after its last stage. Dumping there, chunk by
chunk, keeps the parent's memory flat (it only passes a directory) and reads the rows
the pipeline really wrote. The raw child loads the "before" state untimed into fresh
migrated databases, then writes the difference with the driver, one transaction per
database: new rows inserted (executemany on SQLite, COPY on PostgreSQL), changed rows
updated with only their changed columns (executemany on SQLite, COPY into a temporary
table and one UPDATE ... FROM on PostgreSQL), removed rows deleted. Each chunk is
unpickled and diffed with the clock stopped, so only driver calls and COMMIT are timed
and memory stays flat in N.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import time
from pathlib import Path

from django.conf import settings
from django.db import connections

RAW_CHUNK = 5_000


def _is_postgres(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _database_aliases() -> list[str]:
    """Each configured database once (two aliases may name the same database)."""
    seen, aliases = set(), []
    for alias in connections:
        db = settings.DATABASES[alias]
        key = (db["ENGINE"], db.get("HOST"), db.get("PORT"), str(db["NAME"]))
        if key not in seen:
            seen.add(key)
            aliases.append(alias)
    return aliases


def _table_layouts(alias: str) -> list[dict]:
    """Every table but django_migrations: its columns and single primary key column."""
    connection = connections[alias]
    layouts = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table == "django_migrations":
                continue
            description = connection.introspection.get_table_description(cursor, table)
            columns = [column.name for column in description]
            pk = connection.introspection.get_primary_key_column(cursor, table)
            if pk is None:
                raise RuntimeError(f"raw floor: {alias}.{table} has no single primary key")
            pk_type = next(
                connection.introspection.get_field_type(column.type_code, column)
                for column in description
                if column.name == pk
            )
            layouts.append(
                {
                    "table": table,
                    "columns": columns,
                    "pk": columns.index(pk),
                    "int_pk": "Integer" in pk_type or "AutoField" in pk_type,
                }
            )
    return layouts


def _table_read(alias: str, layout: dict):
    """The table's rows in primary key order as plain tuples, RAW_CHUNK at a time: stored
    values on SQLite, COPY text on PostgreSQL, so they go back exactly as they came."""
    columns = ", ".join(_quote(c) for c in layout["columns"])
    pk = _quote(layout["columns"][layout["pk"]])
    if _is_postgres(alias):
        # Integer keys sort as integers, others bytewise: the order the diff compares in.
        order = pk if layout["int_pk"] else f'{pk}::text COLLATE "C"'
        sql = f"COPY (SELECT {columns} FROM {_quote(layout['table'])} ORDER BY {order}) TO STDOUT"
        connections[alias].ensure_connection()
        with connections[alias].connection.cursor() as cursor, cursor.copy(sql) as copy:
            chunk = []
            for row in copy.rows():
                chunk.append(row)
                if len(chunk) == RAW_CHUNK:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
        return
    # A plain sqlite3 connection: no Django converters, the values as stored.
    reader = sqlite3.connect(f"file:{settings.DATABASES[alias]['NAME']}?mode=ro", uri=True)
    try:
        cursor = reader.execute(f"SELECT {columns} FROM {_quote(layout['table'])} ORDER BY {pk}")
        while chunk := cursor.fetchmany(RAW_CHUNK):
            yield chunk
    finally:
        reader.close()


def rows_dump(*, directory: Path, state: str) -> None:
    """Write every row of every database to ``directory/state`` (pickle chunks per table);
    re-running overwrites the files."""
    target = directory / state
    target.mkdir(parents=True, exist_ok=True)
    layouts = {}
    for alias in _database_aliases():
        layouts[alias] = _table_layouts(alias)
        for layout in layouts[alias]:
            with open(target / f"{alias}.{layout['table']}.pickle", "wb") as out:
                for chunk in _table_read(alias, layout):
                    pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
    (target / "layouts.json").write_text(json.dumps(layouts))


def _chunks(path: Path):
    if not path.exists():
        return
    with open(path, "rb") as source:
        while True:
            try:
                yield pickle.load(source)
            except EOFError:
                return


def _rows(path: Path):
    for chunk in _chunks(path):
        yield from chunk


def _changes(*, before: Path, after: Path, layout: dict):
    """Merge the two primary-key-ordered dumps: ("insert", rows), ("update", (column
    indexes, rows)) and ("delete", keys) batches of at most RAW_CHUNK."""
    index, int_pk = layout["pk"], layout["int_pk"]

    def key(row):
        value = row[index]
        return int(value) if int_pk and isinstance(value, str) else value

    old, new = _rows(before), _rows(after)
    a, b = next(old, None), next(new, None)
    inserts, deletes, updates = [], [], {}
    while a is not None or b is not None:
        if b is not None and (a is None or key(b) < key(a)):
            inserts.append(b)
            b = next(new, None)
        elif a is not None and (b is None or key(a) < key(b)):
            deletes.append(a[index])
            a = next(old, None)
        else:
            if a != b:
                changed = tuple(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
                updates.setdefault(changed, []).append(b)
                if len(updates[changed]) == RAW_CHUNK:
                    yield "update", (changed, updates.pop(changed))
            a, b = next(old, None), next(new, None)
        if len(inserts) == RAW_CHUNK:
            yield "insert", inserts
            inserts = []
        if len(deletes) == RAW_CHUNK:
            yield "delete", deletes
            deletes = []
    if inserts:
        yield "insert", inserts
    for changed, rows in updates.items():
        yield "update", (changed, rows)
    if deletes:
        yield "delete", deletes


class _RawWriter:
    """Writes rows with the driver under Django's connection: executemany on SQLite,
    COPY on PostgreSQL. The caller owns the transaction."""

    def __init__(self, alias: str):
        connections[alias].ensure_connection()
        self.raw = connections[alias].connection
        self.postgres = _is_postgres(alias)
        self.temporary = 0

    def begin(self) -> None:
        # Django keeps its connections in autocommit: the transaction is spelled out.
        self.raw.execute("BEGIN")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def insert(self, *, table: str, columns: list[str], rows: list[tuple]) -> None:
        names = ", ".join(_quote(c) for c in columns)
        if self.postgres:
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY {_quote(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.raw.executemany(f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks})", rows)

    def update(self, *, table: str, columns: list[str], pk: int, changed, rows) -> None:
        names = [columns[i] for i in changed]
        key = columns[pk]
        if self.postgres:
            self.temporary += 1
            scratch = f"raw_update_{self.temporary}"
            selected = ", ".join(_quote(c) for c in [key, *names])
            with self.raw.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
                    f"SELECT {selected} FROM {_quote(table)} WITH NO DATA"
                )
                with cursor.copy(f"COPY {scratch} ({selected}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((row[pk], *(row[i] for i in changed)))
                assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in names)
                cursor.execute(
                    f"UPDATE {_quote(table)} AS t SET {assignments} FROM {scratch} AS s "
                    f"WHERE t.{_quote(key)} = s.{_quote(key)}"
                )
            return
        assignments = ", ".join(f"{_quote(c)} = ?" for c in names)
        self.raw.executemany(
            f"UPDATE {_quote(table)} SET {assignments} WHERE {_quote(key)} = ?",
            [(*(row[i] for i in changed), row[pk]) for row in rows],
        )

    def delete(self, *, table: str, key: str, keys: list) -> None:
        mark = "%s" if self.postgres else "?"
        sql = f"DELETE FROM {_quote(table)} WHERE {_quote(key)} = {mark}"
        if self.postgres:
            with self.raw.cursor() as cursor:
                cursor.executemany(sql, [(k,) for k in keys])
            return
        self.raw.executemany(sql, [(k,) for k in keys])


def _tables_empty(alias: str, tables: list[str]) -> None:
    """Set-up, untimed: the fresh database without the rows migrations put in it."""
    writer = _RawWriter(alias)
    writer.begin()
    if writer.postgres:
        if tables:
            writer.raw.execute(
                "TRUNCATE " + ", ".join(_quote(t) for t in tables) + " RESTART IDENTITY CASCADE"
            )
    else:
        writer.raw.execute("PRAGMA defer_foreign_keys = ON")
        for table in tables:
            writer.raw.execute(f"DELETE FROM {_quote(table)}")
    writer.commit()


def _table_count(alias: str, table: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        return cursor.fetchone()[0]


def phase_raw(*, directory: Path) -> dict:
    """Load the pipeline's "before" rows untimed, then time writing what it changed with
    the driver, one transaction per database; checks the tables end as the pipeline's."""
    before, after = directory / "before", directory / "after"
    layouts = json.loads((after / "layouts.json").read_text())
    if json.loads((before / "layouts.json").read_text()) != layouts:
        raise RuntimeError("raw floor: the pipeline changed the schema between its dumps")
    timed = 0.0
    counts = {"inserts": 0, "updates": 0, "deletes": 0}
    tables: dict[str, dict] = {}
    for alias, alias_layouts in layouts.items():
        _tables_empty(alias, [layout["table"] for layout in alias_layouts])
        writer = _RawWriter(alias)
        writer.begin()
        if not writer.postgres:
            writer.raw.execute("PRAGMA defer_foreign_keys = ON")
        for layout in alias_layouts:
            for chunk in _chunks(before / f"{alias}.{layout['table']}.pickle"):
                writer.insert(table=layout["table"], columns=layout["columns"], rows=chunk)
        writer.commit()

        # The clock runs only around driver calls: unpickling and diffing are preparation.
        started = time.perf_counter()
        writer.begin()
        timed += time.perf_counter() - started
        for layout in alias_layouts:
            table, columns = layout["table"], layout["columns"]
            name = f"{alias}.{table}"
            done = {"inserts": 0, "updates": 0, "deletes": 0}
            for operation, batch in _changes(
                before=before / f"{name}.pickle", after=after / f"{name}.pickle", layout=layout
            ):
                started = time.perf_counter()
                if operation == "insert":
                    writer.insert(table=table, columns=columns, rows=batch)
                    done["inserts"] += len(batch)
                elif operation == "update":
                    changed, rows = batch
                    writer.update(
                        table=table, columns=columns, pk=layout["pk"], changed=changed, rows=rows
                    )
                    done["updates"] += len(rows)
                else:
                    writer.delete(table=table, key=columns[layout["pk"]], keys=batch)
                    done["deletes"] += len(batch)
                timed += time.perf_counter() - started
            if any(done.values()):
                tables[name] = done
                for kind, count in done.items():
                    counts[kind] += count
        started = time.perf_counter()
        writer.commit()
        timed += time.perf_counter() - started

        for layout in alias_layouts:
            expected = sum(1 for _row in _rows(after / f"{alias}.{layout['table']}.pickle"))
            if _table_count(alias, layout["table"]) != expected:
                raise RuntimeError(
                    f"raw floor: {alias}.{layout['table']} differs from the pipeline's"
                )
    return {"raw_floor_seconds": round(timed, 3), **counts, "tables": tables}
