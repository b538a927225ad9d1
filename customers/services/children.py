"""One mapping for an async customer's children: addresses, contacts, attribute values
and affiliations.

The same children travel input -> channel (R1 async creation, import), channel ->
staging (upload, R3) and staging -> creation input (R4). Every copy goes through the
plain-values shape here, ``{relation: [{field: value}, ...]}``, so a new child field is
added in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from commerce.db.bulk import rows_insert
from commerce.models import Store
from customers.models import (
    ADDRESS_FIELDS,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
)
from customers.services.validation import (
    AddressInput,
    ContactInput,
    CustomerInput,
    customer_input_with_store_defaults,
)

BULK_BATCH = settings.CONVERSION_BATCH_SIZE

Children = dict[str, list[dict]]

# Related name on the parent -> the fields a child carries.
CHILD_FIELDS: dict[str, tuple[str, ...]] = {
    "addresses": ("async_address_id", *ADDRESS_FIELDS),
    "contacts": ("type", "value", "is_primary"),
    "attribute_values": ("name", "value"),
    "affiliations": ("name",),
}

# The header fields of an async customer: everything but its children and identity.
CUSTOMER_FIELDS = (
    "type",
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "customer_group",
    "currency",
    "language",
    "title",
)


@dataclass(frozen=True)
class ChildModels:
    """Where one side keeps the children: a model per relation and the parent's FK name."""

    parent_field: str
    models: Mapping[str, type[models.Model]]


CHANNEL_CHILDREN = ChildModels(
    parent_field="async_customer",
    models={
        "addresses": AsyncCustomerAddress,
        "contacts": AsyncCustomerContact,
        "attribute_values": AsyncCustomerAttributeValue,
        "affiliations": AsyncCustomerAffiliation,
    },
)

STAGED_CHILDREN = ChildModels(
    parent_field="staged_customer",
    models={
        "addresses": StagedAsyncCustomerAddress,
        "contacts": StagedAsyncCustomerContact,
        "attribute_values": StagedAsyncCustomerAttributeValue,
        "affiliations": StagedAsyncCustomerAffiliation,
    },
)

CHILD_RELATIONS = list(CHILD_FIELDS)


def children_load(parents: Sequence[models.Model], *, side: ChildModels, using: str) -> None:
    """Read the children of saved ``parents`` as plain values, one query per relation (no
    model instances, no per-parent querysets), and keep them on each parent for
    ``children_read``. Each relation in its model's default order, as a prefetch would."""
    by_parent: dict[int, Children] = {
        parent.pk: {relation: [] for relation in CHILD_FIELDS} for parent in parents
    }
    if by_parent:
        parent_id = f"{side.parent_field}_id"
        for relation, model in side.models.items():
            fields = CHILD_FIELDS[relation]
            rows = (
                model.objects.using(using)
                .filter(**{f"{parent_id}__in_values": list(by_parent)})
                .values_list(parent_id, *fields)
            )
            for owner, *values in rows:
                by_parent[owner][relation].append(dict(zip(fields, values, strict=True)))
    for parent in parents:
        parent.loaded_children = by_parent[parent.pk]


def children_read(parent: models.Model) -> Children:
    """The children of an async or staged customer: those ``children_load`` kept on it,
    else its related rows (prefetched ``CHILD_RELATIONS``, or read now)."""
    loaded = getattr(parent, "loaded_children", None)
    if loaded is not None:
        return loaded
    return {
        relation: [
            {name: getattr(child, name) for name in fields}
            for child in getattr(parent, relation).all()
        ]
        for relation, fields in CHILD_FIELDS.items()
    }


def input_children(data: CustomerInput) -> Children:
    """The children of a creation input; new async addresses get their GUID here, and
    a repeated affiliation is kept once."""
    return {
        "addresses": [
            {
                "async_address_id": address.async_address_id or uuid.uuid4(),
                **{name: getattr(address, name) for name in ADDRESS_FIELDS},
            }
            for address in data.addresses
        ],
        "contacts": [
            {"type": c.type, "value": c.value, "is_primary": c.is_primary} for c in data.contacts
        ],
        "attribute_values": [
            {"name": name, "value": value} for name, value in data.attributes.items()
        ],
        "affiliations": [{"name": name} for name in dict.fromkeys(data.affiliations)],
    }


def children_input_fields(children: Children) -> dict:
    """Children as the keyword arguments of ``CustomerInput``."""
    return {
        "addresses": tuple(AddressInput(**a) for a in children["addresses"]),
        "contacts": tuple(ContactInput(**c) for c in children["contacts"]),
        "attributes": {v["name"]: v["value"] for v in children["attribute_values"]},
        "affiliations": tuple(a["name"] for a in children["affiliations"]),
    }


def children_bulk_create(
    *,
    side: ChildModels,
    families: Iterable[tuple[models.Model, Children]],
    using: str,
    batch_size: int = BULK_BATCH,
) -> dict[str, int]:
    """Insert the children of saved parents on one side, one bulk INSERT per relation.
    Not idempotent by itself: callers create children only with a new parent."""
    rows: dict[str, list[models.Model]] = {relation: [] for relation in side.models}
    for parent, children in families:
        for relation, model in side.models.items():
            rows[relation] += [
                model(**{side.parent_field: parent}, **values)
                for values in children.get(relation, ())
            ]
    for relation, model in side.models.items():
        model.objects.using(using).bulk_create(rows[relation], batch_size=batch_size)
    return {relation: len(items) for relation, items in rows.items()}


def children_insert(
    *, side: ChildModels, families: Iterable[tuple[int, Children]], using: str
) -> dict[str, int]:
    """Insert the children of saved parents (by primary key) on one side with the bulk
    writer (``commerce.db.bulk``), one statement per relation. Not idempotent by itself:
    callers create children only with a new parent."""
    rows: dict[str, list[tuple]] = {relation: [] for relation in side.models}
    for parent_id, children in families:
        for relation in side.models:
            fields = CHILD_FIELDS[relation]
            rows[relation] += [
                (parent_id, *(values[name] for name in fields))
                for values in children.get(relation, ())
            ]
    parent_id = f"{side.parent_field}_id"
    for relation, model in side.models.items():
        rows_insert(
            model=model,
            columns=[parent_id, *CHILD_FIELDS[relation]],
            rows=rows[relation],
            using=using,
        )
    return {relation: len(items) for relation, items in rows.items()}


def staged_customer_input(*, staged: StagedAsyncCustomer, store: Store) -> CustomerInput:
    """The staged record (children prefetched) as creation input, with R2 defaults."""
    data = CustomerInput(
        **customer_values(staged),
        **children_input_fields(children_read(staged)),
        async_customer_id=staged.async_customer_id,
        async_origin=staged.channel_database,
    )
    return customer_input_with_store_defaults(store=store, data=data)


def customer_values(source, names: Sequence[str] = CUSTOMER_FIELDS) -> dict:
    """The customer header fields of an async customer, staged record or input."""
    return {name: getattr(source, name) for name in names}
