"""Channel database writes: async creation at a store (R1) and applying HQ customers
to a channel database (R1 real time, distribution 1010, R7).

Every function names its channel alias and writes only there; nothing here reads HQ.
A store's own writes are announced (``store_write_announce``) so that the jobs convert
them within seconds (Freshness); applying HQ customers is the jobs' own write and is not.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import partial
from operator import itemgetter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commerce.db import require_channel_alias
from commerce.db.bulk import rows_delete, rows_insert, rows_update_from, rows_upsert
from commerce.events import EventAction, EventKind, NewEvent, event_record, events_record
from commerce.models import ChannelSalesTransaction
from commerce.signals import store_data_written
from customers.models import (
    ADDRESS_FIELDS,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelCustomerAsyncLink,
)
from customers.services.children import (
    CHANNEL_CHILDREN,
    children_bulk_create,
    customer_values,
    input_children,
)
from customers.services.erasure_channel import channel_erased_scrub
from customers.services.merge_channel import channel_merged_replace
from customers.services.validation import CustomerInput

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


def store_write_announce(*, alias: str, sender=None) -> None:
    """Freshness: announce that a store wrote to channel database ``alias``
    (``commerce.signals.store_data_written``); the listeners act once the alias's
    transaction commits, so call it inside or after the write's transaction. Writes
    nothing itself; re-run safe (repeated writes coalesce into one conversion)."""
    store_data_written.send(sender=sender, alias=alias)


def async_customer_create(
    *, alias: str, store_number: str, data: CustomerInput, created_at=None
) -> AsyncCustomer:
    """R1 async path: the customer exists only in the channel database, "Pending sync".
    Creates a new GUID each call unless ``data`` carries one (then the unique GUID refuses
    a second row)."""
    require_channel_alias(alias)
    with transaction.atomic(using=alias):
        customer = AsyncCustomer.objects.using(alias).create(
            async_customer_id=data.async_customer_id or uuid.uuid4(),
            store_number=store_number,
            **customer_values(data),
            created_at=created_at or timezone.now(),
        )
        children_bulk_create(
            side=CHANNEL_CHILDREN, families=[(customer, input_children(data))], using=alias
        )
        event_record(
            using=alias,
            kind=EventKind.CUSTOMER,
            key=customer.async_customer_id,
            action=EventAction.CREATED,
            detail=f"at store {store_number}",
            at=customer.created_at,
        )
        store_write_announce(alias=alias, sender=AsyncCustomer)
    return customer


# A copy's fields taken straight from the payload, then those set here.
COPIED_FIELDS = [
    "type",
    "name",
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "customer_group",
    "currency",
    "language",
]
SET_HERE = ("async_customer_id", "hq_version")
CHANNEL_CUSTOMER_FIELDS = [*COPIED_FIELDS, *SET_HERE]
# Tuples of a payload's (or a payload address's) values in column order.
_copied = itemgetter(*COPIED_FIELDS)
_address_values = itemgetter(*ADDRESS_FIELDS)


def _own_guid(record: dict, key: str, channel_database: str) -> str | None:
    """A payload's async GUID, only where this channel database made it: the copy links
    its async record by that GUID, and a GUID from elsewhere must never link here."""
    origin = record.get("async_origin")
    return record.get(key) if not origin or origin == channel_database else None


def channel_customers_apply(
    *, alias: str, channel_database: str, payloads: Sequence[dict]
) -> dict[str, int]:
    """Write HQ customers (``customers.selectors.customer_payloads``) to a channel database.

    Upserts the store's copies and their addresses, links async customers and async
    addresses to their account numbers and location ids (only GUIDs this channel
    database made, R7), also async customers HQ linked to an existing account (R12,
    ``linked_async_ids``), and gives transactions that referenced an async customer its
    account number. Idempotent (applying the same payloads again writes the same rows).
    Runs in one channel transaction; callers apply a channel's payloads in order (1010
    runs one session at a time per channel).
    """
    require_channel_alias(alias)
    counts = {"customers": 0, "addresses": 0, "linked_customers": 0, "linked_addresses": 0}
    if not payloads:
        return counts
    now = timezone.now()
    guids = [_own_guid(p, "async_customer_id", channel_database) for p in payloads]
    # No savepoint inside a caller's transaction (1010's session apply): all or nothing.
    with transaction.atomic(using=alias, savepoint=False):
        copy_ids, address_guids = _copies_write(
            alias=alias, channel_database=channel_database, payloads=payloads, guids=guids
        )
        counts["customers"] = len(copy_ids)
        counts["addresses"] = len(address_guids)
        counts.update(
            _channel_link_async(
                alias=alias,
                copy_ids=copy_ids,
                linked_copy_ids=[pk for pk, guid in zip(copy_ids, guids, strict=True) if guid],
                addresses_linked=any(address_guids),
                now=now,
            )
        )
        changed = list(zip(copy_ids, payloads, strict=True))
        counts["linked_customers"] += _channel_link_reviewed(
            alias=alias, channel_database=channel_database, changed=changed, now=now
        )
        # R13: copies of accounts merged into these customers are replaced by them.
        replaced = channel_merged_replace(
            alias=alias, channel_database=channel_database, changed=changed
        )
        if replaced:
            counts["merged_copies_replaced"] = replaced
        # README, Erasure and access: an erased customer's async rows and requests.
        erased = channel_erased_scrub(
            alias=alias, channel_database=channel_database, payloads=payloads
        )
        if erased:
            counts["erased"] = erased
        if counts["linked_customers"] or counts["linked_addresses"]:
            _linked_events_record(
                alias=alias, channel_database=channel_database, payloads=payloads, now=now
            )
    return counts


def _copies_write(
    *, alias: str, channel_database: str, payloads: Sequence[dict], guids: list
) -> tuple[list[int], list]:
    """R7: the store's copies of ``payloads`` upserted and their addresses replaced;
    returns the copies' ids (in the payloads' order) and, per address written, its
    async GUID where this channel database made it (else None)."""
    # One upsert on (legal entity, account). Payloads never go backwards: a
    # channel's download sessions are applied one at a time and once each.
    copy_ids = rows_upsert(
        model=ChannelCustomer,
        columns=["legal_entity", "account", *CHANNEL_CUSTOMER_FIELDS],
        rows=[
            (
                p["legal_entity"],
                p["account"],
                *_copied(p),
                guid,
                p["version"],
            )
            for p, guid in zip(payloads, guids, strict=True)
        ],
        unique=["legal_entity", "account"],
        update=CHANNEL_CUSTOMER_FIELDS,
        return_ids=True,
        using=alias,
    )
    new_addresses = [
        (
            copy_id,
            a["location_id"],
            _own_guid(a, "async_address_id", channel_database),
            *_address_values(a),
        )
        for copy_id, payload in zip(copy_ids, payloads, strict=True)
        for a in payload["addresses"]
    ]
    # Replace the copies' addresses; a location id may also have moved between
    # customers, so free those too (one DELETE per column, each by its index).
    rows_delete(
        model=ChannelCustomerAddress,
        any_of={"customer_id": copy_ids, "location_id": [a[1] for a in new_addresses]},
        using=alias,
    )
    rows_insert(
        model=ChannelCustomerAddress,
        columns=["customer_id", "location_id", "async_address_id", *ADDRESS_FIELDS],
        rows=new_addresses,
        using=alias,
    )
    return copy_ids, [a[2] for a in new_addresses]


def _linked_events_record(*, alias: str, channel_database: str, payloads, now) -> None:
    """README "Event log": a "linked at the store" event for each async customer and
    async address this apply linked (those stamped ``synchronized_at=now``): two reads
    by GUID and one insert per batch."""
    customer_guids, address_guids = set(), set()
    for payload in payloads:
        own = _own_guid(payload, "async_customer_id", channel_database)
        customer_guids.update(
            uuid.UUID(str(g))
            for g in [own, *(payload.get("linked_async_ids") or {}).get(channel_database, ())]
            if g
        )
        address_guids.update(
            uuid.UUID(str(g))
            for a in payload["addresses"]
            if (g := _own_guid(a, "async_address_id", channel_database))
        )
    customers = AsyncCustomer.objects.using(alias).filter(
        async_customer_id__in_values=list(customer_guids), synchronized_at=now
    )
    addresses = AsyncAddress.objects.using(alias).filter(
        async_address_id__in_values=list(address_guids), synchronized_at=now
    )
    linked = partial(NewEvent, action=EventAction.LINKED, at=now)
    events = (
        [
            linked(
                kind=EventKind.CUSTOMER, key=guid, account=account, detail=f"to account {account}"
            )
            for guid, account in customers.values_list("async_customer_id", "account")
        ]
        if customer_guids
        else []
    )
    if address_guids:
        events += [
            linked(
                kind=EventKind.ADDRESS,
                key=guid,
                account=account,
                detail=f"to address {location_id} of account {account}",
            )
            for guid, account, location_id in addresses.values_list(
                "async_address_id", "customer_account", "location_id"
            )
        ]
    events_record(events, using=alias)


def _update_from_copies(
    *,
    alias: str,
    target,
    key: str,
    source,
    source_ids: Sequence[int],
    id_column: str,
    assignments: dict[str, str],
    null_column: str,
    now=None,
) -> int:
    """``target`` rows still without ``null_column`` take ``assignments`` from the
    ``source`` rows just written (``id_column`` in ``source_ids``) carrying their GUID
    ``key``: one UPDATE joined on the GUID (``commerce.db.bulk.rows_update_from``). ``now``
    also sets ``synchronized_at``."""
    return rows_update_from(
        model=target,
        source=source,
        key=key,
        assignments=assignments,
        values=None if now is None else {"synchronized_at": now},
        where_null=null_column,
        source_any_of=(id_column, source_ids),
        using=alias,
    )


def _channel_link_reviewed(
    *, alias: str, channel_database: str, changed: Sequence[tuple[int, dict]], now
) -> int:
    """R12: the async customers of this channel database that HQ linked to an existing
    account (a reviewed possible duplicate) get its account number, and so do their
    transactions. The links are kept on the copy (``ChannelCustomerAsyncLink``) and
    joined in two set-based UPDATEs, like the copies' own GUIDs. A payload without
    links (older sessions have none) writes nothing."""
    links = [
        ChannelCustomerAsyncLink(
            customer_id=copy_id, async_customer_id=uuid.UUID(guid), account=payload["account"]
        )
        for copy_id, payload in changed
        for guid in (payload.get("linked_async_ids") or {}).get(channel_database, ())
    ]
    if not links:
        return 0
    rows = ChannelCustomerAsyncLink.objects.using(alias)
    # HQ never unlinks: a re-applied payload writes the same rows again.
    rows.filter(async_customer_id__in=[link.async_customer_id for link in links]).delete()
    rows.bulk_create(links, batch_size=BULK_BATCH)
    return _async_customers_link(
        alias=alias,
        source=ChannelCustomerAsyncLink,
        source_ids=[link.pk for link in links],
        now=now,
    )


def _async_customers_link(*, alias: str, source, source_ids: Sequence[int], now) -> int:
    """Give async customers, and the transactions that referenced them, the account of
    the ``source`` rows (copies, or R12 links) carrying their GUID; returns how many
    async customers were linked."""
    customers, _transactions = (
        _update_from_copies(
            alias=alias,
            target=target,
            key="async_customer_id",
            source=source,
            source_ids=source_ids,
            id_column="id",
            assignments={column: "account"},
            null_column=column,
            now=stamp,
        )
        for target, column, stamp in (
            (AsyncCustomer, "account", now),
            (ChannelSalesTransaction, "customer_account", None),
        )
    )
    return customers


def _channel_link_async(
    *,
    alias: str,
    copy_ids: Sequence[int],
    linked_copy_ids: Sequence[int],
    addresses_linked: bool,
    now,
) -> dict[str, int]:
    """Link async customers, their transactions and async addresses to the copies just
    written (``copy_ids``; those carrying an own async GUID: ``linked_copy_ids``; any of
    their addresses carrying one: ``addresses_linked``): up to four set-based UPDATEs
    joined on the GUIDs (no per-row round trips), none where no GUID of this channel
    database came (the other stores' customers, most of a chain's)."""
    linked_customers = linked_addresses = 0
    if linked_copy_ids:
        linked_customers = _async_customers_link(
            alias=alias, source=ChannelCustomer, source_ids=linked_copy_ids, now=now
        )
    if not addresses_linked:
        return {"linked_customers": linked_customers, "linked_addresses": 0}
    all_ids = list(copy_ids)
    for target, now_or_none in ((AsyncCustomerAddress, None), (AsyncAddress, now)):
        linked_addresses += _update_from_copies(
            alias=alias,
            target=target,
            key="async_address_id",
            source=ChannelCustomerAddress,
            source_ids=all_ids,
            id_column="customer_id",
            assignments={"location_id": "location_id"},
            null_column="location_id",
            now=now_or_none,
        )
    return {"linked_customers": linked_customers, "linked_addresses": linked_addresses}
