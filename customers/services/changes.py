"""What a store changes on a customer (R11).

One shape for every path a change takes: typed at a store, carried in a channel
request (``CustomerChanges.as_json`` / ``from_json``), loaded from an import file, or
applied at HQ. The R5 rules a change must keep are ``customer_changes_errors`` in
``validation`` (re-exported here), next to the customer's and the address's. Reads only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from customers.models import ADDRESS_FIELDS
from customers.services.validation import (
    EDITABLE_FIELDS,
    PARTY_FIELDS,
    AddressInput,
    customer_changes_errors,
)

__all__ = [
    "EDITABLE_FIELDS",
    "PARTY_FIELDS",
    "CustomerChanges",
    "CustomerChangesError",
    "customer_changes_errors",
]


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
