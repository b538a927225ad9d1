"""The shapes validation takes in (R5): a customer, an address, a contact, the parts
of a store's change (R11), and the errors a refusal raises."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from customers.models import CustomerType, display_name


class CustomerValidationError(Exception):
    """Business validation (R5) failed; ``errors`` name each field and value."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class StoreInputError(CustomerValidationError):
    """R1: the store refused the input before writing anything (HQ was not asked)."""


@dataclass(frozen=True)
class AddressInput:
    purpose: str
    street: str
    city: str
    zip: str
    country: str
    state: str = ""
    is_primary: bool = False
    async_address_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ContactInput:
    type: str
    value: str
    is_primary: bool = False


@dataclass(frozen=True)
class CustomerInput:
    """One customer to create, whether typed at a store or staged from a channel."""

    type: str = CustomerType.PERSON
    first_name: str = ""
    last_name: str = ""
    organization_name: str = ""
    email: str = ""
    phone: str = ""
    customer_group: str = ""
    currency: str = ""
    language: str = ""
    title: str = ""
    addresses: tuple[AddressInput, ...] = ()
    contacts: tuple[ContactInput, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    affiliations: tuple[str, ...] = ()
    async_customer_id: uuid.UUID | None = None
    async_origin: str = ""  # the channel database the async GUID came from

    @property
    def name(self) -> str:
        return display_name(
            type=self.type,
            first_name=self.first_name,
            last_name=self.last_name,
            organization_name=self.organization_name,
        )


@dataclass(frozen=True)
class AddressChange:
    """Fields of an existing address to change; ``address`` is its location id or its
    async address GUID (as text)."""

    address: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ContactLocator:
    """The contact info to remove: its value, of this type ("" for any type)."""

    type: str
    value: str
