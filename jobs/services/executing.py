"""Executing job runs (R10): a queued run is claimed exactly once, its job function runs
with a ``Progress`` (counters and heartbeat, at most one UPDATE a second) and the
outcome and the scope's check are recorded; a chain's runs execute in order, and the
quiet runs (nothing found, asked by a schedule or trigger) are forgotten once the chain
has run.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence

from django.utils import timezone

from commerce.db import HQ
from commerce.db.bulk import rows_upsert
from commerce.db.statistics import STATISTICS_CHECK_ROWS, used_databases_statistics_refresh
from jobs.models import JobRun, JobScopeCheck, JobStatus
from jobs.services.reaping import chain_task_id
from jobs.services.specs import job_spec

logger = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 200
# What a run has counted so far: saved with each batch's heartbeat and with the outcome.
COUNTER_FIELDS = ("selected", "succeeded", "failed", "skipped", "held", "errors")


def run_fields(run: JobRun, *names: str) -> dict:
    """``run``'s values of the fields ``names``, as the keyword arguments of an UPDATE."""
    return {name: getattr(run, name) for name in names}


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


# A run's counters and heartbeat are saved at most this often while it runs (and always
# with its outcome): a short run (a store's triggered chain) writes them once, with its
# outcome; a long one shows its progress every second or so (README "Freshness").
PROGRESS_SAVE_SECONDS = 1.0
# Records selected by this process's runs since it last checked the planner statistics:
# counted across runs, so a worker running many small runs (triggered chains) checks too.
_records_unchecked = 0


def _statistics_count(selected: int) -> None:
    """Count ``selected`` records; every ``STATISTICS_CHECK_ROWS`` of them (in this
    process, whichever runs they came from), refresh the planner statistics of the
    databases it uses (``commerce.db.statistics``)."""
    global _records_unchecked
    _records_unchecked += selected
    if _records_unchecked >= STATISTICS_CHECK_ROWS:
        _records_unchecked = 0
        used_databases_statistics_refresh()


class Progress:
    """Counters and heartbeat of a running job, saved in one UPDATE per batch at most
    every ``PROGRESS_SAVE_SECONDS`` (the outcome's UPDATE saves them too); every
    ``STATISTICS_CHECK_ROWS`` records this process selects, the planner statistics of the
    databases it uses are refreshed where its writes made them stale
    (``commerce.db.statistics``)."""

    def __init__(self, run: JobRun):
        self.run = run
        self._saved = time.monotonic()  # the claim saved the heartbeat

    def add(
        self,
        *,
        selected: int = 0,
        succeeded: int = 0,
        failed: int = 0,
        skipped: int = 0,
        held: int = 0,
        errors: Sequence[str] = (),
    ) -> None:
        run = self.run
        run.held += held
        run.selected += selected
        run.succeeded += succeeded
        run.failed += failed
        run.skipped += skipped
        if errors and len(run.errors) < MAX_ERRORS_KEPT:
            run.errors = [*run.errors, *errors][:MAX_ERRORS_KEPT]
        self.beat()
        _statistics_count(selected)

    def beat(self) -> None:
        """Called once per batch: collect the batch's garbage cycles
        (``garbage_collected_per_batch``) and, when ``PROGRESS_SAVE_SECONDS`` have passed
        since the last save, save the counters and the heartbeat (one UPDATE)."""
        if not gc.isenabled():
            gc.collect(1)
        if time.monotonic() - self._saved < PROGRESS_SAVE_SECONDS:
            return
        run = self.run
        run.heartbeat_at = timezone.now()
        JobRun.objects.filter(pk=run.pk).update(**run_fields(run, *COUNTER_FIELDS, "heartbeat_at"))
        self._saved = time.monotonic()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def job_run_execute(
    *,
    run_id: int,
    task_id: str | None = None,
    on_claim: Callable[[JobRun], None] | None = None,
    run: JobRun | None = None,
) -> JobRun | None:
    """Claim a queued run (exactly once, whatever the number of workers) that carries
    ``task_id`` (if given), execute it and record the outcome and the scope's check.
    Returns None when the run was not queued any more (or was taken over). ``on_claim``
    runs after the claim and before the job function (an exception from it fails the
    run). ``run`` is the row as read before the claim (``job_runs_execute`` reads a
    chain's rows at once): what a queued run holds changes only with its status or its
    task, which the claim checks, so the claimed run is not read again."""
    now = timezone.now()
    claim = JobRun.objects.filter(pk=run_id, status=JobStatus.QUEUED)
    if task_id is not None:
        claim = claim.filter(task_id=task_id)
    claimed_fields = {
        "status": JobStatus.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "worker": _worker_name(),
    }
    if not claim.update(**claimed_fields):
        logger.info("job run %s is not queued for task %r any more; skipped", run_id, task_id)
        return None
    if run is None:
        run = JobRun.objects.get(pk=run_id)
    else:
        for name, value in claimed_fields.items():
            setattr(run, name, value)
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
            held = f", {run.held} held for review" if run.held else ""
            run.message = (
                f"{run.succeeded} succeeded, {run.failed} failed{held}, {run.skipped} skipped "
                f"of {run.selected} selected"
            )
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    JobRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(
        **run_fields(run, "status", "message", *COUNTER_FIELDS, "finished_at", "heartbeat_at")
    )
    job_scope_check_record(run=run)
    return run


TRIGGER = "trigger"  # requested_via of the runs a store write asked for (jobs.freshness)
# Who asks for runs that may find nothing to do, again and again: such a run is not
# kept (Freshness). A run a person or a command asked for is always kept.
QUIET_VIAS = frozenset({"schedule", TRIGGER})


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
    rows_upsert(
        model=JobScopeCheck,
        columns=["job", "scope", "checked_at", "last_run"],
        rows=[(run.job, run.scope, run.finished_at or timezone.now(), run.pk if kept else None)],
        unique=["job", "scope"],
        update=["checked_at", "last_run"] if kept else ["checked_at"],
        using=HQ,
    )


def job_runs_execute(
    *,
    run_ids: Sequence[int],
    task_id: str | None = None,
    on_claim: Callable[[JobRun], None] | None = None,
    rows: dict[int, JobRun] | None = None,
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
    name where it died. ``rows`` are the runs as a caller that had to read them anyway
    read them before the first claim (``jobs.freshness.job_chain_execute``); without
    them (or without a task) they are read here, once for the whole chain.
    """
    if task_id is None:
        task_id = chain_task_id(run_ids)
        JobRun.objects.filter(pk__in=run_ids, task_id="").update(task_id=task_id)
        rows = None  # read after the marking
    if rows is None:
        rows = JobRun.objects.in_bulk(list(run_ids))  # one read for the chain (see the claim)
    runs: list[JobRun | None] = []
    for run_id in run_ids:
        run = job_run_execute(
            run_id=run_id, task_id=task_id, on_claim=on_claim, run=rows.get(run_id)
        )
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
