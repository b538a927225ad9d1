"""Requesting job runs (R10): one queued run per scope, refused while the same job is
active for that scope (the partial unique constraint decides), enqueued once the
transaction commits (``jobs.enqueueing``); chains of runs one task executes in order,
such as the conversion.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from commerce.db import HQ
from jobs.enqueueing import job_queued_grace, job_run_enqueue, job_run_take_over
from jobs.models import ACTIVE_STATUSES, JobRun, JobStatus
from jobs.services.reaping import job_runs_reap_stale, scopes_filter, stale_runs_filter
from jobs.services.specs import (
    CONVERSION_JOBS,
    JobAlreadyActive,
    job_scopes,
    job_spec,
    scope_string,
)


def _request_parameters(parameters: dict | None) -> tuple[dict, str]:
    parameters = {k: v for k, v in (parameters or {}).items() if v not in (None, "")}
    return parameters, scope_string(parameters)


def job_run_request(
    *,
    job: str,
    parameters: dict | None = None,
    user=None,
    via: str = "command",
    enqueue: bool = True,
    at_once: bool | None = None,
    reaped: bool = False,
) -> JobRun:
    """Create a queued job run and, once the transaction commits, enqueue it.

    Raises JobAlreadyActive when the same job for the same scope is queued or running
    (the partial unique constraint decides, so two simultaneous requests cannot both win),
    unless that run is queued and its task has not started within the grace (``at_once``,
    by default when ``enqueue=False``: no grace, the caller runs it now): then it is taken
    over and returned, to be enqueued again or (``enqueue=False``) run by the caller.
    ``reaped``: the caller has just reaped the scope's dead runs (``job_chain_request``).
    """
    job_spec(job)
    parameters, scope = _request_parameters(parameters)
    if not reaped:
        job_runs_reap_stale(job=job, scope=scope)
    try:
        with transaction.atomic(using=HQ):
            run = _run_new(job=job, parameters=parameters, scope=scope, user=user, via=via)
            run.save(force_insert=True, using=HQ)
    except IntegrityError:
        active = JobRun.objects.filter(job=job, scope=scope, status__in=ACTIVE_STATUSES).first()
        if active is None:  # finished in between: try once more
            return job_run_request(
                job=job,
                parameters=parameters,
                user=user,
                via=via,
                enqueue=enqueue,
                at_once=at_once,
                reaped=reaped,
            )
        # A caller that runs the job here (``--sync``) takes a queued run whose task has
        # not started at once; a request for a task waits the grace.
        if not job_run_take_over(run=active, at_once=not enqueue if at_once is None else at_once):
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


def job_chain_scopes(stages: Sequence[tuple[str, dict]]) -> list[tuple[str, str]]:
    """The (job, scope) of each stage: what the chain holds while it is active."""
    return [(job, _request_parameters(parameters)[1]) for job, parameters in stages]


def _run_new(*, job: str, parameters: dict, scope: str, user, via: str) -> JobRun:
    """A queued run as a request makes it (not saved)."""
    return JobRun(
        job=job,
        scope=scope,
        parameters=parameters,
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_via=via,
    )


def job_chains_busy(*, chains: Sequence[Sequence[tuple[str, dict]]]) -> list[bool]:
    """For each chain of stages, whether it would be refused now with nothing to take
    over or reap: some stage's scope has an active run, and every such run is alive
    (running and beating within the lease, or queued within the grace;
    ``stale_runs_filter`` is what the reaping takes). One query for every chain at once;
    a frequent caller (a store write's trigger, the end of every chain) asks this before
    ``job_chain_request``, which then runs only when something may be free, dead or
    stuck."""
    scopes = [set(job_chain_scopes(stages)) for stages in chains]
    every = set().union(*scopes)
    if not every:
        return [False] * len(chains)
    now = timezone.now()
    not_alive = (
        stale_runs_filter(now)
        | Q(status=JobStatus.RUNNING, heartbeat_at__isnull=True)
        | Q(status=JobStatus.QUEUED, enqueued_at__lt=now - job_queued_grace())
    )
    # One active run per (job, scope) at most (the partial unique constraint). A NULL
    # condition (a queued run not yet enqueued) counts as alive, as FILTER would.
    active = {
        (job, scope): dead is True
        for job, scope, dead in JobRun.objects.filter(
            scopes_filter(sorted(every)), status__in=ACTIVE_STATUSES
        )
        .annotate(dead=ExpressionWrapper(not_alive, output_field=BooleanField()))
        .values_list("job", "scope", "dead")
    }
    return [
        any(scope in active for scope in chain)
        and not any(active.get(scope, False) for scope in chain)
        for chain in scopes
    ]


def job_chain_busy(*, stages: Sequence[tuple[str, dict]]) -> bool:
    """Whether a chain of these stages would be refused now with nothing to take over or
    reap (``job_chains_busy`` for one chain: one query)."""
    return job_chains_busy(chains=[stages])[0]


def _chain_runs_create(stages: Sequence[tuple[str, dict]], *, user, via: str) -> list[JobRun]:
    """The chain's runs in one INSERT; none (nothing written) when the partial unique
    constraint refuses a stage because its scope has an active run."""
    runs = []
    for job, parameters in stages:
        job_spec(job)
        parameters, scope = _request_parameters(parameters)
        runs.append(_run_new(job=job, parameters=parameters, scope=scope, user=user, via=via))
    try:
        with transaction.atomic(using=HQ):
            return JobRun.objects.bulk_create(runs)
    except IntegrityError:
        return []


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
    job_runs_reap_stale(scopes=job_chain_scopes(stages))
    with transaction.atomic(using=HQ):
        runs = _chain_runs_create(stages, user=user, via=via) or [
            # A scope is taken: stage by stage, to refuse, or take over a run never started.
            job_run_request(
                job=job,
                parameters=parameters,
                user=user,
                via=via,
                enqueue=False,
                at_once=not enqueue,  # the chain runs here (``--sync``)
                reaped=True,
            )
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
