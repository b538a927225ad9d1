"""What a store changes on a customer (R11).

One shape for every path a change takes: typed at a store, carried in a channel
request (``CustomerChanges.as_json`` / ``from_json``), loaded from an import file, or
applied at HQ. The R5 rules a change must keep are ``customer_changes_errors`` in
``validation`` (re-exported here), next to the customer's and the address's. Reads only.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from customers.models import ADDRESS_FIELDS
from customers.services.validation import (
    EDITABLE_FIELDS,
    PARTY_FIELDS,
    AddressChange,
    AddressInput,
    ContactInput,
    ContactLocator,
    customer_changes_errors,
)
from customers.services.validation.values import quoted

__all__ = [
    "EDITABLE_FIELDS",
    "PARTY_FIELDS",
    "AddressChange",
    "ContactInput",
    "ContactLocator",
    "CustomerChanges",
    "CustomerChangesError",
    "customer_changes_errors",
]


def attribute_value_typed(text: str) -> Any:
    """An attribute value a store typed: true and false are a yes/no attribute's values,
    anything else is text (HQ reads numbers, dates and choices from text)."""
    return {"true": True, "false": False}.get(text.strip().lower(), text)


class CustomerChangesError(ValueError):
    """A change that is not a change (unknown field, nothing to change)."""


@dataclass(frozen=True)
class CustomerChanges:
    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    affiliations: tuple[str, ...] = ()
    addresses: tuple[AddressInput, ...] = ()
    # R11 complete: affiliations removed; existing addresses changed or retired (by
    # location id or async address GUID); contact info added or changed (by type and
    # value) and removed. An attribute set to None is cleared.
    affiliations_removed: tuple[str, ...] = ()
    address_changes: tuple[AddressChange, ...] = ()
    addresses_retired: tuple[str, ...] = ()
    contacts: tuple[ContactInput, ...] = ()
    contacts_removed: tuple[ContactLocator, ...] = ()

    def __post_init__(self):
        unknown = sorted(set(self.fields) - set(EDITABLE_FIELDS))
        if unknown:
            raise CustomerChangesError(
                f"unknown field {', '.join(unknown)}; a store may change "
                + ", ".join(EDITABLE_FIELDS)
            )

    @property
    def is_empty(self) -> bool:
        return not (
            self.fields
            or self.attributes
            or self.affiliations
            or self.addresses
            or self.affiliations_removed
            or self.address_changes
            or self.addresses_retired
            or self.contacts
            or self.contacts_removed
        )

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
            affiliations_removed=tuple(dict.fromkeys(self.affiliations_removed)),
            address_changes=self.address_changes,
            addresses_retired=tuple(dict.fromkeys(self.addresses_retired)),
            contacts=self.contacts,
            contacts_removed=self.contacts_removed,
        )

    def as_json(self) -> dict:
        """The change as a channel request holds it; a part left empty is left out."""
        data = {
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
            "affiliations_removed": list(self.affiliations_removed),
            "address_changes": [
                {"address": c.address, "values": dict(c.values)} for c in self.address_changes
            ],
            "addresses_retired": list(self.addresses_retired),
            "contacts": [
                {"type": c.type, "value": c.value, "is_primary": c.is_primary}
                for c in self.contacts
            ],
            "contacts_removed": [{"type": c.type, "value": c.value} for c in self.contacts_removed],
        }
        return {
            name: value
            for name, value in data.items()
            if value or name in ("fields", "attributes", "affiliations", "addresses")
        }

    @classmethod
    def from_json(cls, data: Any) -> CustomerChanges:
        """The change a channel request holds. Raises CustomerChangesError naming the part
        and value that is not of its type (a request written by an older version, or
        straight into a database): never a change that breaks the code applying it."""
        return cls(
            fields=_text_fields(_part(data, "fields", dict)),
            attributes=_attribute_values(_part(data, "attributes", dict)),
            affiliations=_affiliation_names(_part(data, "affiliations", list)),
            addresses=tuple(
                _address_from_json(a, f"addresses[{index}]")
                for index, a in enumerate(_part(data, "addresses", list))
            ),
            affiliations_removed=_affiliation_names(_part(data, "affiliations_removed", list)),
            address_changes=tuple(
                _address_change_from_json(c, f"address_changes[{index}]")
                for index, c in enumerate(_part(data, "address_changes", list))
            ),
            addresses_retired=_address_refs(_part(data, "addresses_retired", list)),
            contacts=tuple(
                _contact_from_json(c, f"contacts[{index}]")
                for index, c in enumerate(_part(data, "contacts", list))
            ),
            contacts_removed=tuple(
                _contact_locator_from_json(c, f"contacts_removed[{index}]")
                for index, c in enumerate(_part(data, "contacts_removed", list))
            ),
        )


# --- Reading a stored change: every value of its type ---------------------------------

CHANGES_PARTS = (
    "fields",
    "attributes",
    "affiliations",
    "addresses",
    "affiliations_removed",
    "address_changes",
    "addresses_retired",
    "contacts",
    "contacts_removed",
)
ADDRESS_TEXT_FIELDS = tuple(name for name in ADDRESS_FIELDS if name != "is_primary")


def _shown(value: Any) -> str:
    """A stored value as a message names it; a list or an object is not spelled out (it
    may be nested thousands deep)."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return quoted(value)


def _part(data: Any, name: str, kind: type) -> Any:
    if not isinstance(data, dict):
        raise CustomerChangesError(f"changes: {_shown(data)} is not an object of changes")
    unknown = sorted(str(key) for key in data if key not in CHANGES_PARTS)
    if unknown:
        raise CustomerChangesError(
            f"changes: unknown part {', '.join(unknown)}; a change holds "
            + ", ".join(CHANGES_PARTS)
        )
    value = data.get(name)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        wanted = "an object" if kind is dict else "a list"
        raise CustomerChangesError(f"{name}: {_shown(value)} is not {wanted}")
    return value


def _text_fields(values: dict) -> dict[str, str]:
    for name, value in values.items():
        if not isinstance(value, str):
            raise CustomerChangesError(f"{name}: {_shown(value)} is not text")
    return dict(values)


def _affiliation_names(values: list) -> tuple[str, ...]:
    for value in values:
        if not isinstance(value, str):
            raise CustomerChangesError(f"affiliations: {_shown(value)} is not a name")
    return tuple(values)


def _attribute_values(values: dict) -> dict[str, Any]:
    """Attribute values: one JSON scalar each (None clears the attribute)."""
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise CustomerChangesError(f"attributes.{name}: {_shown(value)} is not a finite number")
        if value is not None and not isinstance(value, str | bool | int | float):
            raise CustomerChangesError(f"attributes.{name}: {_shown(value)} is not a single value")
    return dict(values)


def _address_from_json(data: Any, where: str) -> AddressInput:
    if not isinstance(data, dict):
        raise CustomerChangesError(f"{where}: {_shown(data)} is not an address")
    values = {}
    for name in ADDRESS_TEXT_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise CustomerChangesError(f"{where}.{name}: {_shown(value)} is not text")
        values[name] = value or ""
    primary = data.get("is_primary")
    if primary is not None and not isinstance(primary, bool):
        raise CustomerChangesError(f"{where}.is_primary: {_shown(primary)} is not true or false")
    guid = data.get("async_address_id")
    try:
        guid = uuid.UUID(guid) if guid else None
    except (TypeError, ValueError, AttributeError):
        raise CustomerChangesError(
            f"{where}.async_address_id: {_shown(guid)} is not a GUID"
        ) from None
    return AddressInput(**values, is_primary=bool(primary), async_address_id=guid)


def _address_refs(values: list) -> tuple[str, ...]:
    for value in values:
        if not isinstance(value, str):
            raise CustomerChangesError(f"addresses_retired: {_shown(value)} is not an address")
    return tuple(values)


def _address_change_from_json(data: Any, where: str) -> AddressChange:
    if not isinstance(data, dict) or not isinstance(data.get("address"), str):
        raise CustomerChangesError(f"{where}: {_shown(data)} is not an address change")
    values = data.get("values")
    if not isinstance(values, dict):
        raise CustomerChangesError(f"{where}.values: {_shown(values)} is not an object")
    for name, value in values.items():
        if name not in ADDRESS_FIELDS:
            raise CustomerChangesError(f"{where}.values: unknown address field {_shown(name)}")
        kind = bool if name == "is_primary" else str
        if not isinstance(value, kind):
            raise CustomerChangesError(f"{where}.{name}: {_shown(value)} is not of its type")
    return AddressChange(address=data["address"], values=dict(values))


def _contact_from_json(data: Any, where: str) -> ContactInput:
    if not isinstance(data, dict):
        raise CustomerChangesError(f"{where}: {_shown(data)} is not a contact")
    kind, value, primary = data.get("type"), data.get("value"), data.get("is_primary", False)
    if not isinstance(kind, str) or not isinstance(value, str):
        raise CustomerChangesError(f"{where}: {_shown(data)} has no type and value")
    if not isinstance(primary, bool):
        raise CustomerChangesError(f"{where}.is_primary: {_shown(primary)} is not true or false")
    return ContactInput(type=kind, value=value, is_primary=primary)


def _contact_locator_from_json(data: Any, where: str) -> ContactLocator:
    if not isinstance(data, dict):
        raise CustomerChangesError(f"{where}: {_shown(data)} is not a contact")
    kind, value = data.get("type", ""), data.get("value")
    if not isinstance(kind, str) or not isinstance(value, str):
        raise CustomerChangesError(f"{where}: {_shown(data)} has no type and value")
    return ContactLocator(type=kind, value=value)
