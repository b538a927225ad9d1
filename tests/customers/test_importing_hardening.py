"""import_data against messy store data: what no database can store is rejected in one
line naming section, index, field and value; the HQ commit comes first; the file
streams and is read twice (check, write)."""

import datetime
import io
import json
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections

from commerce.models import (
    ACCOUNT_MAX_LENGTH,
    ChannelSalesLine,
    ChannelSalesTransaction,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers import importing
from customers.importing import (
    ImportFileError,
    ImportIncompleteError,
    checks_references,
    data_import,
    data_import_file,
    files,
    schema,
    writing_channel,
)
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    Customer,
    Party,
)
from customers.services.children import CHANNEL_CHILDREN, CHILD_FIELDS
from tests.customers.test_importing import (
    assert_nothing_written,
    async_customer,
    guid,
    row_counts,
    sales_transaction,
    set_at,
    setup_sections,
    valid_file,
)

pytestmark = pytest.mark.django_db(databases="__all__")


def _rejected(payload) -> str:
    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1, message
    assert_nothing_written()
    return message


def _rejected_file(tmp_path, text: str | bytes) -> str:
    path = tmp_path / "data.json"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    with pytest.raises(ImportFileError) as excinfo:
        data_import_file(path=path)
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1, message
    assert message.isprintable(), message
    assert_nothing_written()
    return message.replace(str(path), "FILE")


def _file_text(payload: dict, **replace: str) -> str:
    """JSON text of ``payload`` with each marker string replaced by raw JSON text (for
    what json.dumps cannot write: NaN where it stands, a lone surrogate escape...)."""
    text = json.dumps(payload)
    for marker, raw in replace.items():
        text = text.replace(json.dumps(marker), raw)
    return text


# --- Field limits --------------------------------------------------------------------


def _fields(schema_: dict, where: str):
    for name, spec in schema_.items():
        yield f"{where}.{name}", spec
        if spec.schema:
            yield from _fields(spec.schema, f"{where}.{name}")


def test_every_string_field_has_a_length_limit():
    fields = [item for section, s in schema.SCHEMAS.items() for item in _fields(s, section)]

    unbounded = [
        where
        for where, spec in fields
        if spec.kind in {"str", "strings", "object"} and spec.max_length is None
    ]

    assert len(fields) > 80
    assert unbounded == []


def test_every_account_fits_the_one_account_length():
    transaction_account = ChannelSalesTransaction._meta.get_field("customer_account").max_length

    assert schema.CUSTOMER["account"].max_length == ACCOUNT_MAX_LENGTH
    assert schema.STORE["default_customer"].max_length == ACCOUNT_MAX_LENGTH
    assert schema.ASYNC_ADDRESS["customer"].max_length == ACCOUNT_MAX_LENGTH
    assert schema.TRANSACTION["customer"].max_length == min(ACCOUNT_MAX_LENGTH, transaction_account)


TRANSACTION_ACCOUNT_LENGTH = min(
    ACCOUNT_MAX_LENGTH, ChannelSalesTransaction._meta.get_field("customer_account").max_length
)
LINE = ["channel", 0, "transactions", 0, "lines", 0]
CREATED_AT = ["channel", 0, "async_customers", 0, "created_at"]

LIMITS = [
    pytest.param(
        set_at(["customers", 0, "email"], "a" * 255),
        f'customers[0].email: must be at most 254 characters, got "{"a" * 76}…',
        id="string-longer-than-its-column",
    ),
    pytest.param(
        set_at(["customers", 0, "account"], "C" * (ACCOUNT_MAX_LENGTH + 1)),
        f"customers[0].account: must be at most {ACCOUNT_MAX_LENGTH} characters, "
        f'got "{"C" * (ACCOUNT_MAX_LENGTH + 1)}"',
        id="account-longer-than-the-account-length",
    ),
    pytest.param(
        set_at(["channel", 0, "async_addresses", 0, "customer"], "C" * (ACCOUNT_MAX_LENGTH + 1)),
        f"channel[0].async_addresses[0].customer: must be at most {ACCOUNT_MAX_LENGTH} "
        f'characters, got "{"C" * (ACCOUNT_MAX_LENGTH + 1)}"',
        id="async-address-customer-longer-than-the-account-length",
    ),
    pytest.param(
        set_at(
            ["channel", 1, "transactions", 0, "customer"], "C" * (TRANSACTION_ACCOUNT_LENGTH + 1)
        ),
        f"channel[1].transactions[0].customer: must be at most {TRANSACTION_ACCOUNT_LENGTH} "
        f'characters, got "{"C" * (TRANSACTION_ACCOUNT_LENGTH + 1)}"',
        id="transaction-customer-longer-than-its-column",
    ),
    pytest.param(
        set_at(CREATED_AT, "0001-01-01T00:00:00+01:00"),
        "channel[0].async_customers[0].created_at: out of range: must fall within years 1 to "
        '9999 in UTC, got "0001-01-01T00:00:00+01:00"',
        id="created-at-before-year-1-in-utc",
    ),
    pytest.param(
        set_at(CREATED_AT, "9999-12-31T23:30:00-01:00"),
        "channel[0].async_customers[0].created_at: out of range: must fall within years 1 to "
        '9999 in UTC, got "9999-12-31T23:30:00-01:00"',
        id="created-at-after-year-9999-in-utc",
    ),
    pytest.param(
        set_at(["channel", 0, "async_addresses", 0, "created_at"], "0001-01-01T00:59:59+01:00"),
        "channel[0].async_addresses[0].created_at: out of range: must fall within years 1 to "
        '9999 in UTC, got "0001-01-01T00:59:59+01:00"',
        id="async-address-created-at-before-year-1",
    ),
    pytest.param(
        set_at(CREATED_AT, "٢٠٢٦-11-24T10:00:00Z"),
        "channel[0].async_customers[0].created_at: must be an ISO 8601 datetime such as "
        '2026-11-24T10:00:00Z, got "٢٠٢٦-11-24T10:00:00Z"',
        id="created-at-with-arabic-indic-digits",
    ),
    pytest.param(
        set_at(CREATED_AT, "2026-11-24T10:00:00Z\n"),
        "channel[0].async_customers[0].created_at: must be an ISO 8601 datetime such as "
        '2026-11-24T10:00:00Z, got "2026-11-24T10:00:00Z\\n"',
        id="created-at-with-a-trailing-line-break",
    ),
    pytest.param(
        set_at(["channel", 0, "transactions", 0, "business_date"], "2026-11-2٤"),
        'channel[0].transactions[0].business_date: must be a date YYYY-MM-DD, got "2026-11-2٤"',
        id="date-with-an-arabic-indic-digit",
    ),
    pytest.param(
        set_at(["channel", 0, "transactions", 0, "business_date"], "0000-01-01"),
        'channel[0].transactions[0].business_date: must be a date YYYY-MM-DD, got "0000-01-01"',
        id="date-year-0",
    ),
    pytest.param(
        set_at([*LINE, "quantity"], "٣"),
        'channel[0].transactions[0].lines[0].quantity: must be a decimal string such as "9.99", '
        'got "٣"',
        id="quantity-with-an-arabic-indic-digit",
    ),
    pytest.param(
        set_at([*LINE, "unit_price"], "9.99\n"),
        'channel[0].transactions[0].lines[0].unit_price: must be a decimal string such as "9.99", '
        'got "9.99\\n"',
        id="price-with-a-trailing-line-break",
    ),
    pytest.param(
        set_at([*LINE, "quantity"], "-2"),
        'channel[0].transactions[0].lines[0].quantity: must be greater than 0, got "-2"',
        id="negative-quantity",
    ),
    pytest.param(
        set_at([*LINE, "quantity"], "0.000"),
        'channel[0].transactions[0].lines[0].quantity: must be greater than 0, got "0.000"',
        id="zero-quantity",
    ),
    pytest.param(
        set_at([*LINE, "unit_price"], "-9.99"),
        'channel[0].transactions[0].lines[0].unit_price: must not be negative, got "-9.99"',
        id="negative-price",
    ),
    pytest.param(
        set_at([*LINE, "unit_price"], "1000000000000"),
        "channel[0].transactions[0].lines[0].unit_price: out of range (ensure that there are no "
        'more than 12 digits before the decimal point), got "1000000000000"',
        id="price-beyond-max-digits",
    ),
    pytest.param(
        set_at([*LINE, "quantity"], "1.2345"),
        "channel[0].transactions[0].lines[0].quantity: out of range (ensure that there are no "
        'more than 3 decimal places), got "1.2345"',
        id="quantity-beyond-decimal-places",
    ),
    pytest.param(
        set_at(["channel", 0, "transactions", 0, "lines"], []),
        "channel[0].transactions[0].lines: must not be empty, got []",
        id="no-lines",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "async_id"], guid(1) + "\n"),
        "channel[0].async_customers[0].async_id: must be a GUID such as "
        f'5f0c2c8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f, got "{guid(1)}\\n"',
        id="guid-with-a-trailing-line-break",
    ),
    pytest.param(
        set_at(["stores", 0, "number"], "S0001\n"),
        "stores[0].number: must use letters, digits, '-' or '_' only, got \"S0001\\n\"",
        id="code-with-a-trailing-line-break",
    ),
    pytest.param(
        set_at(["channel", 0, "transactions", 0, "id"], "S0001-1\n000001"),
        "channel[0].transactions[0].id: must not contain control characters, "
        'got "S0001-1\\n000001"',
        id="id-with-a-line-break",
    ),
    pytest.param(
        set_at(["customers", 0, "last_name"], "Cus\x00tomer"),
        "customers[0].last_name: must not contain NUL (\\u0000), which PostgreSQL cannot store, "
        'got "Cus\\u0000tomer"',
        id="nul-in-a-name",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "attributes"], {"Tier": "Go\x00ld"}),
        "channel[0].async_customers[0].attributes.Tier: must not contain NUL (\\u0000), which "
        'PostgreSQL cannot store, got "Go\\u0000ld"',
        id="nul-in-an-attribute-value",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "attributes"], {"Ti\x00er": "Gold"}),
        'channel[0].async_customers[0].attributes."Ti\\u0000er": must not contain NUL (\\u0000), '
        'which PostgreSQL cannot store, got "Ti\\u0000er"',
        id="nul-in-an-attribute-name",
    ),
    pytest.param(
        set_at(["customers", 0, "first_name"], "De\ud800fault"),
        "customers[0].first_name: must be valid text, without a lone surrogate (\\ud800-\\udfff) "
        'or U+FFFF, got "De\\ud800fault"',
        id="lone-surrogate",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "attributes"], {"Score": float("nan")}),
        "channel[0].async_customers[0].attributes.Score: must be a finite number (NaN and "
        "Infinity are not JSON), got NaN",
        id="nan-attribute",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "attributes"], {"Score": [1, float("-inf")]}),
        "channel[0].async_customers[0].attributes.Score[1]: must be a finite number (NaN and "
        "Infinity are not JSON), got -Infinity",
        id="infinity-inside-a-list",
    ),
    pytest.param(
        set_at(["legal_entities", 0, "customer_account_digits"], 10**5000),
        "legal_entities[0].customer_account_digits: integer out of range (at most 64 bits), "
        "got an integer of 5001 digits",
        id="integer-beyond-the-conversion-limit",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "attributes"], {"Visits": 2**64}),
        "channel[0].async_customers[0].attributes.Visits: integer out of range (at most 64 "
        "bits), got 18446744073709551616",
        id="integer-beyond-64-bits",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "attributes"], {"When": datetime.date.today()}),
        "channel[0].async_customers[0].attributes.When: must be a JSON value (string, number, "
        f'true, false, null, list, object), got "{datetime.date.today()}"',
        id="not-a-json-value",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), LIMITS)
def test_what_a_database_cannot_store_rejects_the_file(mutate, message):
    payload = valid_file()
    mutate(payload)

    assert _rejected(payload) == message


def test_deep_nesting_is_one_line():
    deep: dict = {}
    inner = deep
    for _ in range(5_000):
        inner["a"] = {}
        inner = inner["a"]
    payload = valid_file()
    payload["channel"][0]["async_customers"][0]["attributes"] = {"Deep": deep}

    message = _rejected(payload)

    assert message.startswith("channel[0].async_customers[0].attributes.Deep.a.a.a")
    assert message.endswith(": nested more than 32 levels deep")


def test_values_at_the_limits_are_loaded():
    payload = valid_file()
    payload["channel"][0]["async_customers"] = [
        async_customer(1, created_at="0001-01-01T00:00:00Z"),
        async_customer(3, created_at="9999-12-31T23:59:59.999999Z"),
        async_customer(4, created_at="2026-11-24T12:30:00+02:00"),
        async_customer(5, created_at="2026-11-24T10:00:00"),
    ]
    payload["channel"][0]["async_addresses"] = []
    payload["channel"][0]["transactions"] = [
        sales_transaction(
            "S0001-1-000001",
            lines=[{"item": "FREE", "quantity": "0.001", "unit_price": "0"}],
        ),
        sales_transaction(
            "S0001-1-000002",
            lines=[{"item": "BIG", "quantity": "99999999999.999", "unit_price": "999999999999.99"}],
        ),
    ]
    payload["channel"][1]["async_customers"][0]["attributes"] = {"Visits": 2**63 - 1}

    data_import(payload=payload)

    created = {
        c.async_customer_id.int: c.created_at for c in AsyncCustomer.objects.using("channel")
    }
    assert created == {
        1: datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
        3: datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
        4: datetime.datetime(2026, 11, 24, 10, 30, tzinfo=datetime.UTC),
        5: datetime.datetime(2026, 11, 24, 10, tzinfo=datetime.UTC),
    }
    lines = ChannelSalesLine.objects.using("channel").order_by("transaction__transaction_id")
    assert [(line.quantity, line.unit_price) for line in lines] == [
        (Decimal("0.001"), Decimal("0")),
        (Decimal("99999999999.999"), Decimal("999999999999.99")),
    ]
    visits = AsyncCustomerAttributeValue.objects.using("channel2").get(name="Visits")
    assert visits.value == 2**63 - 1


def test_legal_entity_accounts_must_fit_the_account_length(monkeypatch):
    monkeypatch.setattr(checks_references, "ACCOUNT_MAX_LENGTH", 12)
    payload = valid_file()
    payload["legal_entities"][0]["customer_account_digits"] = 12

    assert _rejected(payload) == (
        'legal_entities[0].customer_account_digits: accounts of prefix "C" and 12 digits would '
        "be 13 characters, more than 12, got 12"
    )


def test_a_prefix_is_checked_with_the_digits_already_at_hq(monkeypatch):
    data_import(payload=setup_sections())
    NumberSequence.objects.update(digits=11)
    monkeypatch.setattr(checks_references, "ACCOUNT_MAX_LENGTH", 12)
    before = row_counts()
    payload = {"legal_entities": [{**setup_sections()["legal_entities"][0]}]}
    del payload["legal_entities"][0]["customer_account_digits"]
    payload["legal_entities"][0]["customer_account_prefix"] = "CX"

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == (
        'legal_entities[0].customer_account_prefix: accounts of prefix "CX" and 11 digits would '
        'be 13 characters, more than 12, got "CX"'
    )
    assert row_counts() == before


def test_the_longest_prefix_and_digits_fit_the_account_length():
    payload = setup_sections()
    payload["legal_entities"][0].update(
        customer_account_prefix="ABCDEFGHIJ", customer_account_digits=18
    )

    data_import(payload=payload)

    assert NumberSequence.objects.get().format(1) == "ABCDEFGHIJ" + "1".zfill(18)
    assert len(NumberSequence.objects.get().format(1)) <= ACCOUNT_MAX_LENGTH


# --- Transaction ids are unique within a store ----------------------------------------


def test_the_same_transaction_id_at_two_stores_is_two_sales():
    payload = valid_file()
    payload["channel"][1]["transactions"][0]["id"] = "S0001-1-000001"

    data_import(payload=payload)
    report = data_import(payload=payload)

    houston = ChannelSalesTransaction.objects.using("channel").get()
    dallas = ChannelSalesTransaction.objects.using("channel2").get()
    assert (houston.store_number, houston.transaction_id) == ("S0001", "S0001-1-000001")
    assert (dallas.store_number, dallas.transaction_id) == ("S0002", "S0001-1-000001")
    assert report.skipped_ids["transactions"] == ["S0001-1-000001", "S0001-1-000001"]


def test_the_same_transaction_id_at_two_stores_of_one_channel_database():
    payload = valid_file()
    payload["stores"].append({**payload["stores"][0], "number": "S0003", "name": "Galleria"})
    payload["channel"].append(
        {"store": "S0003", "transactions": [sales_transaction("S0001-1-000001")]}
    )

    data_import(payload=payload)
    report = data_import(payload=payload)

    rows = ChannelSalesTransaction.objects.using("channel").values_list(
        "store_number", "transaction_id"
    )
    assert sorted(rows) == [("S0001", "S0001-1-000001"), ("S0003", "S0001-1-000001")]
    assert report.counts["transactions"].skipped == 3


def test_a_transaction_id_is_repeated_when_its_store_comes_after_it():
    payload = valid_file()
    entry = payload["channel"][0]
    entry["transactions"].append(sales_transaction("S0001-1-000001"))
    del entry["store"]
    entry["store"] = "S0001"  # the entry names its store after its transactions

    assert _rejected(payload) == (
        'channel[0].transactions[1].id: repeated transaction id "S0001-1-000001" '
        "(first at channel[0].transactions[0].id)"
    )


# --- Files: one line for every broken file ----------------------------------------------


def test_a_streamed_file_loads_like_the_payload(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("\ufeff" + json.dumps(valid_file(), indent=2), encoding="utf-8")

    report = data_import_file(path=path)

    assert report.counts["async_customers"].created == 2
    assert report.counts["transactions"].created == 2
    assert AsyncCustomerAddress.objects.using("channel").count() == 2
    assert Customer.objects.get().party.name == "Default Customer"


def test_sections_in_any_order_are_written_in_spec_order(tmp_path):
    payload = valid_file()
    reordered = {name: payload[name] for name in reversed(list(payload))}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(reordered), encoding="utf-8")

    report = data_import_file(path=path)

    assert list(reordered)[0] == "channel"
    assert Store.objects.count() == 2
    assert AsyncCustomer.objects.using("channel").count() == 1
    assert list(report.counts)[:3] == ["legal_entities", "number_sequences", "customer_groups"]
    assert list(report.counts)[-1] == "transactions"


FILE_ERRORS = [
    pytest.param(
        {"customers.0.first_name": '"De\\ud800fault"'},
        "customers[0].first_name: must be valid text, without a lone surrogate "
        '(\\ud800-\\udfff) or U+FFFF, got "De\\ufffffault"',
        id="lone-high-surrogate-escape",
    ),
    pytest.param(
        {"customers.0.first_name": '"\\udc00x"'},
        "customers[0].first_name: must be valid text, without a lone surrogate "
        '(\\ud800-\\udfff) or U+FFFF, got "\\uffffx"',
        id="lone-low-surrogate-escape",
    ),
    pytest.param(
        {"customers.0.first_name": '"\\ud83d\\ud83d\\ude00"'},
        "customers[0].first_name: must be valid text, without a lone surrogate "
        '(\\ud800-\\udfff) or U+FFFF, got "\\uffff😀"',
        id="high-surrogate-before-a-pair",
    ),
    pytest.param(
        {"channel.0.async_customers.0.attributes": '{"Score": NaN}'},
        "channel[0].async_customers[0].attributes.Score: must be a finite number (NaN and "
        "Infinity are not JSON), got NaN",
        id="nan",
    ),
    pytest.param(
        {"legal_entities.0.customer_account_digits": "-Infinity"},
        "legal_entities[0].customer_account_digits: must be a finite number (NaN and Infinity "
        "are not JSON), got -Infinity",
        id="minus-infinity",
    ),
    pytest.param(
        {"legal_entities.0.customer_account_digits": "1e400"},
        "legal_entities[0].customer_account_digits: number out of range, got 1E+400",
        id="float-overflow",
    ),
    pytest.param(
        {"legal_entities.0.customer_account_digits": "9" * 5000},
        "legal_entities[0].customer_account_digits: holds more than 4300 digits in a row, which "
        "no field needs and no number within range has",
        id="integer-of-5000-digits",
    ),
    pytest.param(
        {"channel.0.async_customers.0.attributes": '{"Note": "' + "7" * 5000 + '"}'},
        "channel[0].async_customers[0].attributes.Note: holds more than 4300 digits in a row, "
        "which no field needs and no number within range has",
        id="string-of-5000-digits",
    ),
    pytest.param(
        {"channel.0.async_customers.0.attributes": '{"Deep": ' + "[" * 1500 + "]" * 1500 + "}"},
        "channel[0].async_customers[0].attributes.Deep" + "[0]" * 26 + ": nested more than 32 "
        "levels deep",
        id="nested-1500-levels",
    ),
    pytest.param(
        {"customers.0.last_name": '"Cus\\u0000tomer"'},
        "customers[0].last_name: must not contain NUL (\\u0000), which PostgreSQL cannot store, "
        'got "Cus\\u0000tomer"',
        id="escaped-nul",
    ),
    pytest.param(
        {"channel.1.async_customers.0.created_at": '"0001-01-01T00:00:00+01:00"'},
        "channel[1].async_customers[0].created_at: out of range: must fall within years 1 to "
        '9999 in UTC, got "0001-01-01T00:00:00+01:00"',
        id="created-at-overflow",
    ),
    pytest.param(
        {"channel.1.async_customers.0.async_id": json.dumps(guid(2) + "\n")},
        "channel[1].async_customers[0].async_id: must be a GUID such as "
        f'5f0c2c8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f, got "{guid(2)}\\n"',
        id="guid-and-line-break",
    ),
    pytest.param(
        {"stores.0.name": '"Houston", "name": "Houston again"'},
        'stores[0].name: repeated field, got "name"',
        id="name-repeated-in-an-object",
    ),
]


def _marked(payload: dict, markers: dict[str, str]) -> str:
    """The file text of ``payload`` with the value at each dotted path replaced by raw
    JSON text."""
    replace = {}
    for number, (dotted, raw) in enumerate(markers.items()):
        *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        target = payload
        for step in parents:
            target = target[step]
        marker = f"@@marker{number}@@"
        target[last] = marker
        replace[marker] = raw
    return _file_text(payload, **replace)


@pytest.mark.parametrize(("markers", "message"), FILE_ERRORS)
def test_a_file_the_database_cannot_store_is_one_line(tmp_path, markers, message):
    assert _rejected_file(tmp_path, _marked(valid_file(), markers)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(b"", "FILE: not valid JSON (Expecting value at line 1, column 1)", id="empty"),
        pytest.param(
            b'{"legal_entities": []} []',
            "FILE: not valid JSON (Extra data at line 1, column 24)",
            id="trailing-data",
        ),
        pytest.param(
            b'{"legal_entities": [{"code": "U"',
            "FILE: not valid JSON (Expecting ',' delimiter at line 1, column 33)",
            id="truncated",
        ),
        pytest.param(
            b'{"legal_entities": [{"code": "\xed\xa0\x80"}]}',
            "FILE: not UTF-8 text (invalid continuation byte at byte 30)",
            id="encoded-surrogate",
        ),
        pytest.param(
            b"\xef\xbb\xbf" + b'{"legal_entities": [{"code": "\xff"}]}',
            "FILE: not UTF-8 text (invalid start byte at byte 33)",
            id="bad-byte-after-a-bom",
        ),
        pytest.param(
            b'{"legal_entities": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "legal_entities[0]" + "[0]" * 30 + ": nested more than 32 levels deep",
            id="nested-100000-levels",
        ),
        pytest.param(
            b'[{"legal_entities": []}]',
            'file: must be a JSON object, got [{"legal_entities": []}]',
            id="not-an-object",
        ),
        pytest.param(
            b'{"legal_entities": [], "legal_entities": []}',
            'legal_entities: repeated section "legal_entities"',
            id="repeated-section",
        ),
        pytest.param(
            b'{"legal_entities": [], "\\ud800\\n": []}',
            '"\\uffff\\n": must be valid text, without a lone surrogate (\\ud800-\\udfff) or '
            'U+FFFF, got "\\uffff\\n"',
            id="bad-section-name",
        ),
    ],
)
def test_a_broken_file_is_one_line(tmp_path, text, message):
    assert _rejected_file(tmp_path, text) == message


def test_an_escaped_backslash_before_u_is_not_a_surrogate(tmp_path):
    payload = valid_file()
    payload["customers"][0]["first_name"] = "De\\ud800fault 😀"
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payload), encoding="utf-8")  # ensure_ascii: 😀 is a pair

    data_import_file(path=path)

    assert Party.objects.get().first_name == "De\\ud800fault 😀"


TRICKY_NAME = "\\\\ud800 " + "1" * 50 + " \U0001f600 \\"  # literal, a digit run, a pair


@pytest.mark.parametrize("chunk", [1, 2, 5, 7, 13])
def test_escapes_and_digit_runs_split_across_reads_are_read_whole(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(files, "READ_SIZE", chunk)
    payload = valid_file()
    payload["customers"][0]["first_name"] = TRICKY_NAME
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payload), encoding="utf-8")

    data_import_file(path=path)

    assert Party.objects.get().first_name == TRICKY_NAME


@pytest.mark.parametrize("chunk", [1, 2, 5, 7, 13])
def test_a_lone_surrogate_split_across_reads_is_seen(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(files, "READ_SIZE", chunk)
    payload = valid_file()
    payload["customers"][0]["first_name"] = TRICKY_NAME
    payload["customers"][0]["last_name"] = "Cus\\\ud800tomer"  # a backslash, a lone surrogate
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payload), encoding="utf-8")

    message = _rejected_file(tmp_path, path.read_bytes())

    assert message.startswith("customers[0].last_name: must be valid text"), message
    assert message.endswith('got "Cus\\\\\\ufffftomer"'), message


def test_a_file_changed_between_the_reads_is_rejected(tmp_path, monkeypatch):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(valid_file()), encoding="utf-8")
    check = importing.file_check

    def check_then_change(*, source):
        plan = check(source=source)
        changed = valid_file()
        changed["customers"][0]["last_name"] = "Changed"
        path.write_text(json.dumps(changed), encoding="utf-8")
        return plan

    monkeypatch.setattr(importing, "file_check", check_then_change)

    with pytest.raises(ImportFileError) as excinfo:
        data_import_file(path=path)

    assert str(excinfo.value) == f"{path}: the file changed while it was imported"
    assert_nothing_written()


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nan.json", '{"legal_entities": [{"code": "U", "name": NaN}]}', "legal_entities[0].name"),
        ("surrogate.json", '{"legal_entities": [{"code": "\\udfff"}]}', "legal_entities[0].code"),
        (
            "deep.json",
            '{"channel": [{"store": "S0001", "async_customers": [{"attributes": {"a": '
            + DEEP
            + "}}]}]}",
            "channel[0].async_customers[0].attributes.a[0][0]",
        ),
        ("empty.json", "", "not valid JSON"),
    ],
    ids=["nan", "surrogate", "deep", "empty"],
)
def test_command_rejects_a_hostile_file_in_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), stdout=io.StringIO())

    assert message in str(excinfo.value)
    assert str(excinfo.value).endswith("(nothing imported)")
    assert len(str(excinfo.value).splitlines()) == 1
    assert_nothing_written()


# --- HQ commits first ---------------------------------------------------------------------


def _fail_commit(monkeypatch, alias: str) -> None:
    def commit():
        raise OperationalError(f"disk I/O error on {alias}")

    monkeypatch.setattr(connections[alias], "commit", commit)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_crash_between_the_commits_leaves_hq_whole_and_a_reimport_completes(monkeypatch):
    _fail_commit(monkeypatch, "channel")  # HQ and channel2 commit, then channel fails

    with pytest.raises(ImportIncompleteError) as excinfo:
        data_import(payload=valid_file())

    assert "disk I/O error on channel" in str(excinfo.value)
    assert Store.objects.count() == 2
    assert Customer.objects.count() == 1
    assert AsyncCustomer.objects.using("channel").count() == 0
    assert AsyncCustomer.objects.using("channel2").count() == 1

    monkeypatch.undo()
    report = data_import(payload=valid_file())

    assert report.skipped_ids == {
        "async_customers": [guid(2)],
        "transactions": ["S0002-1-000001"],
    }
    assert AsyncCustomer.objects.using("channel").get().store_number == "S0001"
    assert AsyncCustomerAddress.objects.using("channel").count() == 2
    assert AsyncAddress.objects.using("channel").count() == 1
    assert ChannelSalesTransaction.objects.using("channel").count() == 1
    assert AsyncCustomer.objects.using("channel2").count() == 1
    assert Store.objects.count() == 2


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_hq_commit_failure_commits_no_channel_database(monkeypatch):
    _fail_commit(monkeypatch, "default")

    with pytest.raises(OperationalError):
        data_import(payload=valid_file())

    monkeypatch.undo()
    assert LegalEntity.objects.count() == 0
    assert AsyncCustomer.objects.using("channel").count() == 0
    assert AsyncCustomer.objects.using("channel2").count() == 0


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_command_says_how_to_complete_an_incomplete_import(tmp_path, monkeypatch):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(valid_file()), encoding="utf-8")
    _fail_commit(monkeypatch, "channel2")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), stdout=io.StringIO())

    monkeypatch.undo()
    assert str(excinfo.value) == (
        f"{path}: HQ records imported, but a channel database did not commit (disk I/O error "
        "on channel2); import the same file again to complete it"
    )
    out = io.StringIO()
    call_command("import_data", str(path), stdout=out)
    # channel2 failed first: channel, which commits after it, rolled back as well.
    assert "legal_entities: 0 created, 0 updated, 1 unchanged" in out.getvalue()
    assert "async_customers: 2 created, 0 updated, 0 unchanged" in out.getvalue()


# --- One mapping for an async customer's children ---------------------------------------------


def test_children_are_written_through_the_one_mapping(monkeypatch):
    calls = []
    real = writing_channel.children_bulk_create

    def spy(**kwargs):
        families = list(kwargs["families"])
        calls.append((kwargs["side"], families))
        return real(**{**kwargs, "families": families})

    monkeypatch.setattr(writing_channel, "children_bulk_create", spy)

    data_import(payload=valid_file())

    assert [side for side, _ in calls] == [CHANNEL_CHILDREN, CHANNEL_CHILDREN]
    for _, families in calls:
        for _, children in families:
            assert set(children) == set(CHILD_FIELDS)
            for relation, rows in children.items():
                assert all(set(row) <= set(CHILD_FIELDS[relation]) for row in rows)
    customer = AsyncCustomer.objects.using("channel").get()
    address = AsyncCustomerAddress.objects.using("channel").get(
        async_address_id=uuid.UUID(guid(101))
    )
    assert (address.async_customer_id, address.is_primary, address.state) == (customer.pk, True, "")
    assert AsyncCustomerContact.objects.using("channel").get().is_primary is False
    assert AsyncCustomerAffiliation.objects.using("channel").get().name == "Employees"
