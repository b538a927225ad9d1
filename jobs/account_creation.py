"""Synchronize customers and channel requests (R4, R5, R6): staging -> HQ accounts.

Workers claim pending staged rows in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``
(PostgreSQL; SQLite's IMMEDIATE transactions serialize writers instead), create the
HQ records for the whole batch in the same transaction and mark the rows. Several
workers at once share the rows and never create a customer twice: the locks keep
them apart and the unique async GUID on Customer is the last word.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

from commerce.db import HQ
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagingStatus
from customers.services.accounts import STAGED_CUSTOMER_PREFETCH, staged_customers_create
from customers.services.staging import staged_addresses_create
from customers.services.validation import ReferenceData

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


def _process_batches(
    *, model, label, guid_field, create, prefetch, progress, batch_size, refs=None, **scope
) -> None:
    while True:
        with transaction.atomic(using=HQ):
            rows = list(
                _pending(model, **scope)
                .select_for_update(skip_locked=True)
                .prefetch_related(*prefetch)[:batch_size]
            )
            if not rows:
                return
            outcomes = create(staged_rows=rows, **({"refs": refs} if refs else {}))
        failures = [o for o in outcomes if not o.ok]
        guid_by_id = {row.pk: getattr(row, guid_field) for row in rows}
        progress.add(
            selected=len(rows),
            succeeded=len(rows) - len(failures),
            failed=len(failures),
            errors=[f"{label} {guid_by_id[o.staged_id]}: {o.error}" for o in failures],
        )


def account_creation_run(
    *,
    run=None,
    progress,
    channel_database: str | None = None,
    store: str | None = None,
    staged_customer_ids: Sequence[int] | None = None,
    staged_address_ids: Sequence[int] | None = None,
    batch_size: int | None = None,
    **_ignored,
) -> None:
    """Job function: create HQ customers, then HQ addresses, for pending staged rows.

    With ids (the admin's "Synchronize selected"), only those rows are processed.
    """
    batch_size = batch_size or ACCOUNT_BATCH
    only_addresses = staged_address_ids and not staged_customer_ids
    only_customers = staged_customer_ids and not staged_address_ids
    if not only_addresses:
        _process_batches(
            model=StagedAsyncCustomer,
            label="async customer",
            guid_field="async_customer_id",
            create=staged_customers_create,
            prefetch=STAGED_CUSTOMER_PREFETCH,
            progress=progress,
            batch_size=batch_size,
            refs=ReferenceData.load(),
            channel_database=channel_database,
            store=store,
            ids=staged_customer_ids,
        )
    if not only_customers:
        _process_batches(
            model=StagedAsyncAddress,
            label="async address",
            guid_field="async_address_id",
            create=staged_addresses_create,
            prefetch=[],
            progress=progress,
            batch_size=batch_size,
            channel_database=channel_database,
            store=store,
            ids=staged_address_ids,
        )
