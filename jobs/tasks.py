"""django-q2 task entry points: plain ids in, one service call, a small summary out."""

from jobs.freshness import job_chain_execute, job_demands_start
from jobs.services import JobAlreadyActive, conversion_request, job_runs_request


def job_runs_task(run_ids: list[int], task_id: str | None = None) -> list[dict]:
    """Run the chain handed over under ``task_id`` (``jobs.enqueueing``): only the runs
    that still carry it (a run taken over since is left to whoever took it)."""
    runs = job_chain_execute(run_ids=run_ids, task_id=task_id)
    return [
        {
            "id": run.pk,
            "job": run.job,
            "status": run.status,
            "succeeded": run.succeeded,
            "failed": run.failed,
        }
        for run in runs
        if run is not None
    ]


def scheduled_job_task(job: str, store: str | None = None) -> list[int]:
    """A schedule's tick: request the job for every scope (of the store, if given) not
    already active."""
    runs, _refused = job_runs_request(job=job, store=store, via="schedule")
    return [run.pk for run in runs]


def scheduled_conversion_task() -> list[int]:
    """The conversion schedule's tick (the safety net of Freshness): every channel
    database, then whatever stores are still owed (a trigger lost with its process, or
    refused while a run outside the cluster held a scope)."""
    try:
        ids = [run.pk for run in conversion_request(via="schedule")]
    except JobAlreadyActive:
        ids = []
    job_demands_start()
    return ids


def scheduled_purge_task() -> dict[str, int]:
    """R15: the daily retention schedule (README, Retention): purge what is no longer
    needed; returns the rows deleted per database and table."""
    from jobs.services.retention import purge_run

    return {f"{db} {label}": count for db, label, count in purge_run() if isinstance(count, int)}
