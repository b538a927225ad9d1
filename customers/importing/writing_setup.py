"""Pass 2 of an import, HQ setup records: legal entities and their number sequences,
customer groups, attributes, affiliations, functionality profiles, channel databases,
customers (with their addresses and match keys, R12) and stores, each upserted by its
key, a batch in a few queries.
"""

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from operator import attrgetter
from typing import Any

from django.db import models

from commerce.models import (
    ChannelDatabase,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers.models import (
    Address,
    Affiliation,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    Party,
    display_name,
)
from customers.services.changes import EDITABLE_FIELDS
from customers.services.duplicates import customer_match_keys_refresh

from .queries import chunks, rows
from .report import ImportReport, SectionCounts
from .schema import Rec

# Rows per INSERT or UPDATE (a batch of records may hold more rows than records).
BULK_BATCH = 1000


def _apply(obj: models.Model, values: dict[str, Any]) -> list[str]:
    """Sets ``values`` on ``obj``; returns the names that changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _upsert(
    *,
    model: type[models.Model],
    rows: dict[Hashable, dict[str, Any]],
    lookup: str,
    counts: SectionCounts,
    key: Callable[[Any], Hashable] | None = None,
) -> dict[Hashable, Any]:
    """Creates or updates HQ rows by key (``lookup`` narrows the read; the key is the
    ``lookup`` field's value unless ``key`` says otherwise); returns key -> row."""
    key = key or attrgetter(lookup)
    found: dict[Hashable, Any] = {}
    for chunk in chunks(sorted({values[lookup] for values in rows.values()})):
        for obj in model.objects.filter(**{f"{lookup}__in": chunk}):
            if key(obj) in rows:
                found[key(obj)] = obj
    new, changed, changed_fields = [], [], set()
    for row_key, values in rows.items():
        obj = found.get(row_key)
        if obj is None:
            found[row_key] = obj = model(**values)
            new.append(obj)
        elif diff := _apply(obj, values):
            changed.append(obj)
            changed_fields.update(diff)
        else:
            counts.unchanged += 1
    model.objects.bulk_create(new, batch_size=BULK_BATCH)
    if changed:
        model.objects.bulk_update(changed, sorted(changed_fields), batch_size=BULK_BATCH)
    counts.created += len(new)
    counts.updated += len(changed)
    return found


def _ids(model: type[models.Model], lookup: str, values: Iterable) -> dict[Any, int]:
    return {value: pk for value, pk in rows(model.objects, lookup, values, lookup, "pk")}


def _write_legal_entities(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = _upsert(
        model=LegalEntity,
        rows={
            rec["code"]: rec.present("code", "name", "currency", "duplicate_policy") for rec in recs
        },
        lookup="code",
        counts=report.section("legal_entities"),
    )
    # The customer number sequence: prefix and digits follow the file; next_number is
    # never lowered (accounts may already have been taken from it).
    sequences = {}
    for rec in recs:
        values = {"legal_entity_id": entities[rec["code"]].pk}
        if "customer_account_prefix" in rec.values:
            values["prefix"] = rec["customer_account_prefix"]
        if "customer_account_digits" in rec.values:
            values["digits"] = rec["customer_account_digits"]
        sequences[values["legal_entity_id"]] = values
    _upsert(
        model=NumberSequence,
        rows=sequences,
        lookup="legal_entity_id",
        counts=report.section("number_sequences"),
    )


def _write_customer_groups(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = _ids(LegalEntity, "code", {rec["legal_entity"] for rec in recs})
    groups = {}
    for rec in recs:
        values = {"legal_entity_id": entities[rec["legal_entity"]], **rec.present("code", "name")}
        groups[(values["legal_entity_id"], rec["code"])] = values
    _upsert(
        model=CustomerGroup,
        rows=groups,
        lookup="code",
        key=lambda obj: (obj.legal_entity_id, obj.code),
        counts=report.section("customer_groups"),
    )


def _by_key(section: str, model: type[models.Model], key: str, fields: tuple[str, ...]):
    def write(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
        _upsert(
            model=model,
            rows={rec[key]: rec.present(key, *fields) for rec in recs},
            lookup=key,
            counts=report.section(section),
        )

    return write


def _customers_read(recs: list[Rec]) -> tuple[dict, dict, dict, dict[tuple, Customer]]:
    """What a batch of customers refers to and finds at HQ: legal entity code -> (pk,
    currency), (legal entity, group code) -> pk, the records by (legal entity, account)
    and the customers already there by the same key."""
    entities = {
        code: (pk, currency)
        for code, pk, currency in rows(
            LegalEntity.objects,
            "code",
            {rec["legal_entity"] for rec in recs},
            "code",
            "pk",
            "currency",
        )
    }
    groups = {
        (le_id, code): pk
        for le_id, code, pk in rows(
            CustomerGroup.objects,
            "code",
            {rec["customer_group"] for rec in recs},
            "legal_entity_id",
            "code",
            "pk",
        )
    }
    wanted = {(entities[rec["legal_entity"]][0], rec["account"]): rec for rec in recs}
    existing: dict[tuple, Customer] = {}
    for chunk in chunks(sorted({rec["account"] for rec in recs})):
        for customer in Customer.objects.filter(account__in=chunk).select_related("party"):
            if (customer.legal_entity_id, customer.account) in wanted:
                existing[(customer.legal_entity_id, customer.account)] = customer
    return entities, groups, wanted, existing


def _write_customers(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities, groups, wanted, existing = _customers_read(recs)

    counts = report.section("customers")
    new_parties, new_customers = [], []
    changed_parties, changed_customers = [], []
    party_fields, customer_fields = set(), set()
    customers: dict[tuple, Customer] = {}
    for key, rec in wanted.items():
        le_id, account = key
        party_values = rec.present("type", "first_name", "last_name", "organization_name")
        customer_values = {
            "customer_group_id": groups[(le_id, rec["customer_group"])],
            **rec.present("currency", "language", "email", "phone", "title"),
        }
        customer = existing.get(key)
        if customer is None:
            party = Party(**party_values)
            party.name = _party_name(party)
            customer = Customer(legal_entity_id=le_id, account=account, **customer_values)
            if "currency" not in rec.values:
                customer.currency = entities[rec["legal_entity"]][1]
            new_parties.append(party)
            new_customers.append(customer)
        else:
            party_diff = _apply(customer.party, party_values)
            party_diff += _apply(customer.party, {"name": _party_name(customer.party)})
            customer_diff = _apply(customer, customer_values)
            if party_diff:
                changed_parties.append(customer.party)
                party_fields.update(party_diff)
            if party_diff or customer_diff:
                # A new version is what makes distribution (1010) send the change.
                customer.version += 1
                customer.modified_at = now
                # R11: a store's edit made before this import keeps the imported values.
                changed = {
                    "customer_group" if name == "customer_group_id" else name
                    for name in (*party_diff, *customer_diff)
                } & set(EDITABLE_FIELDS)
                customer.field_changed_at = {
                    **(customer.field_changed_at or {}),
                    **dict.fromkeys(changed, now.isoformat()),
                }
                customer_fields.update(
                    [*customer_diff, "version", "modified_at", "field_changed_at"]
                )
                changed_customers.append(customer)
            else:
                counts.unchanged += 1
        customers[key] = customer

    Party.objects.bulk_create(new_parties, batch_size=BULK_BATCH)
    for party, customer in zip(new_parties, new_customers, strict=True):
        customer.party_id = party.pk
    Customer.objects.bulk_create(new_customers, batch_size=BULK_BATCH)
    if changed_parties:
        Party.objects.bulk_update(changed_parties, sorted(party_fields), batch_size=BULK_BATCH)
    if changed_customers:
        Customer.objects.bulk_update(
            changed_customers, sorted(customer_fields), batch_size=BULK_BATCH
        )
    counts.created += len(new_customers)
    counts.updated += len(changed_customers)
    _write_customer_addresses(wanted, customers, report)
    _write_customer_references(wanted, customers)
    # R12: email, phone, names and the primary address are the customers' match keys.
    customer_match_keys_refresh(customer_ids=[customer.pk for customer in customers.values()])


def _write_customer_references(wanted: dict[tuple, Rec], customers: dict[tuple, Customer]) -> None:
    """R2: the attribute values and affiliations a customer record gives become the
    customer's (exactly those: an attribute or affiliation it leaves out is removed);
    a record without them keeps the customer's. A few queries per batch."""
    given = {customers[key].pk: rec for key, rec in wanted.items() if rec.given("attributes")}
    if given:
        _write_customer_attributes(given)
    given = {customers[key].pk: rec for key, rec in wanted.items() if rec.given("affiliations")}
    if given:
        _write_customer_affiliations(given)


def _ids_by_name(model, given: dict[int, Rec], key: str) -> dict[str, int]:
    """The ids of the ``model`` rows (attributes, affiliations) the records' ``key``
    names, by name: one query per chunk of names."""
    names = {name for rec in given.values() for name in rec[key]}
    return dict(rows(model.objects, "name", names, "name", "pk"))


def _write_customer_attributes(given: dict[int, Rec]) -> None:
    """R2: the attribute values of the records in ``given`` (by customer id) become
    exactly their customers' (changed, added, the others removed)."""
    attributes = _ids_by_name(CustomerAttribute, given, "attributes")
    current = {
        (customer_id, attribute_id): (pk, value)
        for pk, customer_id, attribute_id, value in rows(
            CustomerAttributeValue.objects,
            "customer_id",
            given,
            "pk",
            "customer_id",
            "attribute_id",
            "value",
        )
    }
    target = {
        (customer_id, attributes[name]): value
        for customer_id, rec in given.items()
        for name, value in rec["attributes"].items()
    }
    stale = [pk for key, (pk, value) in current.items() if key not in target]
    changed = [
        CustomerAttributeValue(pk=current[key][0], value=value)
        for key, value in target.items()
        if key in current and current[key][1] != value
    ]
    for chunk in chunks(stale):
        CustomerAttributeValue.objects.filter(pk__in=chunk).delete()
    CustomerAttributeValue.objects.bulk_update(changed, ["value"], batch_size=BULK_BATCH)
    CustomerAttributeValue.objects.bulk_create(
        [
            CustomerAttributeValue(customer_id=c, attribute_id=a, value=value)
            for (c, a), value in target.items()
            if (c, a) not in current
        ],
        batch_size=BULK_BATCH,
    )


def _write_customer_affiliations(given: dict[int, Rec]) -> None:
    """R2: the affiliations of the records in ``given`` (by customer id) become exactly
    their customers' (added, the others removed)."""
    affiliations = _ids_by_name(Affiliation, given, "affiliations")
    current = {
        (customer_id, affiliation_id): pk
        for pk, customer_id, affiliation_id in rows(
            CustomerAffiliation.objects,
            "customer_id",
            given,
            "pk",
            "customer_id",
            "affiliation_id",
        )
    }
    target = {
        (customer_id, affiliations[name])
        for customer_id, rec in given.items()
        for name in rec["affiliations"]
    }
    for chunk in chunks([pk for key, pk in current.items() if key not in target]):
        CustomerAffiliation.objects.filter(pk__in=chunk).delete()
    CustomerAffiliation.objects.bulk_create(
        [
            CustomerAffiliation(customer_id=c, affiliation_id=a)
            for c, a in sorted(target - set(current))
        ],
        batch_size=BULK_BATCH,
    )


def _party_name(party: Party) -> str:
    return display_name(
        type=party.type,
        first_name=party.first_name,
        last_name=party.last_name,
        organization_name=party.organization_name,
    )


def _write_customer_addresses(
    wanted: dict[tuple, Rec], customers: dict[tuple, Customer], report: ImportReport
) -> None:
    addresses, primary_of_party = {}, {}
    for key, rec in wanted.items():
        party_id = customers[key].party_id
        for address in rec.get("addresses", []):
            values = {
                "party_id": party_id,
                "location_id": address["location_id"],
                **address.present("purpose", "street", "city", "state", "zip", "country"),
            }
            if "primary" in address.values:
                values["is_primary"] = address["primary"]
                if address["primary"]:
                    primary_of_party[party_id] = address["location_id"]
            addresses[address["location_id"]] = values
    if not addresses:
        return
    # One primary address per party (a constraint): demote the old primary first.
    demote = [
        pk
        for pk, party_id, location_id in rows(
            Address.objects.filter(is_primary=True),
            "party_id",
            primary_of_party,
            "pk",
            "party_id",
            "location_id",
        )
        if location_id != primary_of_party[party_id]
    ]
    for chunk in chunks(demote):
        Address.objects.filter(pk__in=chunk).update(is_primary=False)
    _upsert(
        model=Address,
        rows=addresses,
        lookup="location_id",
        counts=report.section("customer_addresses"),
    )


def _write_stores(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = _ids(LegalEntity, "code", {rec["legal_entity"] for rec in recs})
    databases = _ids(ChannelDatabase, "name", {rec["channel_database"] for rec in recs})
    profiles = _ids(FunctionalityProfile, "code", {rec["functionality_profile"] for rec in recs})
    customers = {
        (le_id, account): pk
        for le_id, account, pk in rows(
            Customer.objects,
            "account",
            {rec["default_customer"] for rec in recs},
            "legal_entity_id",
            "account",
            "pk",
        )
    }
    stores = {}
    for rec in recs:
        le_id = entities[rec["legal_entity"]]
        stores[rec["number"]] = {
            **rec.present("number", "name", "offline"),
            "legal_entity_id": le_id,
            "channel_database_id": databases[rec["channel_database"]],
            "functionality_profile_id": profiles[rec["functionality_profile"]],
            "default_customer_id": customers[(le_id, rec["default_customer"])],
        }
    _upsert(
        model=Store,
        rows=stores,
        lookup="number",
        counts=report.section("stores"),
    )


SETUP_WRITERS: dict[str, Callable[[list[Rec], ImportReport, dt.datetime], None]] = {
    "legal_entities": _write_legal_entities,
    "customer_groups": _write_customer_groups,
    "customer_attributes": _by_key(
        "customer_attributes", CustomerAttribute, "name", ("type", "choices")
    ),
    "affiliations": _by_key("affiliations", Affiliation, "name", ("description",)),
    "functionality_profiles": _by_key(
        "functionality_profiles",
        FunctionalityProfile,
        "code",
        ("name", "create_customer_in_async_mode"),
    ),
    "channel_databases": _by_key("channel_databases", ChannelDatabase, "name", ("alias",)),
    "customers": _write_customers,
    "stores": _write_stores,
}
