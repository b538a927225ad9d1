"""Customer input, R2 defaults and R5 business validation.

The shapes every creation path shares (a customer typed at a store, a staged record,
an import) and the rules HQ checks before it creates anything. Reads only: nothing
here writes.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from commerce.models import LegalEntity, Store
from customers.countries import ISO3166_ALPHA3
from customers.models import (
    AddressPurpose,
    Affiliation,
    AttributeType,
    ContactType,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
    display_name,
)

# The longest text attribute value (R5). The value column is JSON, unbounded in every
# engine, so the limit is a business one: a free-text attribute is a note, and 1,000
# characters also bound what every store receives with each customer (1010).
TEXT_ATTRIBUTE_MAX_LENGTH = 1000
SHOWN_VALUE_CHARACTERS = 80
# The allowed codes, built once (a choices enum's ``values`` builds a list per call).
CUSTOMER_TYPES = frozenset(CustomerType.values)
CONTACT_TYPES = frozenset(ContactType.values)
ADDRESS_PURPOSES = frozenset(AddressPurpose.values)


class CustomerValidationError(Exception):
    """Business validation (R5) failed; ``errors`` name each field and value."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


# --- Input shapes -----------------------------------------------------------------


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


@dataclass
class ReferenceData:
    """Setup rows that validation needs, loaded once per batch (no per-row queries)."""

    groups: dict[tuple[int, str], CustomerGroup]
    attributes: dict[str, CustomerAttribute]
    affiliations: dict[str, Affiliation]

    @classmethod
    def load(cls) -> ReferenceData:
        return cls(
            groups={(g.legal_entity_id, g.code): g for g in CustomerGroup.objects.all()},
            attributes={a.name: a for a in CustomerAttribute.objects.all()},
            affiliations={a.name: a for a in Affiliation.objects.all()},
        )


# --- R2 defaults ------------------------------------------------------------------


def customer_input_with_store_defaults(*, store: Store, data: CustomerInput) -> CustomerInput:
    """R2: fill customer group, currency and language from the store's default customer."""
    default = store.default_customer
    return replace(
        data,
        type=data.type or CustomerType.PERSON,
        customer_group=data.customer_group or default.customer_group.code,
        currency=data.currency or default.currency or store.legal_entity.currency,
        language=data.language or default.language,
    )


# --- R5 validation ----------------------------------------------------------------


def _quoted(value: Any) -> str:
    """The value as a message shows it: quoted if text, shortened if long."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    if len(text) <= SHOWN_VALUE_CHARACTERS:
        return text
    return text[: SHOWN_VALUE_CHARACTERS - 2] + ('…"' if isinstance(value, str) else "…")


def _attribute_error(attribute: CustomerAttribute, value: Any) -> str | None:
    kind = attribute.type
    if value is None:
        return None
    if kind == AttributeType.BOOLEAN:
        return None if isinstance(value, bool) else "is not a boolean"
    if kind == AttributeType.TEXT:
        if not isinstance(value, str):
            return "is not text"
        if len(value) > TEXT_ATTRIBUTE_MAX_LENGTH:
            return f"is longer than {TEXT_ATTRIBUTE_MAX_LENGTH} characters ({len(value)})"
        return None
    if kind == AttributeType.INTEGER:
        if isinstance(value, bool):
            return "is not an integer"
        if isinstance(value, int):
            return None
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return None
        return "is not an integer"
    if kind == AttributeType.DECIMAL:
        if isinstance(value, bool):
            return "is not a decimal"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return "is not a decimal"
        # Decimal() reads "NaN" and "Infinity"; neither is an amount.
        return None if number.is_finite() else "is not a finite decimal"
    if kind == AttributeType.DATE:
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            return "is not a date (YYYY-MM-DD)"
        return None
    if kind == AttributeType.CHOICE:
        if value in (attribute.choices or []):
            return None
        return "is not one of " + ", ".join(str(c) for c in attribute.choices or [])
    return f"has unknown attribute type {kind}"


def _email_is_valid(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def customer_input_errors(
    *, data: CustomerInput, legal_entity: LegalEntity, refs: ReferenceData
) -> list[str]:
    """R5: every business rule the input breaks, each naming the field and the value."""
    errors: list[str] = []
    if data.type not in CUSTOMER_TYPES:
        errors.append(f"type: {_quoted(data.type)} is not person or organization")
    elif data.type == CustomerType.PERSON:
        if not data.first_name.strip():
            errors.append(f"first_name: empty name {_quoted(data.first_name)}")
        if not data.last_name.strip():
            errors.append(f"last_name: empty name {_quoted(data.last_name)}")
    elif not data.organization_name.strip():
        errors.append(f"organization_name: empty name {_quoted(data.organization_name)}")
    if (legal_entity.pk, data.customer_group) not in refs.groups:
        errors.append(
            f"customer_group: unknown customer group {_quoted(data.customer_group)} "
            f"in legal entity {legal_entity.code}"
        )
    if len(data.currency) != 3 or not data.currency.isalpha():
        errors.append(f"currency: invalid currency code {_quoted(data.currency)}")
    if data.email and not _email_is_valid(data.email):
        errors.append(f"email: malformed email {_quoted(data.email)}")
    for index, address in enumerate(data.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    for index, contact in enumerate(data.contacts):
        where = f"contacts[{index}]"
        if contact.type not in CONTACT_TYPES:
            errors.append(f"{where}.type: unknown contact type {_quoted(contact.type)}")
        elif contact.type == ContactType.EMAIL and not _email_is_valid(contact.value):
            errors.append(f"{where}.value: malformed email {_quoted(contact.value)}")
        elif not contact.value.strip():
            errors.append(f"{where}.value: empty contact {_quoted(contact.value)}")
    for name, value in data.attributes.items():
        attribute = refs.attributes.get(name)
        if attribute is None:
            errors.append(f"attributes.{name}: unknown attribute {_quoted(name)}")
            continue
        problem = _attribute_error(attribute, value)
        if problem:
            errors.append(f"attributes.{name}: {_quoted(value)} {problem}")
    for name in data.affiliations:
        if name not in refs.affiliations:
            errors.append(f"affiliations: unknown affiliation {_quoted(name)}")
    return errors


def address_input_errors(*, address: AddressInput, prefix: str = "") -> list[str]:
    errors = []
    if address.purpose not in ADDRESS_PURPOSES:
        errors.append(f"{prefix}purpose: unknown address purpose {_quoted(address.purpose)}")
    for name in ("street", "city", "zip"):
        value = getattr(address, name)
        if not (value or "").strip():
            errors.append(f"{prefix}{name}: empty {name} {_quoted(value)}")
    if address.country not in ISO3166_ALPHA3:
        errors.append(f"{prefix}country: invalid country code {_quoted(address.country)}")
    return errors
