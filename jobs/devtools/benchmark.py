"""The conversion benchmark: the pipeline against its floor, on fresh databases.

``benchmark_run`` (the parent) makes two fresh sets of databases of the configured
engine (SQLite files, or PostgreSQL databases on the configured server), and runs
``manage.py benchmark --phase pipeline`` and ``--phase floor`` in child processes
pointed at them, so each measures its own peak RSS and neither sees the other's rows.

- pipeline: upload, account creation and distribution through the real job runs, in
  process, each stage timed, its SQL queries counted and its peak RSS read.
- floor: the same rows the pipeline writes (staging, HQ master data, channel copies,
  sessions, distribution records), bulk-inserted with the same ORM and batch size,
  with no reads and no logic in the timed part.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
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
    from jobs.devtools.generate import async_customers_generate, organization_generate

    organization = organization_generate(stores=stores)
    per_store, extra = divmod(customers, stores)
    for index, (number, alias) in enumerate(organization.stores):
        async_customers_generate(
            alias=alias, store_number=number, count=per_store + (1 if index < extra else 0)
        )


def phase_pipeline(*, customers: int, stores: int) -> dict:
    from jobs.services import job_runs_execute, job_runs_request

    _generate(customers=customers, stores=stores)
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
                    location_id=f"LOC-{a.async_address_id.hex[:20].upper()}",
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
                        location_id=f"LOC-{a.async_address_id.hex[:20].upper()}",
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


# --- Parent: fresh databases, children, report ---------------------------------------


class FreshDatabases:
    """A fresh HQ and channel databases of the configured engine, removed afterwards."""

    def __init__(self, *, channel_count: int, label: str):
        self.channel_count = channel_count
        self.label = label
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
            prefix = f"bench_{self.label}_{uuid.uuid4().hex[:8]}"
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


def _child(*, phase: str, customers: int, stores: int, channel_count: int, log) -> dict:
    databases = FreshDatabases(channel_count=channel_count, label=phase)
    try:
        env = {**os.environ, **databases.env(), "LOG_LEVEL": "WARNING", "DEBUG": "0"}
        manage = [sys.executable, str(ROOT / "manage.py")]
        # Captured, not inherited: standard output carries the report alone (--json).
        migrated = subprocess.run(
            [*manage, "setup_databases", "-v", "0"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"setup_databases failed:\n{migrated.stderr[-3000:]}")
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
    """Pipeline and floor on fresh databases of the configured engine; the report."""
    pipeline = _child(
        phase="pipeline",
        customers=customers,
        stores=stores,
        channel_count=channel_databases,
        log=log,
    )
    floor = _child(
        phase="floor",
        customers=customers,
        stores=stores,
        channel_count=channel_databases,
        log=log,
    )
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
        "peak_rss_mb": max(s["peak_rss_mb"] for s in pipeline["stages"]),
    }
