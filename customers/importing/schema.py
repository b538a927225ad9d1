"""The fields of each import record (README "Import files") and their conversion.

Every limit comes from the model the value is stored in, so what passes here is
what every engine can store: string lengths from ``max_length`` (every string field
has one: ``test_every_string_field_has_a_length_limit``), decimal ranges from
``max_digits``/``decimal_places``, one account length (``ACCOUNT_MAX_LENGTH``) for
every account reference, timestamps within years 1..9999 once in UTC. Numbers,
dates and GUIDs are matched by ASCII-only patterns anchored with ``\\Z``: ``int()``,
``Decimal()`` and ``$`` accept more than a database or the next job does (Arabic-Indic
digits, a trailing line break).
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import models
from django.utils import timezone

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

from .report import ImportFileError, invalid, key_shown

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
    "addresses": Field("records", schema=CUSTOMER_ADDRESS),
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

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_CODE = re.compile(r"[A-Za-z0-9_-]+\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?\Z"
)
_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?\Z")
_TYPE_NAMES = {
    "str": "a string",
    "enum": "a string",
    "guid": "a GUID string",
    "date": "a date string YYYY-MM-DD",
    "datetime": "an ISO 8601 datetime string",
    "decimal": 'a decimal string such as "9.99"',
    "int": "an integer",
    "bool": "true or false",
    "record": "an object",
    "records": "a list",
    "strings": "a list of strings",
    "object": "an object",
}
_STRING_KINDS = frozenset({"str", "enum", "guid", "date", "datetime", "decimal"})


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def _one_of(choices: tuple[str, ...]) -> str:
    quoted = [f'"{c}"' for c in choices]
    if len(quoted) == 2:
        return f"must be {quoted[0]} or {quoted[1]}"
    return "must be one of " + ", ".join(quoted)


def parse_record(data: Any, path: str, schema: dict[str, Field]) -> Rec:
    """Checks one record against its schema and converts its values."""
    if not isinstance(data, dict):
        raise invalid(path, "must be an object", data)
    for name, value in data.items():
        if name not in schema:
            raise invalid(f"{path}.{key_shown(name)}", "unknown field", value)
    values: dict[str, Any] = {}
    nulls = set()
    for name, spec in schema.items():
        field_path = f"{path}.{name}"
        if name not in data:
            if spec.required:
                raise ImportFileError(f"{field_path}: required field is missing")
            continue
        raw = data[name]
        if raw is None:
            if spec.required:
                raise invalid(field_path, "is required", raw)
            nulls.add(name)
            if spec.kind == "str":
                values[name] = ""
            continue
        values[name] = convert(raw, field_path, spec)
    return Rec(path, values, frozenset(nulls))


def convert(raw: Any, path: str, spec: Field) -> Any:
    kind = spec.kind
    if kind in _STRING_KINDS and not isinstance(raw, str):
        raise invalid(path, f"must be {_TYPE_NAMES[kind]}", raw)
    if kind == "str":
        if spec.required and not spec.blank and not raw.strip():
            raise invalid(path, "must not be empty", raw)
        if spec.max_length is not None and len(raw) > spec.max_length:
            raise invalid(path, f"must be at most {spec.max_length} characters", raw)
        if spec.code and raw and not _CODE.match(raw):
            raise invalid(path, "must use letters, digits, '-' or '_' only", raw)
        if spec.key and not raw.isprintable():
            raise invalid(path, "must not contain control characters", raw)
        return raw
    if kind == "enum":
        if raw not in spec.choices:
            raise invalid(path, _one_of(spec.choices), raw)
        return raw
    if kind == "guid":
        if not _GUID.match(raw):
            raise invalid(path, "must be a GUID such as 5f0c2c8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f", raw)
        return uuid.UUID(raw)
    if kind == "date":
        return _date(raw, path)
    if kind == "datetime":
        return _datetime(raw, path)
    if kind == "decimal":
        return _decimal_value(raw, path, spec)
    if kind == "int":
        if type(raw) is not int:  # a JSON true/false is not an integer
            raise invalid(path, "must be an integer", raw)
        if (spec.min_value is not None and raw < spec.min_value) or (
            spec.max_value is not None and raw > spec.max_value
        ):
            raise invalid(path, f"must be between {spec.min_value} and {spec.max_value}", raw)
        return raw
    if kind == "bool":
        if type(raw) is not bool:
            raise invalid(path, "must be true or false", raw)
        return raw
    if kind == "record":
        return parse_record(raw, path, spec.schema)
    if kind == "records":
        if not isinstance(raw, list):
            raise invalid(path, "must be a list", raw)
        if spec.non_empty and not raw:
            raise invalid(path, "must not be empty", raw)
        return [parse_record(item, f"{path}[{i}]", spec.schema) for i, item in enumerate(raw)]
    if kind == "strings":
        if not isinstance(raw, list):
            raise invalid(path, "must be a list of strings", raw)
        for i, item in enumerate(raw):
            check_name(item, f"{path}[{i}]", spec.max_length)
        return raw
    if kind == "object":
        if not isinstance(raw, dict):
            raise invalid(path, "must be an object", raw)
        for name in raw:
            check_name(name, f"{path}.{key_shown(name)}", spec.max_length)
        return raw
    raise AssertionError(kind)


def check_name(value: Any, path: str, max_length: int | None) -> None:
    if not isinstance(value, str):
        raise invalid(path, "must be a string", value)
    if not value.strip():
        raise invalid(path, "must not be empty", value)
    if max_length is not None and len(value) > max_length:
        raise invalid(path, f"must be at most {max_length} characters", value)


def _date(raw: str, path: str) -> dt.date:
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise invalid(path, "must be a date YYYY-MM-DD", raw) from None


def _datetime(raw: str, path: str) -> dt.datetime:
    """An aware datetime in UTC; a time without offset is UTC. Years 1..9999 hold in
    UTC, where the databases keep it: "0001-01-01T00:00:00+01:00" is year 0 there."""
    try:
        if not _DATETIME.match(raw):
            raise ValueError(raw)
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            path, "must be an ISO 8601 datetime such as 2026-11-24T10:00:00Z", raw
        ) from None
    if timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise invalid(path, "out of range: must fall within years 1 to 9999 in UTC", raw) from None


def _decimal_value(raw: str, path: str, spec: Field) -> Decimal:
    if not _DECIMAL.match(raw):
        raise invalid(path, 'must be a decimal string such as "9.99"', raw)
    value = Decimal(raw)
    if spec.positive and not value > 0:
        raise invalid(path, "must be greater than 0", raw)
    if raw.startswith("-") and not spec.positive:
        raise invalid(path, "must not be negative", raw)
    try:
        DecimalValidator(spec.max_digits, spec.decimal_places)(value)
    except ValidationError as exc:
        reason = exc.messages[0].rstrip(".")
        raise invalid(path, f"out of range ({reason[0].lower()}{reason[1:]})", raw) from None
    return value
