"""Handing job runs to django-q2, and taking back the ones it never started (R10).

Once a request commits, ``job_run_enqueue`` stamps its runs with a new ``task_id`` and
gives that id to the task along with the run ids; the task claims a run only while the
run still carries it (``jobs.services.job_run_execute``). A run therefore belongs to one
task, or to one ``--sync`` process, at a time, and moving it to another is one
conditional UPDATE. What each fault leaves (README "Job runs"):

- The broker refuses the task (Redis down, the HQ database behind the ORM broker gone):
  the hand-over is tried again briefly (``ENQUEUE_RETRY_DELAYS``); if it still fails,
  the runs are failed at once, "could not be queued: <why>", so their scopes are free.
  A store write's demand stays (``jobs.freshness``): the next trigger or schedule tick
  asks again.
- The process dies between the commit and the hand-over, or the broker took the task
  and no worker starts it (no cluster running, a task lost with Redis): the runs stay
  queued. Once ``JOB_QUEUED_GRACE_SECONDS`` have passed since the hand-over with no run
  of the chain started, the next request for the run's job and scope takes it over
  (``job_run_take_over``): a trigger, the schedule or a command hands it to a new task,
  ``--sync`` runs it in its own process. The first task, should it start after all,
  finds the run no longer carries its id and leaves it: nothing runs twice.
- A chain that has started is left to the job lease (``jobs.services``): its worker beats
  while it runs, and when it dies the queued rest is failed with the run it died in.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import JobRun, JobStatus

logger = logging.getLogger(__name__)

# Seconds slept before each further attempt to hand a task to the broker: a broker that
# blinks is ridden out, one that is down fails the runs within about a second.
ENQUEUE_RETRY_DELAYS: tuple[float, ...] = (0.2, 1.0)


def job_task_id(run_ids: Sequence[int]) -> str:
    """A new task id for the runs handed over together: their ids (cut to the field) and
    a random suffix, as the same runs may be handed over again after a take-over."""
    suffix = f"~{uuid.uuid4().hex[:12]}"
    room = JobRun._meta.get_field("task_id").max_length - len(suffix)
    return f"job-runs-{'-'.join(map(str, run_ids))}"[:room] + suffix


def job_queued_grace() -> timedelta:
    return timedelta(seconds=settings.JOB_QUEUED_GRACE_SECONDS)


def job_run_enqueue(*, run_ids: Sequence[int]) -> str:
    """Hand queued runs to django-q2 as one task (a chain for several, run in this order)
    under a new task id; fail them at once, saying why, when the broker refuses it.
    Returns the task id, or "" when nothing was queued. Called after the request commits.
    """
    from django_q.tasks import async_task

    ids = list(run_ids)
    task_id = job_task_id(ids)
    # Before the broker sees the task: a worker (or django-q's inline mode) may start it
    # at once, and it claims only runs that carry its id.
    stamped = JobRun.objects.filter(pk__in=ids, status=JobStatus.QUEUED, task_id="").update(
        task_id=task_id, enqueued_at=timezone.now()
    )
    if not stamped:
        return ""  # run by a process already, or taken over
    error: Exception | None = None
    for delay in (0, *ENQUEUE_RETRY_DELAYS):
        if delay:
            time.sleep(delay)
        try:
            async_task("jobs.tasks.job_runs_task", ids, task_id, task_name=task_id)
        except Exception as refused:  # redis, database and socket errors share no base
            error = refused
            logger.warning("job runs %s: the queue refused their task: %s", ids, refused)
        else:
            return task_id
    reason = f"could not be queued: {type(error).__name__}: {error}"
    failed = JobRun.objects.filter(pk__in=ids, status=JobStatus.QUEUED, task_id=task_id).update(
        status=JobStatus.FAILED, finished_at=timezone.now(), message=reason
    )
    logger.error("job runs %s: %s failed, %s", ids, failed, reason)
    return ""


def job_run_take_over(*, run: JobRun, at_once: bool = False) -> bool:
    """Take a queued run whose task has not started within the grace away from that task;
    the caller hands it to a new task or runs it (``task_id`` is "" until then). One
    conditional UPDATE on what was read, so of two requests at most one takes it, and
    none once a worker has claimed it. ``at_once``: no grace for a run handed to a task,
    for a caller that runs it in its own process now (``--sync``): the task, if it starts,
    finds the run taken and does nothing. Returns whether the run was taken."""
    now = timezone.now()
    # At once only from a task: a run with no task yet is being run by its own caller.
    cutoff = now if at_once and run.task_id else now - job_queued_grace()
    if run.status != JobStatus.QUEUED or run.enqueued_at >= cutoff:
        return False
    if (
        run.task_id
        and JobRun.objects.filter(task_id=run.task_id, started_at__isnull=False).exists()
    ):
        return False  # its chain has started: the job lease decides (jobs.services)
    taken = JobRun.objects.filter(
        pk=run.pk, status=JobStatus.QUEUED, task_id=run.task_id, enqueued_at__lt=cutoff
    ).update(task_id="", enqueued_at=now)
    if taken:
        logger.warning(
            "job run #%s: its task %r had not started %s s after it was queued; taken over",
            run.pk,
            run.task_id,
            int((now - run.enqueued_at).total_seconds()),
        )
        run.task_id, run.enqueued_at = "", now
    return bool(taken)


def job_runs_hand_out(*, run_ids: Sequence[int], task_id: str) -> list[int]:
    """Hand each of these queued runs of the chain ``task_id`` to a task of its own
    (``job_run_enqueue``), so that the cluster's workers run them side by side; a run
    no longer queued under that id (taken over, reaped) is left as it is. Returns the
    runs handed out. One conditional UPDATE per run, so a run belongs to one task."""
    handed = []
    for run_id in run_ids:
        if JobRun.objects.filter(pk=run_id, status=JobStatus.QUEUED, task_id=task_id).update(
            task_id=""
        ):
            job_run_enqueue(run_ids=[run_id])
            handed.append(run_id)
    return handed
