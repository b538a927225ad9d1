"""Job runs (R10): requesting, enqueueing through django-q2, executing, progress.

``job_run_request`` is the one place that enqueues (after the surrounding transaction
commits, through ``jobs.enqueueing``). ``job_run_execute`` claims a queued run exactly
once, runs the job function with a ``Progress`` that keeps counters and a heartbeat, and
records the outcome. A run whose worker died stops beating; the next request for the same
scope finds it stale, marks it failed and starts a new one. A queued run whose task never
started (the broker lost it, no cluster runs) is taken over by the next request for its
scope after a short grace (``jobs.enqueueing``). Every job function is safe to re-run.

A scheduled or triggered run that found nothing to do is deleted once its chain has run,
so the history keeps only runs that did work or failed; ``JobScopeCheck`` records when
each job last checked each scope, work found or not (Freshness, ``jobs.freshness``).

Runs executed by one task (a conversion chain) share ``task_id``, so they die together:
a SIGKILL while the worker runs #N, or between #N and #N+1, leaves the rest of the chain
queued with nobody to run it. A chain that has started but has not beaten within the
lease is dead: the next request for any of its scopes fails all its active runs, naming
the run the worker died in, and the scopes are free at once (R10). If django-q later
redelivers the killed task, every claim finds its run failed and nothing runs twice.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from commerce.db import HQ
from commerce.environment import Env
from commerce.models import ChannelDatabase, Store
from jobs.enqueueing import job_run_enqueue, job_run_take_over
from jobs.models import ACTIVE_STATUSES, Job, JobRun, JobScopeCheck, JobStatus

logger = logging.getLogger(__name__)

# Read and checked once, with their defaults, in settings (README "Configuration").
JOB_LEASE_SECONDS = settings.JOB_LEASE_SECONDS
JOB_QUEUED_LEASE_SECONDS = settings.JOB_QUEUED_LEASE_SECONDS
MAX_ERRORS_KEPT = 200
# The schedule intervals are read when `setup_schedules` runs, by the settings' reader.
ENV = Env()


class JobRequestError(Exception):
    """A job request that cannot be accepted (bad scope, unknown job)."""


class JobAlreadyActive(JobRequestError):
    def __init__(self, run: JobRun):
        self.run = run
        super().__init__(
            f"{Job(run.job).label} for {run.scope} is already {run.status} "
            f"(job run #{run.pk}); not started again"
        )


@dataclass(frozen=True)
class JobSpec:
    job: str
    # Dotted path of the job function, called as function(run=..., progress=...,
    # **parameters). A path, not the function itself, so importing this module does not
    # import every job (and the customer domain behind it); the "jobs.E001" check
    # resolves them all at start-up.
    function: str
    scope: str  # "channel_database", "store" or "all"

    @property
    def permission(self) -> str:
        return f"jobs.run_{self.job.replace('-', '_')}"

    def resolve(self) -> Callable[..., None]:
        """The job function (ImportError when the path does not name one)."""
        return import_string(self.function)


JOB_SPECS: dict[str, JobSpec] = {
    Job.UPLOAD: JobSpec(Job.UPLOAD, "jobs.upload.upload_run", "channel_database"),
    Job.ASYNC_CUSTOMERS: JobSpec(
        Job.ASYNC_CUSTOMERS, "jobs.account_creation.account_creation_run", "all"
    ),
    Job.DISTRIBUTE: JobSpec(
        Job.DISTRIBUTE, "jobs.distribution.distribution_run", "channel_database"
    ),
    Job.SYNC_ORDERS: JobSpec(Job.SYNC_ORDERS, "jobs.orders.orders_sync_run", "all"),
    Job.POST_STATEMENTS: JobSpec(Job.POST_STATEMENTS, "jobs.orders.statements_post_run", "store"),
}

CONVERSION_JOBS = [Job.UPLOAD, Job.ASYNC_CUSTOMERS, Job.DISTRIBUTE]


def job_specs_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: every job's function path resolves to a callable."""
    errors = []
    for spec in JOB_SPECS.values():
        job = str(spec.job)
        try:
            function = spec.resolve()
        except ImportError as error:
            errors.append(
                checks.Error(
                    f"job {job!r}: cannot import {spec.function!r} ({error})", id="jobs.E001"
                )
            )
            continue
        if not callable(function):
            errors.append(
                checks.Error(f"job {job!r}: {spec.function!r} is not callable", id="jobs.E001")
            )
    return errors


def job_spec(job: str) -> JobSpec:
    try:
        return JOB_SPECS[job]
    except KeyError:
        raise JobRequestError(
            f"unknown job {job!r}; expected one of: {', '.join(sorted(JOB_SPECS))}"
        ) from None


# --- Scopes -------------------------------------------------------------------------


def _scope_value(value) -> str:
    if isinstance(value, list | tuple):
        # A selection (ids picked in the admin): the same selection is the same scope.
        digest = hashlib.sha1(",".join(map(str, sorted(value))).encode()).hexdigest()[:8]
        return f"{len(value)} selected #{digest}"
    return str(value)


def _scope_string(parameters: dict) -> str:
    parts = [f"{key}={_scope_value(value)}" for key, value in sorted(parameters.items()) if value]
    return ",".join(parts) or "all"


def job_scopes(
    *,
    job: str,
    channel_database: str | None = None,
    store: str | None = None,
    business_date: str | None = None,
    extra: dict | None = None,
) -> list[dict]:
    """The parameter sets one request expands into: one run per channel database for
    per-channel jobs (so each scope has its own lock), else a single run."""
    spec = job_spec(job)
    if channel_database and not ChannelDatabase.objects.filter(name=channel_database).exists():
        raise JobRequestError(f"unknown channel database {channel_database!r}")
    if store and not Store.objects.filter(number=store).exists():
        raise JobRequestError(f"unknown store {store!r}")
    base = dict(extra or {})
    if spec.scope == "channel_database":
        if store:
            channel_database = Store.objects.get(number=store).channel_database.name
        names = (
            [channel_database]
            if channel_database
            else list(ChannelDatabase.objects.order_by("name").values_list("name", flat=True))
        )
        if not names:
            raise JobRequestError("no channel database is set up; run setup_demo or import_data")
        return [{**base, "channel_database": name} for name in names]
    if spec.scope == "store":
        numbers = [store] if store else list(Store.objects.values_list("number", flat=True))
        if not numbers:
            raise JobRequestError("no store is set up")
        return [{**base, "store": number, "business_date": business_date} for number in numbers]
    if channel_database:
        base["channel_database"] = channel_database
    if store:
        base["store"] = store
    return [base]


# --- Requesting ---------------------------------------------------------------------


WORKER_DIED = "The worker stopped reporting (died or lost); the run can be started again."


def _stale_filter(now) -> Q:
    return Q(
        status=JobStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=JOB_LEASE_SECONDS)
    ) | Q(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=JOB_QUEUED_LEASE_SECONDS))


def job_chain_name(run_ids: Sequence[int]) -> str:
    """The django-q task name of runs executed together; their ``task_id`` when the task
    id is not known (run in this process, or claimed before the enqueue wrote it)."""
    return f"job-runs-{'-'.join(str(i) for i in run_ids)}"


def _chain_task_id(run_ids: Sequence[int]) -> str:
    # Cut to the field's length, still unique: a run is in one chain only, and the first
    # id survives the cut.
    return job_chain_name(run_ids)[: JobRun._meta.get_field("task_id").max_length]


def _chain_reap_if_dead(*, task_id: str, now) -> int:
    """Fail the active runs of a chain that started and has not beaten within the lease.

    Its worker died while running a run, or between two runs (or the task failed): the
    queued rest would otherwise hold their scopes until the queued lease (R10).
    """
    beat_cutoff = now - timedelta(seconds=JOB_LEASE_SECONDS)
    # A chain is the handful of runs of one request; looked up only when a scope asked
    # for has a queued run or a silent running one.
    chain = list(
        JobRun.objects.filter(task_id=task_id).only(
            "pk", "job", "status", "heartbeat_at", "started_at"
        )
    )
    if any(run.heartbeat_at and run.heartbeat_at >= beat_cutoff for run in chain):
        return 0
    started = [run for run in chain if run.started_at is not None]
    if not started:
        return 0  # never started: the next request takes it over (jobs.enqueueing)
    last = max(started, key=lambda run: (run.started_at, run.pk))
    if last.status == JobStatus.RUNNING:
        message = (
            f"The chain's worker died while running job run #{last.pk} "
            f"({Job(last.job).label}); this run never started and can be started again."
        )
    else:
        message = (
            f"The chain stopped after job run #{last.pk} ({Job(last.job).label}) finished: "
            "its worker died or its task failed; this run never started and can be started again."
        )
    # Conditional updates: a run that beat or was claimed since the read is left alone.
    reaped = JobRun.objects.filter(
        task_id=task_id, status=JobStatus.RUNNING, heartbeat_at__lt=beat_cutoff
    ).update(status=JobStatus.FAILED, finished_at=now, message=WORKER_DIED)
    reaped += JobRun.objects.filter(task_id=task_id, status=JobStatus.QUEUED).update(
        status=JobStatus.FAILED, finished_at=now, message=message
    )
    return reaped


def job_runs_reap_stale(*, job: str | None = None, scope: str | None = None) -> int:
    """Mark runs whose worker died (no heartbeat within the lease) as failed, with the
    queued runs of their chain, whatever their scope. Re-run safe."""
    now = timezone.now()
    asked = JobRun.objects.filter(status__in=ACTIVE_STATUSES)
    if job:
        asked = asked.filter(job=job)
    if scope:
        asked = asked.filter(scope=scope)
    active = list(asked.values_list("pk", "status", "task_id", "heartbeat_at"))
    if not active:
        return 0
    beat_cutoff = now - timedelta(seconds=JOB_LEASE_SECONDS)
    # A running run that beats proves its chain alive; a queued one says nothing by itself.
    chains = {
        task_id
        for _pk, status, task_id, heartbeat_at in active
        if task_id
        and (status == JobStatus.QUEUED or heartbeat_at is None or heartbeat_at < beat_cutoff)
    }
    reaped = sum(_chain_reap_if_dead(task_id=task_id, now=now) for task_id in sorted(chains))
    reaped += (
        JobRun.objects.filter(pk__in=[row[0] for row in active])
        .filter(_stale_filter(now))
        .update(status=JobStatus.FAILED, finished_at=now, message=WORKER_DIED)
    )
    return reaped


def _request_parameters(parameters: dict | None) -> tuple[dict, str]:
    parameters = {k: v for k, v in (parameters or {}).items() if v not in (None, "")}
    return parameters, _scope_string(parameters)


def job_run_request(
    *,
    job: str,
    parameters: dict | None = None,
    user=None,
    via: str = "command",
    enqueue: bool = True,
) -> JobRun:
    """Create a queued job run and, once the transaction commits, enqueue it.

    Raises JobAlreadyActive when the same job for the same scope is queued or running
    (the partial unique constraint decides, so two simultaneous requests cannot both win),
    unless that run is queued and its task has not started within the grace: then it is
    taken over and returned, to be enqueued again or (``enqueue=False``) run by the caller.
    """
    job_spec(job)
    parameters, scope = _request_parameters(parameters)
    job_runs_reap_stale(job=job, scope=scope)
    try:
        with transaction.atomic(using=HQ):
            run = JobRun.objects.create(
                job=job,
                scope=scope,
                parameters=parameters,
                requested_by=user if user is not None and user.is_authenticated else None,
                requested_via=via,
            )
    except IntegrityError:
        active = JobRun.objects.filter(job=job, scope=scope, status__in=ACTIVE_STATUSES).first()
        if active is None:  # finished in between: try once more
            return job_run_request(
                job=job, parameters=parameters, user=user, via=via, enqueue=enqueue
            )
        if not job_run_take_over(run=active):
            raise JobAlreadyActive(active) from None
        run = active
    if enqueue:
        transaction.on_commit(lambda: job_run_enqueue(run_ids=[run.pk]), using=HQ)
    return run


def job_runs_request(
    *,
    job: str,
    channel_database: str | None = None,
    store: str | None = None,
    business_date: str | None = None,
    extra: dict | None = None,
    user=None,
    via: str = "command",
    enqueue: bool = True,
) -> tuple[list[JobRun], list[JobAlreadyActive]]:
    """Request one run per scope of the job; scopes already active are reported back."""
    runs, refused = [], []
    for parameters in job_scopes(
        job=job,
        channel_database=channel_database,
        store=store,
        business_date=business_date,
        extra=extra,
    ):
        try:
            runs.append(
                job_run_request(job=job, parameters=parameters, user=user, via=via, enqueue=enqueue)
            )
        except JobAlreadyActive as error:
            refused.append(error)
    return runs, refused


def job_chain_request(
    *,
    stages: Sequence[tuple[str, dict]],
    user=None,
    via: str = "command",
    enqueue: bool = True,
) -> list[JobRun]:
    """Request (job, parameters) stages as one chain: one task runs them in this order.

    Every stage's run is created up front (queued) so the chain is visible at once; a
    stage already active for its scope refuses the chain as a whole (JobAlreadyActive,
    nothing created). Dead runs of every scope the chain needs are reaped first, and stay
    reaped when the request is refused, so a killed chain is recovered by the next
    request for any of its scopes (R10).
    """
    for job, parameters in stages:
        job_runs_reap_stale(job=job, scope=_request_parameters(parameters)[1])
    with transaction.atomic(using=HQ):
        runs = [
            job_run_request(job=job, parameters=parameters, user=user, via=via, enqueue=False)
            for job, parameters in stages
        ]
        if enqueue:
            ids = [run.pk for run in runs]
            transaction.on_commit(lambda: job_run_enqueue(run_ids=ids), using=HQ)
    return runs


def conversion_request(
    *, channel_database: str | None = None, user=None, via: str = "command", enqueue: bool = True
) -> list[JobRun]:
    """Request upload, account creation and distribution as one chain, run in that order
    (``job_chain_request``: refused as a whole while any of its scopes is active)."""
    stages = [
        (job, parameters)
        for job in CONVERSION_JOBS
        for parameters in job_scopes(job=job, channel_database=channel_database)
    ]
    return job_chain_request(stages=stages, user=user, via=via, enqueue=enqueue)


# --- Executing ----------------------------------------------------------------------


@contextlib.contextmanager
def garbage_collected_per_batch() -> Iterator[None]:
    """Python's automatic cyclic garbage collection paused while a job runs; ``Progress``
    runs a young-generation collection at the end of each batch instead.

    A conversion batch builds and drops hundreds of thousands of short-lived tuples and
    dicts, and the automatic collector traverses them again and again as they are made
    (measured: a fifth of the conversion's time at 10,000 customers). Reference counting
    still frees them as they go; what a batch leaves in reference cycles is collected
    when it reports its progress, so memory stays bounded by the batch. Restores the
    collector's previous state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Progress:
    """Counters and heartbeat of a running job, saved in one UPDATE per call."""

    def __init__(self, run: JobRun):
        self.run = run

    def add(
        self,
        *,
        selected: int = 0,
        succeeded: int = 0,
        failed: int = 0,
        skipped: int = 0,
        errors: Sequence[str] = (),
    ) -> None:
        run = self.run
        run.selected += selected
        run.succeeded += succeeded
        run.failed += failed
        run.skipped += skipped
        if errors and len(run.errors) < MAX_ERRORS_KEPT:
            run.errors = [*run.errors, *errors][:MAX_ERRORS_KEPT]
        self.beat()

    def beat(self) -> None:
        """Save the counters and the heartbeat (one UPDATE; called once per batch), and
        collect the batch's garbage cycles (``garbage_collected_per_batch``)."""
        if not gc.isenabled():
            gc.collect(1)
        run = self.run
        run.heartbeat_at = timezone.now()
        JobRun.objects.filter(pk=run.pk).update(
            selected=run.selected,
            succeeded=run.succeeded,
            failed=run.failed,
            skipped=run.skipped,
            errors=run.errors,
            heartbeat_at=run.heartbeat_at,
        )


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def job_run_execute(
    *,
    run_id: int,
    task_id: str | None = None,
    on_claim: Callable[[JobRun], None] | None = None,
) -> JobRun | None:
    """Claim a queued run (exactly once, whatever the number of workers) that carries
    ``task_id`` (if given), execute it and record the outcome and the scope's check.
    Returns None when the run was not queued any more (or was taken over). ``on_claim``
    runs after the claim and before the job function (an exception from it fails the
    run)."""
    now = timezone.now()
    claim = JobRun.objects.filter(pk=run_id, status=JobStatus.QUEUED)
    if task_id is not None:
        claim = claim.filter(task_id=task_id)
    claimed = claim.update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, worker=_worker_name()
    )
    if not claimed:
        logger.info("job run %s is not queued for task %r any more; skipped", run_id, task_id)
        return None
    run = JobRun.objects.get(pk=run_id)
    spec = job_spec(run.job)
    progress = Progress(run)
    try:
        if on_claim is not None:
            on_claim(run)
        with garbage_collected_per_batch():
            spec.resolve()(run=run, progress=progress, **run.parameters)
    except Exception as error:  # the run records why it failed; the worker lives on
        logger.exception("job run %s failed", run_id)
        run.status = JobStatus.FAILED
        run.message = f"{type(error).__name__}: {error}"
        run.errors = [*run.errors, traceback.format_exc(limit=5)][-MAX_ERRORS_KEPT:]
    else:
        run.status = JobStatus.COMPLETED_WITH_ERRORS if run.failed else JobStatus.SUCCEEDED
        if not run.message:
            run.message = (
                f"{run.succeeded} succeeded, {run.failed} failed, {run.skipped} skipped "
                f"of {run.selected} selected"
            )
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    JobRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(
        status=run.status,
        message=run.message,
        errors=run.errors,
        selected=run.selected,
        succeeded=run.succeeded,
        failed=run.failed,
        skipped=run.skipped,
        finished_at=run.finished_at,
        heartbeat_at=run.heartbeat_at,
    )
    job_scope_check_record(run=run)
    return run


# Who asks for runs that may find nothing to do, again and again: such a run is not
# kept (Freshness). A run a person or a command asked for is always kept.
QUIET_VIAS = frozenset({"schedule", "trigger"})


def job_run_is_quiet(run: JobRun) -> bool:
    """A scheduled or triggered run that succeeded with nothing selected and no error."""
    return (
        run.requested_via in QUIET_VIAS
        and run.status == JobStatus.SUCCEEDED
        and not run.selected
        and not run.errors
    )


def job_scope_check_record(*, run: JobRun) -> None:
    """Upsert when the run's job last checked its scope (and, for a run that is kept, that
    run). One statement; re-run safe."""
    kept = not job_run_is_quiet(run)
    JobScopeCheck.objects.bulk_create(
        [
            JobScopeCheck(
                job=run.job,
                scope=run.scope,
                checked_at=run.finished_at or timezone.now(),
                last_run=run if kept else None,
            )
        ],
        update_conflicts=True,
        unique_fields=["job", "scope"],
        update_fields=["checked_at", "last_run"] if kept else ["checked_at"],
    )


def job_runs_execute(
    *,
    run_ids: Sequence[int],
    task_id: str | None = None,
    on_claim: Callable[[JobRun], None] | None = None,
) -> list[JobRun | None]:
    """Execute runs in order: the next starts after the previous finished. Then forget
    the quiet ones (``job_run_is_quiet``): their check is recorded in JobScopeCheck.

    ``task_id`` is the id a task was handed the runs under (``jobs.enqueueing``); only
    runs that still carry it are claimed. Without it (``--sync``) the runs not handed to
    a task (requested here, or taken over) are marked as this process's chain first, so
    that if this process dies the queued rest is reaped with the run it died in. A run
    that carries the chain's id but cannot be claimed is held by another executor of the
    same task (a task the broker delivered twice) or was reaped with the whole chain:
    the chain stops there, so its runs never run out of order. Quiet runs are deleted only
    once the whole chain has run, so a chain that dies keeps every run the reaper needs to
    name where it died.
    """
    if task_id is None:
        task_id = _chain_task_id(run_ids)
        JobRun.objects.filter(pk__in=run_ids, task_id="").update(task_id=task_id)
    runs: list[JobRun | None] = []
    for run_id in run_ids:
        run = job_run_execute(run_id=run_id, task_id=task_id, on_claim=on_claim)
        runs.append(run)
        if run is None and JobRun.objects.filter(pk=run_id, task_id=task_id).exists():
            break
    quiet = [run.pk for run in runs if run is not None and job_run_is_quiet(run)]
    if quiet:
        # Conditional: a row is deleted only as it was recorded (finished, nothing done).
        JobRun.objects.filter(pk__in=quiet, status=JobStatus.SUCCEEDED, selected=0).delete()
    return runs


def job_runs_wait(
    *, run_ids: Sequence[int], timeout: float = 3600, poll: float = 0.5
) -> list[JobRun]:
    """Block until every run has finished (or the timeout passes); returns them fresh."""
    deadline = time.monotonic() + timeout
    while True:
        runs = list(JobRun.objects.filter(pk__in=run_ids).order_by("pk"))
        if all(not run.is_active for run in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(poll)


# --- Schedules ----------------------------------------------------------------------

SCHEDULES = [
    # (name, task, args, minutes setting, default minutes)
    (
        "Conversion: upload, create accounts, distribute",
        "jobs.tasks.scheduled_conversion_task",
        (),
        "CONVERSION_SCHEDULE_MINUTES",
        1,
    ),
    (
        "Synchronize orders",
        "jobs.tasks.scheduled_job_task",
        ("sync-orders",),
        "ORDER_SYNC_SCHEDULE_MINUTES",
        5,
    ),
]


def schedules_setup() -> list[tuple[str, bool]]:
    """Create or update the recurring schedules of all jobs. Idempotent.

    The cluster runs with ``catch_up=False``: after downtime a schedule runs once,
    not once per missed interval, and each tick skips scopes that are still active.
    """
    from django_q.models import Schedule

    results = []
    for name, func, args, setting, default in SCHEDULES:
        try:
            minutes = ENV.int(setting, getattr(settings, setting, default), minimum=1)
        except ImproperlyConfigured as error:
            raise JobRequestError(str(error)) from None
        schedule, created = Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "args": repr(tuple(args)) if args else None,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
        if created or schedule.next_run is None:
            Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now())
        results.append((name, created))
    results += _end_of_day_schedules_setup(Schedule)
    return results


END_OF_DAY_PREFIX = "End of day: post the statements of store "


def _end_of_day_schedules_setup(Schedule) -> list[tuple[str, bool]]:
    """R9: one daily schedule per store posting its statements at the end of the day
    (``END_OF_DAY_TIME``, HH:MM in TIME_ZONE, default 23:30): every business date with
    unposted sales up to that day. A later sale of the day goes into the next statement
    of its date. Idempotent; a store's schedule keeps the time it was given."""
    at = ENV.str("END_OF_DAY_TIME", getattr(settings, "END_OF_DAY_TIME", "23:30"))
    try:
        hour, minute = (int(part) for part in at.strip().split(":"))
        first = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        raise JobRequestError(f"END_OF_DAY_TIME must be HH:MM (24-hour), got {at!r}") from None
    now = timezone.localtime()
    if first <= now:
        first += timedelta(days=1)
    results = []
    for number in Store.objects.order_by("number").values_list("number", flat=True):
        name = f"{END_OF_DAY_PREFIX}{number}"
        schedule, created = Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": "jobs.tasks.scheduled_job_task",
                "args": repr(("post-statements",)),
                "kwargs": repr({"store": number}),
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
            },
        )
        if created or schedule.next_run is None:
            Schedule.objects.filter(pk=schedule.pk).update(next_run=first)
        results.append((name, created))
    return results
