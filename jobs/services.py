"""Job runs (R10): requesting, enqueueing through django-q2, executing, progress.

``job_run_request`` is the one place that enqueues (after the surrounding transaction
commits). ``job_run_execute`` claims a queued run exactly once, runs the job function
with a ``Progress`` that keeps counters and a heartbeat, and records the outcome. A run
whose worker died stops beating; the next request for the same scope finds it stale,
marks it failed and starts a new one. Every job function is safe to re-run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import checks
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from commerce.db import HQ
from commerce.models import ChannelDatabase, Store
from jobs.models import ACTIVE_STATUSES, Job, JobRun, JobStatus

logger = logging.getLogger(__name__)

JOB_LEASE_SECONDS = int(getattr(settings, "JOB_LEASE_SECONDS", 300))
JOB_QUEUED_LEASE_SECONDS = int(getattr(settings, "JOB_QUEUED_LEASE_SECONDS", 3600))
MAX_ERRORS_KEPT = 200


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


def _stale_filter(now) -> Q:
    return Q(
        status=JobStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=JOB_LEASE_SECONDS)
    ) | Q(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=JOB_QUEUED_LEASE_SECONDS))


def job_runs_reap_stale(*, job: str | None = None, scope: str | None = None) -> int:
    """Mark runs whose worker died (no heartbeat within the lease) as failed. Re-run safe."""
    now = timezone.now()
    queryset = JobRun.objects.filter(_stale_filter(now))
    if job:
        queryset = queryset.filter(job=job)
    if scope:
        queryset = queryset.filter(scope=scope)
    return queryset.update(
        status=JobStatus.FAILED,
        finished_at=now,
        message="The worker stopped reporting (died or lost); the run can be started again.",
    )


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
    (the partial unique constraint decides, so two simultaneous requests cannot both win).
    """
    job_spec(job)
    parameters = {k: v for k, v in (parameters or {}).items() if v not in (None, "")}
    scope = _scope_string(parameters)
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
        raise JobAlreadyActive(active) from None
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


def job_run_enqueue(*, run_ids: Sequence[int]) -> str:
    """Hand run ids to django-q2: one task executes them in order (a chain for several)."""
    from django_q.tasks import async_task

    task_name = f"job-runs-{'-'.join(str(i) for i in run_ids)}"
    task_id = async_task("jobs.tasks.job_runs_task", list(run_ids), task_name=task_name)
    JobRun.objects.filter(pk__in=run_ids, task_id="").update(task_id=str(task_id or "")[:64])
    return task_id


def conversion_request(
    *, channel_database: str | None = None, user=None, via: str = "command", enqueue: bool = True
) -> list[JobRun]:
    """Request upload, account creation and distribution as one chain, run in that order.

    Every stage's runs are created up front (queued) so the chain is visible at once;
    a stage already active for its scope is refused as a whole (JobAlreadyActive).
    """
    with transaction.atomic(using=HQ):
        runs: list[JobRun] = []
        for job in CONVERSION_JOBS:
            for parameters in job_scopes(job=job, channel_database=channel_database):
                runs.append(
                    job_run_request(
                        job=job, parameters=parameters, user=user, via=via, enqueue=False
                    )
                )
        if enqueue:
            ids = [run.pk for run in runs]
            transaction.on_commit(lambda: job_run_enqueue(run_ids=ids), using=HQ)
    return runs


# --- Executing ----------------------------------------------------------------------


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
        """Save the counters and the heartbeat (one UPDATE; called once per batch)."""
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


def job_run_execute(*, run_id: int) -> JobRun | None:
    """Claim a queued run (exactly once, whatever the number of workers), execute it
    and record the outcome. Returns None when the run was not queued any more."""
    now = timezone.now()
    claimed = JobRun.objects.filter(pk=run_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, worker=_worker_name()
    )
    if not claimed:
        logger.info("job run %s is not queued any more; skipped", run_id)
        return None
    run = JobRun.objects.get(pk=run_id)
    spec = job_spec(run.job)
    progress = Progress(run)
    try:
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
    return run


def job_runs_execute(*, run_ids: Sequence[int]) -> list[JobRun | None]:
    """Execute runs in order: the next starts after the previous finished."""
    return [job_run_execute(run_id=run_id) for run_id in run_ids]


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
        minutes = int(os.environ.get(setting, getattr(settings, setting, default)))
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
    return results
