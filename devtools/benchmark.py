"""The conversion benchmark: the pipeline against its floor, on fresh databases.

``benchmark_run`` (the parent) makes three fresh sets of databases of the configured
engine (SQLite files, or PostgreSQL databases on the configured server), and runs
``manage.py benchmark --phase pipeline``, ``--phase floor`` and ``--phase raw`` in child
processes pointed at them, so each measures its own peak RSS and none sees another's rows.

- pipeline: upload, account creation and distribution through the real job runs, in
  process, each stage timed, its SQL queries counted and its peak RSS read.
- floor: the same rows the pipeline writes (staging, HQ master data, channel copies,
  sessions, distribution records), bulk-inserted with the same ORM and batch size,
  with no reads and no logic in the timed part.
- raw: the exact rows the pipeline wrote (dumped by the pipeline child before its first
  stage and after its last, untimed), written with the database driver itself in one
  transaction per database: executemany on SQLite, COPY on PostgreSQL. Its writes are
  the pipeline's net changes: new rows inserted in their final state (a row inserted
  then stamped in the same run is one insert), rows that existed before changed with
  an UPDATE of the changed columns (the stamps on the channel async customers and
  their addresses, the number sequence).

``benchmark_freshness_run`` (``--freshness``) measures store-to-store
latency instead: on fresh databases of the configured engine and broker, a child
(``--phase freshness``) turns the schedules on, starts a real ``qcluster`` process,
creates customers at async stores at the given rate through
``customer_create_at_store`` (so the trigger is the product's own), and polls the
channel databases until each store holds its customer's account number.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

from commerce.db import HQ
from customers.models import address_values

ROOT = Path(settings.BASE_DIR)
BATCH = settings.CONVERSION_BATCH_SIZE


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    counter = QueryCounter()
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(counter))
        yield counter


# --- Phases (run in a child process on fresh databases) -----------------------------


def _generate(*, customers: int, stores: int) -> None:
    from devtools.generate import async_customers_generate, organization_generate

    organization = organization_generate(stores=stores)
    per_store, extra = divmod(customers, stores)
    for index, (number, alias) in enumerate(organization.stores):
        async_customers_generate(
            alias=alias, store_number=number, count=per_store + (1 if index < extra else 0)
        )


def phase_pipeline(*, customers: int, stores: int, dump: Path | None = None) -> dict:
    """Generate, then run the three stages timed; with ``dump``, every row is dumped
    before the first stage and after the last (untimed) for the raw floor."""
    from jobs.services import job_runs_execute, job_runs_request

    _generate(customers=customers, stores=stores)
    if dump is not None:
        rows_dump(directory=dump, state="before")
    stages = []
    for job in ["upload", "async-customers", "distribute"]:
        with counting_queries() as counter:
            started = time.perf_counter()
            runs, _ = job_runs_request(job=job, enqueue=False, via="benchmark")
            job_runs_execute(run_ids=[r.pk for r in runs])
            seconds = time.perf_counter() - started
        from jobs.models import JobRun

        failed = list(JobRun.objects.filter(pk__in=[r.pk for r in runs], status="failed"))
        if failed:
            raise RuntimeError(f"{job} failed: {failed[0].message}")
        stages.append(
            {
                "stage": job,
                "seconds": round(seconds, 3),
                "customers_per_second": round(customers / seconds, 1) if seconds else None,
                "queries": counter.count,
                "queries_per_customer": round(counter.count / customers, 4),
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
        )
    if dump is not None:
        rows_dump(directory=dump, state="after")
    return {"stages": stages}


def phase_floor(*, customers: int, stores: int) -> dict:
    """Bulk-insert what the pipeline writes; only the inserts are timed."""
    from commerce.models import ChannelDatabase, LegalEntity
    from customers.models import AsyncCustomer

    _generate(customers=customers, stores=stores)
    legal_entity = LegalEntity.objects.get(code="LOAD")
    aliases = sorted(set(ChannelDatabase.objects.values_list("alias", flat=True)))
    timed = 0.0
    queries = 0
    number = 0
    for alias in aliases:
        last_pk = 0
        while True:
            rows = list(
                AsyncCustomer.objects.using(alias)
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .prefetch_related("addresses", "contacts", "attribute_values", "affiliations")[
                    :BATCH
                ]
            )
            if not rows:
                break
            last_pk = rows[-1].pk
            with counting_queries() as counter:
                started = time.perf_counter()
                _floor_insert(rows=rows, legal_entity=legal_entity, aliases=aliases, first=number)
                timed += time.perf_counter() - started
            queries += counter.count
            number += len(rows)
    return {"floor_seconds": round(timed, 3), "floor_queries": queries}


def _floor_insert(*, rows, legal_entity, aliases, first: int) -> None:
    from customers.models import (
        Address,
        Affiliation,
        ChannelCustomer,
        ChannelCustomerAddress,
        ContactInfo,
        Customer,
        CustomerAffiliation,
        CustomerAttribute,
        CustomerAttributeValue,
        CustomerGroup,
        Party,
        StagedAsyncCustomer,
    )
    from customers.services.children import STAGED_CHILDREN, children_bulk_create, children_read
    from customers.services.staging import location_id_for
    from jobs.models import (
        AppliedDownloadSession,
        CustomerDistribution,
        DownloadSession,
        UploadSession,
    )

    group = CustomerGroup.objects.get(legal_entity=legal_entity, code="RETAIL")
    attributes = {a.name: a for a in CustomerAttribute.objects.all()}
    affiliation = Affiliation.objects.get(name="Employees")
    # Everything above is set-up the pipeline also reads once; the inserts follow.
    with transaction.atomic(using=HQ):
        session = UploadSession.objects.create(channel_database="FLOOR", status="acknowledged")
        staged = StagedAsyncCustomer.objects.bulk_create(
            [
                StagedAsyncCustomer(
                    async_customer_id=r.async_customer_id,
                    channel_database="FLOOR",
                    store_number=r.store_number,
                    upload_session=session,
                    type=r.type,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    email=r.email,
                    created_at_store=r.created_at,
                )
                for r in rows
            ],
            batch_size=BATCH,
        )
        children_bulk_create(
            side=STAGED_CHILDREN,
            families=[(s, children_read(r)) for r, s in zip(rows, staged, strict=True)],
            using=HQ,
            batch_size=BATCH,
        )
        parties = Party.objects.bulk_create(
            [
                Party(
                    type=r.type,
                    name=f"{r.first_name} {r.last_name}",
                    first_name=r.first_name,
                    last_name=r.last_name,
                )
                for r in rows
            ],
            batch_size=BATCH,
        )
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    legal_entity=legal_entity,
                    account=f"F{first + i:09d}",
                    party=p,
                    customer_group=group,
                    currency="USD",
                    language="en-us",
                    email=r.email,
                    async_customer_id=r.async_customer_id,
                )
                for i, (r, p) in enumerate(zip(rows, parties, strict=True))
            ],
            batch_size=BATCH,
        )
        Address.objects.bulk_create(
            [
                Address(
                    party=p,
                    location_id=location_id_for(a.async_address_id),
                    **address_values(a),
                    async_address_id=a.async_address_id,
                )
                for r, p in zip(rows, parties, strict=True)
                for a in r.addresses.all()
            ],
            batch_size=BATCH,
        )
        ContactInfo.objects.bulk_create(
            [
                ContactInfo(party=p, type=c.type, value=c.value)
                for r, p in zip(rows, parties, strict=True)
                for c in r.contacts.all()
            ],
            batch_size=BATCH,
        )
        CustomerAttributeValue.objects.bulk_create(
            [
                CustomerAttributeValue(customer=c, attribute=attributes[v.name], value=v.value)
                for r, c in zip(rows, customers, strict=True)
                for v in r.attribute_values.all()
            ],
            batch_size=BATCH,
        )
        CustomerAffiliation.objects.bulk_create(
            [
                CustomerAffiliation(customer=c, affiliation=affiliation)
                for r, c in zip(rows, customers, strict=True)
                for _ in r.affiliations.all()
            ],
            batch_size=BATCH,
        )
    for alias in aliases:
        payload = [
            {
                "account": c.account,
                "name": p.name,
                "async_customer_id": str(r.async_customer_id),
                "addresses": [
                    {"async_address_id": str(a.async_address_id), "street": a.street}
                    for a in r.addresses.all()
                ],
            }
            for r, c, p in zip(rows, customers, parties, strict=True)
        ]
        download = DownloadSession.objects.create(
            channel_database=alias, status="applied", payload={"customers": payload}
        )
        with transaction.atomic(using=alias):
            copies = ChannelCustomer.objects.using(alias).bulk_create(
                [
                    ChannelCustomer(
                        legal_entity=legal_entity.code,
                        account=c.account,
                        type=p.type,
                        name=p.name,
                        first_name=p.first_name,
                        last_name=p.last_name,
                        email=c.email,
                        customer_group="RETAIL",
                        currency="USD",
                        language="en-us",
                        async_customer_id=r.async_customer_id,
                        hq_version=1,
                    )
                    for r, c, p in zip(rows, customers, parties, strict=True)
                ],
                batch_size=BATCH,
            )
            ChannelCustomerAddress.objects.using(alias).bulk_create(
                [
                    ChannelCustomerAddress(
                        customer=copy,
                        location_id=location_id_for(a.async_address_id),
                        **address_values(a),
                    )
                    for r, copy in zip(rows, copies, strict=True)
                    for a in r.addresses.all()
                ],
                batch_size=BATCH,
            )
            AppliedDownloadSession.objects.using(alias).create(session_id=download.pk)
        CustomerDistribution.objects.bulk_create(
            [
                CustomerDistribution(
                    channel_database=alias, customer=c, version=1, download_session=download
                )
                for c in customers
            ],
            batch_size=BATCH,
        )


# --- Raw floor: the pipeline's own rows written with the database driver -------------
#
# The pipeline child dumps every table of every database to pickle files twice: after
# generating (before its clock starts) and after its last stage. Dumping there, chunk by
# chunk, keeps the parent's memory flat (it only passes a directory) and reads the rows
# the pipeline really wrote. The raw child loads the "before" state untimed into fresh
# migrated databases, then writes the difference with the driver, one transaction per
# database: new rows inserted (executemany on SQLite, COPY on PostgreSQL), changed rows
# updated with only their changed columns (executemany on SQLite, COPY into a temporary
# table and one UPDATE ... FROM on PostgreSQL), removed rows deleted. Each chunk is
# unpickled and diffed with the clock stopped, so only driver calls and COMMIT are timed
# and memory stays flat in N.

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


# --- Parent: fresh databases, children, report ---------------------------------------


class FreshDatabases:
    """A fresh HQ and channel databases of the configured engine, removed afterwards."""

    def __init__(self, *, channel_count: int, label: str, prefix: str = "bench"):
        self.channel_count = channel_count
        self.label = label
        self.prefix = prefix
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
        self.pg_names: list[str] = []
        self.hq = settings.DATABASES[HQ]

    @property
    def is_postgres(self) -> bool:
        return "postgresql" in self.hq["ENGINE"]

    def _pg_url(self, name: str) -> str:
        user = self.hq.get("USER") or "postgres"
        password = f":{self.hq['PASSWORD']}" if self.hq.get("PASSWORD") else ""
        host = self.hq.get("HOST") or "127.0.0.1"
        port = self.hq.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{name}"

    def _pg_admin(self):
        import psycopg

        return psycopg.connect(
            host=self.hq.get("HOST") or "127.0.0.1",
            port=self.hq.get("PORT") or 5432,
            user=self.hq.get("USER") or "postgres",
            password=self.hq.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        )

    def env(self) -> dict[str, str]:
        names = ["hq", *[f"ch{i + 1}" for i in range(self.channel_count)]]
        aliases = ["channel", *[f"channel{i + 1}" for i in range(1, self.channel_count)]]
        if self.is_postgres:
            prefix = f"{self.prefix}_{self.label}_{uuid.uuid4().hex[:8]}"
            self.pg_names = [f"{prefix}_{n}" for n in names]
            with self._pg_admin() as connection:
                for name in self.pg_names:
                    connection.execute(f'CREATE DATABASE "{name}"')
            urls = [self._pg_url(name) for name in self.pg_names]
        else:
            urls = [f"sqlite:///{self.tmp / f'{n}.sqlite3'}" for n in names]
        return {
            "DATABASE_URL": urls[0],
            "CHANNEL_DATABASE_URLS": ",".join(
                f"{alias}={url}" for alias, url in zip(aliases, urls[1:], strict=True)
            ),
            "VAR_DIR": str(self.tmp),
        }

    def drop(self) -> None:
        if self.pg_names:
            with self._pg_admin() as connection:
                for name in self.pg_names:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def fresh_databases_migrate(databases: FreshDatabases) -> tuple[dict, list[str]]:
    """Migrate a child's fresh databases; returns the child's environment and the
    ``manage.py`` command line. Output is captured, not inherited: standard output
    carries the report alone (``--json``)."""
    env = {**os.environ, **databases.env(), "LOG_LEVEL": "WARNING", "DEBUG": "0"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    migrated = subprocess.run(
        [*manage, "setup_databases", "-v", "0"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"setup_databases failed:\n{migrated.stderr[-3000:]}")
    return env, manage


def _child(
    *, phase: str, customers: int, stores: int, channel_count: int, log, rows: Path | None = None
) -> dict:
    databases = FreshDatabases(channel_count=channel_count, label=phase)
    try:
        env, manage = fresh_databases_migrate(databases)
        log(f"{phase}: {customers} customers, {stores} stores, {channel_count} channel databases")
        result = subprocess.run(
            [
                *manage,
                "benchmark",
                "--phase",
                phase,
                "--customers",
                str(customers),
                "--stores",
                str(stores),
                *(["--rows-dir", str(rows)] if rows is not None else []),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{phase} phase failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        databases.drop()


def benchmark_run(*, customers: int, stores: int, channel_databases: int, log=print) -> dict:
    """Pipeline, ORM floor and raw floor, each in a child on fresh databases of the
    configured engine; the report."""
    # The pipeline's rows travel to the raw child on disk, never through this process.
    rows = Path(tempfile.mkdtemp(prefix="bench-rows-"))
    try:
        pipeline = _child(
            phase="pipeline",
            customers=customers,
            stores=stores,
            channel_count=channel_databases,
            log=log,
            rows=rows,
        )
        floor = _child(
            phase="floor",
            customers=customers,
            stores=stores,
            channel_count=channel_databases,
            log=log,
        )
        raw = _child(
            phase="raw",
            customers=customers,
            stores=stores,
            channel_count=channel_databases,
            log=log,
            rows=rows,
        )
    finally:
        shutil.rmtree(rows, ignore_errors=True)
    total = round(sum(s["seconds"] for s in pipeline["stages"]), 3)
    queries = sum(s["queries"] for s in pipeline["stages"])
    return {
        "engine": settings.DATABASES[HQ]["ENGINE"].rsplit(".", 1)[-1],
        "customers": customers,
        "stores": stores,
        "channel_databases": channel_databases,
        "stages": pipeline["stages"],
        "total_seconds": total,
        "customers_per_second": round(customers / total, 1) if total else None,
        "floor_seconds": floor["floor_seconds"],
        "ratio": round(total / floor["floor_seconds"], 2) if floor["floor_seconds"] else None,
        "queries_per_customer": round(queries / customers, 4),
        "floor_queries_per_customer": round(floor["floor_queries"] / customers, 4),
        "raw_floor_seconds": raw["raw_floor_seconds"],
        "raw_ratio": (
            round(total / raw["raw_floor_seconds"], 2) if raw["raw_floor_seconds"] else None
        ),
        # What the raw floor wrote: the pipeline's net row changes, per customer.
        "raw_floor_writes_per_customer": {
            kind: round(raw[kind] / customers, 2) for kind in ("inserts", "updates", "deletes")
        },
        "raw_floor_tables": raw["tables"],
        "peak_rss_mb": max(s["peak_rss_mb"] for s in pipeline["stages"]),
    }


# --- Freshness: store-to-store latency through a real cluster ---------------------

POLL_SECONDS = 0.05  # how often the child looks at the channel databases
DRAIN_SECONDS = 120  # how long after the last creation a customer may still arrive
PROBES = 5  # trivial tasks timed through the broker: its pickup latency alone


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (p95 of 300 values is the 285th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return round(ordered[int(rank) - 1], 3)


def _spread(values: list[float]) -> dict:
    return {
        "p50": _percentile(values, 0.5),
        "p95": _percentile(values, 0.95),
        "max": round(max(values), 3) if values else None,
    }


def store_customer_input(index: int):
    """The ``index``-th customer a benchmark (or a cluster test) creates at a store."""
    from customers.services.validation import AddressInput, ContactInput, CustomerInput

    return CustomerInput(
        first_name=f"Fresh{index}",
        last_name="Benchmark",
        email=f"fresh{index}@example.com",
        addresses=(
            AddressInput(
                purpose="delivery",
                street=f"{index + 1} Main St",
                city="Houston",
                zip="77001",
                country="USA",
                is_primary=True,
            ),
        ),
        contacts=(ContactInput(type="phone", value="+15550100"),),
    )


def _cluster_start(log_path: Path) -> subprocess.Popen:
    """A real ``qcluster`` in its own process group, on this process's databases."""
    with open(log_path, "ab") as output:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=output,
            stderr=output,
            start_new_session=True,
        )


def _cluster_stop(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _broker_probe(*, cluster: subprocess.Popen, log_path: Path, timeout: float = 60) -> float:
    """Enqueue a trivial task and wait for the cluster to finish it: seconds from enqueue
    to done (broker pickup and worker hand-over, with nothing to do)."""
    from django_q.models import Task
    from django_q.tasks import async_task

    enqueued = time.time()
    task_id = async_task("math.floor", 1.5)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = Task.objects.filter(id=task_id).only("stopped").first()
        if task is not None:
            return round(task.stopped.timestamp() - enqueued, 3)
        if cluster.poll() is not None:
            break
        time.sleep(0.01)
    raise RuntimeError(f"the cluster did not run a probe task:\n{log_path.read_text()[-3000:]}")


class _Arrivals:
    """Polls the channel databases for the customers created so far: when their store
    holds the account number, and when every channel database holds their copy (R7)."""

    def __init__(self, aliases: list[str]):
        self.aliases = aliases
        self.created: dict[tuple[str, int], float] = {}  # (alias, async pk) -> created
        self.at_store: dict[tuple[str, int], float] = {}
        self.everywhere: dict[tuple[str, int], float] = {}
        self.accounts: dict[tuple[str, int], str] = {}

    def add(self, *, alias: str, pk: int, clock: float) -> None:
        self.created[(alias, pk)] = clock

    @property
    def done(self) -> bool:
        return len(self.everywhere) == len(self.at_store) == len(self.created)

    def poll(self) -> None:
        from customers.models import AsyncCustomer, ChannelCustomer

        now = time.monotonic()
        for alias in self.aliases:
            waiting = [
                pk for (a, pk) in self.created if a == alias and (a, pk) not in self.at_store
            ]
            if not waiting:
                continue
            for pk, account in (
                AsyncCustomer.objects.using(alias)
                .filter(pk__in=waiting, account__isnull=False)
                .values_list("pk", "account")
            ):
                self.at_store[(alias, pk)] = now - self.created[(alias, pk)]
                self.accounts[(alias, pk)] = account
        waiting = [key for key in self.at_store if key not in self.everywhere]
        if not waiting:
            return
        held = {
            alias: set(
                ChannelCustomer.objects.using(alias)
                .filter(account__in=[self.accounts[key] for key in waiting])
                .values_list("account", flat=True)
            )
            for alias in self.aliases
        }
        for key in waiting:
            if all(self.accounts[key] in held[alias] for alias in self.aliases):
                self.everywhere[key] = now - self.created[key]


def _stage_spreads(*, arrivals: _Arrivals, since) -> dict:
    """Where the time went. From the channel rows' own clocks: created at the store ->
    uploaded (trigger, broker, waiting for a running chain, the upload) -> linked at the
    store (account creation and distribution: the chain's hand-offs). From the chains
    (django-q tasks and the runs they kept): enqueued -> upload started (broker pickup
    and job start), upload started -> last run finished."""
    from django_q.models import Task

    from customers.models import AsyncCustomer
    from jobs.models import Job, JobRun

    to_upload, upload_to_store = [], []
    for alias in arrivals.aliases:
        pks = [pk for (a, pk) in arrivals.created if a == alias]
        for created_at, uploaded_at, synchronized_at in (
            AsyncCustomer.objects.using(alias)
            .filter(pk__in=pks)
            .values_list("created_at", "uploaded_at", "synchronized_at")
        ):
            if uploaded_at:
                to_upload.append((uploaded_at - created_at).total_seconds())
            if uploaded_at and synchronized_at:
                upload_to_store.append((synchronized_at - uploaded_at).total_seconds())
    enqueued_at = dict(
        # A chain's runs carry its task's name (jobs.enqueueing.job_task_id).
        Task.objects.filter(func="jobs.tasks.job_runs_task", started__gte=since).values_list(
            "name", "started"
        )
    )
    chains: dict[str, list] = {}
    for task_id, job, started_at, finished_at in JobRun.objects.filter(
        task_id__in=list(enqueued_at), started_at__isnull=False
    ).values_list("task_id", "job", "started_at", "finished_at"):
        chains.setdefault(task_id, []).append((job, started_at, finished_at))
    pickup, running = [], []
    for task_id, runs in chains.items():
        upload = [started for job, started, _finished in runs if job == Job.UPLOAD]
        if not upload:  # its upload found nothing and is not kept
            continue
        pickup.append((upload[0] - enqueued_at[task_id]).total_seconds())
        last = max(finished for _job, _started, finished in runs if finished)
        running.append((last - upload[0]).total_seconds())
    return {
        "to_upload": _spread(to_upload),
        "upload_to_store": _spread(upload_to_store),
        "chain_pickup": _spread(pickup),
        "chain_run": _spread(running),
        "chains": len(enqueued_at),
    }


def phase_freshness(*, rate: float, seconds: float, stores: int, channel_databases: int) -> dict:
    """Create customers at async stores at ``rate`` per second for ``seconds`` with a
    cluster running and the schedules on; seconds from each creation until its store
    holds the account number (and until every store of the legal entity has it)."""
    from django.utils import timezone

    from commerce.models import Store
    from customers.services.store import customer_create_at_store
    from devtools.generate import organization_generate
    from jobs.models import JobRun
    from jobs.services import conversion_request, job_runs_execute, schedules_setup

    organization = organization_generate(stores=stores, channel_databases=channel_databases)
    # The default customer reaches every store before the clock starts.
    runs = conversion_request(via="benchmark", enqueue=False)
    job_runs_execute(run_ids=[run.pk for run in runs])
    schedules_setup()
    job_runs_before = JobRun.objects.count()
    store_rows = list(
        Store.objects.filter(number__in=[number for number, _alias in organization.stores])
        .select_related("channel_database")
        .order_by("number")
    )
    arrivals = _Arrivals(sorted({store.channel_database.alias for store in store_rows}))

    log_path = Path(settings.VAR_DIR) / "qcluster.log"
    cluster = _cluster_start(log_path)
    try:
        probes = [_broker_probe(cluster=cluster, log_path=log_path) for _ in range(PROBES)]
        since = timezone.now()
        count = max(1, round(rate * seconds))
        started = time.monotonic()
        for index in range(count):
            due = started + index / rate
            while time.monotonic() < due:
                arrivals.poll()
                time.sleep(max(0.0, min(POLL_SECONDS, due - time.monotonic())))
            store = store_rows[index % len(store_rows)]
            clock = time.monotonic()  # the clerk saves: the write and its trigger count
            result = customer_create_at_store(store=store, data=store_customer_input(index))
            arrivals.add(
                alias=store.channel_database.alias, pk=result.async_customer.pk, clock=clock
            )
        creating_seconds = time.monotonic() - started
        deadline = time.monotonic() + DRAIN_SECONDS
        while not arrivals.done and time.monotonic() < deadline:
            arrivals.poll()
            time.sleep(POLL_SECONDS)
    finally:
        _cluster_stop(cluster)

    latencies = list(arrivals.at_store.values())
    stages = _stage_spreads(arrivals=arrivals, since=since)
    return {
        "customers": len(arrivals.created),
        "rate": rate,
        "seconds": seconds,
        "creating_seconds": round(creating_seconds, 3),
        "stores": len(store_rows),
        "channel_databases": len(arrivals.aliases),
        "p50_seconds": _percentile(latencies, 0.5),
        "p95_seconds": _percentile(latencies, 0.95),
        "max_seconds": round(max(latencies), 3) if latencies else None,
        "not_arrived": len(arrivals.created) - len(arrivals.at_store),
        "all_stores": _spread(list(arrivals.everywhere.values())),
        "job_runs": JobRun.objects.count() - job_runs_before,
        "chains": stages.pop("chains"),
        "stages": {**stages, "probe_round_trip": _spread(probes)},
        "q_poll": settings.Q_CLUSTER.get("poll"),
        "q_workers": settings.Q_CLUSTER.get("workers"),
    }


def benchmark_freshness_run(
    *, rate: float, seconds: float, stores: int, channel_databases: int, log=print
) -> dict:
    """The freshness phase on fresh databases of the configured engine and broker."""
    databases = FreshDatabases(channel_count=channel_databases, label="db", prefix="fresh_bench")
    # Its own queue name: on a shared Redis no other cluster takes (or gives) its tasks.
    queue = f"fresh_bench_{uuid.uuid4().hex[:8]}"
    try:
        env = {
            **os.environ,
            **databases.env(),
            "Q_CLUSTER_NAME": queue,
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        migrated = subprocess.run(
            [*manage, "setup_databases", "-v", "0"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"setup_databases failed:\n{migrated.stderr[-3000:]}")
        log(
            f"freshness: {rate}/s for {seconds}s at {stores} async stores, "
            f"{channel_databases} channel databases, queue {queue}"
        )
        result = subprocess.run(
            [
                *manage,
                "benchmark",
                "--freshness",
                "--phase",
                "freshness",
                "--rate",
                str(rate),
                "--seconds",
                str(seconds),
                "--stores",
                str(stores),
                "--channel-databases",
                str(channel_databases),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"freshness phase failed:\n{result.stderr[-3000:]}")
        report = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        databases.drop()
    return {
        "engine": settings.DATABASES[HQ]["ENGINE"].rsplit(".", 1)[-1],
        "broker": "redis" if settings.REDIS_URL else "orm",
        **report,
    }
