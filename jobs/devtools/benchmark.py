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

``benchmark_freshness_run`` (``--freshness``, SPEC section 10) measures store-to-store
latency instead: on fresh databases of the configured engine and broker, a child
(``--phase freshness``) turns the schedules on, starts a real ``qcluster`` process,
creates customers at async stores at the given rate through
``customer_create_at_store`` (so the trigger is the product's own), and polls the
channel databases until each store holds its customer's account number.
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


# --- Freshness: store-to-store latency through a real cluster (SPEC section 10) -------

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
        Task.objects.filter(func="jobs.tasks.job_runs_task", started__gte=since).values_list(
            "id", "started"
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
    from jobs.devtools.generate import organization_generate
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
