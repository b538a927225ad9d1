"""Pass 2 of an import, channel records: async customers (with their children, through
the one mapping of ``customers.services.children``), async addresses and sales
transactions, keyed by their id; an id already in the target channel database is
skipped and reported.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import models

from commerce.events import EventAction, EventKind, NewEvent, events_record
from commerce.models import ChannelSalesLine, ChannelSalesTransaction
from customers.models import AsyncAddress, AsyncCustomer, AsyncCustomerAddress
from customers.services.children import (
    CHANNEL_CHILDREN,
    CHILD_FIELDS,
    CUSTOMER_FIELDS,
    Children,
    children_bulk_create,
)

from .queries import rows
from .report import ImportReport
from .schema import Rec

# Rows per INSERT or UPDATE (a batch of records may hold more rows than records).
BULK_BATCH = 1000


def existing_values(model: type[models.Model], alias: str, lookup: str, values: Iterable) -> set:
    return {value for (value,) in rows(model.objects.using(alias), lookup, values, lookup)}


def existing_address_ids(alias: str, ids: set) -> set:
    return existing_values(AsyncCustomerAddress, alias, "async_address_id", ids) | existing_values(
        AsyncAddress, alias, "async_address_id", ids
    )


def _child(relation: str, rec: Rec) -> dict[str, Any]:
    """One child (or an async address) in the shape of ``CHILD_FIELDS``, from its
    import record: the file says ``async_id`` and ``primary``."""
    values = {}
    for name in CHILD_FIELDS[relation]:
        if name == "async_address_id":
            values[name] = rec["async_id"]
        elif name == "is_primary":
            values[name] = rec.get("primary", False)
        elif name in rec.values:
            values[name] = rec[name]
    return values


def _children(rec: Rec, existing_addresses: set, report: ImportReport) -> Children:
    addresses = []
    for address in rec.get("addresses", []):
        if address["async_id"] in existing_addresses:
            report.skip("async_customer_addresses", address["async_id"])
        else:
            addresses.append(_child("addresses", address))
    return {
        "addresses": addresses,
        "contacts": [_child("contacts", contact) for contact in rec.get("contacts", [])],
        "attribute_values": [
            {"name": name, "value": value} for name, value in rec.get("attributes", {}).items()
        ],
        "affiliations": [{"name": name} for name in rec.get("affiliations", [])],
    }


def write_async_customers(
    alias: str, recs: list[tuple[str, Rec]], report: ImportReport, now: dt.datetime
) -> None:
    existing = existing_values(
        AsyncCustomer, alias, "async_customer_id", {r["async_id"] for _, r in recs}
    )
    address_ids = {a["async_id"] for _, r in recs for a in r.get("addresses", [])}
    existing_addresses = existing_address_ids(alias, address_ids)
    families = []
    for store, rec in recs:
        if rec["async_id"] in existing:
            report.skip("async_customers", rec["async_id"])
            continue
        customer = AsyncCustomer(
            async_customer_id=rec["async_id"],
            store_number=store,
            created_at=rec.get("created_at", now),
            **rec.present(*CUSTOMER_FIELDS),
        )
        families.append((customer, _children(rec, existing_addresses, report)))
    AsyncCustomer.objects.using(alias).bulk_create([c for c, _ in families], batch_size=BULK_BATCH)
    created = children_bulk_create(
        side=CHANNEL_CHILDREN, families=families, using=alias, batch_size=BULK_BATCH
    )
    _created_events_record(alias, EventKind.CUSTOMER, [c for c, _ in families])
    report.section("async_customers").created += len(families)
    report.section("async_customer_addresses").created += created["addresses"]


def write_async_addresses(
    alias: str, recs: list[tuple[str, Rec]], report: ImportReport, now: dt.datetime
) -> None:
    existing = existing_address_ids(alias, {rec["async_id"] for _, rec in recs})
    new = []
    for store, rec in recs:
        if rec["async_id"] in existing:
            report.skip("async_addresses", rec["async_id"])
            continue
        new.append(
            AsyncAddress(
                store_number=store,
                customer_account=rec["customer"],
                created_at=rec.get("created_at", now),
                **_child("addresses", rec),
            )
        )
    AsyncAddress.objects.using(alias).bulk_create(new, batch_size=BULK_BATCH)
    _created_events_record(alias, EventKind.ADDRESS, new)
    report.section("async_addresses").created += len(new)


def _created_events_record(alias: str, kind: str, rows: list) -> None:
    """README "Event log": "created at the store" for each async record the file
    loaded, in the store's channel database, one insert per batch."""
    events_record(
        (
            NewEvent(
                kind=kind,
                key=row.async_address_id if kind == EventKind.ADDRESS else row.async_customer_id,
                account=getattr(row, "customer_account", "") or "",
                action=EventAction.CREATED,
                detail=f"at store {row.store_number}, loaded from an import file",
                at=row.created_at,
            )
            for row in rows
        ),
        using=alias,
    )


def write_transactions(alias: str, recs: list[tuple[str, Rec]], report: ImportReport) -> None:
    # A transaction id is unique within a store: one already there for the same store
    # is skipped; the same id at another store is another sale.
    existing = set(
        rows(
            ChannelSalesTransaction.objects.using(alias),
            "transaction_id",
            {rec["id"] for _, rec in recs},
            "store_number",
            "transaction_id",
        )
    )
    new = []
    for store, rec in recs:
        if (store, rec["id"]) in existing:
            report.skip("transactions", rec["id"])
            continue
        txn = ChannelSalesTransaction(
            transaction_id=rec["id"],
            store_number=store,
            type=rec["type"],
            business_date=rec["business_date"],
            customer_account=rec.get("customer") or None,
            async_customer_id=rec.get("async_customer"),
            delivery_address=rec.get("delivery_address", ""),
        )
        new.append((txn, rec))
    ChannelSalesTransaction.objects.using(alias).bulk_create(
        [txn for txn, _ in new], batch_size=BULK_BATCH
    )
    lines = [
        ChannelSalesLine(
            transaction_id=txn.pk,
            line_number=number,
            item=line["item"],
            quantity=line["quantity"],
            unit_price=line["unit_price"],
        )
        for txn, rec in new
        for number, line in enumerate(rec["lines"], start=1)
    ]
    ChannelSalesLine.objects.using(alias).bulk_create(lines, batch_size=BULK_BATCH)
    report.section("transactions").created += len(new)
