"""The fields of each import record (README "Import files"); their conversion is in
``conversion``.

Every limit comes from the model the value is stored in, so what passes here is
what every engine can store: string lengths from ``max_length`` (every string field
has one: ``test_every_string_field_has_a_length_limit``), decimal ranges from
``max_digits``/``decimal_places``, one account length (``ACCOUNT_MAX_LENGTH``) for
every account reference, timestamps within years 1..9999 once in UTC. Numbers,
dates and GUIDs are matched by ASCII-only patterns anchored with ``\\Z``: ``int()``,
``Decimal()`` and ``$`` accept more than a database or the next job does (Arabic-Indic
digits, a trailing line break).
"""

from dataclasses import dataclass, replace
from typing import Any

from django.db import models

from commerce.models import (
    ACCOUNT_MAX_LENGTH,
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    DuplicatePolicy,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
    TransactionType,
)
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
    ChannelRequest,
    ContactType,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
    Party,
)
from customers.services.changes import EDITABLE_FIELDS
from customers.services.validation import (
    ADDRESS_MAX_LENGTHS,
    CUSTOMER_MAX_LENGTHS,
    TEXT_ATTRIBUTE_MAX_LENGTH,
)

SECTIONS = (
    "legal_entities",
    "customer_groups",
    "customer_attributes",
    "affiliations",
    "functionality_profiles",
    "channel_databases",
    "customers",
    "stores",
    "channel",
)
# The lists of a channel entry, streamed record by record.
# Customer edits come last: an edit may change an async customer of the same file (R11).
CHANNEL_LISTS = ("async_customers", "async_addresses", "transactions", "customer_edits")
# The length of a GUID as text: a customer edit's ``customer`` is a GUID or an account.
GUID_LENGTH = 36


@dataclass(frozen=True)
class Field:
    kind: str  # str enum int bool guid date datetime decimal record records strings object
    required: bool = False
    blank: bool = False  # a required string may be empty
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    schema: dict[str, "Field"] | None = None
    code: bool = False  # letters, digits, '-' and '_' only
    key: bool = False  # an id or reference: printable characters only
    min_value: int | None = None
    max_value: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    positive: bool = False  # decimals: > 0 (else >= 0)
    non_empty: bool = False  # records: at least one


@dataclass
class Rec:
    """One validated record: where it is in the file and its present fields."""

    path: str
    values: dict[str, Any]
    # Fields given as JSON null: they read as "" (strings) but count as not given.
    nulls: frozenset[str] = frozenset()

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def at(self, name: str) -> str:
        return f"{self.path}.{name}"

    def present(self, *names: str) -> dict[str, Any]:
        return {name: self.values[name] for name in names if name in self.values}

    def given(self, name: str) -> bool:
        """Whether the file holds a non-null value for the field."""
        return name in self.values and name not in self.nulls


def _max_length(model: type[models.Model], name: str) -> int:
    length = model._meta.get_field(name).max_length
    assert length, f"{model.__name__}.{name} has no max_length"
    return length


def _str(model, name, *, required=False, blank=False, code=False, key=False) -> Field:
    return Field(
        "str",
        required=required,
        blank=blank,
        max_length=_max_length(model, name),
        code=code,
        key=key or code,
    )


def _account(model, name, *, required=False) -> Field:
    """A customer account (or a reference to one): one length wherever it is stored."""
    return Field(
        "str",
        required=required,
        max_length=min(_max_length(model, name), ACCOUNT_MAX_LENGTH),
        key=True,
    )


def _enum(choices, *, required=True) -> Field:
    return Field("enum", required=required, choices=tuple(choices))


def _decimal(model, name, *, positive=False) -> Field:
    model_field = model._meta.get_field(name)
    return Field(
        "decimal",
        required=True,
        max_digits=model_field.max_digits,
        decimal_places=model_field.decimal_places,
        positive=positive,
    )


def _shared(field: Field, limit: int) -> Field:
    """A customer's or an address's field: as long as the shared validator allows (the
    shortest of its HQ, staging and channel columns, ``services.validation``)."""
    return replace(field, max_length=min(field.max_length, limit))


def _address_fields(model) -> dict[str, Field]:
    def text(name, **flags):
        return _shared(_str(model, name, **flags), ADDRESS_MAX_LENGTHS[name])

    return {
        "purpose": _enum(AddressPurpose.values),
        "street": text("street", required=True, blank=True),
        "city": text("city", required=True, blank=True),
        "state": text("state"),
        "zip": text("zip", required=True, blank=True),
        "country": text("country", required=True, blank=True),
        "primary": Field("bool"),
    }


def _customer_str(model, name, **flags) -> Field:
    return _shared(_str(model, name, **flags), CUSTOMER_MAX_LENGTHS[name])


LEGAL_ENTITY = {
    "code": _str(LegalEntity, "code", required=True, code=True),
    "name": _str(LegalEntity, "name", required=True),
    "currency": _str(LegalEntity, "currency", required=True),
    "customer_account_prefix": _str(NumberSequence, "prefix"),
    "customer_account_digits": Field("int", min_value=1, max_value=18),
    "duplicate_policy": _enum(DuplicatePolicy.values, required=False),  # R12
}
CUSTOMER_GROUP = {
    "legal_entity": _str(LegalEntity, "code", required=True, key=True),
    "code": _str(CustomerGroup, "code", required=True, key=True),
    "name": _str(CustomerGroup, "name"),
}
CUSTOMER_ATTRIBUTE = {
    "name": _str(CustomerAttribute, "name", required=True, key=True),
    "type": _enum(AttributeType.values),
    # A choice is an attribute value: as long as a text attribute may be (R5).
    "choices": Field("strings", max_length=TEXT_ATTRIBUTE_MAX_LENGTH),
}
AFFILIATION = {
    "name": _str(Affiliation, "name", required=True, key=True),
    "description": _str(Affiliation, "description"),
}
FUNCTIONALITY_PROFILE = {
    "code": _str(FunctionalityProfile, "code", required=True, code=True),
    "name": _str(FunctionalityProfile, "name"),
    "create_customer_in_async_mode": Field("bool"),
}
CHANNEL_DATABASE = {
    "name": _str(ChannelDatabase, "name", required=True, code=True),
    "alias": _str(ChannelDatabase, "alias", required=True, key=True),
}
CUSTOMER_ADDRESS = {
    "location_id": _str(Address, "location_id", required=True, key=True),
    **_address_fields(Address),
}
CUSTOMER = {
    "account": _account(Customer, "account", required=True),
    "legal_entity": _str(LegalEntity, "code", required=True, key=True),
    "type": _enum(CustomerType.values),
    "first_name": _customer_str(Party, "first_name"),
    "last_name": _customer_str(Party, "last_name"),
    "organization_name": _customer_str(Party, "organization_name"),
    "customer_group": _str(CustomerGroup, "code", required=True, key=True),
    "currency": _customer_str(Customer, "currency"),
    "language": _customer_str(Customer, "language"),
    "email": _customer_str(Customer, "email"),
    "phone": _customer_str(Customer, "phone"),
    "title": _customer_str(Customer, "title"),
    "addresses": Field("records", schema=CUSTOMER_ADDRESS),
    # R2: what a store copies from its default customer (must name known attributes and
    # affiliations, in the file or at HQ).
    "attributes": Field("object", max_length=_max_length(CustomerAttribute, "name")),
    "affiliations": Field("strings", max_length=_max_length(Affiliation, "name")),
}
STORE = {
    "number": _str(Store, "number", required=True, code=True),
    "name": _str(Store, "name", required=True),
    "legal_entity": _str(LegalEntity, "code", required=True, key=True),
    "channel_database": _str(ChannelDatabase, "name", required=True, key=True),
    "functionality_profile": _str(FunctionalityProfile, "code", required=True, key=True),
    "default_customer": _account(Customer, "account", required=True),
    "offline": Field("bool"),
}
ASYNC_CUSTOMER_ADDRESS = {
    "async_id": Field("guid", required=True),
    **_address_fields(AsyncCustomerAddress),
}
ASYNC_CUSTOMER_CONTACT = {
    "type": _enum(ContactType.values),
    "value": _str(AsyncCustomerContact, "value", required=True, blank=True),
    "primary": Field("bool"),
}
ASYNC_CUSTOMER = {
    "async_id": Field("guid", required=True),
    "type": _enum(CustomerType.values),
    # The names the type needs are required (checked in checks.py); an empty one is
    # a business error (R5) that HQ reports, as it would for a record a real store sent.
    "first_name": _customer_str(AsyncCustomer, "first_name"),
    "last_name": _customer_str(AsyncCustomer, "last_name"),
    "organization_name": _customer_str(AsyncCustomer, "organization_name"),
    "email": _customer_str(AsyncCustomer, "email"),
    "phone": _customer_str(AsyncCustomer, "phone"),
    "customer_group": _customer_str(AsyncCustomer, "customer_group"),
    "currency": _customer_str(AsyncCustomer, "currency"),
    "language": _customer_str(AsyncCustomer, "language"),
    "created_at": Field("datetime"),
    "addresses": Field("records", schema=ASYNC_CUSTOMER_ADDRESS),
    "contacts": Field("records", schema=ASYNC_CUSTOMER_CONTACT),
    "attributes": Field("object", max_length=_max_length(AsyncCustomerAttributeValue, "name")),
    "affiliations": Field("strings", max_length=_max_length(AsyncCustomerAffiliation, "name")),
}
ASYNC_ADDRESS = {
    "async_id": Field("guid", required=True),
    "customer": _account(AsyncAddress, "customer_account", required=True),
    **_address_fields(AsyncAddress),
    "created_at": Field("datetime"),
}
TRANSACTION_LINE = {
    "item": _str(ChannelSalesLine, "item", required=True, key=True),
    # A line sells something: quantity > 0. A free item (price 0) is a sale; a return
    # (negative) is not a sales line this import loads.
    "quantity": _decimal(ChannelSalesLine, "quantity", positive=True),
    "unit_price": _decimal(ChannelSalesLine, "unit_price"),
}
TRANSACTION = {
    "id": _str(ChannelSalesTransaction, "transaction_id", required=True, key=True),
    "type": _enum(TransactionType.values),
    "business_date": Field("date", required=True),
    "customer": _account(ChannelSalesTransaction, "customer_account"),
    "async_customer": Field("guid"),
    "delivery_address": _str(ChannelSalesTransaction, "delivery_address", key=True),
    "lines": Field("records", required=True, schema=TRANSACTION_LINE, non_empty=True),
}
# R11: the fields a store may change, as long as the async customer they land on allows.
CUSTOMER_EDIT_CHANGES = {name: _customer_str(AsyncCustomer, name) for name in EDITABLE_FIELDS}
CUSTOMER_EDIT = {
    "id": Field("guid", required=True),
    # An async customer's GUID or an account (checked in checks.py): the longer of both.
    "customer": Field(
        "str",
        required=True,
        max_length=max(GUID_LENGTH, _max_length(ChannelRequest, "target_account")),
        key=True,
    ),
    "edited_at": Field("datetime", required=True),
    "changes": Field("record", schema=CUSTOMER_EDIT_CHANGES),
    "attributes": Field("object", max_length=_max_length(AsyncCustomerAttributeValue, "name")),
    "affiliations": Field("strings", max_length=_max_length(AsyncCustomerAffiliation, "name")),
    "addresses": Field("records", schema=ASYNC_CUSTOMER_ADDRESS),
}
CHANNEL_ENTRY = {
    "store": _str(Store, "number", required=True, key=True),
    "async_customers": Field("records", schema=ASYNC_CUSTOMER),
    "async_addresses": Field("records", schema=ASYNC_ADDRESS),
    "transactions": Field("records", schema=TRANSACTION),
    "customer_edits": Field("records", schema=CUSTOMER_EDIT),
}
SCHEMAS = {
    "legal_entities": LEGAL_ENTITY,
    "customer_groups": CUSTOMER_GROUP,
    "customer_attributes": CUSTOMER_ATTRIBUTE,
    "affiliations": AFFILIATION,
    "functionality_profiles": FUNCTIONALITY_PROFILE,
    "channel_databases": CHANNEL_DATABASE,
    "customers": CUSTOMER,
    "stores": STORE,
    "channel": CHANNEL_ENTRY,
}
# The records of a channel entry's lists, by the name of the list.
CHANNEL_SCHEMAS = {name: CHANNEL_ENTRY[name].schema for name in CHANNEL_LISTS}
