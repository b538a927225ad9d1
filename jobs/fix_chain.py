"""An HQ fix runs the rest of the chain (README "Fixing a failed record").

"Save and synchronize again", "Synchronize again" and the bulk retry put failed staged
records (async customers, async addresses, channel requests) back to pending and ask
for ``fix_chain_request``: one chain, run in this order by one task,

1. Synchronize customers and channel requests for exactly these records;
2. distribution (1010) to every channel database serving a legal entity of their
   stores (R7): their own store first, then every other store of the legal entity;
3. Synchronize orders for the customer orders the fixed customers held back (R8), and
   post-statements for the store and business date of every statement they blocked
   (R9), so a fixed record's transactions follow it.

So the fixed record reaches its store and every store of its legal entity as soon as a
worker is free, as a store write does (README "Freshness"), without a schedule tick.

A stage whose scope is already queued or running (a distribution to the same channel
database, say) is left out of the chain and reported; the chain's end then owes that
channel database a distribution (``jobs.freshness``: an account creation run over a
selection that created something owes its channel databases one), which is requested
once the active run ends, so the fixed record is never left behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from commerce.models import SalesTransaction, TransactionStatus
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagedChannelRequest
from jobs.freshness import channel_databases_serving
from jobs.models import ACTIVE_STATUSES, Job, JobRun
from jobs.services import JobAlreadyActive, job_chain_request
from jobs.services.specs import scope_string

# Selection parameter of the account creation run -> staged model it selects.
SELECTIONS = {
    "staged_customer_ids": StagedAsyncCustomer,
    "staged_address_ids": StagedAsyncAddress,
    "staged_request_ids": StagedChannelRequest,
}


def selection_channel_databases(parameters: dict) -> list[str]:
    """The channel databases the selected staged records came from, by name."""
    names: set[str] = set()
    for key, model in SELECTIONS.items():
        ids = parameters.get(key) or []
        if ids:
            names |= set(
                model.objects.filter(pk__in=list(ids))
                .order_by()
                .values_list("channel_database", flat=True)
                .distinct()
            )
    return sorted(names)


def fix_distribution_targets(parameters: dict) -> list[str]:
    """Every channel database a fixed record must reach: its own first, then each other
    one serving a legal entity of its stores (R7)."""
    targets: list[str] = []
    for name in selection_channel_databases(parameters):
        for target in channel_databases_serving(channel_database=name):
            if target not in targets:
                targets.append(target)
    return targets


def _blocked_transaction_stages(customer_ids: Sequence[int]) -> list[tuple[str, dict]]:
    """Synchronize orders for the customer orders the fixed customers held back, and
    post-statements for each store and business date whose statement they blocked."""
    if not customer_ids:
        return []
    staged = StagedAsyncCustomer.objects.filter(pk__in=list(customer_ids)).values_list(
        "channel_database", "async_customer_id"
    )
    by_database: dict[str, list] = {}
    for channel_database, guid in staged:
        by_database.setdefault(channel_database, []).append(guid)
    orders: set[int] = set()
    statements: set[tuple[str, str]] = set()
    for channel_database, guids in sorted(by_database.items()):
        blocked = SalesTransaction.objects.filter(
            channel_database=channel_database,
            async_customer_id__in=guids,
            status__in=[TransactionStatus.ORDER_FAILED, TransactionStatus.POSTING_FAILED],
        ).values_list("pk", "status", "store__number", "business_date")
        for pk, status, store, business_date in blocked:
            if status == TransactionStatus.ORDER_FAILED:
                orders.add(pk)
            else:
                statements.add((store, business_date.isoformat()))
    stages: list[tuple[str, dict]] = []
    if orders:
        stages.append((Job.SYNC_ORDERS, {"transaction_ids": sorted(orders)}))
    stages += [
        (Job.POST_STATEMENTS, {"store": store, "business_date": business_date})
        for store, business_date in sorted(statements)
    ]
    return stages


def fix_chain_stages(
    *,
    customer_ids: Sequence[int] = (),
    address_ids: Sequence[int] = (),
    request_ids: Sequence[int] = (),
) -> list[tuple[str, dict]]:
    """The (job, parameters) stages of the chain that finishes a fix, in order."""
    selection = {
        key: sorted(ids)
        for key, ids in (
            ("staged_customer_ids", customer_ids),
            ("staged_address_ids", address_ids),
            ("staged_request_ids", request_ids),
        )
        if ids
    }
    return [
        (Job.ASYNC_CUSTOMERS, selection),
        *(
            (Job.DISTRIBUTE, {"channel_database": name})
            for name in fix_distribution_targets(selection)
        ),
        *_blocked_transaction_stages(customer_ids),
    ]


def _active_runs(stages: Sequence[tuple[str, dict]]) -> dict[tuple[str, str], JobRun]:
    scopes = {(job, scope_string(parameters)) for job, parameters in stages}
    active = JobRun.objects.filter(
        job__in={job for job, _ in scopes},
        scope__in={scope for _, scope in scopes},
        status__in=ACTIVE_STATUSES,
    )
    return {(run.job, run.scope): run for run in active if (run.job, run.scope) in scopes}


def fix_chain_request(
    *,
    customer_ids: Sequence[int] = (),
    address_ids: Sequence[int] = (),
    request_ids: Sequence[int] = (),
    user=None,
    via: str = "admin",
) -> tuple[list[JobRun], list[JobAlreadyActive]]:
    """Request the chain that finishes a fix (account creation for these staged records,
    distribution to every channel database of their legal entities, their held-back
    orders and statements), enqueued once the transaction commits. A stage whose scope
    is active is left out and returned as refused (a distribution left out is owed at
    the chain's end, ``jobs.freshness``); account creation for the same selection
    already active refuses the whole chain (JobAlreadyActive)."""
    stages = fix_chain_stages(
        customer_ids=customer_ids, address_ids=address_ids, request_ids=request_ids
    )
    active = _active_runs(stages[1:])
    kept = [stages[0]]
    refused: list[JobAlreadyActive] = []
    for job, parameters in stages[1:]:
        run = active.get((job, scope_string(parameters)))
        if run is None:
            kept.append((job, parameters))
        else:
            refused.append(JobAlreadyActive(run))
    return job_chain_request(stages=kept, user=user, via=via), refused
