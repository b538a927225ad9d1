"""The conversion benchmark: the pipeline against its floor, on fresh databases.

``benchmark_run``, the parent, makes three fresh sets of databases of the configured
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
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from commerce.db import HQ
from devtools.benchmark.measure import ROOT


class FreshDatabases:
    """A fresh HQ and channel databases of the configured engine, removed afterwards."""

    def __init__(
        self,
        *,
        channel_count: int,
        label: str,
        prefix: str = "bench",
        template: FreshDatabases | None = None,
    ):
        self.channel_count = channel_count
        self.label = label
        self.prefix = prefix
        self.template = template
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

    def _sources(self) -> list[str | None]:
        """What each database (HQ, then the channel databases) is a copy of: the
        template's HQ and its one channel database, or nothing (empty)."""
        if self.template is None:
            return [None] * (self.channel_count + 1)
        hq, channel = self.template.locations()
        return [hq, *[channel] * self.channel_count]

    def _names(self) -> list[str]:
        return ["hq", *[f"ch{i + 1}" for i in range(self.channel_count)]]

    def locations(self) -> list[str]:
        """Each database's file (SQLite) or name (PostgreSQL), HQ first."""
        if self.is_postgres:
            return self.pg_names
        return [str(self.tmp / f"{n}.sqlite3") for n in self._names()]

    def env(self) -> dict[str, str]:
        aliases = ["channel", *[f"channel{i + 1}" for i in range(1, self.channel_count)]]
        if self.is_postgres:
            prefix = f"{self.prefix}_{self.label}_{uuid.uuid4().hex[:8]}"
            self.pg_names = [f"{prefix}_{n}" for n in self._names()]
            with self._pg_admin() as connection:
                for name, source in zip(self.pg_names, self._sources(), strict=True):
                    copy = f' TEMPLATE "{source}"' if source else ""
                    connection.execute(f'CREATE DATABASE "{name}"{copy}')
            urls = [self._pg_url(name) for name in self.pg_names]
        else:
            for path, source in zip(self.locations(), self._sources(), strict=True):
                if source:  # a migrated file, closed (its WAL checkpointed) by its process
                    shutil.copyfile(source, path)
            urls = [f"sqlite:///{path}" for path in self.locations()]
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


def benchmark_parent_run(run, *, as_json: bool, stderr, **arguments) -> dict:
    """``run(**arguments)``, a benchmark's parent, with its progress lines on ``stderr``
    (none with ``as_json``); a failure becomes a CommandError of its first line."""
    log = (lambda message: None) if as_json else stderr.write
    try:
        return run(**arguments, log=log)
    except Exception as error:
        raise CommandError(str(error).splitlines()[0] if str(error) else repr(error)) from None


def manage_arguments(command: str, **options) -> list[str]:
    """``command`` and its options as a ``manage.py`` argument list: ``rows_dir=path`` as
    ``--rows-dir path``, ``True`` as a bare flag, ``None`` left out."""
    arguments = [command]
    for name, value in options.items():
        if value is None:
            continue
        arguments.append(f"--{name.replace('_', '-')}")
        if value is not True:
            arguments.append(str(value))
    return arguments


def manage_run(manage: list[str], arguments: list[str], *, env: dict, what: str) -> str:
    """Run ``manage.py`` with ``arguments`` in a child process; its standard output. A
    failure raises, its first line naming ``what`` and the child's last error line."""
    result = subprocess.run(
        [*manage, *arguments], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:]
        raise RuntimeError(f"{what} failed: {' '.join(last)}\n{result.stderr[-3000:]}")
    return result.stdout


def fresh_databases_migrate(
    databases: FreshDatabases, *, extra_env: dict[str, str] | None = None
) -> tuple[dict, list[str]]:
    """Migrate a child's fresh databases; returns the child's environment (with
    ``extra_env``) and the ``manage.py`` command line. Output is captured, not inherited:
    standard output carries the report alone (``--json``)."""
    env = {
        **os.environ,
        **databases.env(),
        **(extra_env or {}),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    if databases.template is None:
        manage_run(manage, ["setup_databases", "-v", "0"], env=env, what="setup_databases")
    return env, manage


_templates: list[FreshDatabases] = []


def migrated_template() -> FreshDatabases:
    """An HQ and one channel database of the configured engine, migrated once per
    process: every ``fresh`` set of databases after it is a copy (a file copy on
    SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) instead of a migration of its
    own, seconds per database. Removed when the process exits."""
    if not _templates:
        template = FreshDatabases(channel_count=1, label="template")
        try:
            fresh_databases_migrate(template)
        except BaseException:
            template.drop()  # never kept half-migrated, for a later child to copy
            raise
        _templates.append(template)
        atexit.register(template.drop)
    return _templates[0]


def fresh(*, channel_count: int, label: str, prefix: str = "bench") -> FreshDatabases:
    """Fresh, migrated databases (copies of ``migrated_template``)."""
    return FreshDatabases(
        channel_count=channel_count, label=label, prefix=prefix, template=migrated_template()
    )


def fresh_child_report(
    databases: FreshDatabases,
    arguments: list[str],
    *,
    what: str,
    extra_env: dict[str, str] | None = None,
) -> dict:
    """Migrate ``databases``, run ``manage.py`` with ``arguments`` on them in a child and
    return its report (the JSON object on its last output line); the databases are
    dropped afterwards."""
    try:
        env, manage = fresh_databases_migrate(databases, extra_env=extra_env)
        output = manage_run(manage, arguments, env=env, what=what)
        return json.loads(output.strip().splitlines()[-1])
    finally:
        databases.drop()


def _child(
    *,
    phase: str,
    customers: int,
    stores: int,
    channel_count: int,
    log,
    rows: Path | None = None,
    workers: int = 1,
) -> dict:
    """One phase in a child process on ``channel_count`` fresh channel databases."""
    log(f"{phase}: {customers} customers, {stores} stores, {channel_count} channel databases")
    return fresh_child_report(
        fresh(channel_count=channel_count, label=phase),
        manage_arguments(
            "benchmark",
            phase=phase,
            customers=customers,
            stores=stores,
            workers=workers,
            rows_dir=rows,
        ),
        what=f"{phase} phase",
    )


def _pipeline_and_raw(
    *, customers: int, stores: int, channel_count: int, workers: int, log
) -> tuple:
    """The pipeline and its raw floor on ``channel_count`` channel databases."""
    # The pipeline's rows travel to the raw child on disk, never through this process.
    rows = Path(tempfile.mkdtemp(prefix="bench-rows-"))
    size = {"customers": customers, "stores": stores, "channel_count": channel_count}
    try:
        pipeline = _child(phase="pipeline", **size, log=log, rows=rows, workers=workers)
        raw = _child(phase="raw", **size, log=log, rows=rows)
    finally:
        shutil.rmtree(rows, ignore_errors=True)
    return pipeline, raw


def _total(pipeline: dict) -> float:
    return round(sum(s["seconds"] for s in pipeline["stages"]), 3)


def _per_extra_channel_database(
    *, channel_databases: int, total: float, raw_floor: float, base: tuple[dict, dict]
) -> dict:
    """What each channel database beyond the first adds, to the pipeline and to the raw
    floor: the difference with the same run on one channel database, per extra one."""
    extra = channel_databases - 1
    pipeline_seconds = round((total - _total(base[0])) / extra, 3)
    raw_seconds = round((raw_floor - base[1]["raw_floor_seconds"]) / extra, 3)
    return {
        "baseline_channel_databases": 1,
        "baseline_total_seconds": _total(base[0]),
        "baseline_raw_floor_seconds": base[1]["raw_floor_seconds"],
        "pipeline_seconds": pipeline_seconds,
        "raw_floor_seconds": raw_seconds,
        "ratio": round(pipeline_seconds / raw_seconds, 2) if raw_seconds > 0 else None,
    }


def benchmark_run(
    *,
    customers: int,
    stores: int,
    channel_databases: int,
    workers: int = 1,
    orm_floor: bool = True,
    log=print,
) -> dict:
    """Pipeline, ORM floor and raw floor, each in a child on fresh databases of the
    configured engine; with more than one channel database, the pipeline and raw floor
    again on one, for the cost of each extra channel database. Every channel database
    has a store (``stores`` is raised to ``channel_databases``), so each receives every
    customer. ``orm_floor=False`` skips the ORM floor (its ``floor_seconds`` is null): at
    100,000 customers and more, it takes longer than the rest together. The report."""
    stores = max(stores, channel_databases)
    pipeline, raw = _pipeline_and_raw(
        customers=customers,
        stores=stores,
        channel_count=channel_databases,
        workers=workers,
        log=log,
    )
    floor = (
        _child(
            phase="floor",
            customers=customers,
            stores=stores,
            channel_count=channel_databases,
            log=log,
        )
        if orm_floor
        else {"floor_seconds": None, "floor_queries": None}
    )
    total = _total(pipeline)
    queries = sum(s["queries"] for s in pipeline["stages"])
    report = {
        "engine": settings.DATABASES[HQ]["ENGINE"].rsplit(".", 1)[-1],
        "customers": customers,
        "stores": stores,
        "channel_databases": channel_databases,
        "distribution_workers": workers,
        "stages": pipeline["stages"],
        "total_seconds": total,
        "customers_per_second": round(customers / total, 1) if total else None,
        "floor_seconds": floor["floor_seconds"],
        "ratio": round(total / floor["floor_seconds"], 2) if floor["floor_seconds"] else None,
        "queries_per_customer": round(queries / customers, 4),
        "floor_queries_per_customer": (
            round(floor["floor_queries"] / customers, 4) if orm_floor else None
        ),
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
        # The databases after the pipeline, by alias (HQ is "default").
        "database_mb": pipeline["database_mb"],
    }
    if channel_databases > 1:
        base = _pipeline_and_raw(
            customers=customers, stores=stores, channel_count=1, workers=workers, log=log
        )
        report["per_extra_channel_database"] = _per_extra_channel_database(
            channel_databases=channel_databases,
            total=total,
            raw_floor=raw["raw_floor_seconds"],
            base=base,
        )
    return report
