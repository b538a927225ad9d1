"""Import file service (SPEC section 7): loads setup records into HQ and store data
into the channel databases, all or nothing.

The file is validated as a whole before anything is written: structure, types,
enums, GUIDs, dates, decimals, repeated ids and references (in the file or in the
database). A structural error rejects the file with one line naming the section,
index, field and offending value. Business errors (R5: unknown customer group,
attribute or affiliation, bad country, malformed email, empty name) are loaded
as-is into the channel database, as a real store would send them; HQ reports them.

Writes happen inside one transaction per touched database (HQ and each channel
alias), so any failure rolls back every database. Setup records are upserted by key;
channel records are keyed by their id, and an id already in the target channel
database is skipped and reported. Re-importing the same file adds nothing.

Every read and write is batched (``__in`` lookups in chunks, ``bulk_create``), so the
number of queries does not grow with the number of records beyond one per batch.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import models, transaction
from django.utils import timezone

from commerce.db import HQ, channel_aliases, is_channel_alias
from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
    TransactionType,
    code_validator,
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
    ContactType,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
    Party,
    display_name,
)

# SQLite allows 999 parameters per statement; stay under it for every ``__in``.
QUERY_CHUNK = 900
BATCH_SIZE = 1000

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


class ImportFileError(Exception):
    """The file cannot be imported; the message is one line naming where and why."""


@dataclass
class SectionCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


@dataclass
class ImportReport:
    """What an import did, per section (in SPEC order), and the ids it skipped.

    Sections besides the file's own: ``number_sequences``, ``customer_addresses``
    (HQ addresses of imported customers), ``async_customers``,
    ``async_customer_addresses``, ``async_addresses`` and ``transactions``.
    ``skipped_ids`` lists, per section, the channel ids already in their channel
    database.
    """

    counts: dict[str, SectionCounts] = field(default_factory=dict)
    skipped_ids: dict[str, list[str]] = field(default_factory=dict)

    def section(self, name: str) -> SectionCounts:
        return self.counts.setdefault(name, SectionCounts())

    def skip(self, name: str, key: Any) -> None:
        self.section(name).skipped += 1
        self.skipped_ids.setdefault(name, []).append(str(key))


# --- File structure ------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    kind: str  # str enum int bool guid date datetime decimal records strings object
    required: bool = False
    blank: bool = False  # a required string may be empty
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    schema: dict[str, "_Field"] | None = None
    code: bool = False
    min_value: int | None = None
    max_value: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None


@dataclass
class _Rec:
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


def _max_length(model: type[models.Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


def _str(model, name, *, required=False, blank=False, code=False) -> _Field:
    return _Field(
        "str", required=required, blank=blank, max_length=_max_length(model, name), code=code
    )


def _enum(choices, *, required=True) -> _Field:
    return _Field("enum", required=required, choices=tuple(choices))


def _decimal(model, name) -> _Field:
    model_field = model._meta.get_field(name)
    return _Field(
        "decimal",
        required=True,
        max_digits=model_field.max_digits,
        decimal_places=model_field.decimal_places,
    )


def _address_fields(model) -> dict[str, _Field]:
    return {
        "purpose": _enum(AddressPurpose.values),
        "street": _str(model, "street", required=True, blank=True),
        "city": _str(model, "city", required=True, blank=True),
        "state": _str(model, "state"),
        "zip": _str(model, "zip", required=True, blank=True),
        "country": _str(model, "country", required=True, blank=True),
        "primary": _Field("bool"),
    }


LEGAL_ENTITY = {
    "code": _str(LegalEntity, "code", required=True, code=True),
    "name": _str(LegalEntity, "name", required=True),
    "currency": _str(LegalEntity, "currency", required=True),
    "customer_account_prefix": _str(NumberSequence, "prefix"),
    "customer_account_digits": _Field("int", min_value=1, max_value=18),
}
CUSTOMER_GROUP = {
    "legal_entity": _str(LegalEntity, "code", required=True),
    "code": _str(CustomerGroup, "code", required=True),
    "name": _str(CustomerGroup, "name"),
}
CUSTOMER_ATTRIBUTE = {
    "name": _str(CustomerAttribute, "name", required=True),
    "type": _enum(AttributeType.values),
    "choices": _Field("strings", max_length=None),
}
AFFILIATION = {
    "name": _str(Affiliation, "name", required=True),
    "description": _str(Affiliation, "description"),
}
FUNCTIONALITY_PROFILE = {
    "code": _str(FunctionalityProfile, "code", required=True, code=True),
    "name": _str(FunctionalityProfile, "name"),
    "create_customer_in_async_mode": _Field("bool"),
}
CHANNEL_DATABASE = {
    "name": _str(ChannelDatabase, "name", required=True, code=True),
    "alias": _str(ChannelDatabase, "alias", required=True),
}
CUSTOMER_ADDRESS = {
    "location_id": _str(Address, "location_id", required=True),
    **_address_fields(Address),
}
CUSTOMER = {
    "account": _str(Customer, "account", required=True),
    "legal_entity": _str(LegalEntity, "code", required=True),
    "type": _enum(CustomerType.values),
    "first_name": _str(Party, "first_name"),
    "last_name": _str(Party, "last_name"),
    "organization_name": _str(Party, "organization_name"),
    "customer_group": _str(CustomerGroup, "code", required=True),
    "currency": _str(Customer, "currency"),
    "language": _str(Customer, "language"),
    "email": _str(Customer, "email"),
    "phone": _str(Customer, "phone"),
    "addresses": _Field("records", schema=CUSTOMER_ADDRESS),
}
STORE = {
    "number": _str(Store, "number", required=True, code=True),
    "name": _str(Store, "name", required=True),
    "legal_entity": _str(LegalEntity, "code", required=True),
    "channel_database": _str(ChannelDatabase, "name", required=True),
    "functionality_profile": _str(FunctionalityProfile, "code", required=True),
    "default_customer": _str(Customer, "account", required=True),
    "offline": _Field("bool"),
}
ASYNC_CUSTOMER_ADDRESS = {
    "async_id": _Field("guid", required=True),
    **_address_fields(AsyncCustomerAddress),
}
ASYNC_CUSTOMER_CONTACT = {
    "type": _enum(ContactType.values),
    "value": _str(AsyncCustomerContact, "value", required=True, blank=True),
    "primary": _Field("bool"),
}
ASYNC_CUSTOMER = {
    "async_id": _Field("guid", required=True),
    "type": _enum(CustomerType.values),
    # The names the type needs are required (checked in _check_file); an empty one is
    # a business error (R5) that HQ reports, as it would for a record a real store sent.
    "first_name": _str(AsyncCustomer, "first_name"),
    "last_name": _str(AsyncCustomer, "last_name"),
    "organization_name": _str(AsyncCustomer, "organization_name"),
    "email": _str(AsyncCustomer, "email"),
    "phone": _str(AsyncCustomer, "phone"),
    "customer_group": _str(AsyncCustomer, "customer_group"),
    "currency": _str(AsyncCustomer, "currency"),
    "language": _str(AsyncCustomer, "language"),
    "created_at": _Field("datetime"),
    "addresses": _Field("records", schema=ASYNC_CUSTOMER_ADDRESS),
    "contacts": _Field("records", schema=ASYNC_CUSTOMER_CONTACT),
    "attributes": _Field("object", max_length=_max_length(AsyncCustomerAttributeValue, "name")),
    "affiliations": _Field("strings", max_length=_max_length(AsyncCustomerAffiliation, "name")),
}
ASYNC_ADDRESS = {
    "async_id": _Field("guid", required=True),
    "customer": _str(AsyncAddress, "customer_account", required=True),
    **_address_fields(AsyncAddress),
    "created_at": _Field("datetime"),
}
TRANSACTION_LINE = {
    "item": _str(ChannelSalesLine, "item", required=True),
    "quantity": _decimal(ChannelSalesLine, "quantity"),
    "unit_price": _decimal(ChannelSalesLine, "unit_price"),
}
TRANSACTION = {
    "id": _str(ChannelSalesTransaction, "transaction_id", required=True),
    "type": _enum(TransactionType.values),
    "business_date": _Field("date", required=True),
    "customer": _str(ChannelSalesTransaction, "customer_account"),
    "async_customer": _Field("guid"),
    "delivery_address": _str(ChannelSalesTransaction, "delivery_address"),
    "lines": _Field("records", required=True, schema=TRANSACTION_LINE),
}
CHANNEL_ENTRY = {
    "store": _str(Store, "number", required=True),
    "async_customers": _Field("records", schema=ASYNC_CUSTOMER),
    "async_addresses": _Field("records", schema=ASYNC_ADDRESS),
    "transactions": _Field("records", schema=TRANSACTION),
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

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
_TYPE_NAMES = {
    "str": "a string",
    "enum": "a string",
    "guid": "a GUID string",
    "date": "a date string YYYY-MM-DD",
    "datetime": "an ISO 8601 datetime string",
    "decimal": 'a decimal string such as "9.99"',
    "int": "an integer",
    "bool": "true or false",
    "records": "a list",
    "strings": "a list of strings",
    "object": "an object",
}


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


def _invalid(path: str, reason: str, value: Any) -> ImportFileError:
    return ImportFileError(f"{path}: {reason}, got {_show(value)}")


def _unknown(path: str, what: str, value: Any) -> ImportFileError:
    return ImportFileError(f"{path}: unknown {what} {_show(value)}")


def _one_of(choices: tuple[str, ...]) -> str:
    quoted = [f'"{c}"' for c in choices]
    if len(quoted) == 2:
        return f"must be {quoted[0]} or {quoted[1]}"
    return "must be one of " + ", ".join(quoted)


def _parse_record(data: Any, path: str, schema: dict[str, _Field]) -> _Rec:
    if not isinstance(data, dict):
        raise _invalid(path, "must be an object", data)
    for name, value in data.items():
        if name not in schema:
            raise _invalid(f"{path}.{name}", "unknown field", value)
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
                raise _invalid(field_path, "is required", raw)
            nulls.add(name)
            if spec.kind == "str":
                values[name] = ""
            continue
        values[name] = _convert(raw, field_path, spec)
    return _Rec(path, values, frozenset(nulls))


def _convert(raw: Any, path: str, spec: _Field) -> Any:
    kind = spec.kind
    if kind in {"str", "enum", "guid", "date", "datetime", "decimal"} and not isinstance(raw, str):
        raise _invalid(path, f"must be {_TYPE_NAMES[kind]}", raw)
    if kind == "str":
        if spec.required and not spec.blank and not raw.strip():
            raise _invalid(path, "must not be empty", raw)
        if spec.max_length is not None and len(raw) > spec.max_length:
            raise _invalid(path, f"must be at most {spec.max_length} characters", raw)
        if spec.code and raw and not code_validator.regex.search(raw):
            raise _invalid(path, "must use letters, digits, '-' or '_' only", raw)
        return raw
    if kind == "enum":
        if raw not in spec.choices:
            raise _invalid(path, _one_of(spec.choices), raw)
        return raw
    if kind == "guid":
        if not _GUID.match(raw):
            raise _invalid(path, "must be a GUID such as 5f0c2c8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f", raw)
        return uuid.UUID(raw)
    if kind == "date":
        try:
            if not _DATE.match(raw):
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise _invalid(path, "must be a date YYYY-MM-DD", raw) from None
    if kind == "datetime":
        try:
            if not _DATETIME.match(raw):
                raise ValueError(raw)
            value = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise _invalid(
                path, "must be an ISO 8601 datetime such as 2026-11-24T10:00:00Z", raw
            ) from None
        return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)
    if kind == "decimal":
        if not _DECIMAL.match(raw):
            raise _invalid(path, 'must be a decimal string such as "9.99"', raw)
        value = Decimal(raw)
        try:
            DecimalValidator(spec.max_digits, spec.decimal_places)(value)
        except ValidationError as exc:
            reason = exc.messages[0].rstrip(".")
            raise _invalid(path, f"out of range ({reason[0].lower()}{reason[1:]})", raw) from None
        return value
    if kind == "int":
        if type(raw) is not int:  # a JSON true/false is not an integer
            raise _invalid(path, "must be an integer", raw)
        if (spec.min_value is not None and raw < spec.min_value) or (
            spec.max_value is not None and raw > spec.max_value
        ):
            raise _invalid(path, f"must be between {spec.min_value} and {spec.max_value}", raw)
        return raw
    if kind == "bool":
        if type(raw) is not bool:
            raise _invalid(path, "must be true or false", raw)
        return raw
    if kind == "records":
        if not isinstance(raw, list):
            raise _invalid(path, "must be a list", raw)
        return [_parse_record(item, f"{path}[{i}]", spec.schema) for i, item in enumerate(raw)]
    if kind == "strings":
        if not isinstance(raw, list):
            raise _invalid(path, "must be a list of strings", raw)
        for i, item in enumerate(raw):
            _check_name(item, f"{path}[{i}]", spec.max_length)
        return raw
    if kind == "object":
        if not isinstance(raw, dict):
            raise _invalid(path, "must be an object", raw)
        for name in raw:
            _check_name(name, f"{path}.{name}", spec.max_length)
        return raw
    raise AssertionError(kind)


def _check_name(value: Any, path: str, max_length: int | None) -> None:
    if not isinstance(value, str):
        raise _invalid(path, "must be a string", value)
    if not value.strip():
        raise _invalid(path, "must not be empty", value)
    if max_length is not None and len(value) > max_length:
        raise _invalid(path, f"must be at most {max_length} characters", value)


class _Unique:
    """Remembers keys seen in the file and rejects the second occurrence."""

    def __init__(self, what: str):
        self.what = what
        self.seen: dict[Hashable, str] = {}

    def add(self, key: Hashable, path: str, shown: Any) -> None:
        first = self.seen.setdefault(key, path)
        if first != path:
            raise ImportFileError(f"{path}: repeated {self.what} {_show(shown)} (first at {first})")


def _parse(payload: Any) -> dict[str, list[_Rec]]:
    """Checks the file's structure without touching a database."""
    if not isinstance(payload, dict):
        raise _invalid("file", "must be a JSON object", payload)
    for name in payload:
        if name not in SCHEMAS:
            raise ImportFileError(
                f"{name}: unknown section {_show(name)} (sections: {', '.join(SECTIONS)})"
            )
    parsed: dict[str, list[_Rec]] = {}
    for section in SECTIONS:
        raw = payload.get(section)
        if raw is None:
            parsed[section] = []
            continue
        if not isinstance(raw, list):
            raise _invalid(section, "must be a list", raw)
        parsed[section] = [
            _parse_record(item, f"{section}[{i}]", SCHEMAS[section]) for i, item in enumerate(raw)
        ]
    _check_file(parsed)
    return parsed


def _check_file(parsed: dict[str, list[_Rec]]) -> None:
    """Rules across fields and records that the file alone decides."""
    keys = _Unique("legal entity code")
    for rec in parsed["legal_entities"]:
        keys.add(rec["code"], rec.at("code"), rec["code"])
    keys = _Unique("customer group")
    for rec in parsed["customer_groups"]:
        keys.add((rec["legal_entity"], rec["code"]), rec.at("code"), rec["code"])
    keys = _Unique("attribute name")
    for rec in parsed["customer_attributes"]:
        keys.add(rec["name"], rec.at("name"), rec["name"])
        if rec["type"] == AttributeType.CHOICE and not rec.get("choices"):
            raise _invalid(
                rec.at("choices"), "must list the values of a choice attribute", rec.get("choices")
            )
    keys = _Unique("affiliation name")
    for rec in parsed["affiliations"]:
        keys.add(rec["name"], rec.at("name"), rec["name"])
    keys = _Unique("functionality profile code")
    for rec in parsed["functionality_profiles"]:
        keys.add(rec["code"], rec.at("code"), rec["code"])
    keys, aliases = _Unique("channel database name"), _Unique("channel database alias")
    for rec in parsed["channel_databases"]:
        keys.add(rec["name"], rec.at("name"), rec["name"])
        if not is_channel_alias(rec["alias"]):
            raise _invalid(
                rec.at("alias"),
                "not a configured channel database alias "
                f"(configured: {', '.join(channel_aliases())})",
                rec["alias"],
            )
        aliases.add(rec["alias"], rec.at("alias"), rec["alias"])

    keys, locations = _Unique("customer account"), _Unique("location id")
    for rec in parsed["customers"]:
        keys.add((rec["legal_entity"], rec["account"]), rec.at("account"), rec["account"])
        # HQ holds a party name for every customer (a database constraint).
        _require_names(rec, blank=False)
        primary = None
        for address in rec.get("addresses", []):
            locations.add(address["location_id"], address.at("location_id"), address["location_id"])
            if address.get("primary"):
                if primary is not None:
                    raise _invalid(
                        address.at("primary"),
                        f"a second primary address (first at {primary})",
                        True,
                    )
                primary = address.path
    keys = _Unique("store number")
    for rec in parsed["stores"]:
        keys.add(rec["number"], rec.at("number"), rec["number"])

    customer_ids = _Unique("async customer id")
    address_ids = _Unique("async address id")
    transaction_ids = _Unique("transaction id")
    for entry in parsed["channel"]:
        for customer in entry.get("async_customers", []):
            customer_ids.add(customer["async_id"], customer.at("async_id"), customer["async_id"])
            _require_names(customer, blank=True)
            for address in customer.get("addresses", []):
                address_ids.add(address["async_id"], address.at("async_id"), address["async_id"])
            names = _Unique("affiliation")
            for i, name in enumerate(customer.get("affiliations", [])):
                names.add(name, f"{customer.at('affiliations')}[{i}]", name)
        for address in entry.get("async_addresses", []):
            address_ids.add(address["async_id"], address.at("async_id"), address["async_id"])
        for txn in entry.get("transactions", []):
            transaction_ids.add(txn["id"], txn.at("id"), txn["id"])
            if txn.get("customer") and txn.get("async_customer"):
                raise _invalid(
                    txn.at("async_customer"),
                    f'set together with customer "{txn["customer"]}"; use one of them',
                    txn["async_customer"],
                )


def _require_names(rec: _Rec, *, blank: bool) -> None:
    """The names a customer's type needs must be given (first and last name of a person,
    the organization name of an organization); ``blank`` lets them be empty strings."""
    needed = (
        ("organization_name",)
        if rec["type"] == CustomerType.ORGANIZATION
        else ("first_name", "last_name")
    )
    for name in needed:
        if not rec.given(name):
            raise _invalid(rec.at(name), f"is required for a {rec['type']}", None)
        if not blank and not rec[name].strip():
            raise _invalid(rec.at(name), f"is required for a {rec['type']}", rec[name])


# --- References to the database ---------------------------------------------------


def _chunks(values: Iterable, size: int = QUERY_CHUNK) -> Iterator[list]:
    chunk: list = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rows(queryset: models.QuerySet, lookup: str, values: Iterable, *fields: str) -> list:
    """``values_list(*fields)`` of the rows whose ``lookup`` is in ``values``, chunked."""
    found: list = []
    for chunk in _chunks(sorted(set(values))):
        found.extend(queryset.filter(**{f"{lookup}__in": chunk}).values_list(*fields))
    return found


def _check_references(parsed: dict[str, list[_Rec]]) -> list[str]:
    """Checks every reference against the file and HQ; returns each channel entry's alias."""
    legal_entities = {rec["code"] for rec in parsed["legal_entities"]}
    referring = parsed["customer_groups"] + parsed["customers"] + parsed["stores"]
    wanted = {rec["legal_entity"] for rec in referring} - legal_entities
    legal_entities |= {code for (code,) in _rows(LegalEntity.objects, "code", wanted, "code")}

    def require_legal_entity(rec: _Rec) -> None:
        if rec["legal_entity"] not in legal_entities:
            raise _unknown(rec.at("legal_entity"), "legal entity", rec["legal_entity"])

    for rec in parsed["customer_groups"]:
        require_legal_entity(rec)

    groups = {(rec["legal_entity"], rec["code"]) for rec in parsed["customer_groups"]}
    wanted = {(rec["legal_entity"], rec["customer_group"]) for rec in parsed["customers"]}
    groups |= set(
        _rows(
            CustomerGroup.objects,
            "code",
            {c for _, c in wanted - groups},
            "legal_entity__code",
            "code",
        )
    )
    customers = {(rec["legal_entity"], rec["account"]) for rec in parsed["customers"]}
    for rec in parsed["customers"]:
        require_legal_entity(rec)
        if (rec["legal_entity"], rec["customer_group"]) not in groups:
            raise _unknown(rec.at("customer_group"), "customer group", rec["customer_group"])
    _check_location_owners(parsed["customers"])

    # Channel databases are few (each needs a configured alias): read them all.
    channel_databases = dict(ChannelDatabase.objects.values_list("name", "alias"))
    file_names = {rec["name"] for rec in parsed["channel_databases"]}
    for rec in parsed["channel_databases"]:
        for name, alias in channel_databases.items():
            if alias == rec["alias"] and name not in file_names:
                raise _invalid(
                    rec.at("alias"), f'already used by channel database "{name}"', rec["alias"]
                )
    channel_databases.update({rec["name"]: rec["alias"] for rec in parsed["channel_databases"]})

    profiles = {rec["code"] for rec in parsed["functionality_profiles"]}
    wanted = {rec["functionality_profile"] for rec in parsed["stores"]} - profiles
    profiles |= {c for (c,) in _rows(FunctionalityProfile.objects, "code", wanted, "code")}
    wanted = {(rec["legal_entity"], rec["default_customer"]) for rec in parsed["stores"]}
    customers |= set(
        _rows(
            Customer.objects,
            "account",
            {account for _, account in wanted - customers},
            "legal_entity__code",
            "account",
        )
    )
    store_databases = {}
    for rec in parsed["stores"]:
        require_legal_entity(rec)
        if rec["channel_database"] not in channel_databases:
            raise _unknown(rec.at("channel_database"), "channel database", rec["channel_database"])
        if rec["functionality_profile"] not in profiles:
            raise _unknown(
                rec.at("functionality_profile"),
                "functionality profile",
                rec["functionality_profile"],
            )
        if (rec["legal_entity"], rec["default_customer"]) not in customers:
            raise _unknown(
                rec.at("default_customer"),
                f"customer of legal entity {rec['legal_entity']}",
                rec["default_customer"],
            )
        store_databases[rec["number"]] = rec["channel_database"]

    wanted = {entry["store"] for entry in parsed["channel"]} - set(store_databases)
    store_databases.update(
        _rows(Store.objects, "number", wanted, "number", "channel_database__name")
    )
    aliases = []
    for entry in parsed["channel"]:
        if entry["store"] not in store_databases:
            raise _unknown(entry.at("store"), "store", entry["store"])
        database = store_databases[entry["store"]]
        alias = channel_databases[database]
        if not is_channel_alias(alias):
            raise _invalid(
                entry.at("store"),
                f'store\'s channel database "{database}" has alias "{alias}", '
                "which is not configured",
                entry["store"],
            )
        aliases.append(alias)
    return aliases


def _check_location_owners(customers: list[_Rec]) -> None:
    """A location id is unique at HQ: it may not move to another customer."""
    owner_of = {
        address["location_id"]: (rec, address)
        for rec in customers
        for address in rec.get("addresses", [])
    }
    rows = _rows(
        Address.objects,
        "location_id",
        owner_of,
        "location_id",
        "party__customer__legal_entity__code",
        "party__customer__account",
    )
    for location_id, legal_entity, account in rows:
        rec, address = owner_of[location_id]
        if (legal_entity, account) != (rec["legal_entity"], rec["account"]):
            owner = f'customer "{account}"' if account else "a party without customer"
            raise _invalid(
                address.at("location_id"), f"already the address of {owner}", location_id
            )


# --- Writes -----------------------------------------------------------------------


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
    key: Callable[[Any], Hashable],
    counts: SectionCounts,
) -> dict[Hashable, Any]:
    """Creates or updates HQ rows by key (``lookup`` narrows the read); returns key -> row."""
    found: dict[Hashable, Any] = {}
    for chunk in _chunks(sorted({values[lookup] for values in rows.values()})):
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
    model.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if changed:
        model.objects.bulk_update(changed, sorted(changed_fields), batch_size=BATCH_SIZE)
    counts.created += len(new)
    counts.updated += len(changed)
    return found


def _ids(model: type[models.Model], lookup: str, values: Iterable) -> dict[Any, int]:
    return {value: pk for value, pk in _rows(model.objects, lookup, values, lookup, "pk")}


def _write_legal_entities(recs: list[_Rec], report: ImportReport) -> None:
    entities = _upsert(
        model=LegalEntity,
        rows={rec["code"]: rec.present("code", "name", "currency") for rec in recs},
        lookup="code",
        key=lambda obj: obj.code,
        counts=report.section("legal_entities"),
    )
    # The customer number sequence: prefix and digits follow the file; next_number is
    # never lowered (accounts may already have been taken from it).
    rows = {}
    for rec in recs:
        values = {"legal_entity_id": entities[rec["code"]].pk}
        if "customer_account_prefix" in rec.values:
            values["prefix"] = rec["customer_account_prefix"]
        if "customer_account_digits" in rec.values:
            values["digits"] = rec["customer_account_digits"]
        rows[values["legal_entity_id"]] = values
    _upsert(
        model=NumberSequence,
        rows=rows,
        lookup="legal_entity_id",
        key=lambda obj: obj.legal_entity_id,
        counts=report.section("number_sequences"),
    )


def _write_customer_groups(recs: list[_Rec], report: ImportReport) -> None:
    entities = _ids(LegalEntity, "code", {rec["legal_entity"] for rec in recs})
    rows = {}
    for rec in recs:
        values = {"legal_entity_id": entities[rec["legal_entity"]], **rec.present("code", "name")}
        rows[(values["legal_entity_id"], rec["code"])] = values
    _upsert(
        model=CustomerGroup,
        rows=rows,
        lookup="code",
        key=lambda obj: (obj.legal_entity_id, obj.code),
        counts=report.section("customer_groups"),
    )


def _write_by_key(
    recs: list[_Rec], report: ImportReport, *, section: str, model, key: str, fields: tuple
) -> None:
    _upsert(
        model=model,
        rows={rec[key]: rec.present(key, *fields) for rec in recs},
        lookup=key,
        key=lambda obj: getattr(obj, key),
        counts=report.section(section),
    )


def _write_customers(recs: list[_Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = {
        code: (pk, currency)
        for code, pk, currency in _rows(
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
        for le_id, code, pk in _rows(
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
    for chunk in _chunks(sorted({rec["account"] for rec in recs})):
        for customer in Customer.objects.filter(account__in=chunk).select_related("party"):
            if (customer.legal_entity_id, customer.account) in wanted:
                existing[(customer.legal_entity_id, customer.account)] = customer

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
            **rec.present("currency", "language", "email", "phone"),
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
                customer_fields.update([*customer_diff, "version", "modified_at"])
                changed_customers.append(customer)
            else:
                counts.unchanged += 1
        customers[key] = customer

    Party.objects.bulk_create(new_parties, batch_size=BATCH_SIZE)
    for party, customer in zip(new_parties, new_customers, strict=True):
        customer.party_id = party.pk
    Customer.objects.bulk_create(new_customers, batch_size=BATCH_SIZE)
    if changed_parties:
        Party.objects.bulk_update(changed_parties, sorted(party_fields), batch_size=BATCH_SIZE)
    if changed_customers:
        Customer.objects.bulk_update(
            changed_customers, sorted(customer_fields), batch_size=BATCH_SIZE
        )
    counts.created += len(new_customers)
    counts.updated += len(changed_customers)
    _write_customer_addresses(wanted, customers, report)


def _party_name(party: Party) -> str:
    return display_name(
        type=party.type,
        first_name=party.first_name,
        last_name=party.last_name,
        organization_name=party.organization_name,
    )


def _write_customer_addresses(
    wanted: dict[tuple, _Rec], customers: dict[tuple, Customer], report: ImportReport
) -> None:
    rows, primary_of_party = {}, {}
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
            rows[address["location_id"]] = values
    if not rows:
        return
    # One primary address per party (a constraint): demote the old primary first.
    demote = [
        pk
        for pk, party_id, location_id in _rows(
            Address.objects.filter(is_primary=True),
            "party_id",
            primary_of_party,
            "pk",
            "party_id",
            "location_id",
        )
        if location_id != primary_of_party[party_id]
    ]
    for chunk in _chunks(demote):
        Address.objects.filter(pk__in=chunk).update(is_primary=False)
    _upsert(
        model=Address,
        rows=rows,
        lookup="location_id",
        key=lambda obj: obj.location_id,
        counts=report.section("customer_addresses"),
    )


def _write_stores(recs: list[_Rec], report: ImportReport) -> None:
    entities = _ids(LegalEntity, "code", {rec["legal_entity"] for rec in recs})
    databases = _ids(ChannelDatabase, "name", {rec["channel_database"] for rec in recs})
    profiles = _ids(FunctionalityProfile, "code", {rec["functionality_profile"] for rec in recs})
    customers = {
        (le_id, account): pk
        for le_id, account, pk in _rows(
            Customer.objects,
            "account",
            {rec["default_customer"] for rec in recs},
            "legal_entity_id",
            "account",
            "pk",
        )
    }
    rows = {}
    for rec in recs:
        le_id = entities[rec["legal_entity"]]
        rows[rec["number"]] = {
            **rec.present("number", "name", "offline"),
            "legal_entity_id": le_id,
            "channel_database_id": databases[rec["channel_database"]],
            "functionality_profile_id": profiles[rec["functionality_profile"]],
            "default_customer_id": customers[(le_id, rec["default_customer"])],
        }
    _upsert(
        model=Store,
        rows=rows,
        lookup="number",
        key=lambda obj: obj.number,
        counts=report.section("stores"),
    )


def _existing(model: type[models.Model], alias: str, lookup: str, values: Iterable) -> set:
    return {value for (value,) in _rows(model.objects.using(alias), lookup, values, lookup)}


def _address_values(rec: _Rec) -> dict[str, Any]:
    return {
        **rec.present("purpose", "street", "city", "state", "zip", "country"),
        "is_primary": rec.get("primary", False),
    }


def _write_channel(alias: str, entries: list[_Rec], report: ImportReport, now: dt.datetime) -> None:
    """Writes the async customers, async addresses and transactions of one channel database."""
    _write_async_customers(
        alias,
        [(entry["store"], rec) for entry in entries for rec in entry.get("async_customers", [])],
        report,
        now,
    )
    _write_async_addresses(
        alias,
        [(entry["store"], rec) for entry in entries for rec in entry.get("async_addresses", [])],
        report,
        now,
    )
    _write_transactions(
        alias,
        [(entry["store"], rec) for entry in entries for rec in entry.get("transactions", [])],
        report,
    )


def _existing_address_ids(alias: str, ids: set) -> set:
    return _existing(AsyncCustomerAddress, alias, "async_address_id", ids) | _existing(
        AsyncAddress, alias, "async_address_id", ids
    )


def _write_async_customers(
    alias: str, recs: list[tuple[str, _Rec]], report: ImportReport, now: dt.datetime
) -> None:
    if not recs:
        return
    existing = _existing(
        AsyncCustomer, alias, "async_customer_id", {r["async_id"] for _, r in recs}
    )
    address_ids = {a["async_id"] for _, r in recs for a in r.get("addresses", [])}
    existing_addresses = _existing_address_ids(alias, address_ids)
    new = []
    for store, rec in recs:
        if rec["async_id"] in existing:
            report.skip("async_customers", rec["async_id"])
            continue
        customer = AsyncCustomer(
            async_customer_id=rec["async_id"],
            store_number=store,
            created_at=rec.get("created_at", now),
            **rec.present(
                "type",
                "first_name",
                "last_name",
                "organization_name",
                "email",
                "phone",
                "customer_group",
                "currency",
                "language",
            ),
        )
        new.append((customer, rec))
    AsyncCustomer.objects.using(alias).bulk_create([c for c, _ in new], batch_size=BATCH_SIZE)
    report.section("async_customers").created += len(new)

    addresses, contacts, attributes, affiliations = [], [], [], []
    for customer, rec in new:
        for address in rec.get("addresses", []):
            if address["async_id"] in existing_addresses:
                report.skip("async_customer_addresses", address["async_id"])
                continue
            addresses.append(
                AsyncCustomerAddress(
                    async_customer_id=customer.pk,
                    async_address_id=address["async_id"],
                    **_address_values(address),
                )
            )
        for contact in rec.get("contacts", []):
            contacts.append(
                AsyncCustomerContact(
                    async_customer_id=customer.pk,
                    type=contact["type"],
                    value=contact["value"],
                    is_primary=contact.get("primary", False),
                )
            )
        for name, value in rec.get("attributes", {}).items():
            attributes.append(
                AsyncCustomerAttributeValue(async_customer_id=customer.pk, name=name, value=value)
            )
        for name in rec.get("affiliations", []):
            affiliations.append(AsyncCustomerAffiliation(async_customer_id=customer.pk, name=name))
    for model, rows in (
        (AsyncCustomerAddress, addresses),
        (AsyncCustomerContact, contacts),
        (AsyncCustomerAttributeValue, attributes),
        (AsyncCustomerAffiliation, affiliations),
    ):
        model.objects.using(alias).bulk_create(rows, batch_size=BATCH_SIZE)
    report.section("async_customer_addresses").created += len(addresses)


def _write_async_addresses(
    alias: str, recs: list[tuple[str, _Rec]], report: ImportReport, now: dt.datetime
) -> None:
    if not recs:
        return
    existing = _existing_address_ids(alias, {rec["async_id"] for _, rec in recs})
    new = []
    for store, rec in recs:
        if rec["async_id"] in existing:
            report.skip("async_addresses", rec["async_id"])
            continue
        new.append(
            AsyncAddress(
                async_address_id=rec["async_id"],
                store_number=store,
                customer_account=rec["customer"],
                created_at=rec.get("created_at", now),
                **_address_values(rec),
            )
        )
    AsyncAddress.objects.using(alias).bulk_create(new, batch_size=BATCH_SIZE)
    report.section("async_addresses").created += len(new)


def _write_transactions(alias: str, recs: list[tuple[str, _Rec]], report: ImportReport) -> None:
    if not recs:
        return
    existing = _existing(
        ChannelSalesTransaction, alias, "transaction_id", {r["id"] for _, r in recs}
    )
    new = []
    for store, rec in recs:
        if rec["id"] in existing:
            report.skip("transactions", rec["id"])
            continue
        txn = ChannelSalesTransaction(
            transaction_id=rec["id"],
            store_number=store,
            type=rec["type"],
            business_date=rec["business_date"],
            customer_account=rec.get("customer") or None,
            async_customer_id=rec.get("async_customer"),
            delivery_address=rec.get("delivery_address", ""),
        )
        new.append((txn, rec))
    ChannelSalesTransaction.objects.using(alias).bulk_create(
        [txn for txn, _ in new], batch_size=BATCH_SIZE
    )
    lines = [
        ChannelSalesLine(
            transaction_id=txn.pk,
            line_number=number,
            item=line["item"],
            quantity=line["quantity"],
            unit_price=line["unit_price"],
        )
        for txn, rec in new
        for number, line in enumerate(rec["lines"], start=1)
    ]
    ChannelSalesLine.objects.using(alias).bulk_create(lines, batch_size=BATCH_SIZE)
    report.section("transactions").created += len(new)


def _write(
    parsed: dict[str, list[_Rec]], aliases: list[str], report: ImportReport, now: dt.datetime
) -> None:
    if parsed["legal_entities"]:
        _write_legal_entities(parsed["legal_entities"], report)
    if parsed["customer_groups"]:
        _write_customer_groups(parsed["customer_groups"], report)
    for section, model, key, fields in (
        ("customer_attributes", CustomerAttribute, "name", ("type", "choices")),
        ("affiliations", Affiliation, "name", ("description",)),
        (
            "functionality_profiles",
            FunctionalityProfile,
            "code",
            ("name", "create_customer_in_async_mode"),
        ),
        ("channel_databases", ChannelDatabase, "name", ("alias",)),
    ):
        if parsed[section]:
            _write_by_key(
                parsed[section], report, section=section, model=model, key=key, fields=fields
            )
    if parsed["customers"]:
        _write_customers(parsed["customers"], report, now)
    if parsed["stores"]:
        _write_stores(parsed["stores"], report)
    by_alias: dict[str, list[_Rec]] = {}
    for alias, entry in zip(aliases, parsed["channel"], strict=True):
        by_alias.setdefault(alias, []).append(entry)
    for alias, entries in by_alias.items():
        _write_channel(alias, entries, report, now)


# --- Entry points -------------------------------------------------------------------


def data_import(*, payload: dict) -> ImportReport:
    """Loads an import file's data into HQ and the channel databases, all or nothing.

    Safe to re-run: setup records are upserted, channel ids already present are skipped.
    Raises ImportFileError (nothing written) when the file is not valid.
    """
    parsed = _parse(payload)
    report = ImportReport()
    now = timezone.now()
    with ExitStack() as stack:
        stack.enter_context(transaction.atomic(using=HQ))
        aliases = _check_references(parsed)
        # One transaction per database the file touches; leaving the stack commits
        # them all, an exception rolls them all back.
        for alias in sorted(set(aliases)):
            stack.enter_context(transaction.atomic(using=alias))
        _write(parsed, aliases, report, now)
    return report


def data_import_file(*, path: str | Path) -> ImportReport:
    """Reads a JSON import file and loads it with ``data_import`` (same guarantees)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    return data_import(payload=payload)
