"""R16 reference data: what HQ sends each channel database (``reference_snapshot``), and
what a store validates against (R1) and takes its defaults from (R2), read from its own
channel database (``store_reference_data``).

The snapshot is a few queries whatever the number of customers: the legal entities the
channel database serves, their customer groups, the attributes, the affiliations, and
the stores of the channel database with their default customers (their addresses,
attribute values and affiliations).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError

from commerce.models import ChannelDatabase, Store
from customers.models import (
    Address,
    Affiliation,
    ChannelAffiliation,
    ChannelCustomerAttribute,
    ChannelCustomerGroup,
    ChannelStoreDefaults,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
)
from customers.services.validation import (
    AttributeSetup,
    CustomerDefaults,
    StoreReferenceData,
)

# Each kind of reference record: its channel model, its key fields, its value fields.
REFERENCE_KINDS = {
    "group": (ChannelCustomerGroup, ("legal_entity", "code"), ("name",)),
    "attribute": (ChannelCustomerAttribute, ("name",), ("type", "choices")),
    "affiliation": (ChannelAffiliation, ("name",), ("description",)),
    "store": (
        ChannelStoreDefaults,
        ("store_number",),
        (
            "legal_entity",
            "account",
            "type",
            "customer_group",
            "currency",
            "language",
            "title",
            "country",
            "attributes",
            "affiliations",
        ),
    ),
}

# A reference record: (kind, *key) -> its values (JSON-able, compared as they are).
Records = dict[tuple, dict]


@dataclass(frozen=True)
class ReferenceSnapshot:
    records: Records

    @property
    def checksum(self) -> str:
        """The version of the whole set: the SHA-256 of its canonical JSON."""
        text = json.dumps(
            sorted([list(key), values] for key, values in self.records.items()),
            sort_keys=True,
            ensure_ascii=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _default_customer_values(stores: list[Store]) -> dict[int, dict]:
    """Per default customer (pk): its country, attribute values and affiliations; three
    queries for every default customer at once."""
    customers = {store.default_customer_id: store.default_customer for store in stores}
    party_ids = {customer.party_id: pk for pk, customer in customers.items()}
    values: dict[int, dict] = {
        pk: {"country": "", "attributes": {}, "affiliations": []} for pk in customers
    }
    countries: dict[int, tuple] = {}
    for party_id, country, is_primary, pk in Address.objects.filter(
        party_id__in=list(party_ids)
    ).values_list("party_id", "country", "is_primary", "pk"):
        rank = (not is_primary, pk)  # the primary address, else the first
        if party_id not in countries or rank < countries[party_id][0]:
            countries[party_id] = (rank, country)
    for party_id, (_, country) in countries.items():
        values[party_ids[party_id]]["country"] = country
    for customer_id, name, value in CustomerAttributeValue.objects.filter(
        customer_id__in=list(customers)
    ).values_list("customer_id", "attribute__name", "value"):
        values[customer_id]["attributes"][name] = value
    for customer_id, name in (
        CustomerAffiliation.objects.filter(customer_id__in=list(customers))
        .order_by("affiliation__name")
        .values_list("customer_id", "affiliation__name")
    ):
        values[customer_id]["affiliations"].append(name)
    return values


def reference_snapshot(*, channel_database: ChannelDatabase) -> ReferenceSnapshot:
    """What ``channel_database`` must hold (R16): the customer groups of every legal
    entity it serves, every attribute and affiliation, and the default customer of each
    of its stores. A fixed number of queries."""
    stores = list(
        Store.objects.filter(channel_database=channel_database)
        .select_related(
            "legal_entity", "default_customer__party", "default_customer__customer_group"
        )
        .order_by("number")
    )
    served = sorted({store.legal_entity.code for store in stores})
    records: Records = {}
    for legal_entity, code, name in CustomerGroup.objects.filter(
        legal_entity__code__in=served
    ).values_list("legal_entity__code", "code", "name"):
        records[("group", legal_entity, code)] = {"name": name}
    if stores:
        for name, type_, choices in CustomerAttribute.objects.values_list(
            "name", "type", "choices"
        ):
            records[("attribute", name)] = {"type": type_, "choices": list(choices or [])}
        for name, description in Affiliation.objects.values_list("name", "description"):
            records[("affiliation", name)] = {"description": description}
    defaults = _default_customer_values(stores)
    for store in stores:
        customer = store.default_customer
        records[("store", store.number)] = {
            "legal_entity": store.legal_entity.code,
            "account": customer.account,
            "type": customer.party.type,
            "customer_group": customer.customer_group.code,
            "currency": customer.currency or store.legal_entity.currency,
            "language": customer.language,
            "title": customer.title,
            **defaults[customer.pk],
        }
    return ReferenceSnapshot(records=records)


def channel_reference_records(*, alias: str) -> Records:
    """What channel database ``alias`` holds now, in the snapshot's shape (a query per
    kind)."""
    records: Records = {}
    for kind, (model, keys, fields) in REFERENCE_KINDS.items():
        for row in model.objects.using(alias).values_list(*keys, *fields):
            records[(kind, *row[: len(keys)])] = dict(zip(fields, row[len(keys) :], strict=True))
    return records


def _store_refs(*, store: Store, records: Records) -> StoreReferenceData | None:
    row = records.get(("store", store.number))
    if row is None:
        return None
    legal_entity = store.legal_entity.code
    return StoreReferenceData(
        legal_entity=legal_entity,
        groups=frozenset(key[2] for key in records if key[0] == "group" and key[1] == legal_entity),
        attributes={
            key[1]: AttributeSetup(
                name=key[1], type=values["type"], choices=list(values["choices"] or [])
            )
            for key, values in records.items()
            if key[0] == "attribute"
        },
        affiliations=frozenset(key[1] for key in records if key[0] == "affiliation"),
        defaults=CustomerDefaults(
            type=row["type"],
            customer_group=row["customer_group"],
            currency=row["currency"],
            language=row["language"],
            title=row["title"],
            affiliations=tuple(row["affiliations"] or ()),
            country=row["country"],
        ),
    )


STORE_RELATIONS = ("legal_entity", "channel_database", "functionality_profile")


def store_loaded(store: Store) -> Store:
    """``store`` as HQ has it now (its profile and offline switch decide what the store
    does), with its legal entity, channel database and profile. When HQ cannot be
    reached, the store works from what it holds: ``store`` as given, if the caller
    loaded those (R1, R16)."""
    try:
        return Store.objects.select_related(*STORE_RELATIONS).get(pk=store.pk)
    except (OperationalError, InterfaceError):
        if all(Store._meta.get_field(name).is_cached(store) for name in STORE_RELATIONS):
            return store
        raise


def store_reference_data_or_hq(*, store: Store) -> StoreReferenceData:
    """The store's own reference data (R16); HQ's, until distribution has brought it."""
    return store_reference_data(store=store) or hq_store_reference_data(store=store)


def store_reference_data(*, store: Store) -> StoreReferenceData | None:
    """R16 at the store: the reference data and R2 defaults of ``store``, from its own
    channel database (no HQ query: ``store`` comes with its legal entity and channel
    database loaded). None until distribution has brought the store's reference data
    there."""
    return _store_refs(
        store=store, records=channel_reference_records(alias=store.channel_database.alias)
    )


def hq_store_reference_data(*, store: Store) -> StoreReferenceData:
    """The same, read from HQ's tables: what a store checks against before the first
    distribution has brought it its own copy (R16)."""
    records = reference_snapshot(channel_database=store.channel_database).records
    refs = _store_refs(store=store, records=records)
    assert refs is not None  # a store of the channel database is in its snapshot
    return refs
