"""The floor phase: the same rows the pipeline writes (staging, HQ master data, channel
copies, sessions, distribution records), bulk-inserted with the same ORM and batch
size, with no reads and no logic in the timed part."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.db import transaction

from commerce.db import HQ
from customers.models import (
    Address,
    Affiliation,
    ChannelCustomer,
    ChannelCustomerAddress,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    Party,
    StagedAsyncCustomer,
    address_values,
    location_id_for,
)
from customers.services.children import STAGED_CHILDREN, children_bulk_create, children_read
from devtools.benchmark.measure import BATCH, counting_queries, load_generate
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadPayload,
    DownloadSession,
    UploadSession,
)


def phase_floor(*, customers: int, stores: int) -> dict:
    """Bulk-insert what the pipeline writes; only the inserts are timed."""
    from commerce.models import ChannelDatabase, LegalEntity
    from customers.models import AsyncCustomer

    load_generate(customers=customers, stores=stores)
    legal_entity = LegalEntity.objects.get(code="LOAD")
    aliases = sorted(set(ChannelDatabase.objects.values_list("alias", flat=True)))
    timed = 0.0
    queries = 0
    number = 0
    for alias in aliases:
        last_pk = 0
        while True:
            rows = list(
                AsyncCustomer.objects.using(alias)
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .prefetch_related("addresses", "contacts", "attribute_values", "affiliations")[
                    :BATCH
                ]
            )
            if not rows:
                break
            last_pk = rows[-1].pk
            with counting_queries() as counter:
                started = time.perf_counter()
                _floor_insert(rows=rows, legal_entity=legal_entity, aliases=aliases, first=number)
                timed += time.perf_counter() - started
            queries += counter.count
            number += len(rows)
    return {"floor_seconds": round(timed, 3), "floor_queries": queries}


def _floor_insert(*, rows, legal_entity, aliases, first: int) -> None:
    group = CustomerGroup.objects.get(legal_entity=legal_entity, code="RETAIL")
    attributes = {a.name: a for a in CustomerAttribute.objects.all()}
    affiliation = Affiliation.objects.get(name="Employees")
    # Everything above is set-up the pipeline also reads once; the inserts follow.
    with transaction.atomic(using=HQ):
        _staging_insert(rows)
        batch = _master_insert(rows=rows, legal_entity=legal_entity, group=group, first=first)
        _master_children_insert(batch, attributes=attributes, affiliation=affiliation)
    payload = _payload_insert(batch)
    for alias in aliases:
        _channel_insert(batch, legal_entity=legal_entity, alias=alias, payload=payload)


def _staging_insert(rows) -> None:
    """HQ staging: an upload session, the staged async customers and their children."""
    session = UploadSession.objects.create(channel_database="FLOOR", status="acknowledged")
    staged = StagedAsyncCustomer.objects.bulk_create(
        [
            StagedAsyncCustomer(
                async_customer_id=r.async_customer_id,
                channel_database="FLOOR",
                store_number=r.store_number,
                upload_session=session,
                type=r.type,
                first_name=r.first_name,
                last_name=r.last_name,
                email=r.email,
                created_at_store=r.created_at,
            )
            for r in rows
        ],
        batch_size=BATCH,
    )
    children_bulk_create(
        side=STAGED_CHILDREN,
        families=[(s, children_read(r)) for r, s in zip(rows, staged, strict=True)],
        using=HQ,
        batch_size=BATCH,
    )


@dataclass(frozen=True)
class FloorBatch:
    """A batch of async customer rows and the parties and customer accounts the floor
    wrote for them, in the same order."""

    rows: list
    parties: list[Party]
    customers: list[Customer]


def _master_insert(*, rows, legal_entity, group, first: int) -> FloorBatch:
    """HQ master data: a party and a customer account per row."""
    parties = Party.objects.bulk_create(
        [
            Party(
                type=r.type,
                name=f"{r.first_name} {r.last_name}",
                first_name=r.first_name,
                last_name=r.last_name,
            )
            for r in rows
        ],
        batch_size=BATCH,
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(
                legal_entity=legal_entity,
                account=f"F{first + i:09d}",
                party=p,
                customer_group=group,
                currency="USD",
                language="en-us",
                email=r.email,
                async_customer_id=r.async_customer_id,
            )
            for i, (r, p) in enumerate(zip(rows, parties, strict=True))
        ],
        batch_size=BATCH,
    )
    return FloorBatch(rows=rows, parties=parties, customers=customers)


def _master_children_insert(batch: FloorBatch, *, attributes, affiliation) -> None:
    """The customers' addresses, contacts, attribute values and affiliations."""
    Address.objects.bulk_create(
        [
            Address(
                party=p,
                location_id=location_id_for(a.async_address_id),
                **address_values(a),
                async_address_id=a.async_address_id,
            )
            for r, p in zip(batch.rows, batch.parties, strict=True)
            for a in r.addresses.all()
        ],
        batch_size=BATCH,
    )
    ContactInfo.objects.bulk_create(
        [
            ContactInfo(party=p, type=c.type, value=c.value)
            for r, p in zip(batch.rows, batch.parties, strict=True)
            for c in r.contacts.all()
        ],
        batch_size=BATCH,
    )
    CustomerAttributeValue.objects.bulk_create(
        [
            CustomerAttributeValue(customer=c, attribute=attributes[v.name], value=v.value)
            for r, c in zip(batch.rows, batch.customers, strict=True)
            for v in r.attribute_values.all()
        ],
        batch_size=BATCH,
    )
    CustomerAffiliation.objects.bulk_create(
        [
            CustomerAffiliation(customer=c, affiliation=affiliation)
            for r, c in zip(batch.rows, batch.customers, strict=True)
            for _ in r.affiliations.all()
        ],
        batch_size=BATCH,
    )


def _payload_insert(batch: FloorBatch) -> DownloadPayload:
    """The batch's download payload, written once for every channel database."""
    entries = [
        {
            "account": c.account,
            "name": p.name,
            "async_customer_id": str(r.async_customer_id),
            "addresses": [
                {"async_address_id": str(a.async_address_id), "street": a.street}
                for a in r.addresses.all()
            ],
        }
        for r, c, p in zip(batch.rows, batch.customers, batch.parties, strict=True)
    ]
    text = json.dumps({"customers": entries, "ids": [c.pk for c in batch.customers]})
    return DownloadPayload.objects.create(
        key=f"floor-{batch.customers[0].pk}", text=text, checksum="", customers=len(entries)
    )


def _channel_insert(batch: FloorBatch, *, legal_entity, alias: str, payload) -> None:
    """One channel database's copies, its applied download session and the distribution
    records."""
    download = DownloadSession.objects.create(
        channel_database=alias, status="applied", payload=payload
    )
    with transaction.atomic(using=alias):
        copies = ChannelCustomer.objects.using(alias).bulk_create(
            [
                ChannelCustomer(
                    legal_entity=legal_entity.code,
                    account=c.account,
                    type=p.type,
                    name=p.name,
                    first_name=p.first_name,
                    last_name=p.last_name,
                    email=c.email,
                    customer_group="RETAIL",
                    currency="USD",
                    language="en-us",
                    async_customer_id=r.async_customer_id,
                    hq_version=1,
                )
                for r, c, p in zip(batch.rows, batch.customers, batch.parties, strict=True)
            ],
            batch_size=BATCH,
        )
        ChannelCustomerAddress.objects.using(alias).bulk_create(
            [
                ChannelCustomerAddress(
                    customer=copy,
                    location_id=location_id_for(a.async_address_id),
                    **address_values(a),
                )
                for r, copy in zip(batch.rows, copies, strict=True)
                for a in r.addresses.all()
            ],
            batch_size=BATCH,
        )
        AppliedDownloadSession.objects.using(alias).create(session_id=download.pk)
    CustomerDistribution.objects.bulk_create(
        [
            CustomerDistribution(
                channel_database=alias, customer=c, version=1, download_session=download
            )
            for c in batch.customers
        ],
        batch_size=BATCH,
    )
