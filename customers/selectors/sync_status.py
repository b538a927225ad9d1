"""The customer synchronization status page at scale (its counts, page rows and dashboard).

``async_status_rows`` (selectors) builds every row, which the status command streams;
the page cannot afford that at 100,000 records. Here counts come from aggregate
queries (per channel database and per HQ staging table), and a page fetches only the
rows it shows: the page is the concatenation of segments (status, channel database,
kind) in the page's status order, whose sizes the counts give, so a page reads only the
segments it intersects, each with LIMIT/OFFSET.

Customers and addresses: counts come from two index scans per table in the channel
database (every row by store; the rows not linked yet, from a partial index of them) and
one per staging table at HQ over the statuses still at HQ's side (uploaded, failed,
needs review), never the completed bulk. ``created`` (completed at HQ, not linked at
the store yet) is the uploaded rows not linked less those still at HQ's side.
``synchronized`` and ``pending_upload`` rows are read in the channel database,
``failed``, ``needs_review`` and ``uploaded`` in HQ staging (then their channel rows by
GUID), ``created`` from the newest completed staged records (then their channel rows).

Channel requests (kind ``edit``, R11) are built row by row by ``edit_status_rows``:
whether one is synchronized compares a version held in the channel database with one
in HQ staging, which no single database can aggregate. Their number is the number of
store edits, not of customers.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q

from commerce.db import CHUNK, ChannelDatabaseUnreachable, channel_database_errors
from commerce.models import SalesTransaction, TransactionStatus
from commerce.selectors import channel_aliases_for_store
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.selectors.status import (
    AsyncStatus,
    channel_database_names,
    edit_status_rows,
    status_details_add,
    status_row,
)

# What needs a person first: failed, then held for review, then what is on its way.
PAGE_STATUS_ORDER = [
    AsyncStatus.FAILED,
    AsyncStatus.NEEDS_REVIEW,
    AsyncStatus.UPLOADED,
    AsyncStatus.PENDING_UPLOAD,
    AsyncStatus.CREATED,
    AsyncStatus.SYNCHRONIZED,
]
KINDS = ("customer", "address", "edit")
# Staging status -> page status for the rows HQ staging lists itself.
FROM_STAGING = {
    AsyncStatus.FAILED: StagingStatus.FAILED,
    AsyncStatus.NEEDS_REVIEW: StagingStatus.NEEDS_REVIEW,
    AsyncStatus.UPLOADED: StagingStatus.PENDING,
}
BLOCKING_TRANSACTION_STATUSES = (TransactionStatus.ORDER_FAILED, TransactionStatus.POSTING_FAILED)


@dataclass(frozen=True)
class _Kind:
    model: type
    staged_model: type
    guid: str
    linked: Q  # the channel row holds what HQ made of it (R7)
    unlinked: Q  # as the unlinked partial index says it, so the query can use the index


CHANNEL_KINDS = {
    "customer": _Kind(
        AsyncCustomer,
        StagedAsyncCustomer,
        "async_customer_id",
        Q(account__isnull=False),
        Q(account__isnull=True),
    ),
    "address": _Kind(
        AsyncAddress,
        StagedAsyncAddress,
        "async_address_id",
        Q(location_id__isnull=False),
        Q(location_id__isnull=True),
    ),
}


@dataclass
class _Database:
    alias: str
    name: str
    # (store, kind, status) -> count; store -> status -> count; store -> oldest on its way
    counts: dict = field(default_factory=dict)
    by_store: dict = field(default_factory=dict)
    oldest: dict = field(default_factory=dict)
    edits: list = field(default_factory=list)


class StatusPageRows:
    """The page's rows as a sequence Django's Paginator can slice: ``count()`` from the
    aggregates, a slice reads only the segments it intersects."""

    def __init__(self, *, databases: list[_Database], kind: str | None, status: str | None):
        self.segments = [
            (s, database, store, k, database.counts.get((store, k, s), 0))
            for s in PAGE_STATUS_ORDER
            if status in (None, s)
            for database in databases
            for store in sorted(database.by_store)
            for k in KINDS
            if kind in (None, k)
        ]
        self.segments = [segment for segment in self.segments if segment[-1]]

    def count(self) -> int:
        return sum(size for *_, size in self.segments)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("status page rows are read by slices")
        start, stop = index.start or 0, index.stop
        rows: list[dict] = []
        position = 0
        for status, database, store, kind, size in self.segments:
            if stop is not None and position >= stop:
                break
            if position + size > start:
                offset = max(0, start - position)
                limit = size - offset if stop is None else min(size, stop - position) - offset
                rows += _segment_rows(
                    database=database,
                    store=store,
                    kind=kind,
                    status=status,
                    offset=offset,
                    limit=limit,
                )
            position += size
        return rows


@dataclass
class StatusPage:
    rows: StatusPageRows
    summary: list[dict]
    unreachable: list[ChannelDatabaseUnreachable]

    def has(self, status: str) -> bool:
        return any(s == status for s, *_ in self.rows.segments)


def sync_status_page(*, store: str | None, kind: str | None, status: str | None) -> StatusPage:
    """The status page's counts and rows (read lazily, a page at a time). A fixed number
    of queries per channel database whatever its number of records, plus, for each page,
    two per segment it shows; a channel database that cannot be read is left out and
    listed in ``unreachable``."""
    names = channel_database_names()
    at_hq = _staged_counts(kind=kind)
    databases, unreachable = [], []
    for alias in channel_aliases_for_store(store):
        database = _Database(alias=alias, name=names[alias])
        try:
            _count(database, store=store, kind=kind, at_hq=at_hq)
        except ChannelDatabaseUnreachable as error:
            unreachable.append(error)
            continue
        databases.append(database)
    return StatusPage(
        rows=StatusPageRows(databases=databases, kind=kind, status=status),
        summary=_summary(databases),
        unreachable=unreachable,
    )


def _staged_counts(*, kind: str | None) -> dict[tuple[str, str, str, str], int]:
    """(kind, channel database, store, staging status) -> count of the staged records
    still at HQ's side (uploaded, failed, needs review): one query per staging table over
    a short range of its status index, never the completed bulk; the store is picked in
    Python so the status index stays the one used."""
    counts = {}
    for name, spec in CHANNEL_KINDS.items():
        if kind not in (None, name):
            continue
        lines = (
            spec.staged_model.objects.filter(status__in=FROM_STAGING.values())
            .values("channel_database", "store_number", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for line in lines:
            key = (name, line["channel_database"], line["store_number"], line["status"])
            counts[key] = line["n"]
    return counts


def _count(database: _Database, *, store: str | None, kind: str | None, at_hq: dict) -> None:
    for name, spec in CHANNEL_KINDS.items():
        if kind not in (None, name):
            continue
        channel = spec.model.objects.using(database.alias)
        if store:
            channel = channel.filter(store_number=store)
        with channel_database_errors(database.alias, name=database.name):
            # Two index scans: every row by store (the store number index alone), and
            # the rows not linked yet (the small unlinked partial index).
            totals = dict(
                channel.values("store_number")
                .annotate(n=Count("pk"))
                .order_by()
                .values_list("store_number", "n")
            )
            channel_counts = list(
                channel.filter(spec.unlinked)
                .values("store_number")
                .annotate(
                    unlinked=Count("pk"),
                    pending_upload=Count("pk", filter=Q(upload_session_id__isnull=True)),
                    oldest=Min("created_at"),
                )
                .order_by()
            )
        for line in channel_counts:
            line["in_transit"] = line["unlinked"] - line["pending_upload"]
            line["synchronized"] = totals.pop(line["store_number"]) - line["unlinked"]
        channel_counts += [
            {"store_number": number, "synchronized": n, "pending_upload": 0, "in_transit": 0}
            for number, n in totals.items()
        ]
        for line in channel_counts:
            key = (name, database.name, line["store_number"])
            staged = {status: at_hq.get((*key, status), 0) for status in FROM_STAGING.values()}
            counts = {
                AsyncStatus.SYNCHRONIZED: line["synchronized"],
                AsyncStatus.PENDING_UPLOAD: line["pending_upload"],
                **{s: staged[staging] for s, staging in FROM_STAGING.items()},
            }
            counts[AsyncStatus.CREATED] = max(0, line["in_transit"] - sum(staged.values()))
            _add_counts(database, store=line["store_number"], kind=name, counts=counts)
            _add_oldest(database, store=line["store_number"], at=line.get("oldest"))
    if kind in (None, "edit"):
        database.edits = list(
            edit_status_rows(
                alias=database.alias, name=database.name, store=store, status=None, details=True
            )
        )
        database.edits.sort(key=lambda row: (row["store"], row["created_at"], row["async_id"]))
        for row in database.edits:
            _add_counts(database, store=row["store"], kind="edit", counts={row["status"]: 1})
            if row["status"] != AsyncStatus.SYNCHRONIZED:
                _add_oldest(database, store=row["store"], at=row["created_at"])


def _add_counts(database: _Database, *, store: str, kind: str, counts: dict[str, int]) -> None:
    line = database.by_store.setdefault(store, dict.fromkeys(AsyncStatus.ALL, 0))
    for status, n in counts.items():
        key = (store, kind, status)
        database.counts[key] = database.counts.get(key, 0) + n
        line[status] += n


def _add_oldest(database: _Database, *, store: str, at: datetime.datetime | None) -> None:
    if at is not None and (database.oldest.get(store) is None or at < database.oldest[store]):
        database.oldest[store] = at


def _summary(databases: Sequence[_Database]) -> list[dict]:
    """Per store (the dashboard): the count of each status and the store time
    of the oldest record not synchronized yet, failed and held for review included; a
    last line totals them."""
    lines = {}
    total = {"store": None, "channel_database": None, "oldest_pending_at": None}
    total.update(dict.fromkeys(AsyncStatus.ALL, 0))
    for database in databases:
        for store, counts in database.by_store.items():
            lines[store] = {
                "store": store,
                "channel_database": database.name,
                "oldest_pending_at": database.oldest.get(store),
                **counts,
            }
    for line in lines.values():
        for status in AsyncStatus.ALL:
            total[status] += line[status]
        oldest = line["oldest_pending_at"]
        if oldest and (total["oldest_pending_at"] is None or oldest < total["oldest_pending_at"]):
            total["oldest_pending_at"] = oldest
    return [*(lines[store] for store in sorted(lines)), total]


def _segment_rows(
    *, database: _Database, store: str, kind: str, status: str, offset: int, limit: int
) -> list[dict]:
    """Rows ``offset`` to ``offset + limit`` of one segment, oldest record first. Each read
    walks an index in id order (store number + id in the channel database, status + id in
    HQ staging), so it costs the rows it returns, not the rows it passes over."""
    if limit <= 0:
        return []
    if kind == "edit":
        rows = [r for r in database.edits if r["store"] == store and r["status"] == status]
        return rows[offset : offset + limit]
    spec = CHANNEL_KINDS[kind]
    channel = spec.model.objects.using(database.alias).filter(store_number=store)
    if status in FROM_STAGING:
        staged = list(
            spec.staged_model.objects.filter(
                status=FROM_STAGING[status], channel_database=database.name, store_number=store
            ).order_by("pk")[offset : offset + limit]
        )
        with channel_database_errors(database.alias, name=database.name):
            by_guid = {
                # By GUID alone (unique in its channel database): its index, not the store's.
                getattr(r, spec.guid): r
                for r in spec.model.objects.using(database.alias).filter(
                    **{f"{spec.guid}__in": [getattr(s, spec.guid) for s in staged]}
                )
            }
        pairs = [(by_guid.get(getattr(s, spec.guid)), s) for s in staged]
        return _rows(database, kind=kind, pairs=[(r, s) for r, s in pairs if r is not None])
    if status == AsyncStatus.CREATED:
        return _created_rows(database, store=store, kind=kind, offset=offset, limit=limit)
    if status == AsyncStatus.SYNCHRONIZED:
        channel = channel.filter(spec.linked)
    else:
        channel = channel.filter(spec.unlinked).filter(upload_session_id__isnull=True)
    with channel_database_errors(database.alias, name=database.name):
        rows = list(channel.order_by("pk")[offset : offset + limit])
    return _rows(database, kind=kind, pairs=_with_staged(database, kind=kind, rows=rows))


def _created_rows(database: _Database, *, store: str, kind: str, offset: int, limit: int):
    """Rows completed at HQ and not linked at the store yet. 1010 links records in the
    order HQ completed them, so these are the newest completed staged records: walk
    them newest first, chunk by chunk, keeping those their channel row does not link;
    the walk passes over what was linked since, not over the whole history."""
    spec = CHANNEL_KINDS[kind]
    completed = spec.staged_model.objects.filter(
        status=StagingStatus.COMPLETED, channel_database=database.name, store_number=store
    ).order_by("-pk")
    found: list = []
    skipped = 0
    before = None
    while len(found) < limit:
        chunk = completed if before is None else completed.filter(pk__lt=before)
        staged = list(chunk[:CHUNK])
        if not staged:
            break
        before = staged[-1].pk
        with channel_database_errors(database.alias, name=database.name):
            unlinked = {
                getattr(r, spec.guid): r
                for r in spec.model.objects.using(database.alias)
                .filter(**{f"{spec.guid}__in": [getattr(s, spec.guid) for s in staged]})
                .filter(spec.unlinked)
            }
        for record in staged:
            row = unlinked.get(getattr(record, spec.guid))
            if row is None:
                continue
            if skipped < offset:
                skipped += 1
                continue
            found.append((row, record))
            if len(found) == limit:
                break
    return _rows(database, kind=kind, pairs=found)


def _with_staged(database: _Database, *, kind: str, rows: list) -> list[tuple]:
    spec = CHANNEL_KINDS[kind]
    guids = [getattr(r, spec.guid) for r in rows]
    staged = (
        {
            getattr(s, spec.guid): s
            for s in spec.staged_model.objects.filter(
                channel_database=database.name, **{f"{spec.guid}__in": guids}
            )
        }
        if guids
        else {}
    )
    return [(row, staged.get(getattr(row, spec.guid))) for row in rows]


def _rows(database: _Database, *, kind: str, pairs: list[tuple]) -> list[dict]:
    """The rows as ``async_status_rows(details=True)`` makes them, plus whether a failed
    record was fixed and not sent again (FIXED_NOT_SENT)."""
    spec = CHANNEL_KINDS[kind]
    items = []
    for row, staged in pairs:
        item = status_row(
            kind=kind,
            row=row,
            guid=getattr(row, spec.guid),
            staged=staged,
            channel_database=database.name,
        )
        status_details_add(item, row=row, staged=staged)
        item["fixed_not_sent"] = bool(staged and staged.fixed_not_sent)
        items.append(item)
    return items


def blocked_transactions(*, rows: Sequence[dict]) -> dict[str, list[SalesTransaction]]:
    """Async customer GUID -> its HQ sales transactions whose order or statement failed
    (R8, R9), for the given rows, in one query."""
    guids = {row["async_id"] for row in rows if row["kind"] == "customer"}
    if not guids:
        return {}
    blocked: dict[str, list[SalesTransaction]] = {}
    for transaction in (
        SalesTransaction.objects.filter(
            async_customer_id__in=guids, status__in=BLOCKING_TRANSACTION_STATUSES
        )
        .select_related("store", "statement")
        .order_by("business_date", "transaction_id")
    ):
        blocked.setdefault(str(transaction.async_customer_id), []).append(transaction)
    return blocked
