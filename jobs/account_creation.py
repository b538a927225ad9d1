"""Synchronize customers and channel requests (R4, R5, R6, R11): staging -> HQ accounts.

Workers claim pending staged rows in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``
(PostgreSQL; SQLite's IMMEDIATE transactions serialize writers instead), create the
HQ records for the whole batch in the same transaction and mark the rows. Several
workers at once share the rows and never create a customer twice: the locks keep
them apart and the unique async GUID on Customer is the last word. Channel requests
are claimed the same way, oldest edit first; two workers applying requests of one
customer take its row lock in turn, and per field the latest edit wins whatever the
order they arrive in.

Each batch goes through ``commerce.isolation.records_isolated``: a record whose
processing raises (whatever the exception) is failed alone with the reason and named in
the job run, in the same transaction that commits the rest of its batch; only a fault
of the run (the database down) fails the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from commerce.db import HQ
from commerce.isolation import error_summary, record_checkpoint, records_isolated
from customers.models import (
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
)
from customers.services.accounts_staged import staged_customers_create
from customers.services.children import STAGED_CHILDREN, ChildModels, children_load
from customers.services.requests import staged_requests_apply
from customers.services.staging import staged_addresses_create, staged_record_fail
from customers.services.validation import ReferenceData
from jobs.distribution import refused_edits_resend

ACCOUNT_BATCH = settings.CONVERSION_BATCH_SIZE


def _pending(model, *, channel_database: str | None, store: str | None, ids: Sequence[int] | None):
    queryset = model.objects.filter(status=StagingStatus.PENDING)
    if channel_database:
        queryset = queryset.filter(channel_database=channel_database)
    if store:
        queryset = queryset.filter(store_number=store)
    if ids:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.order_by("pk")


def _fail_alone(*, model, label: str, guid_field: str, errors: list[str]):
    """README "Record isolation": a staged record whose processing raised is failed
    with the reason, named in the job run; the rest of its batch goes on."""

    def on_failure(row, error: Exception) -> None:
        reason = f"could not be processed ({error_summary(error)})"
        staged_record_fail(model=model, pk=row.pk, reason=reason)
        errors.append(f"{label} {getattr(row, guid_field)}: {reason}")

    return on_failure


def _checked(stage: str, guid_field: str, process):
    """``process`` for a chunk of staged rows, each passing the record checkpoint."""

    def run(chunk):
        for row in chunk:
            record_checkpoint(stage, getattr(row, guid_field))
        return process(staged_rows=chunk)

    return run


@dataclass(frozen=True)
class StagedBatches:
    """One kind of staged record ``_process_batches`` claims and creates at HQ: its
    model, how the job run names it, its GUID, the service that creates it and the
    children loaded with each batch (none for addresses)."""

    model: type
    label: str
    guid_field: str
    create: Callable
    children: ChildModels | None


STAGED_CUSTOMER_BATCHES = StagedBatches(
    model=StagedAsyncCustomer,
    label="async customer",
    guid_field="async_customer_id",
    create=staged_customers_create,
    children=STAGED_CHILDREN,
)
STAGED_ADDRESS_BATCHES = StagedBatches(
    model=StagedAsyncAddress,
    label="async address",
    guid_field="async_address_id",
    create=staged_addresses_create,
    children=None,
)


def _with_refs(create: Callable, refs: Callable, **kwargs):
    return create(**kwargs, refs=refs())


def _process_batches(kind: StagedBatches, *, progress, batch_size, refs=None, **scope) -> None:
    """Claim and create the kind's pending rows a batch at a time (``refs``: a function
    that gives the reference data, read once the first batch has rows). A short batch
    is the last: what it did not claim is locked by another worker, or staged after
    this run's read and owed to the run its upload's chain ends with."""
    model, label, guid_field = kind.model, kind.label, kind.guid_field
    create, children = kind.create, kind.children
    stage = f"account_creation:{label}"
    if refs is not None:
        create = partial(_with_refs, kind.create, refs)
    if not _pending(model, **scope).exists():
        return  # one read, no transaction, for a kind with nothing pending
    while True:
        raised: list[str] = []
        with transaction.atomic(using=HQ):
            rows = list(_pending(model, **scope).select_for_update(skip_locked=True)[:batch_size])
            if not rows:
                return
            if children is not None:
                children_load(rows, side=children, using=HQ)
            results = records_isolated(
                rows,
                _checked(stage, guid_field, create),
                on_failure=_fail_alone(
                    model=model, label=label, guid_field=guid_field, errors=raised
                ),
                using=[HQ],
            )
        outcomes = [outcome for result in results for outcome in result]
        failures = [o for o in outcomes if not o.ok]
        # R12: a record held for review is counted as held, not failed (README "Job runs").
        held = [o for o in failures if getattr(o, "held", False)]
        guid_by_id = {row.pk: getattr(row, guid_field) for row in rows}
        progress.add(
            selected=len(rows),
            succeeded=len(outcomes) - len(failures),
            failed=len(failures) - len(held) + len(raised),
            held=len(held),
            errors=[
                f"{label} {guid_by_id[o.staged_id]}: {o.error}"
                for o in failures
                if not getattr(o, "held", False)
            ]
            + raised,
        )
        if len(rows) < batch_size:
            return


def _process_requests(
    *, progress, batch_size, refs, final: bool, channel_database, store, ids
) -> set[int]:
    """R11: apply pending channel requests, oldest edit first, in claimed batches (a
    short batch is the last); returns the staged customers they changed (to be tried
    again in this run). ``refs``: a function that gives the reference data."""
    touched: set[int] = set()
    after = None
    pending = _pending(
        StagedChannelRequest, channel_database=channel_database, store=store, ids=ids
    ).order_by("edited_at", "pk")
    if not pending.exists():
        return touched  # one read, no transaction, when nothing is pending
    while True:
        raised: list[str] = []
        with transaction.atomic(using=HQ):
            queryset = pending
            if after is not None:
                queryset = queryset.filter(
                    Q(edited_at__gt=after[0]) | Q(edited_at=after[0], pk__gt=after[1])
                )
            rows = list(queryset.select_for_update(skip_locked=True)[:batch_size])
            if not rows:
                return touched
            results = records_isolated(
                rows,
                _checked(
                    "account_creation:channel request",
                    "request_id",
                    lambda **kw: staged_requests_apply(**kw, final=final, refs=refs()),
                ),
                on_failure=_fail_alone(
                    model=StagedChannelRequest,
                    label="channel request",
                    guid_field="request_id",
                    errors=raised,
                ),
                using=[HQ],
            )
            outcomes = [outcome for result in results for outcome in result]
            done = [o for o in outcomes if not o.unresolved]
            failures = [o for o in done if not o.ok]
            # Failed or raised: every row without an applied or a pending outcome.
            still = {o.staged_id for o in outcomes if o.ok or o.unresolved}
            refused_edits_resend(requests=[row for row in rows if row.pk not in still])
        after = (rows[-1].edited_at, rows[-1].pk)
        touched |= {o.staged_customer_id for o in done if o.staged_customer_id}
        guid_by_id = {row.pk: row.request_id for row in rows}
        if done or raised:
            progress.add(
                selected=len(done) + len(raised),
                succeeded=len(done) - len(failures),
                failed=len(failures) + len(raised),
                errors=[f"channel request {guid_by_id[o.staged_id]}: {o.error}" for o in failures]
                + raised,
            )
        if len(rows) < batch_size:
            return touched


def account_creation_run(
    *,
    run=None,
    progress,
    channel_database: str | None = None,
    store: str | None = None,
    staged_customer_ids: Sequence[int] | None = None,
    staged_address_ids: Sequence[int] | None = None,
    staged_request_ids: Sequence[int] | None = None,
    batch_size: int | None = None,
    **_ignored,
) -> None:
    """Job function: apply channel requests to what exists (R11), create HQ customers
    (R4), then HQ addresses (R6), then apply the requests whose customer was just
    created.

    With ids (the admin's "Synchronize selected"), only those rows are processed (and
    the staged customers that selected requests changed).
    """
    batch_size = batch_size or ACCOUNT_BATCH
    selection = {
        "customers": staged_customer_ids,
        "addresses": staged_address_ids,
        "requests": staged_request_ids,
    }
    chosen = any(selection.values())
    # Read once, and only by a run that finds something to create or apply.
    refs = cache(ReferenceData.load)
    scope = {"channel_database": channel_database, "store": store}
    batches = partial(_process_batches, progress=progress, batch_size=batch_size, **scope)
    requests = partial(
        _process_requests,
        progress=progress,
        batch_size=batch_size,
        refs=refs,
        ids=staged_request_ids,
        **scope,
    )
    changed_staged: set[int] = set()
    if not chosen or selection["requests"]:
        changed_staged = requests(final=False)
    if not chosen or selection["customers"] or changed_staged:
        customer_ids = (
            [*(staged_customer_ids or ()), *changed_staged] if chosen else staged_customer_ids
        )
        batches(STAGED_CUSTOMER_BATCHES, refs=refs, ids=customer_ids)
    if not chosen or selection["addresses"]:
        batches(STAGED_ADDRESS_BATCHES, ids=staged_address_ids)
    if not chosen or selection["requests"]:
        requests(final=True)
