"""Runs whose worker died (R10): a running run that has not beaten within the job lease,
a queued one older than the queued lease, and a chain that started and stopped beating
(the rest of the chain fails with it, naming the run the worker died in), so their scopes
are free again. The next request for a scope reaps first.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jobs.models import ACTIVE_STATUSES, Job, JobRun, JobStatus

# Read and checked once, with their defaults, in settings (README "Configuration").
JOB_LEASE_SECONDS = settings.JOB_LEASE_SECONDS
JOB_QUEUED_LEASE_SECONDS = settings.JOB_QUEUED_LEASE_SECONDS


WORKER_DIED = "The worker stopped reporting (died or lost); the run can be started again."


def scopes_filter(scopes: Sequence[tuple[str, str]]) -> Q:
    """Runs of any of these (job, scope) pairs (at least one)."""
    return functools.reduce(operator.or_, (Q(job=job, scope=scope) for job, scope in scopes))


def stale_runs_filter(now) -> Q:
    """Active runs past their lease: running without a heartbeat within
    ``JOB_LEASE_SECONDS``, or queued for longer than ``JOB_QUEUED_LEASE_SECONDS``."""
    return Q(
        status=JobStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=JOB_LEASE_SECONDS)
    ) | Q(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=JOB_QUEUED_LEASE_SECONDS))


def job_chain_name(run_ids: Sequence[int]) -> str:
    """The django-q task name of runs executed together; their ``task_id`` when the task
    id is not known (run in this process, or claimed before the enqueue wrote it)."""
    return f"job-runs-{'-'.join(str(i) for i in run_ids)}"


def chain_task_id(run_ids: Sequence[int]) -> str:
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


def job_runs_reap_stale(
    *,
    job: str | None = None,
    scope: str | None = None,
    scopes: Sequence[tuple[str, str]] = (),
) -> int:
    """Mark runs whose worker died (no heartbeat within the lease) as failed, with the
    queued runs of their chain, whatever their scope. ``job`` and ``scope`` narrow what
    is looked at; ``scopes``: (job, scope) pairs, any of them (a chain's, in one read).
    Re-run safe."""
    now = timezone.now()
    asked = JobRun.objects.filter(status__in=ACTIVE_STATUSES)
    if job:
        asked = asked.filter(job=job)
    if scope:
        asked = asked.filter(scope=scope)
    if scopes:
        asked = asked.filter(scopes_filter(scopes))
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
        .filter(stale_runs_filter(now))
        .update(status=JobStatus.FAILED, finished_at=now, message=WORKER_DIED)
    )
    return reaped
