"""Async customer status (README "Statuses"): one row per async customer, async
address and store edit, read chunk by chunk from every channel database.

The one place a record's status is derived and named: ``async_status`` (an async
customer or address), ``edit_state`` (a channel request) and ``ASYNC_STATUS_LABELS``.
The status command, the status page, the staged and channel lists
(``staged_records_statuses``, ``channel_records_statuses``), the store customers page
and the timeline all use them, so a record has one status with one name everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

from django.db.models import (
    QuerySet,
)

from commerce.db import CHUNK, ChannelDatabaseUnreachable, channel_aliases, channel_database_errors
from commerce.models import ChannelDatabase
from commerce.selectors import channel_aliases_for_store
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    ChannelCustomer,
    ChannelRequest,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
)


class AsyncStatus:
    PENDING_UPLOAD = "pending_upload"
    UPLOADED = "uploaded"
    FAILED = "failed"
    CREATED = "created"
    SYNCHRONIZED = "synchronized"
    NEEDS_REVIEW = "needs_review"  # R12: a possible duplicate held for a person
    ALL = [PENDING_UPLOAD, UPLOADED, FAILED, CREATED, SYNCHRONIZED, NEEDS_REVIEW]


STAGING_TO_STATUS = {
    StagingStatus.PENDING: AsyncStatus.UPLOADED,
    StagingStatus.FAILED: AsyncStatus.FAILED,
    StagingStatus.COMPLETED: AsyncStatus.CREATED,
    StagingStatus.NEEDS_REVIEW: AsyncStatus.NEEDS_REVIEW,
}
# Statuses whose row carries the staged record's last error.
WITH_LAST_ERROR = (AsyncStatus.FAILED, AsyncStatus.NEEDS_REVIEW)

# How every page names a status (README "Statuses"); commands print the codes.
ASYNC_STATUS_LABELS = {
    AsyncStatus.PENDING_UPLOAD: "Pending upload",
    AsyncStatus.UPLOADED: StagingStatus.PENDING.label,
    AsyncStatus.FAILED: StagingStatus.FAILED.label,
    AsyncStatus.CREATED: StagingStatus.COMPLETED.label,
    AsyncStatus.SYNCHRONIZED: "Synchronized",
    AsyncStatus.NEEDS_REVIEW: StagingStatus.NEEDS_REVIEW.label,
}


def async_status(*, linked: bool, staging_status: str | None) -> str:
    """An async customer's or address's status: synchronized once its channel row holds
    what HQ made of it (R7), pending upload while HQ staging has no row for it, else
    what HQ staging says (uploaded, failed, needs review, created)."""
    if linked:
        return AsyncStatus.SYNCHRONIZED
    if staging_status is None:
        return AsyncStatus.PENDING_UPLOAD
    return STAGING_TO_STATUS.get(staging_status, AsyncStatus.UPLOADED)


def async_status_label(status: str) -> str:
    return ASYNC_STATUS_LABELS.get(status, status)


def channel_database_names() -> dict[str, str]:
    """Channel alias -> channel database name (the alias itself when none is set up)."""
    names = dict(ChannelDatabase.objects.values_list("alias", "name"))
    return {alias: names.get(alias, alias) for alias in channel_aliases()}


def _channel_chunks(queryset: QuerySet, *, name: str, size: int = CHUNK) -> Iterator[list]:
    """The rows of a channel queryset in pk order, chunk by chunk; a database error
    reading them is ChannelDatabaseUnreachable naming the channel database."""
    last_pk = 0
    while True:
        with channel_database_errors(queryset.db, name=name):
            rows = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:size])
        if not rows:
            return
        yield rows
        last_pk = rows[-1].pk


def async_status_rows(
    *,
    store: str | None = None,
    status: str | None = None,
    details: bool = False,
    unreachable: list[ChannelDatabaseUnreachable] | None = None,
) -> Iterator[dict]:
    """One row per async customer and async address, in every channel database.

    With ``details`` each row also carries what the admin status page shows and links:
    ``staged_id`` (the HQ staging row, or None), ``created_at`` (at the store) and
    ``operation_at`` (when its current status was reached). Without it the row has
    exactly the columns the status command prints.

    A channel database that cannot be read raises ChannelDatabaseUnreachable; given an
    ``unreachable`` list, it goes there instead and the other databases' rows follow
    (rows it yielded before failing stay yielded).
    """
    names = channel_database_names()
    for alias in channel_aliases_for_store(store):
        try:
            yield from _channel_status_rows(
                alias=alias, name=names[alias], store=store, status=status, details=details
            )
        except ChannelDatabaseUnreachable as unreachable_database:
            if unreachable is None:
                raise
            unreachable.append(unreachable_database)


def _channel_status_rows(
    *, alias: str, name: str, store: str | None, status: str | None, details: bool
) -> Iterator[dict]:
    for kind, model, staged_model, guid_field in (
        ("customer", AsyncCustomer, StagedAsyncCustomer, "async_customer_id"),
        ("address", AsyncAddress, StagedAsyncAddress, "async_address_id"),
    ):
        queryset = model.objects.using(alias)
        if store:
            queryset = queryset.filter(store_number=store)
        for rows in _channel_chunks(queryset, name=name):
            guids = [getattr(r, guid_field) for r in rows]
            staged = {
                getattr(s, guid_field): s
                # A GUID is staged per channel database (the same GUID from another
                # channel database is another record).
                for s in staged_model.objects.filter(
                    channel_database=name, **{f"{guid_field}__in": guids}
                )
            }
            for row in rows:
                item = status_row(
                    kind=kind,
                    row=row,
                    guid=getattr(row, guid_field),
                    staged=staged.get(getattr(row, guid_field)),
                    channel_database=name,
                )
                if details:
                    status_details_add(item, row=row, staged=staged.get(getattr(row, guid_field)))
                if status is None or item["status"] == status:
                    yield item
    yield from edit_status_rows(alias=alias, name=name, store=store, status=status, details=details)


def edit_state(
    staged: StagedChannelRequest | None, *, store_has_account: bool, held_version: int
) -> str:
    """Where a channel request stands (R11): created once applied at HQ; synchronized once
    the store holds what HQ made of it - the customer's new version (``held_version`` of
    its copy), or, for an edit folded into a staged record, the account of the async
    customer (``store_has_account``)."""
    if staged is None:
        return AsyncStatus.PENDING_UPLOAD
    if staged.status != StagingStatus.COMPLETED:
        return STAGING_TO_STATUS.get(staged.status, AsyncStatus.UPLOADED)
    if staged.applied_to_staged:
        return AsyncStatus.SYNCHRONIZED if store_has_account else AsyncStatus.CREATED
    return (
        AsyncStatus.SYNCHRONIZED
        if held_version >= (staged.applied_version or 0)
        else AsyncStatus.CREATED
    )


def edit_status_rows(
    *, alias: str, name: str, store: str | None, status: str | None, details: bool
) -> Iterator[dict]:
    """R11: one row of kind ``edit`` per channel request. Created means applied at HQ;
    synchronized, that the store holds the new version (its copy's version, or, for an
    edit folded into a staged record, the async customer's account)."""
    queryset = ChannelRequest.objects.using(alias)
    if store:
        queryset = queryset.filter(store_number=store)
    for rows in _channel_chunks(queryset, name=name):
        staged = {
            s.request_id: s
            for s in StagedChannelRequest.objects.filter(
                channel_database=name, request_id__in=[r.request_id for r in rows]
            )
        }
        accounts = {s.account for s in staged.values() if s.account}
        accounts |= {r.target_account for r in rows if r.target_account}
        with channel_database_errors(alias, name=name):
            versions, linked = _store_holds(alias=alias, accounts=accounts, requests=rows)
        for row in rows:
            request = staged.get(row.request_id)
            account = (
                (request.account if request else "")
                or row.target_account
                or linked.get(row.target_async_customer_id)
                or None
            )
            state = edit_state(
                request,
                store_has_account=bool(linked.get(row.target_async_customer_id)),
                held_version=versions.get(request.account, 0) if request else 0,
            )
            item = {
                "kind": "edit",
                "store": row.store_number,
                "channel_database": name,
                "async_id": str(row.request_id),
                "status": state,
                "customer_account": account,
                "last_error": (request.last_error if state == AsyncStatus.FAILED else "") or None,
            }
            if details:
                item.update(
                    name=f"edit of {account or row.target}",
                    staged_id=request.pk if request else None,
                    created_at=row.edited_at,
                    operation_at=(request.processed_at or request.staged_at)
                    if request
                    else row.edited_at,
                )
            if status is None or item["status"] == status:
                yield item


def status_row(*, kind, row, guid: uuid.UUID, staged, channel_database: str) -> dict:
    if kind == "customer":
        linked = bool(row.account)
        account = row.account or (staged.account if staged else "") or None
    else:
        linked = bool(row.location_id)
        account = row.customer_account
    state = async_status(linked=linked, staging_status=staged.status if staged else None)
    return {
        "kind": kind,
        "store": row.store_number,
        "channel_database": channel_database,
        "async_id": str(guid),
        "status": state,
        "customer_account": account,
        "last_error": (staged.last_error if staged and state in WITH_LAST_ERROR else "") or None,
    }


def status_details_add(item: dict, *, row, staged) -> None:
    if item["status"] == AsyncStatus.SYNCHRONIZED:
        operation_at = row.synchronized_at or (staged.processed_at if staged else None)
    elif item["status"] == AsyncStatus.PENDING_UPLOAD:
        operation_at = row.created_at
    else:  # uploaded, failed, created, needs review: HQ staging knows when
        operation_at = staged.processed_at or staged.staged_at
    if item["kind"] == "customer":
        name = row.name
    else:
        name = f"{row.street}, {row.city}"
    review = None
    if getattr(staged, "review_decision", ""):  # R12: who resolved a possible duplicate
        review = {
            "decision": staged.review_decision,
            "label": staged.get_review_decision_display(),
            "by": staged.reviewer,
            "at": staged.reviewed_at,
        }
    item.update(
        name=name,
        staged_id=staged.pk if staged else None,
        created_at=row.created_at,
        operation_at=operation_at or row.created_at,
        review=review,
    )


ON_THEIR_WAY = [AsyncStatus.PENDING_UPLOAD, AsyncStatus.UPLOADED, AsyncStatus.CREATED]


def async_status_summary(rows: Iterable[dict]) -> list[dict]:
    """Per store (the dashboard): the count of each status and the store
    time of the oldest record still on its way (neither synchronized nor failed).
    ``rows`` come from ``async_status_rows(details=True)``; a last row totals them."""
    stores: dict[str, dict] = {}
    total = {"store": None, "channel_database": None, "oldest_pending_at": None}
    total.update(dict.fromkeys(AsyncStatus.ALL, 0))
    for row in rows:
        summary = stores.get(row["store"])
        if summary is None:
            summary = stores[row["store"]] = {
                "store": row["store"],
                "channel_database": row["channel_database"],
                "oldest_pending_at": None,
                **dict.fromkeys(AsyncStatus.ALL, 0),
            }
        for bucket in (summary, total):
            bucket[row["status"]] += 1
            if row["status"] in ON_THEIR_WAY and (
                bucket["oldest_pending_at"] is None
                or row["created_at"] < bucket["oldest_pending_at"]
            ):
                bucket["oldest_pending_at"] = row["created_at"]
    return [*(stores[number] for number in sorted(stores)), total]


# --- Statuses of the rows a list page shows (one query per database) --------------------

# kind -> (channel model, staged model, GUID field, the channel field that links it)
_KIND_MODELS = {
    "customer": (AsyncCustomer, StagedAsyncCustomer, "async_customer_id", "account"),
    "address": (AsyncAddress, StagedAsyncAddress, "async_address_id", "location_id"),
}


def _aliases_by_name() -> dict[str, str]:
    return {name: alias for alias, name in channel_database_names().items()}


def staged_records_statuses(*, kind: str, records: Iterable) -> dict[int, str]:
    """Staged record id -> its status, for the staged rows a list shows (``kind``
    ``customer``, ``address`` or ``edit``). A completed record is created or already
    synchronized, which only its channel database knows: one query per channel
    database (two for edits); a channel database that cannot be read leaves its rows
    at what HQ staging says."""
    records = list(records)
    statuses = {r.pk: STAGING_TO_STATUS.get(r.status, AsyncStatus.UPLOADED) for r in records}
    completed: dict[str, list] = {}
    for record in records:
        if record.status == StagingStatus.COMPLETED:
            completed.setdefault(record.channel_database, []).append(record)
    aliases = _aliases_by_name()
    for name, rows in completed.items():
        alias = aliases.get(name)
        if alias is None:
            continue
        try:
            with channel_database_errors(alias, name=name):
                if kind == "edit":
                    statuses.update(_edit_statuses(alias=alias, requests=rows))
                    continue
                model, _staged, guid_field, link = _KIND_MODELS[kind]
                linked = set(
                    model.objects.using(alias)
                    .filter(**{f"{guid_field}__in": [getattr(r, guid_field) for r in rows]})
                    .filter(**{f"{link}__isnull": False})
                    .exclude(**{link: ""})
                    .values_list(guid_field, flat=True)
                )
        except ChannelDatabaseUnreachable:
            continue
        for record in rows:
            statuses[record.pk] = async_status(
                linked=getattr(record, guid_field) in linked, staging_status=record.status
            )
    return statuses


def _store_holds(*, alias: str, accounts, requests: list) -> tuple[dict, dict]:
    """What the store holds for edits (R11): the HQ version of each of ``accounts``
    it has a copy of, and the account (or None) of each async customer the
    ``requests`` target. Two queries."""
    versions = dict(
        ChannelCustomer.objects.using(alias)
        .filter(account__in=accounts)
        .values_list("account", "hq_version")
    )
    linked = dict(
        AsyncCustomer.objects.using(alias)
        .filter(
            async_customer_id__in=[
                r.target_async_customer_id for r in requests if r.target_async_customer_id
            ]
        )
        .values_list("async_customer_id", "account")
    )
    return versions, linked


def _edit_statuses(*, alias: str, requests: list) -> dict[int, str]:
    versions, linked = _store_holds(
        alias=alias, accounts={r.account for r in requests if r.account}, requests=requests
    )
    return {
        r.pk: edit_state(
            r,
            store_has_account=bool(linked.get(r.target_async_customer_id)),
            held_version=versions.get(r.account, 0),
        )
        for r in requests
    }


def channel_records_statuses(*, kind: str, alias: str, rows: Iterable) -> dict[uuid.UUID, str]:
    """GUID -> status of the async customers or addresses (``kind``) a channel list
    shows, as the status page says it: HQ staging is read for the rows not linked yet
    (one query)."""
    rows = list(rows)
    _model, staged_model, guid_field, link = _KIND_MODELS[kind]
    name = channel_database_names().get(alias, alias)
    waiting = [getattr(r, guid_field) for r in rows if not getattr(r, link)]
    staged = (
        dict(
            staged_model.objects.filter(
                channel_database=name, **{f"{guid_field}__in": waiting}
            ).values_list(guid_field, "status")
        )
        if waiting
        else {}
    )
    return {
        getattr(r, guid_field): async_status(
            linked=bool(getattr(r, link)), staging_status=staged.get(getattr(r, guid_field))
        )
        for r in rows
    }
