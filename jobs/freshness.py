"""Freshness: a write at a store triggers the conversion of its channel database, coalesced.

A write at a store (R1 creation, async or real time; R11 edit; an async address) sends
``commerce.signals.store_data_written``; ``jobs.receivers`` calls ``store_write_trigger``
once the channel transaction has committed. The trigger

1. upserts a demand (``JobDemand`` upload, channel database): a write that no run has
   covered yet;
2. requests the triggered chain of that channel database (``conversion_trigger_stages``):
   its upload (P-0001), account creation for what it staged, distribution (1010) back to
   it — unless a scope of that chain is active; then it does nothing more.

A demand is removed when a run that covers it is claimed (``job_chain_execute``): the
upload of a conversion chain for ``upload``, any distribution to the channel database for
``distribute``, a Synchronize orders run over it for ``sync-orders``. A run reads after
its claim, so it sees every write whose demand it removed; a write that commits later
sets the demand again. At the end of every chain the cluster runs, the chains still owed
are requested. So:

- at most one chain per channel database is queued: a write while its upload is queued
  is refused by the partial unique constraint, and that upload will read it;
- a write while a chain runs leaves its demand, and the chain's end requests exactly one
  more chain, however many writes came;
- no wake-up is lost: a trigger writes its demand before it looks for active runs, and a
  chain marks its runs finished before it looks for demands, so either the trigger sees
  the chain finished (and requests) or the chain's end sees the demand.
- a queued chain never holds a channel database for long: one whose task the broker
  refused is failed at once, one whose task never started is taken over by the next
  trigger, tick or ``--sync`` after ``JOB_QUEUED_GRACE_SECONDS`` (``jobs.enqueueing``).

Every other channel database serving a legal entity of the store's (R7) learns the new
accounts from the end of the triggered chain, which owes each of them a distribution
(``JobDemand`` distribute), coalesced in the same way. The triggered chains of two
channel databases therefore share no scope and run side by side; had each chain held
every distribution scope, the chains of all the channel databases would queue behind
one another. Order synchronization follows too: a triggered or scheduled upload that
staged customer orders owes Synchronize orders to its channel database (R8).

A demand is a row, so a cluster killed between a write and its run leaves it behind. The
schedules stay as the safety net: the conversion tick covers every channel database and
then requests what is still owed, so a write is late by at most a schedule interval (plus
the job lease when a chain died half-way, R10), never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from django.utils import timezone
from django_q.conf import Conf

from commerce.db import HQ
from commerce.db.bulk import rows_upsert
from commerce.models import ChannelDatabase, SalesTransaction, TransactionType
from jobs.enqueueing import job_runs_hand_out
from jobs.models import Job, JobDemand, JobRun
from jobs.services import (
    CONVERSION_JOBS,
    QUIET_VIAS,
    TRIGGER,
    JobAlreadyActive,
    JobRequestError,
    job_chain_busy,
    job_chain_request,
    job_chain_scopes,
    job_chains_busy,
    job_runs_execute,
)

logger = logging.getLogger(__name__)


def channel_databases_serving(*, channel_database: str) -> list[str]:
    """The channel database, then every other one with a store of a legal entity that one
    of its stores belongs to: where a customer created there must arrive (R7)."""
    others = (
        ChannelDatabase.objects.filter(
            stores__legal_entity__stores__channel_database__name=channel_database
        )
        .exclude(name=channel_database)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )
    return [channel_database, *others]


def conversion_trigger_stages(*, channel_database: str) -> list[tuple[str, dict]]:
    """The triggered chain of one channel database: upload, account creation of what it
    staged, distribution back to it (the others are owed at its end)."""
    scope = {"channel_database": channel_database}
    return [(Job.UPLOAD, scope), (Job.ASYNC_CUSTOMERS, scope), (Job.DISTRIBUTE, scope)]


def _stages(*, job: str, channel_database: str) -> list[tuple[str, dict]]:
    if job == Job.UPLOAD:
        return conversion_trigger_stages(channel_database=channel_database)
    return [(job, {"channel_database": channel_database})]


def job_demand_set(*, job: str, channel_database: str | Sequence[str]) -> None:
    """Record that ``job`` is owed to the channel database, or to each of several (one
    row each however many times it is asked: one upsert). Re-run safe."""
    names = [channel_database] if isinstance(channel_database, str) else sorted(channel_database)
    now = timezone.now()
    rows_upsert(
        model=JobDemand,
        columns=["job", "channel_database", "requested_at"],
        rows=[(job, name, now) for name in names],
        unique=["job", "channel_database"],
        using=HQ,
    )


def _demand_request(*, job: str, channel_database: str, stages) -> list[JobRun]:
    try:
        return job_chain_request(stages=stages, via=TRIGGER)
    except JobAlreadyActive:
        return []
    except JobRequestError as error:
        # The channel database is gone: nothing can cover the demand any more.
        logger.warning("demand for %s on %s dropped: %s", job, channel_database, error)
        JobDemand.objects.filter(job=job, channel_database=channel_database).delete()
        return []


def job_demand_start(*, job: str, channel_database: str) -> list[JobRun]:
    """Request the chain that covers a demand, unless a scope of it is active (then the
    active run's chain requests it when it ends). Returns the runs requested, if any.
    While a chain of the channel database is alive (the usual case for a busy store),
    that is one query (``job_chain_busy``)."""
    stages = _stages(job=job, channel_database=channel_database)
    if job_chain_busy(stages=stages):
        return []
    return _demand_request(job=job, channel_database=channel_database, stages=stages)


def job_demands_start() -> list[JobRun]:
    """Request every chain still owed (the end of each chain, and the schedule's tick).
    Two queries while every owed chain is busy (the usual case under load: the demands,
    and whether their chains are alive, ``job_chains_busy``), whatever the number of
    channel databases. A channel database's upload (its whole triggered chain, which
    distributes to it) is requested before a distribution alone, and a demand whose
    scopes a chain requested here has taken is left to that chain."""
    demands = sorted(
        JobDemand.objects.values_list("job", "channel_database"),
        key=lambda demand: (demand[0] != Job.UPLOAD, demand[1], demand[0]),
    )
    chains = [_stages(job=job, channel_database=name) for job, name in demands]
    taken: set[tuple[str, str]] = set()
    runs: list[JobRun] = []
    for (job, name), stages, busy in zip(
        demands, chains, job_chains_busy(chains=chains), strict=True
    ):
        if busy or taken.intersection(job_chain_scopes(stages)):
            continue
        requested = _demand_request(job=job, channel_database=name, stages=stages)
        taken.update((run.job, run.scope) for run in requested)
        runs += requested
    return runs


def store_write_trigger(*, alias: str) -> list[JobRun]:
    """A store wrote to channel database ``alias`` (committed): owe it the conversion and
    request the triggered chain unless one is active. Re-run safe (coalesced)."""
    name = ChannelDatabase.objects.filter(alias=alias).values_list("name", flat=True).first()
    if name is None:
        logger.warning("store write at %r: no channel database has that alias", alias)
        return []
    job_demand_set(job=Job.UPLOAD, channel_database=name)
    return job_demand_start(job=Job.UPLOAD, channel_database=name)


def _demands_covered(run: JobRun, *, conversion: bool) -> None:
    """On claim: remove the demands this run covers (it reads after this point)."""
    channel_database = run.parameters.get("channel_database")
    if run.job == Job.UPLOAD and conversion:
        JobDemand.objects.filter(job=Job.UPLOAD, channel_database=channel_database).delete()
    elif run.job == Job.DISTRIBUTE:
        JobDemand.objects.filter(job=Job.DISTRIBUTE, channel_database=channel_database).delete()
    elif run.job == Job.SYNC_ORDERS and not (
        run.parameters.get("store") or run.parameters.get("transaction_ids")
    ):
        owed = JobDemand.objects.filter(job=Job.SYNC_ORDERS)
        if channel_database:
            owed = owed.filter(channel_database=channel_database)
        owed.delete()


def _distributions_owed(runs: Sequence[JobRun]) -> None:
    """A triggered chain that did work owes a distribution to every other channel
    database serving its stores' legal entities (R7); so does an account creation run
    over fixed records (``jobs.fix_chain``) that created something, to every channel
    database of their legal entities its chain did not distribute to."""
    if not any(run.selected for run in runs):
        return
    distributed = {
        run.parameters.get("channel_database") for run in runs if run.job == Job.DISTRIBUTE
    }
    owed: set[str] = set()
    for run in runs:
        if run.job == Job.ASYNC_CUSTOMERS and run.succeeded:
            from jobs.fix_chain import SELECTIONS, fix_distribution_targets

            if any(run.parameters.get(key) for key in SELECTIONS):
                owed.update(fix_distribution_targets(run.parameters))
        if run.job == Job.UPLOAD and run.requested_via == TRIGGER:
            owed.update(
                channel_databases_serving(channel_database=run.parameters["channel_database"])
            )
    if owed - distributed:
        job_demand_set(job=Job.DISTRIBUTE, channel_database=owed - distributed)


def _orders_owed(runs: Sequence[JobRun]) -> None:
    """Scheduled or triggered uploads that staged customer orders owe Synchronize orders
    to their channel database (R8). A run a person asked for does only what it says."""
    uploads = [
        run.pk
        for run in runs
        if run.job == Job.UPLOAD and run.selected and run.requested_via in QUIET_VIAS
    ]
    if not uploads:
        return
    for channel_database in (
        SalesTransaction.objects.filter(
            upload_session__job_run_id__in=uploads, type=TransactionType.CUSTOMER_ORDER
        )
        .order_by()
        .values_list("channel_database", flat=True)
        .distinct()
    ):
        job_demand_set(job=Job.SYNC_ORDERS, channel_database=channel_database)


def _side_by_side_tail(run_ids: Sequence[int], jobs: dict[int, str]) -> list[int]:
    """The chain's last runs when they are distributions (1010) to several channel
    databases (``jobs``: each run's job): each needs only what the runs before it made,
    and none needs another, so they can run side by side (``job_chain_execute``)."""
    tail: list[int] = []
    for run_id in reversed(run_ids):
        if jobs.get(run_id) != Job.DISTRIBUTE:
            break
        tail.insert(0, run_id)
    return tail if len(tail) > 1 else []


def job_chain_execute(*, run_ids: Sequence[int], task_id: str | None = None) -> list[JobRun | None]:
    """Execute a chain the queue delivered under ``task_id`` (``job_runs_execute``),
    removing the demands its runs cover as they are claimed; then owe what follows from
    its work (the other stores' distributions, order sync) and request every chain still
    owed.

    A chain that ends with distributions to several channel databases (the conversion
    of every channel database) runs the rest in order, then hands each of those
    distributions but the first to a task of its own (``job_runs_hand_out``) and runs
    the first itself: the cluster's workers distribute to the channel databases side by
    side, and the payload of each set of customers is built once for all of them
    (``jobs.download_payloads``). Without a task (``--sync``), or with a synchronous
    broker, they run here in order."""
    rows = JobRun.objects.in_bulk(list(run_ids))  # read once, before any claim
    jobs = {pk: row.job for pk, row in rows.items()}
    on_claim = partial(_demands_covered, conversion=set(CONVERSION_JOBS) <= set(jobs.values()))
    # A synchronous broker (``Q_CLUSTER`` sync: tests) would run a handed-out task at
    # once, before the chain's own first: there the chain keeps its order.
    tail = _side_by_side_tail(run_ids, jobs) if task_id and not Conf.SYNC else []
    head = list(run_ids)[: len(run_ids) - len(tail)]
    runs = job_runs_execute(run_ids=head, task_id=task_id, on_claim=on_claim, rows=rows)
    handed: list[JobRun] = []
    if tail and len(runs) == len(head):  # the chain went through: the tail's turn
        handed = list(
            JobRun.objects.filter(pk__in=job_runs_hand_out(run_ids=tail[1:], task_id=task_id))
        )
        runs += job_runs_execute(run_ids=tail[:1], task_id=task_id, on_claim=on_claim, rows=rows)
    ran = [run for run in runs if run is not None]
    _distributions_owed([*ran, *handed])
    _orders_owed(ran)
    job_demands_start()
    return runs
