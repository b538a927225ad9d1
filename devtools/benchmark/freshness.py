"""Freshness (``benchmark --freshness``): store-to-store latency through a real cluster.

``benchmark_freshness_run`` measures store-to-store latency: on fresh databases of the
configured engine and broker, a child (``--phase freshness``) turns the schedules on,
starts a real ``qcluster`` process, creates customers at async stores at the given rate
through ``customer_create_at_store`` (so the trigger is the product's own), and polls the
channel databases until each store holds its customer's account number.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings

from commerce.db import HQ
from devtools.benchmark.measure import ROOT
from devtools.benchmark.run import fresh, fresh_child_report, manage_arguments

POLL_SECONDS = 0.05  # how often the child looks for the stores' own accounts
# How often it looks whether every channel database holds them: a query per channel
# database each time, so less often, to leave the machine to what is measured.
EVERYWHERE_POLL_SECONDS = 0.25
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
    from customers.services.validation import ContactInput, CustomerInput
    from devtools.generate import houston_delivery_input

    return CustomerInput(
        first_name=f"Fresh{index}",
        last_name="Benchmark",
        email=f"fresh{index}@example.com",
        addresses=(houston_delivery_input(f"{index + 1} Main St"),),
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


def process_group_stop(process: subprocess.Popen, *, timeout: float = 30) -> None:
    """SIGTERM a child started in its own session (a ``qcluster`` stops its own workers),
    wait up to ``timeout`` seconds, then kill whatever is left of its process group."""
    import signal

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
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


def _accounts_held(alias: str, pks: list[int]) -> list[tuple[int, str]]:
    """(pk, account) of the async customers ``pks`` whose store holds their account.
    Plain SQL through the alias's connection: the observer runs every ``POLL_SECONDS``
    for every channel database, on the cores it measures, so it costs a round trip and
    no query building (measured here: 0.17 ms of CPU a look, against 0.85 ms through
    the ORM)."""
    from django.db import connections

    from customers.models import AsyncCustomer

    quote, meta = connections[alias].ops.quote_name, AsyncCustomer._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    account = quote(meta.get_field("account").column)
    marks = ", ".join(["%s"] * len(pks))
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {account} FROM {table} "
            f"WHERE {account} IS NOT NULL AND {pk} IN ({marks})",
            pks,
        )
        return cursor.fetchall()


class _Arrivals:
    """Polls the channel databases for the customers created so far: when their store
    holds the account number (every ``POLL_SECONDS``), and when every channel database
    holds their copy (R7; every ``EVERYWHERE_POLL_SECONDS``)."""

    def __init__(self, aliases: list[str]):
        self.aliases = aliases
        self.created: dict[tuple[str, int], float] = {}  # (alias, async pk) -> created
        self.at_store: dict[tuple[str, int], float] = {}
        self.everywhere: dict[tuple[str, int], float] = {}
        self.accounts: dict[tuple[str, int], str] = {}
        self.everywhere_polled = 0.0  # monotonic time of the last look at every store

    def add(self, *, alias: str, pk: int, clock: float) -> None:
        self.created[(alias, pk)] = clock

    @property
    def done(self) -> bool:
        return len(self.everywhere) == len(self.at_store) == len(self.created)

    def poll(self) -> None:
        from customers.models import ChannelCustomer

        now = time.monotonic()
        for alias in self.aliases:
            waiting = [
                pk for (a, pk) in self.created if a == alias and (a, pk) not in self.at_store
            ]
            if not waiting:
                continue
            for pk, account in _accounts_held(alias, waiting):
                self.at_store[(alias, pk)] = now - self.created[(alias, pk)]
                self.accounts[(alias, pk)] = account
        if now - self.everywhere_polled < EVERYWHERE_POLL_SECONDS:
            return
        self.everywhere_polled = now
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
        process_group_stop(cluster)

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
    """The freshness phase on fresh databases of the configured engine and broker. Every
    channel database has a store (``stores`` is raised to ``channel_databases``)."""
    stores = max(stores, channel_databases)
    # Its own queue name: on a shared Redis no other cluster takes (or gives) its tasks.
    queue = f"fresh_bench_{uuid.uuid4().hex[:8]}"
    log(
        f"freshness: {rate}/s for {seconds}s at {stores} async stores, "
        f"{channel_databases} channel databases, queue {queue}"
    )
    report = fresh_child_report(
        fresh(channel_count=channel_databases, label="db", prefix="fresh_bench"),
        manage_arguments(
            "benchmark",
            freshness=True,
            phase="freshness",
            rate=rate,
            seconds=seconds,
            stores=stores,
            channel_databases=channel_databases,
        ),
        what="freshness phase",
        extra_env={"Q_CLUSTER_NAME": queue},
    )
    return {
        "engine": settings.DATABASES[HQ]["ENGINE"].rsplit(".", 1)[-1],
        "broker": "redis" if settings.REDIS_URL else "orm",
        **report,
    }
