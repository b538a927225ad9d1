"""Upload (P-0001): channel database -> HQ staging, in upload sessions (R3).

A channel row is "not uploaded" while its ``upload_session_id`` is null. Each batch:
1. read not-uploaded rows (with their children) from the channel database;
2. in one HQ transaction, create an upload session (with its counts) and stage the
   rows that HQ does not hold yet (their GUID/id is unique in staging), through the
   staging services of each kind (``customers.services.staging``); a record HQ
   cannot take, whatever it raises, fails alone (``commerce.isolation``), named in the
   job run, and stays unstamped;
3. stamp exactly those rows with the session id, in the channel transaction that read
   them (it holds their locks from the read to the stamp, see R11 in-place edits);
4. acknowledge the session at HQ.
A crash after 2 leaves the rows unstamped: the next run sends them again and step 2
stages nothing twice. A row written while a run goes on is unstamped, so a later
batch or the next run takes it. Re-running adds nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commerce.db import HQ
from commerce.isolation import error_summary, record_checkpoint, records_isolated
from commerce.models import (
    ChannelDatabase,
    ChannelSalesTransaction,
)
from commerce.services import sales_transactions_stage
from customers.models import AsyncAddress, AsyncCustomer, ChannelRequest
from customers.services.children import CHANNEL_CHILDREN, children_load
from customers.services.requests import channel_requests_stage
from customers.services.staging import async_addresses_stage, async_customers_stage
from jobs.models import SessionStatus, UploadSession

logger = logging.getLogger(__name__)

UPLOAD_BATCH = settings.CONVERSION_BATCH_SIZE

# Test seam: called with a stage name; tests raise from it to simulate a crash.
fault_hook: Callable[[str], None] = lambda stage: None  # noqa: E731


def _stage_customers(**kwargs) -> tuple[dict[str, int], dict[int, str]]:
    return async_customers_stage(**kwargs), {}


def _stage_addresses(**kwargs) -> tuple[dict[str, int], dict[int, str]]:
    return async_addresses_stage(**kwargs), {}


def _stage_requests(**kwargs) -> tuple[dict[str, int], dict[int, str]]:
    return channel_requests_stage(**kwargs), {}


def _label(row) -> str:
    """How a job run names a channel row: kind and business key."""
    if isinstance(row, AsyncCustomer):
        return f"async customer {row.async_customer_id} (store {row.store_number})"
    if isinstance(row, AsyncAddress):
        return f"async address {row.async_address_id} (store {row.store_number})"
    if isinstance(row, ChannelRequest):
        return f"channel request {row.request_id} (store {row.store_number})"
    return f"transaction {row.transaction_id} (store {row.store_number})"


def _key(row) -> object:
    """A channel row's business key: its GUID, or a transaction's id."""
    for field in ("async_customer_id", "async_address_id", "request_id", "transaction_id"):
        if hasattr(row, field):
            return getattr(row, field)
    return row.pk


def _stage_isolated(*, stage, rows: Sequence, **kwargs) -> tuple[dict[str, int], dict[int, str]]:
    """Stage a batch through ``commerce.isolation.records_isolated``: a record HQ cannot
    take (whatever it raises) fails alone, named, and stays in the channel for the next
    run while the rest of the batch goes on."""
    unstamped: dict[int, str] = {}

    def staged(chunk):
        for row in chunk:
            record_checkpoint("upload", _key(row))
        return stage(rows=chunk, **kwargs)

    def not_staged(row, error: Exception) -> None:
        logger.warning("upload: %s could not be staged", _label(row), exc_info=error)
        unstamped[row.pk] = (
            f"{_label(row)}: could not be staged at HQ ({error_summary(error)}); "
            "it stays in the channel"
        )

    counts: Counter[str] = Counter()
    for row_counts, row_unstamped in records_isolated(
        rows, staged, on_failure=not_staged, using=[HQ]
    ):
        counts.update(row_counts)
        unstamped.update(row_unstamped)
    return dict(counts), unstamped


UPLOADS = [
    # (kind, channel model, children read as values, relations to prefetch, stager)
    ("customers", AsyncCustomer, CHANNEL_CHILDREN, [], _stage_customers),
    ("async_addresses", AsyncAddress, None, [], _stage_addresses),
    # After the customers: a request's target is staged before the request is.
    ("requests", ChannelRequest, None, [], _stage_requests),
    ("transactions", ChannelSalesTransaction, None, ["lines"], sales_transactions_stage),
]


def upload_sessions_supersede_unacknowledged(*, channel_database: str) -> int:
    """Sessions HQ applied but the channel never stamped (a crash in between): their rows
    are sent again by this run, so the old sessions are closed as superseded."""
    return UploadSession.objects.filter(
        channel_database=channel_database,
        status__in=[SessionStatus.CREATED, SessionStatus.APPLIED],
    ).update(status=SessionStatus.SUPERSEDED)


def _not_uploaded(model, alias: str):
    """The channel rows of ``model`` no upload session has taken yet."""
    return model.objects.using(alias).filter(upload_session_id__isnull=True)


def upload_batch(
    *,
    alias: str,
    channel_database: str,
    kind: str,
    after_pk: int,
    job_run=None,
    batch_size: int = UPLOAD_BATCH,
) -> tuple[UploadSession | None, int, dict]:
    """Upload one batch of one kind. Returns (session, last channel pk read, counts:
    what was staged, ``not_uploaded`` and its ``errors``, the rows ``read``)."""
    _kind, model, children, prefetch, stage = next(u for u in UPLOADS if u[0] == kind)
    # The channel transaction spans reading, staging at HQ and stamping, holding the
    # rows' locks (PostgreSQL row locks; SQLite's write lock): a store's in-place edit
    # of an async customer (R11) waits, then finds the row stamped and records a
    # channel request instead - it never falls between the read and the stamp.
    with transaction.atomic(using=alias):
        rows = list(
            _not_uploaded(model, alias)
            .filter(pk__gt=after_pk)
            .order_by("pk")
            .select_for_update()
            .prefetch_related(*prefetch)[:batch_size]
        )
        if not rows:
            return None, after_pk, {}
        if children is not None:
            children_load(rows, side=children, using=alias)
        with transaction.atomic(using=HQ):
            session = UploadSession.objects.create(
                channel_database=channel_database,
                job_run=job_run,
                status=SessionStatus.APPLIED,
                applied_at=timezone.now(),
            )
            counts, unstamped = _stage_isolated(
                stage=stage,
                rows=rows,
                channel_database=channel_database,
                upload_session_id=session.pk,
            )
            session.counts = {"kind": kind, **counts, "not_uploaded": len(unstamped)}
            session.save(update_fields=["counts"])
        fault_hook(f"{kind}:after_hq_apply")
        stamped = [row.pk for row in rows if row.pk not in unstamped]
        model.objects.using(alias).filter(
            pk__in_values=stamped, upload_session_id__isnull=True
        ).update(upload_session_id=session.pk, uploaded_at=timezone.now())
    UploadSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.ACKNOWLEDGED, acknowledged_at=timezone.now()
    )
    session.status = SessionStatus.ACKNOWLEDGED
    counts["not_uploaded"] = len(unstamped)
    counts["errors"] = list(unstamped.values())
    counts["read"] = len(rows)
    return session, rows[-1].pk, counts


def upload_run(*, run, progress, channel_database: str, **_ignored) -> None:
    """Job function: upload everything not yet uploaded from one channel database."""
    alias = ChannelDatabase.objects.get(name=channel_database).alias
    upload_sessions_supersede_unacknowledged(channel_database=channel_database)
    for kind, model, *_rest in UPLOADS:
        if not _not_uploaded(model, alias).exists():
            continue  # one read, no transaction, for a kind with nothing new
        after_pk = 0
        while True:
            session, after_pk, counts = upload_batch(
                alias=alias,
                channel_database=channel_database,
                kind=kind,
                after_pk=after_pk,
                job_run=run,
                batch_size=UPLOAD_BATCH,
            )
            if session is None:
                break
            selected = counts.get(kind, 0) + counts.get("not_uploaded", 0)
            new = counts.get(f"{kind}_staged", 0)
            not_uploaded = counts.get("not_uploaded", 0)
            progress.add(
                selected=selected,
                succeeded=new,
                skipped=selected - new - not_uploaded,
                failed=not_uploaded,
                errors=counts["errors"],
            )
            if counts["read"] < UPLOAD_BATCH:
                break  # the last batch: a row written after the read owes another run
