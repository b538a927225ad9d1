"""What a store changes on a customer (R11), and the R5 rules such a change must keep.

One shape for every path a change takes: typed at a store, carried in a channel
request (``CustomerChanges.as_json`` / ``from_json``), loaded from an import file, or
applied at HQ. Reads only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from commerce.models import LegalEntity
from customers.models import ADDRESS_FIELDS
from customers.services.validation import (
    AddressInput,
    ReferenceData,
    _attribute_error,
    _email_is_valid,
    _quoted,
    address_input_errors,
)

# The customer fields a store may change; names and contact on the party and customer.
EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "customer_group",
    "language",
)
PARTY_FIELDS = ("first_name", "last_name", "organization_name")


class CustomerChangesError(ValueError):
    """A change that is not a change (unknown field, nothing to change)."""


@dataclass(frozen=True)
class CustomerChanges:
    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    affiliations: tuple[str, ...] = ()
    addresses: tuple[AddressInput, ...] = ()

    def __post_init__(self):
        unknown = sorted(set(self.fields) - set(EDITABLE_FIELDS))
        if unknown:
            raise CustomerChangesError(
                f"unknown field {', '.join(unknown)}; a store may change "
                + ", ".join(EDITABLE_FIELDS)
            )

    @property
    def is_empty(self) -> bool:
        return not (self.fields or self.attributes or self.affiliations or self.addresses)

    def with_address_guids(self) -> CustomerChanges:
        """The same change, every added address with its async GUID (made here if new)."""
        return CustomerChanges(
            fields=dict(self.fields),
            attributes=dict(self.attributes),
            affiliations=tuple(dict.fromkeys(self.affiliations)),
            addresses=tuple(
                a
                if a.async_address_id
                else AddressInput(
                    **{name: getattr(a, name) for name in ADDRESS_FIELDS},
                    async_address_id=uuid.uuid4(),
                )
                for a in self.addresses
            ),
        )

    def as_json(self) -> dict:
        return {
            "fields": dict(self.fields),
            "attributes": dict(self.attributes),
            "affiliations": list(self.affiliations),
            "addresses": [
                {
                    "async_address_id": str(a.async_address_id) if a.async_address_id else None,
                    **{name: getattr(a, name) for name in ADDRESS_FIELDS},
                }
                for a in self.addresses
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> CustomerChanges:
        return cls(
            fields=dict(data.get("fields") or {}),
            attributes=dict(data.get("attributes") or {}),
            affiliations=tuple(data.get("affiliations") or ()),
            addresses=tuple(
                AddressInput(
                    **{name: a.get(name) or "" for name in ADDRESS_FIELDS if name != "is_primary"},
                    is_primary=bool(a.get("is_primary")),
                    async_address_id=uuid.UUID(a["async_address_id"])
                    if a.get("async_address_id")
                    else None,
                )
                for a in data.get("addresses") or ()
            ),
        )


def customer_changes_errors(
    *,
    changes: CustomerChanges,
    legal_entity: LegalEntity,
    refs: ReferenceData,
    customer_type: str | None = None,
) -> list[str]:
    """R5 for a change: every rule it breaks, each naming the field and the value."""
    errors: list[str] = []
    for name, value in changes.fields.items():
        if not isinstance(value, str):
            errors.append(f"{name}: {_quoted(value)} is not text")
            continue
        if name in PARTY_FIELDS and not value.strip():
            needed = (
                customer_type is None
                or (customer_type == "person" and name != "organization_name")
                or (customer_type == "organization" and name == "organization_name")
            )
            if needed:
                errors.append(f"{name}: empty name {_quoted(value)}")
        elif name == "email" and value and not _email_is_valid(value):
            errors.append(f"email: malformed email {_quoted(value)}")
        elif name == "customer_group" and (legal_entity.pk, value) not in refs.groups:
            errors.append(
                f"customer_group: unknown customer group {_quoted(value)} "
                f"in legal entity {legal_entity.code}"
            )
    for name, value in changes.attributes.items():
        attribute = refs.attributes.get(name)
        if attribute is None:
            errors.append(f"attributes.{name}: unknown attribute {_quoted(name)}")
            continue
        problem = _attribute_error(attribute, value)
        if problem:
            errors.append(f"attributes.{name}: {_quoted(value)} {problem}")
    for name in changes.affiliations:
        if name not in refs.affiliations:
            errors.append(f"affiliations: unknown affiliation {_quoted(name)}")
    for index, address in enumerate(changes.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    return errors
