"""Customer input, R2 defaults and R5 business validation: one validator per kind of
record, for every path that takes one in.

The shapes every creation path shares (a customer typed at a store, a staged record,
an import) and the rules checked before anything is written: ``customer_input_errors``
(a customer), ``address_input_errors`` (an address), ``customer_changes_errors`` (a
store's change, the body of a channel request) and ``edited_at_error`` (its time).
The store (fed with its own channel database's reference data, R16: ``StoreReferenceData``),
the import checks and HQ (creation, channel requests, the admin fix forms: ``ReferenceData``
from HQ's tables) call the same functions. Lengths
come from the columns the value is stored in, at HQ, in HQ staging and in every
channel database (the shortest wins), so what passes fits every engine: SQLite does
not enforce a length, PostgreSQL refuses the row. Reads only: nothing here writes.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from commerce.models import LegalEntity, Store
from customers.countries import ISO3166_ALPHA3
from customers.match_keys import phone_key
from customers.models import (
    Address,
    AddressPurpose,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    AttributeType,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelStoreDefaults,
    ContactInfo,
    ContactType,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
    Party,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
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
# R11: an edit may be dated this far ahead of the clock that checks it (clocks of a
# store and HQ differ a little); beyond it, an edit is dated in the future and refused.
EDIT_CLOCK_SKEW = datetime.timedelta(minutes=5)

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


def _shortest(name: str, *models_: type) -> int:
    """The longest value every one of these columns holds."""
    return min(model._meta.get_field(name).max_length for model in models_)


_CUSTOMER_TABLES = (AsyncCustomer, StagedAsyncCustomer, ChannelCustomer)
# The longest value of each customer field, wherever it is stored (HQ, staging, channel).
CUSTOMER_MAX_LENGTHS = {
    **{name: _shortest(name, Party, *_CUSTOMER_TABLES) for name in PARTY_FIELDS},
    **{
        name: _shortest(name, Customer, *_CUSTOMER_TABLES)
        for name in ("email", "phone", "currency", "language")
    },
    "customer_group": min(
        _shortest("code", CustomerGroup), _shortest("customer_group", *_CUSTOMER_TABLES)
    ),
    # R2: the title a store copies from its default customer (not on the store's copies).
    "title": _shortest("title", Customer, AsyncCustomer, StagedAsyncCustomer, ChannelStoreDefaults),
}
# The party's display name (first and last name with a space, or the organization's).
NAME_MAX_LENGTH = _shortest("name", Party, ChannelCustomer)
ADDRESS_MAX_LENGTHS = {
    name: _shortest(
        name,
        Address,
        AsyncCustomerAddress,
        AsyncAddress,
        ChannelCustomerAddress,
        StagedAsyncCustomerAddress,
        StagedAsyncAddress,
    )
    for name in ("street", "city", "state", "zip", "country")
}
CONTACT_VALUE_MAX_LENGTH = _shortest(
    "value", ContactInfo, AsyncCustomerContact, StagedAsyncCustomerContact
)
ATTRIBUTE_NAME_MAX_LENGTH = min(
    _shortest("name", CustomerAttribute),
    _shortest("name", AsyncCustomerAttributeValue, StagedAsyncCustomerAttributeValue),
)
AFFILIATION_NAME_MAX_LENGTH = min(
    _shortest("name", Affiliation),
    _shortest("name", AsyncCustomerAffiliation, StagedAsyncCustomerAffiliation),
)


class CustomerValidationError(Exception):
    """Business validation (R5) failed; ``errors`` name each field and value."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class StoreInputError(CustomerValidationError):
    """R1: the store refused the input before writing anything (HQ was not asked)."""


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


@dataclass
class ReferenceData:
    """Setup rows that validation needs, loaded once per batch (no per-row queries): HQ's
    own tables. The validators ask any reference data the same three questions
    (``group_known``, ``attribute``, ``affiliation_known``), so the store asks its own
    channel database's copy (``StoreReferenceData``, R16) and HQ its tables."""

    groups: dict[tuple[int, str], CustomerGroup]
    attributes: dict[str, CustomerAttribute]
    affiliations: dict[str, Affiliation]
    # The country (alpha-3) a phone number without a country code is read in; HQ does
    # not know where a number was typed, so it does not read phone numbers (None).
    phone_country: str | None = None

    @classmethod
    def load(cls) -> ReferenceData:
        return cls(
            groups={(g.legal_entity_id, g.code): g for g in CustomerGroup.objects.all()},
            attributes={a.name: a for a in CustomerAttribute.objects.all()},
            affiliations={a.name: a for a in Affiliation.objects.all()},
        )

    def group_known(self, legal_entity: LegalEntity, code: Any) -> bool:
        return (legal_entity.pk, code) in self.groups

    def attribute(self, name: str):
        """The attribute's setup (``type``, ``choices``), or None when unknown."""
        return self.attributes.get(name)

    def affiliation_known(self, name: str) -> bool:
        return name in self.affiliations


@dataclass(frozen=True)
class AttributeSetup:
    name: str
    type: str
    choices: list = field(default_factory=list)


@dataclass(frozen=True)
class CustomerDefaults:
    """R2: what a new customer takes from its store's default customer."""

    type: str = ""
    customer_group: str = ""
    currency: str = ""
    language: str = ""
    title: str = ""
    affiliations: tuple[str, ...] = ()
    country: str = ""  # the default customer's (primary) address country, alpha-3


@dataclass
class StoreReferenceData:
    """R16: the reference data a store validates against (R1) and takes its defaults
    from (R2), read from its own channel database (``customers.selectors.reference``),
    so it needs no HQ. The same questions as ``ReferenceData``."""

    legal_entity: str  # the store's legal entity code
    groups: frozenset[str]  # the customer group codes of that legal entity
    attributes: dict[str, AttributeSetup]
    affiliations: frozenset[str]
    defaults: CustomerDefaults

    @property
    def phone_country(self) -> str | None:
        return self.defaults.country or None

    def group_known(self, legal_entity: LegalEntity, code: Any) -> bool:
        return legal_entity.code == self.legal_entity and code in self.groups

    def attribute(self, name: str):
        return self.attributes.get(name)

    def affiliation_known(self, name: str) -> bool:
        return name in self.affiliations


# --- R2 defaults ------------------------------------------------------------------


def customer_input_with_defaults(
    *, data: CustomerInput, defaults: CustomerDefaults
) -> CustomerInput:
    """R2: the fields the store did not fill, from its default customer: type, customer
    group, currency, language, title and affiliations (D365 10.0.24); an address without
    a purpose is a home address of a person, a business address of an organization."""
    type_ = data.type or defaults.type or CustomerType.PERSON
    purpose = AddressPurpose.BUSINESS if type_ == CustomerType.ORGANIZATION else AddressPurpose.HOME
    return replace(
        data,
        type=type_,
        customer_group=data.customer_group or defaults.customer_group,
        currency=data.currency or defaults.currency,
        language=data.language or defaults.language,
        title=data.title or defaults.title,
        affiliations=data.affiliations or tuple(defaults.affiliations),
        addresses=tuple(
            address if address.purpose else replace(address, purpose=purpose)
            for address in data.addresses
        ),
    )


def customer_input_with_store_defaults(*, store: Store, data: CustomerInput) -> CustomerInput:
    """R2 at HQ (account creation of a staged record): fill type, customer group,
    currency, language, title and address purposes from the store's default customer at
    HQ. Affiliations are the store's to copy when it captures the customer (a staged
    record without any keeps none)."""
    default = store.default_customer
    defaults = CustomerDefaults(
        type=CustomerType.PERSON,
        customer_group=default.customer_group.code,
        currency=default.currency or store.legal_entity.currency,
        language=default.language,
        title=default.title,
    )
    return customer_input_with_defaults(data=data, defaults=defaults)


_TRIMMED_FIELDS = (*PARTY_FIELDS, "email", "phone", "customer_group", "language", "title")


def customer_input_trimmed(data: CustomerInput) -> CustomerInput:
    """R1: what a store captures, without the spaces around each value typed
    (``' JONAS.NEW@example.com '`` is ``JONAS.NEW@example.com``)."""
    values = {name: getattr(data, name) for name in _TRIMMED_FIELDS}
    return replace(
        data,
        **{name: value.strip() for name, value in values.items() if isinstance(value, str)},
        addresses=tuple(
            replace(
                address,
                **{
                    name: getattr(address, name).strip()
                    for name in ("purpose", "street", "city", "state", "zip", "country")
                    if isinstance(getattr(address, name), str)
                },
            )
            for address in data.addresses
        ),
    )


def customer_input_at_store(
    *, data: CustomerInput, legal_entity: LegalEntity, refs: StoreReferenceData
) -> CustomerInput:
    """R1 and R2 at the store, before anything is written: the input trimmed, the
    defaults filled from the store's default customer (``refs.defaults``), then every
    check against the store's own reference data. Returns the input to write; raises
    StoreInputError naming each field and value."""
    data = customer_input_with_defaults(data=customer_input_trimmed(data), defaults=refs.defaults)
    errors = customer_input_errors(data=data, legal_entity=legal_entity, refs=refs)
    if errors:
        raise StoreInputError(errors)
    return data


def customer_changes_at_store_errors(
    *, changes, legal_entity: LegalEntity, refs: StoreReferenceData, customer_type: str | None
) -> list[str]:
    """R1 for a store's change (R11): the rules ``customer_changes_errors`` checks, the
    customer group, attributes and affiliations against the store's own reference data."""
    return customer_changes_errors(
        changes=changes, legal_entity=legal_entity, refs=refs, customer_type=customer_type
    )


# --- R5 validation ----------------------------------------------------------------


def _quoted(value: Any) -> str:
    """The value as a message shows it: quoted if text, shortened if long."""
    if isinstance(value, str):
        # One printable line whatever the value holds (a line break, a NUL).
        shown = value if value.isprintable() else value.encode("unicode_escape").decode()
        text = f'"{shown}"'
    else:
        text = repr(value)
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


def attribute_value_error(attribute, value: Any) -> str | None:
    """R5 for one attribute value: what is wrong with ``value`` for ``attribute`` (its
    ``type`` and ``choices``: an HQ attribute, a store's copy or an import's record), or
    None when it is a value of the attribute."""
    return _attribute_error(attribute, value)


def _email_is_valid(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# Characters no one-line field holds: control characters (NUL, which PostgreSQL cannot
# store in text at all, line breaks, escapes) and lone surrogates (not encodable).
_NOT_IN_A_FIELD = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _too_long(name: str, value: Any, limit: int) -> str | None:
    """A text value the column cannot hold (or not text at all, or with a character no
    one-line field holds), named with the value."""
    if not isinstance(value, str):
        return f"{name}: {_quoted(value)} is not text"
    if _NOT_IN_A_FIELD.search(value):
        return f"{name}: {_quoted(value)} holds a control character"
    if len(value) > limit:
        return f"{name}: {_quoted(value)} is longer than {limit} characters ({len(value)})"
    return None


def _lengths_errors(values: dict[str, Any], limits: dict[str, int], prefix: str = "") -> list[str]:
    found = (_too_long(f"{prefix}{name}", value, limits[name]) for name, value in values.items())
    return [error for error in found if error]


def _name_length_error(
    *, type: str, first_name: str, last_name: str, organization_name: str
) -> str | None:
    name = display_name(
        type=type, first_name=first_name, last_name=last_name, organization_name=organization_name
    )
    if len(name) <= NAME_MAX_LENGTH:
        return None
    return f"name: {_quoted(name)} is longer than {NAME_MAX_LENGTH} characters ({len(name)})"


def references_errors(
    *, attributes: dict[str, Any], affiliations: Sequence[str], refs: ReferenceData | None
) -> list[str]:
    """R5 for attribute values and affiliations: known names, values of the attribute's
    type and choices. Without ``refs`` (at a store, HQ not asked) only what the names
    themselves decide: text that fits the columns."""
    errors: list[str] = []
    for name, value in attributes.items():
        problem = _too_long("attributes", name, ATTRIBUTE_NAME_MAX_LENGTH)
        if problem:
            errors.append(problem)
            continue
        if refs is None:
            continue
        attribute = refs.attribute(name)
        if attribute is None:
            errors.append(f"attributes.{name}: unknown attribute {_quoted(name)}")
            continue
        problem = _attribute_error(attribute, value)
        if problem:
            errors.append(f"attributes.{name}: {_quoted(value)} {problem}")
    for name in affiliations:
        problem = _too_long("affiliations", name, AFFILIATION_NAME_MAX_LENGTH)
        if problem:
            errors.append(problem)
        elif refs is not None and not refs.affiliation_known(name):
            errors.append(f"affiliations: unknown affiliation {_quoted(name)}")
    return errors


def _group_error(group: Any, legal_entity: LegalEntity, refs: ReferenceData | None) -> str | None:
    if refs is None or refs.group_known(legal_entity, group):
        return None
    return (
        f"customer_group: unknown customer group {_quoted(group)} "
        f"in legal entity {legal_entity.code}"
    )


def customer_input_errors(
    *, data: CustomerInput, legal_entity: LegalEntity, refs: ReferenceData | None
) -> list[str]:
    """R5: every business rule the input breaks, each naming the field and the value.

    With ``refs`` None (a store checking what it can without HQ, R1) the references
    (customer group, attributes, affiliations) are not looked up; everything else is
    checked."""
    errors = _lengths_errors(
        {name: getattr(data, name) for name in CUSTOMER_MAX_LENGTHS}, CUSTOMER_MAX_LENGTHS
    )
    if errors:  # a value that is not text or does not fit: the other checks would mislead
        return errors + _children_errors(data, refs)
    if data.type not in CUSTOMER_TYPES:
        errors.append(f"type: {_quoted(data.type)} is not person or organization")
    elif data.type == CustomerType.PERSON:
        if not data.first_name.strip():
            errors.append(f"first_name: empty name {_quoted(data.first_name)}")
        if not data.last_name.strip():
            errors.append(f"last_name: empty name {_quoted(data.last_name)}")
    elif not data.organization_name.strip():
        errors.append(f"organization_name: empty name {_quoted(data.organization_name)}")
    if data.type in CUSTOMER_TYPES:
        problem = _name_length_error(
            type=data.type,
            first_name=data.first_name,
            last_name=data.last_name,
            organization_name=data.organization_name,
        )
        if problem:
            errors.append(problem)
    problem = _group_error(data.customer_group, legal_entity, refs)
    if problem:
        errors.append(problem)
    if len(data.currency) != 3 or not data.currency.isalpha():
        errors.append(f"currency: invalid currency code {_quoted(data.currency)}")
    if data.email and not _email_is_valid(data.email):
        errors.append(f"email: malformed email {_quoted(data.email)}")
    problem = phone_error(data.phone, refs)
    if problem:
        errors.append(problem)
    return errors + _children_errors(data, refs)


def phone_error(phone: str, refs) -> str | None:
    """R1: a phone number the store's country reads (``phonenumbers``; a number with its
    own country code is read in that country). Only where the reference data knows the
    country the number was typed in (the store's): HQ does not read phone numbers."""
    country = getattr(refs, "phone_country", None)
    if not phone or country is None or phone_key(phone, country=country):
        return None
    return f"phone: {_quoted(phone)} is not a phone number"


def _children_errors(data: CustomerInput, refs: ReferenceData | None) -> list[str]:
    errors: list[str] = []
    for index, address in enumerate(data.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    for index, contact in enumerate(data.contacts):
        errors.extend(contact_input_errors(contact=contact, where=f"contacts[{index}]"))
    errors += references_errors(
        attributes=data.attributes, affiliations=data.affiliations, refs=refs
    )
    return errors


def address_input_errors(*, address: AddressInput, prefix: str = "") -> list[str]:
    """R5 for one address: a known purpose, street, city and zip given, an ISO 3166-1
    alpha-3 country, every value fitting its columns."""
    values = {name: getattr(address, name) or "" for name in ADDRESS_MAX_LENGTHS}
    errors = _lengths_errors(values, ADDRESS_MAX_LENGTHS, prefix)
    if not isinstance(address.purpose, str) or address.purpose not in ADDRESS_PURPOSES:
        errors.append(f"{prefix}purpose: unknown address purpose {_quoted(address.purpose)}")
    if errors:
        return errors
    for name in ("street", "city", "zip"):
        value = getattr(address, name)
        if not (value or "").strip():
            errors.append(f"{prefix}{name}: empty {name} {_quoted(value)}")
    if address.country not in ISO3166_ALPHA3:
        errors.append(f"{prefix}country: invalid country code {_quoted(address.country)}")
    return errors


def customer_changes_errors(
    *,
    changes,
    legal_entity: LegalEntity,
    refs: ReferenceData | None,
    customer_type: str | None = None,
) -> list[str]:
    """R5 for a store's change (``CustomerChanges``, a channel request's body): every
    rule it breaks, each naming the field and the value. ``legal_entity`` is the
    customer's; with ``refs`` None (at the store) references are not looked up."""
    errors: list[str] = []
    for name, value in changes.fields.items():
        problem = _too_long(name, value, CUSTOMER_MAX_LENGTHS[name])
        if problem:
            errors.append(problem)
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
        elif name == "customer_group" and (problem := _group_error(value, legal_entity, refs)):
            errors.append(problem)
        elif name == "phone" and (problem := phone_error(value, refs)):
            errors.append(problem)
    errors += references_errors(
        attributes=changes.attributes, affiliations=changes.affiliations, refs=refs
    )
    for index, address in enumerate(changes.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    return errors + change_parts_errors(changes=changes)


def edited_at_error(
    edited_at: datetime.datetime, *, now: datetime.datetime | None = None
) -> str | None:
    """R11: an edit dated in the future (beyond ``EDIT_CLOCK_SKEW``) is refused: its time
    would beat every later change of the same field."""
    now = now or datetime.datetime.now(datetime.UTC)
    if edited_at <= now + EDIT_CLOCK_SKEW:
        return None
    return f"edited_at: {edited_at.isoformat()} is in the future (now {now.isoformat()})"


def edit_time_at_hq(edited_at: datetime.datetime, received_at: datetime.datetime | None):
    """R11: the time HQ gives a store's edit: at most when HQ received it, so no edit
    dated ahead (a wrong clock, a row written past the store) can freeze a field."""
    if received_at is None:
        return edited_at
    return min(edited_at, received_at)


# --- R11 complete: the other parts of a store's change ------------------------------

# An address a change names: its location id (HQ, a channel copy) or its async GUID.
LOCATION_ID_MAX_LENGTH = _shortest("location_id", Address, ChannelCustomerAddress)


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


def contact_input_errors(*, contact: ContactInput, where: str) -> list[str]:
    """R5 for one contact: a known type, a value that fits, an email that is one."""
    if contact.type not in CONTACT_TYPES:
        return [f"{where}.type: unknown contact type {_quoted(contact.type)}"]
    if problem := _too_long(f"{where}.value", contact.value, CONTACT_VALUE_MAX_LENGTH):
        return [problem]
    if contact.type == ContactType.EMAIL and not _email_is_valid(contact.value):
        return [f"{where}.value: malformed email {_quoted(contact.value)}"]
    if not contact.value.strip():
        return [f"{where}.value: empty contact {_quoted(contact.value)}"]
    return []


def address_change_errors(*, change: AddressChange, prefix: str) -> list[str]:
    """R5 for the fields an address change sets: each as ``address_input_errors``
    checks it on a whole address."""
    values = change.values
    if not values:
        return [f"{prefix}address: nothing to change on address {_quoted(change.address)}"]
    errors = []
    if problem := _too_long(f"{prefix}address", change.address, LOCATION_ID_MAX_LENGTH):
        return [problem]
    texts = {n: v for n, v in values.items() if n in ADDRESS_MAX_LENGTHS}
    errors += _lengths_errors(texts, ADDRESS_MAX_LENGTHS, prefix)
    if "purpose" in values and values["purpose"] not in ADDRESS_PURPOSES:
        errors.append(f"{prefix}purpose: unknown address purpose {_quoted(values['purpose'])}")
    if errors:
        return errors
    for name in ("street", "city", "zip"):
        if name in values and not values[name].strip():
            errors.append(f"{prefix}{name}: empty {name} {_quoted(values[name])}")
    if "country" in values and values["country"] not in ISO3166_ALPHA3:
        errors.append(f"{prefix}country: invalid country code {_quoted(values['country'])}")
    if "is_primary" in values and not isinstance(values["is_primary"], bool):
        errors.append(f"{prefix}is_primary: {_quoted(values['is_primary'])} is not true or false")
    return errors


def change_parts_errors(*, changes) -> list[str]:
    """R5 for a change's affiliations removed, address changes and retirements, and
    contact info added or removed (``customer_changes_errors`` calls it)."""
    errors: list[str] = []
    for name in changes.affiliations_removed:
        if problem := _too_long("affiliations", name, AFFILIATION_NAME_MAX_LENGTH):
            errors.append(problem)
    for index, change in enumerate(changes.address_changes):
        errors += address_change_errors(change=change, prefix=f"address_changes[{index}].")
    for ref in changes.addresses_retired:
        if problem := _too_long("addresses_retired", ref, LOCATION_ID_MAX_LENGTH):
            errors.append(problem)
    for index, contact in enumerate(changes.contacts):
        errors += contact_input_errors(contact=contact, where=f"contacts[{index}]")
    for index, locator in enumerate(changes.contacts_removed):
        where = f"contacts_removed[{index}]"
        if locator.type and locator.type not in CONTACT_TYPES:
            errors.append(f"{where}.type: unknown contact type {_quoted(locator.type)}")
        elif problem := _too_long(f"{where}.value", locator.value, CONTACT_VALUE_MAX_LENGTH):
            errors.append(problem)
    return errors
