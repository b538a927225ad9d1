"""Customer reads: querysets with their joins applied, payloads, status rows.

Everything here streams in chunks and issues a fixed number of queries per chunk.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence

from django.db.models import F, FilteredRelation, Prefetch, Q, QuerySet

from commerce.db import ChannelDatabaseUnreachable, channel_aliases, channel_database_errors
from commerce.models import ChannelDatabase, LegalEntity
from commerce.selectors import channel_aliases_for_store
from customers.models import (
    Address,
    AsyncAddress,
    AsyncCustomer,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
)

CHUNK = 1000


class AsyncStatus:
    PENDING_UPLOAD = "pending_upload"
    UPLOADED = "uploaded"
    FAILED = "failed"
    CREATED = "created"
    SYNCHRONIZED = "synchronized"
    ALL = [PENDING_UPLOAD, UPLOADED, FAILED, CREATED, SYNCHRONIZED]


STAGING_TO_STATUS = {
    StagingStatus.PENDING: AsyncStatus.UPLOADED,
    StagingStatus.FAILED: AsyncStatus.FAILED,
    StagingStatus.COMPLETED: AsyncStatus.CREATED,
}


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


def _address_payload(address: Address) -> dict:
    return {
        "location_id": address.location_id,
        "purpose": address.purpose,
        "street": address.street,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "is_primary": address.is_primary,
        "async_address_id": str(address.async_address_id) if address.async_address_id else None,
        "async_origin": address.async_origin,
    }


def customer_payload(customer: Customer) -> dict:
    """What a channel database receives for one HQ customer (R1 real time and 1010)."""
    party = customer.party
    return {
        "legal_entity": customer.legal_entity.code,
        "account": customer.account,
        "version": customer.version,
        "type": party.type,
        "name": party.name,
        "first_name": party.first_name,
        "last_name": party.last_name,
        "organization_name": party.organization_name,
        "email": customer.email,
        "phone": customer.phone,
        "customer_group": customer.customer_group.code,
        "currency": customer.currency,
        "language": customer.language,
        "async_customer_id": str(customer.async_customer_id)
        if customer.async_customer_id
        else None,
        "async_origin": customer.async_origin,
        "addresses": [_address_payload(a) for a in party.addresses.all()],
    }


def with_payload_relations(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """What ``customer_payload`` reads, joined or prefetched (no per-customer queries)."""
    return queryset.select_related("legal_entity", "party", "customer_group").prefetch_related(
        "party__addresses"
    )


def customers_to_distribute(*, channel_database: ChannelDatabase) -> QuerySet[Customer]:
    """HQ customers of the legal entities a channel database serves that it does not
    have in their current version (distribution 1010, R7)."""
    legal_entities = LegalEntity.objects.filter(
        stores__channel_database=channel_database
    ).distinct()
    return (
        Customer.objects.filter(legal_entity__in=legal_entities)
        .annotate(
            sent=FilteredRelation(
                "distributions",
                condition=Q(distributions__channel_database=channel_database.name),
            )
        )
        .filter(Q(sent__isnull=True) | Q(sent__version__lt=F("version")))
        .order_by("pk")
    )


def customer_payloads(*, customer_ids: Sequence[int]) -> list[dict]:
    payloads = []
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        queryset = with_payload_relations(Customer.objects.filter(pk__in=chunk))
        payloads.extend(customer_payload(c) for c in queryset)
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


# --- Async customer status (SPEC section 5) --------------------------------------


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
    exactly the columns of SPEC section 5, which the status command prints.

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
        "last_error": (staged.last_error if staged and state == AsyncStatus.FAILED else "") or None,
    }


def _add_details(item: dict, *, row, staged) -> None:
    if item["status"] == AsyncStatus.SYNCHRONIZED:
        operation_at = row.synchronized_at or (staged.processed_at if staged else None)
    elif item["status"] == AsyncStatus.PENDING_UPLOAD:
        operation_at = row.created_at
    else:  # uploaded, failed, created: HQ staging knows when
        operation_at = staged.processed_at or staged.staged_at
    if item["kind"] == "customer":
        name = row.name
    else:
        name = f"{row.street}, {row.city}"
    item.update(
        name=name,
        staged_id=staged.pk if staged else None,
        created_at=row.created_at,
        operation_at=operation_at or row.created_at,
    )


ON_THEIR_WAY = [AsyncStatus.PENDING_UPLOAD, AsyncStatus.UPLOADED, AsyncStatus.CREATED]


def async_status_summary(rows: Iterable[dict]) -> list[dict]:
    """Per store (SPEC section 9 dashboard): the count of each status and the store
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
