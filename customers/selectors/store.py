"""Store customers (README "Admin"; R1, R11): one search over a store's copies
and async customers, with pending edits.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from commerce.db import channel_database_errors
from commerce.models import Store
from customers.models import (
    AsyncCustomer,
    ChannelCustomer,
    ChannelRequest,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.selectors.status import (
    WITH_LAST_ERROR,
    AsyncStatus,
    async_status,
    edit_state,
)

STORE_ASYNC_SEARCH_FIELDS = (
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "account",
    "async_customer_id",
)
STORE_COPY_SEARCH_FIELDS = ("name", *STORE_ASYNC_SEARCH_FIELDS)


@dataclass(frozen=True)
class PendingEdit:
    """A store's edit (channel request, R11) that the store does not hold back from HQ
    yet: ``status`` is an AsyncStatus other than synchronized."""

    request_id: uuid.UUID
    edited_at: datetime.datetime
    changes: dict
    status: str
    last_error: str = ""


@dataclass
class StoreCustomer:
    """One customer as a store sees it: ``async`` (an async customer of the channel
    database with no synchronous copy yet: "Pending sync") or ``copy`` (a synchronous
    customer's channel copy). ``key`` is what the store edits it by (R11): the async
    GUID or the account number."""

    kind: str
    record: AsyncCustomer | ChannelCustomer
    pending_edits: list[PendingEdit] = field(default_factory=list)
    # An async customer's way to HQ (AsyncStatus, as on the status page) and, when HQ
    # rejected it (R5), why: the store can fix it with an edit (R11).
    hq_status: str = ""
    hq_error: str = ""

    @property
    def key(self) -> str:
        if self.kind == "async":
            return str(self.record.async_customer_id)
        return self.record.account

    @property
    def account(self) -> str | None:
        return self.record.account or None


@dataclass(frozen=True)
class StoreCustomerPage:
    rows: list[StoreCustomer]
    count: int


def _store_async_customers(*, store: Store) -> QuerySet[AsyncCustomer]:
    """Async customers of the stores sharing this store's channel database and legal
    entity, except those the store already holds as a synchronous copy (linked by
    1010): a synchronized customer is shown once, by its account."""
    numbers = list(
        Store.objects.filter(
            channel_database_id=store.channel_database_id, legal_entity_id=store.legal_entity_id
        ).values_list("number", flat=True)
    )
    alias = store.channel_database.alias
    copies = ChannelCustomer.objects.using(alias).filter(
        legal_entity=store.legal_entity.code, account=OuterRef("account")
    )
    return (
        AsyncCustomer.objects.using(alias).filter(store_number__in=numbers).filter(~Exists(copies))
    )


def words_match(query: str, fields: Sequence[str]) -> Q:
    """Every word of ``query`` in at least one of ``fields`` (case-insensitive; a GUID,
    whole or in part, matches a GUID field)."""
    condition = Q()
    for word in query.split():
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        condition &= any_field
    return condition


def store_customer_search(
    *, store: Store, query: str = "", limit: int = 50, offset: int = 0
) -> StoreCustomerPage:
    """The customers a store sees, matching every word of ``query`` (name, email,
    phone, account or async GUID): async customers not synchronized yet, newest first,
    then the synchronous copies of its legal entity by name, all from its channel
    database, each with its pending edits (R11). ``store`` comes with its legal entity
    and channel database. A fixed number of queries whatever the number of rows: at
    HQ the store numbers, the staged requests and the staged async customers; in the
    channel database two counts, at most two page reads, the GUIDs linked to the
    copies and the requests.
    A channel database error raises ChannelDatabaseUnreachable."""
    alias, name = store.channel_database.alias, store.channel_database.name
    async_customers = _store_async_customers(store=store).filter(
        words_match(query, STORE_ASYNC_SEARCH_FIELDS)
    )
    copies = ChannelCustomer.objects.using(alias).filter(
        words_match(query, STORE_COPY_SEARCH_FIELDS), legal_entity=store.legal_entity.code
    )
    rows: list[StoreCustomer] = []
    with channel_database_errors(alias, name=name):
        async_count = async_customers.count()
        copy_count = copies.count()
        if offset < async_count:
            rows += [
                StoreCustomer(kind="async", record=row)
                for row in async_customers.order_by("-created_at", "-id")[offset : offset + limit]
            ]
        copy_offset, copy_limit = max(0, offset - async_count), limit - len(rows)
        if copy_limit > 0 and copy_offset < copy_count:
            rows += [
                StoreCustomer(kind="copy", record=row)
                for row in copies.order_by("name", "account")[
                    copy_offset : copy_offset + copy_limit
                ]
            ]
    _store_pending_edits_attach(store=store, rows=rows)
    _store_async_states_attach(store=store, rows=rows)
    return StoreCustomerPage(rows=rows, count=async_count + copy_count)


def store_customer_get(*, store: Store, key: str) -> StoreCustomer | None:
    """One customer the store sees, by async GUID or account, with its addresses and
    pending edits; an async customer the store holds as a copy comes as the copy.
    None when the store does not know it."""
    alias, name = store.channel_database.alias, store.channel_database.name
    guid = _uuid_or_none(key)
    with channel_database_errors(alias, name=name):
        row = None
        if guid is not None:
            record = (
                _store_async_customers(store=store)
                .filter(async_customer_id=guid)
                .prefetch_related("addresses")
                .first()
            )
            if record is not None:
                row = StoreCustomer(kind="async", record=record)
            else:
                account = (
                    AsyncCustomer.objects.using(alias)
                    .filter(async_customer_id=guid)
                    .values_list("account", flat=True)
                    .first()
                )
                key = account or ""
        if row is None and key:
            record = (
                ChannelCustomer.objects.using(alias)
                .filter(legal_entity=store.legal_entity.code, account=key.strip())
                .prefetch_related("addresses")
                .first()
            )
            row = StoreCustomer(kind="copy", record=record) if record else None
    if row is not None:
        _store_pending_edits_attach(store=store, rows=[row])
        _store_async_states_attach(store=store, rows=[row])
    return row


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None


def _store_pending_edits_attach(*, store: Store, rows: Sequence[StoreCustomer]) -> None:
    """Attach to each row its channel requests the store does not hold back yet, in the
    order they were made; states as on the status page (kind ``edit``)."""
    if not rows:
        return
    alias, name = store.channel_database.alias, store.channel_database.name
    by_account = {r.record.account: r for r in rows if r.kind == "copy"}
    by_guid = {r.record.async_customer_id: r for r in rows if r.kind == "async"}
    with channel_database_errors(alias, name=name):
        if by_account:
            # Edits made before 1010 linked an async customer target its GUID.
            linked = AsyncCustomer.objects.using(alias).filter(account__in=list(by_account))
            for guid, account in linked.values_list("async_customer_id", "account"):
                by_guid.setdefault(guid, by_account[account])
        requests = list(
            ChannelRequest.objects.using(alias)
            .filter(
                Q(target_account__in=list(by_account))
                | Q(target_async_customer_id__in=list(by_guid))
            )
            .order_by("edited_at", "id")
        )
    uploaded = [r.request_id for r in requests if r.upload_session_id is not None]
    staged = (
        {
            s.request_id: s
            for s in StagedChannelRequest.objects.filter(
                channel_database=name, request_id__in=uploaded
            )
        }
        if uploaded
        else {}
    )
    for request in requests:
        row = by_account.get(request.target_account) or by_guid.get(
            request.target_async_customer_id
        )
        if row is None:
            continue
        state = _store_edit_state(staged.get(request.request_id), row=row)
        if state != AsyncStatus.SYNCHRONIZED:
            row.pending_edits.append(
                PendingEdit(
                    request_id=request.request_id,
                    edited_at=request.edited_at,
                    changes=request.changes,
                    status=state,
                    last_error=staged[request.request_id].last_error
                    if state == AsyncStatus.FAILED
                    else "",
                )
            )


def _store_async_states_attach(*, store: Store, rows: Sequence[StoreCustomer]) -> None:
    """Each async row's status on its way to HQ, from HQ staging (one query)."""
    guids = [r.record.async_customer_id for r in rows if r.kind == "async"]
    if not guids:
        return
    staged = {
        guid: (status, error)
        for guid, status, error in StagedAsyncCustomer.objects.filter(
            channel_database=store.channel_database.name, async_customer_id__in=guids
        ).values_list("async_customer_id", "status", "last_error")
    }
    for row in rows:
        if row.kind != "async":
            continue
        status, error = staged.get(row.record.async_customer_id, (None, ""))
        row.hq_status = async_status(linked=bool(row.account), staging_status=status)
        if row.hq_status == AsyncStatus.SYNCHRONIZED:
            continue
        row.hq_error = error if row.hq_status in WITH_LAST_ERROR else ""


def _store_edit_state(staged: StagedChannelRequest | None, *, row: StoreCustomer) -> str:
    """Where an edit of ``row`` stands (R11), as the status page says it."""
    if row.kind == "async":
        # Its account is not at the store yet (else it would show as a copy).
        return edit_state(staged, store_has_account=False, held_version=0)
    return edit_state(staged, store_has_account=True, held_version=row.record.hq_version)
