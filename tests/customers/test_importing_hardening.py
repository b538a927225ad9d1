"""import_data against messy store data: what no database can store is rejected in one
line naming section, index, field and value; transaction ids are unique within a store."""

import datetime
from decimal import Decimal

import pytest

from commerce.models import (
    ACCOUNT_MAX_LENGTH,
    ChannelSalesLine,
    ChannelSalesTransaction,
    NumberSequence,
)
from customers.importing import ImportFileError, checks_references, data_import, schema
from customers.models import AsyncCustomer, AsyncCustomerAttributeValue
from tests.customers.test_importing import (
    assert_nothing_written,
    async_customer,
    guid,
    row_counts,
    sales_transaction,
    setup_sections,
    valid_file,
)
from tests.customers.test_importing_structural_errors import set_at

pytestmark = pytest.mark.django_db(databases="__all__")


def _rejected(payload) -> str:
    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1, message
    assert_nothing_written()
    return message


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
