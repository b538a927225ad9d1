"""Customer reads: querysets with their joins applied, payloads, status rows.

Everything here streams in chunks and issues a fixed number of queries per chunk.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db.models import (
    CharField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast

from commerce.db import ChannelDatabaseUnreachable, channel_aliases, channel_database_errors
from commerce.models import ChannelDatabase, LegalEntity, Store
from commerce.selectors import channel_aliases_for_store
from customers.models import (
    HQ_ADDRESS_FIELDS,
    Address,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerLink,
    ChannelCustomer,
    ChannelRequest,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
)

CHUNK = 1000


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


def customer_list() -> QuerySet[Customer]:
    """HQ customers with everything a list or an export shows, without N+1 queries."""
    return Customer.objects.select_related(
        "legal_entity", "party", "customer_group"
    ).prefetch_related(
        Prefetch("party__addresses", queryset=Address.objects.order_by("location_id")),
        Prefetch(
            "attribute_values",
            queryset=CustomerAttributeValue.objects.select_related("attribute"),
        ),
        Prefetch(
            "affiliations", queryset=CustomerAffiliation.objects.select_related("affiliation")
        ),
    )


# What a payload carries, as read by ``values_list`` (``customer_payloads``) or from
# instances (``customer_payload``); both go through ``_payload`` and ``_address_payload``.
_PAYLOAD_CUSTOMER = (
    "legal_entity__code",
    "account",
    "version",
    "party__type",
    "party__name",
    "party__first_name",
    "party__last_name",
    "party__organization_name",
    "email",
    "phone",
    "customer_group__code",
    "currency",
    "language",
    "async_customer_id",
    "async_origin",
)
_PAYLOAD_ADDRESS = HQ_ADDRESS_FIELDS


def _guid_text(value: uuid.UUID | str | None) -> str | None:
    """A GUID as a payload carries it (``str(uuid)``), from a UUID or from its column
    read as text (``_as_text``: SQLite stores 32 hex digits, PostgreSQL gives the
    dashed form) - reading thousands as text skips building a UUID for each."""
    if not value:
        return None
    if isinstance(value, str):
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        if len(value) == 36:
            return value
    return str(uuid.UUID(str(value)))


def _as_text(paths: Sequence[str]) -> list:
    """``values_list`` arguments: the GUID columns read as text (see ``_guid_text``)."""
    guids = ("async_customer_id", "async_address_id")
    return [Cast(path, CharField()) if path in guids else path for path in paths]


def _address_payload(values: Sequence) -> dict:
    (location_id, purpose, street, city, state, zip_, country, is_primary, guid, origin) = values
    return {
        "location_id": location_id,
        "purpose": purpose,
        "street": street,
        "city": city,
        "state": state,
        "zip": zip_,
        "country": country,
        "is_primary": is_primary,
        "async_address_id": _guid_text(guid),
        "async_origin": origin,
    }


def _payload(
    values: Sequence, *, addresses: list[dict], links: Iterable[tuple[str, uuid.UUID]]
) -> dict:
    (
        legal_entity,
        account,
        version,
        type_,
        name,
        first_name,
        last_name,
        organization_name,
        email,
        phone,
        customer_group,
        currency,
        language,
        guid,
        origin,
    ) = values
    return {
        "legal_entity": legal_entity,
        "account": account,
        "version": version,
        "type": type_,
        "name": name,
        "first_name": first_name,
        "last_name": last_name,
        "organization_name": organization_name,
        "email": email,
        "phone": phone,
        "customer_group": customer_group,
        "currency": currency,
        "language": language,
        "async_customer_id": _guid_text(guid),
        "async_origin": origin,
        "addresses": addresses,
        "linked_async_ids": _linked_async_ids(links),
    }


def _linked_async_ids(links: Iterable[tuple[str, uuid.UUID]]) -> dict[str, list[str]]:
    """R12: channel database -> the async GUIDs it made that HQ linked to this account
    (``(channel database, GUID)`` pairs); each channel links only its own (R7)."""
    if not links:
        return {}  # most customers: no link
    linked: dict[str, list[str]] = {}
    for channel_database, guid in links:
        linked.setdefault(channel_database, []).append(str(guid))
    return {name: sorted(guids) for name, guids in sorted(linked.items())}


def _instance_values(instance, paths: Sequence[str]) -> tuple:
    values = []
    for path in paths:
        value = instance
        for name in path.split("__"):
            value = getattr(value, name)
        values.append(value)
    return tuple(values)


def customer_payload(customer: Customer) -> dict:
    """What a channel database receives for one HQ customer (R1 real time and 1010),
    from an instance read with ``with_payload_relations``. Many customers at once:
    ``customer_payloads`` (no instances)."""
    return _payload(
        _instance_values(customer, _PAYLOAD_CUSTOMER),
        addresses=[
            _address_payload(_instance_values(a, _PAYLOAD_ADDRESS))
            for a in customer.party.addresses.all()
        ],
        links=[
            (link.channel_database, link.async_customer_id) for link in customer.async_links.all()
        ],
    )


def with_payload_relations(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """What ``customer_payload`` reads, joined or prefetched (no per-customer queries)."""
    return queryset.select_related("legal_entity", "party", "customer_group").prefetch_related(
        "party__addresses", "async_links"
    )


def payloads_read(queryset: QuerySet[Customer]) -> list[tuple[int, dict]]:
    """``(customer pk, payload)`` of every customer of ``queryset`` (sliced or not), in its
    order: three queries whatever the count (the customers with their party, legal
    entity and group; their addresses; their R12 links), rows read as tuples and
    grouped here, no model instances."""
    rows = list(queryset.values_list("pk", "party_id", *_as_text(_PAYLOAD_CUSTOMER)))
    if not rows:
        return []
    addresses: dict[int, list[dict]] = {}
    for party_id, *values in (
        Address.objects.filter(party_id__in_values=[row[1] for row in rows])
        .order_by("location_id")
        .values_list("party_id", *_as_text(_PAYLOAD_ADDRESS))
    ):
        addresses.setdefault(party_id, []).append(_address_payload(values))
    links: dict[int, list[tuple[str, uuid.UUID]]] = {}
    for customer_id, channel_database, guid in AsyncCustomerLink.objects.filter(
        customer_id__in_values=[row[0] for row in rows]
    ).values_list("customer_id", "channel_database", "async_customer_id"):
        links.setdefault(customer_id, []).append((channel_database, guid))
    return [
        (
            pk,
            _payload(values, addresses=addresses.get(party_id, []), links=links.get(pk, ())),
        )
        for pk, party_id, *values in rows
    ]


def customers_for_comparison(*, customer_ids: Iterable[int | None]) -> QuerySet[Customer]:
    """HQ customers with what the duplicate comparison (R12) shows, in a fixed number of
    queries: party, group, addresses (primary first) and contact info."""
    return (
        Customer.objects.filter(pk__in=[pk for pk in customer_ids if pk])
        .select_related("party", "customer_group", "legal_entity")
        .prefetch_related(
            Prefetch(
                "party__addresses", queryset=Address.objects.order_by("-is_primary", "location_id")
            ),
            "party__contacts",
        )
    )


def _legal_entities_served(channel_database: ChannelDatabase) -> list[int]:
    return list(
        LegalEntity.objects.filter(stores__channel_database=channel_database)
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )


def customers_to_distribute(
    *, channel_database: ChannelDatabase, legal_entities: Sequence[int] | None = None
) -> QuerySet[Customer]:
    """HQ customers of the legal entities a channel database serves (``legal_entities``,
    read here if not given) that it does not have in their current version
    (distribution 1010, R7)."""
    if legal_entities is None:
        legal_entities = _legal_entities_served(channel_database)
    return (
        Customer.objects.filter(legal_entity_id__in=legal_entities)
        .annotate(
            sent=FilteredRelation(
                "distributions",
                condition=Q(distributions__channel_database=channel_database.name),
            )
        )
        .filter(Q(sent__isnull=True) | Q(sent__version__lt=F("version")))
        .order_by("pk")
    )


def payloads_to_distribute(
    *, channel_database: ChannelDatabase, after_pk: int, limit: int
) -> tuple[list[tuple[int, dict]], int]:
    """The customers ``channel_database`` needs (``customers_to_distribute``) among the
    next ``limit`` customers of its legal entities after ``after_pk`` (the window), as
    ``(customer pk, payload)`` in pk order; and the cursor for the next call (the
    window's last pk; ``after_pk`` again once there is nothing after it).

    A window of customers, not "the first ``limit`` that need it": asked for those,
    PostgreSQL read every customer after the cursor and sorted the ones that need it
    to keep the first batch, so each batch cost more the more customers there were
    (quadratic over a run); a window is a range of the primary key, the same cost
    whatever the number of customers. A window may hold none that need sending.
    """
    legal_entities = _legal_entities_served(channel_database)
    following = (
        Customer.objects.filter(legal_entity_id__in=legal_entities, pk__gt=after_pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    window_end = next(iter(following[limit - 1 : limit]), None)
    needed = customers_to_distribute(
        channel_database=channel_database, legal_entities=legal_entities
    ).filter(pk__gt=after_pk)
    if window_end is not None:
        needed = needed.filter(pk__lte=window_end)
    payloads = payloads_read(needed)
    if window_end is not None:
        return payloads, window_end
    return payloads, payloads[-1][0] if payloads else after_pk


def customer_payloads(*, customer_ids: Sequence[int]) -> list[dict]:
    """The payloads (``customer_payload``) of these customers, by legal entity and
    account; three queries per chunk of ``CHUNK``."""
    payloads = []
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        queryset = Customer.objects.filter(pk__in=chunk).order_by("legal_entity__code", "account")
        payloads.extend(payload for _, payload in payloads_read(queryset))
    return payloads


def customer_export_row(customer: Customer) -> dict:
    party = customer.party
    return {
        "account": customer.account,
        "legal_entity": customer.legal_entity.code,
        "type": party.type,
        "name": party.name,
        "first_name": party.first_name,
        "last_name": party.last_name,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "customer_group": customer.customer_group.code,
        "currency": customer.currency,
        "language": customer.language,
        "async_customer_id": str(customer.async_customer_id)
        if customer.async_customer_id
        else None,
        "addresses": [
            {
                "location_id": a.location_id,
                "purpose": a.purpose,
                "street": a.street,
                "city": a.city,
                "state": a.state,
                "zip": a.zip,
                "country": a.country,
                "primary": a.is_primary,
            }
            for a in party.addresses.all()
        ],
        "attributes": {v.attribute.name: v.value for v in customer.attribute_values.all()},
        "affiliations": sorted(a.affiliation.name for a in customer.affiliations.all()),
    }


def customer_export_rows(*, legal_entity: str | None = None) -> Iterator[dict]:
    queryset = customer_list().order_by("legal_entity__code", "account")
    if legal_entity:
        queryset = queryset.filter(legal_entity__code=legal_entity)
    for customer in queryset.iterator(chunk_size=CHUNK):
        yield customer_export_row(customer)


# --- Async customer status (the status list of the spec) --------------------------------------


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
                item = _status_row(
                    kind=kind,
                    row=row,
                    guid=getattr(row, guid_field),
                    staged=staged.get(getattr(row, guid_field)),
                    channel_database=name,
                )
                if details:
                    _add_details(item, row=row, staged=staged.get(getattr(row, guid_field)))
                if status is None or item["status"] == status:
                    yield item
    yield from _edit_status_rows(
        alias=alias, name=name, store=store, status=status, details=details
    )


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


def _edit_status_rows(
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
            versions = dict(
                ChannelCustomer.objects.using(alias)
                .filter(account__in=accounts)
                .values_list("account", "hq_version")
            )
            linked = dict(
                AsyncCustomer.objects.using(alias)
                .filter(
                    async_customer_id__in=[
                        r.target_async_customer_id for r in rows if r.target_async_customer_id
                    ]
                )
                .values_list("async_customer_id", "account")
            )
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


def _status_row(*, kind, row, guid: uuid.UUID, staged, channel_database: str) -> dict:
    if kind == "customer":
        linked = bool(row.account)
        account = row.account or (staged.account if staged else "") or None
    else:
        linked = bool(row.location_id)
        account = row.customer_account
    if linked:
        state = AsyncStatus.SYNCHRONIZED
    elif staged is None:
        state = AsyncStatus.PENDING_UPLOAD
    else:
        state = STAGING_TO_STATUS[staged.status]
    return {
        "kind": kind,
        "store": row.store_number,
        "channel_database": channel_database,
        "async_id": str(guid),
        "status": state,
        "customer_account": account,
        "last_error": (staged.last_error if staged and state in WITH_LAST_ERROR else "") or None,
    }


def _add_details(item: dict, *, row, staged) -> None:
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


# --- Store customers (the spec's admin pages; R1, R11) -------------------------------------

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


def _words_match(query: str, fields: Sequence[str]) -> Q:
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
        _words_match(query, STORE_ASYNC_SEARCH_FIELDS)
    )
    copies = ChannelCustomer.objects.using(alias).filter(
        _words_match(query, STORE_COPY_SEARCH_FIELDS), legal_entity=store.legal_entity.code
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
        if row.account:
            row.hq_status = AsyncStatus.SYNCHRONIZED
            continue
        status, error = staged.get(row.record.async_customer_id, (None, ""))
        row.hq_status = (
            STAGING_TO_STATUS.get(status, AsyncStatus.UPLOADED)
            if status
            else AsyncStatus.PENDING_UPLOAD
        )
        row.hq_error = error if row.hq_status in WITH_LAST_ERROR else ""


def _store_edit_state(staged: StagedChannelRequest | None, *, row: StoreCustomer) -> str:
    """Where an edit of ``row`` stands (R11), as the status page says it."""
    if row.kind == "async":
        # Its account is not at the store yet (else it would show as a copy).
        return edit_state(staged, store_has_account=False, held_version=0)
    return edit_state(staged, store_has_account=True, held_version=row.record.hq_version)
