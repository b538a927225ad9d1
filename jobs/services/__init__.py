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

One module per concern: ``specs`` (what each job runs and the scopes a request expands
into), ``requesting``, ``executing`` (with ``Progress``), ``reaping`` (runs whose worker
died) and ``schedules``.
"""

from jobs.services.executing import (
    MAX_ERRORS_KEPT,
    QUIET_VIAS,
    TRIGGER,
    Progress,
    garbage_collected_per_batch,
    job_run_execute,
    job_run_is_quiet,
    job_runs_execute,
    job_runs_wait,
    job_scope_check_record,
)
from jobs.services.reaping import (
    JOB_LEASE_SECONDS,
    JOB_QUEUED_LEASE_SECONDS,
    WORKER_DIED,
    job_chain_name,
    job_runs_reap_stale,
)
from jobs.services.requesting import (
    conversion_request,
    job_chain_busy,
    job_chain_request,
    job_chain_scopes,
    job_chains_busy,
    job_run_request,
    job_runs_request,
)
from jobs.services.schedules import END_OF_DAY_PREFIX, SCHEDULES, schedules_setup
from jobs.services.specs import (
    CONVERSION_JOBS,
    JOB_SPECS,
    JobAlreadyActive,
    JobRequestError,
    JobSpec,
    job_scopes,
    job_spec,
    job_specs_check,
)

__all__ = [
    "CONVERSION_JOBS",
    "END_OF_DAY_PREFIX",
    "JOB_LEASE_SECONDS",
    "JOB_QUEUED_LEASE_SECONDS",
    "JOB_SPECS",
    "MAX_ERRORS_KEPT",
    "QUIET_VIAS",
    "SCHEDULES",
    "TRIGGER",
    "WORKER_DIED",
    "JobAlreadyActive",
    "JobRequestError",
    "JobSpec",
    "Progress",
    "conversion_request",
    "garbage_collected_per_batch",
    "job_chain_name",
    "job_chain_busy",
    "job_chain_scopes",
    "job_chains_busy",
    "job_chain_request",
    "job_run_execute",
    "job_run_is_quiet",
    "job_run_request",
    "job_runs_execute",
    "job_runs_reap_stale",
    "job_runs_request",
    "job_runs_wait",
    "job_scope_check_record",
    "job_scopes",
    "job_spec",
    "job_specs_check",
    "schedules_setup",
]
