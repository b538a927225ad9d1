"""Checking one import record against its schema (``schema``) and converting its
values: types, required and blank strings, lengths, codes, choices, ranges, dates and
timestamps (within years 1..9999 once in UTC), decimals and GUIDs, matched by ASCII-only
patterns anchored with ``\\Z``. An error names the record's path, field and value.
"""

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.utils import timezone

from .report import ImportFileError, invalid, key_shown
from .schema import Field, Rec

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
