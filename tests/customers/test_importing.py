"""import_data: the import file builder the test_importing* modules share, the import_data
command (its summary, one-line errors) and batching."""

import io
import json
import uuid
from contextlib import ExitStack

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers.importing import data_import
from customers.models import (
    Address,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    Party,
)

pytestmark = pytest.mark.django_db(databases="__all__")

CHANNEL_ALIASES = ("channel", "channel2")
HQ_MODELS = (
    LegalEntity,
    NumberSequence,
    CustomerGroup,
    CustomerAttribute,
    Affiliation,
    FunctionalityProfile,
    ChannelDatabase,
    Party,
    Customer,
    Address,
    Store,
)
CHANNEL_MODELS = (
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerContact,
    AsyncCustomerAttributeValue,
    AsyncCustomerAffiliation,
    AsyncAddress,
    ChannelSalesTransaction,
    ChannelSalesLine,
)


# --- Import file builder -------------------------------------------------------------


def guid(n: int) -> str:
    return str(uuid.UUID(int=n))


def async_customer(n: int, *, addresses: int = 1, **overrides) -> dict:
    record = {
        "async_id": guid(n),
        "type": "person",
        "first_name": "Ona",
        "last_name": f"Šimkutė {n}",
        "organization_name": None,
        "email": f"ona{n}@example.com",
        "phone": "+37060000000",
        "customer_group": None,
        "currency": None,
        "language": None,
        "created_at": "2026-11-24T10:00:00Z",
        "addresses": [
            {
                "async_id": guid(n * 100 + i),
                "purpose": "delivery",
                "street": f"Gedimino pr. {i}",
                "city": "Vilnius",
                "state": "",
                "zip": "01103",
                "country": "LTU",
                "primary": i == 1,
            }
            for i in range(1, addresses + 1)
        ],
        "contacts": [{"type": "email", "value": f"ona{n}@work.example", "primary": False}],
        "attributes": {"Newsletter": True, "Tier": "Gold"},
        "affiliations": ["Employees"],
    }
    record.update(overrides)
    return record


def async_address(n: int, **overrides) -> dict:
    record = {
        "async_id": guid(n),
        "customer": "C000001",
        "purpose": "invoice",
        "street": "2 Main St",
        "city": "Houston",
        "state": "TX",
        "zip": "77002",
        "country": "USA",
        "primary": False,
    }
    record.update(overrides)
    return record


def sales_transaction(transaction_id: str, **overrides) -> dict:
    record = {
        "id": transaction_id,
        "type": "customer_order",
        "business_date": "2026-11-24",
        "customer": None,
        "async_customer": None,
        "delivery_address": "",
        "lines": [
            {"item": "0001", "quantity": "2", "unit_price": "9.99"},
            {"item": "0002", "quantity": "1.5", "unit_price": "3.00"},
        ],
    }
    record.update(overrides)
    return record


def setup_sections() -> dict:
    return {
        "legal_entities": [
            {
                "code": "USRT",
                "name": "Contoso Retail USA",
                "currency": "USD",
                "customer_account_prefix": "C",
                "customer_account_digits": 6,
            }
        ],
        "customer_groups": [{"legal_entity": "USRT", "code": "RETAIL", "name": "Retail"}],
        "customer_attributes": [
            {"name": "Newsletter", "type": "boolean"},
            {"name": "Tier", "type": "choice", "choices": ["Silver", "Gold"]},
        ],
        "affiliations": [{"name": "Employees"}],
        "functionality_profiles": [{"code": "ASYNC", "create_customer_in_async_mode": True}],
        "channel_databases": [
            {"name": "HOUSTON", "alias": "channel"},
            {"name": "DALLAS", "alias": "channel2"},
        ],
        "customers": [
            {
                "account": "C000001",
                "legal_entity": "USRT",
                "type": "person",
                "first_name": "Default",
                "last_name": "Customer",
                "customer_group": "RETAIL",
                "currency": "USD",
                "language": "en-us",
                "email": None,
                "phone": None,
                "addresses": [
                    {
                        "location_id": "LOC-1",
                        "purpose": "delivery",
                        "street": "1 Main St",
                        "city": "Houston",
                        "state": "TX",
                        "zip": "77001",
                        "country": "USA",
                        "primary": True,
                    }
                ],
            }
        ],
        "stores": [
            {
                "number": "S0001",
                "name": "Houston",
                "legal_entity": "USRT",
                "channel_database": "HOUSTON",
                "functionality_profile": "ASYNC",
                "default_customer": "C000001",
                "offline": False,
            },
            {
                "number": "S0002",
                "name": "Dallas",
                "legal_entity": "USRT",
                "channel_database": "DALLAS",
                "functionality_profile": "ASYNC",
                "default_customer": "C000001",
            },
        ],
    }


def valid_file() -> dict:
    return {
        **setup_sections(),
        "channel": [
            {
                "store": "S0001",
                "async_customers": [async_customer(1, addresses=2)],
                "async_addresses": [async_address(9001)],
                "transactions": [
                    sales_transaction(
                        "S0001-1-000001", async_customer=guid(1), delivery_address=guid(101)
                    )
                ],
            },
            {
                "store": "S0002",
                "async_customers": [async_customer(2)],
                "transactions": [
                    sales_transaction("S0002-1-000001", type="cash_and_carry", customer="C000001")
                ],
            },
        ],
    }


def row_counts() -> dict[str, int]:
    counts = {model._meta.label: model.objects.count() for model in HQ_MODELS}
    for alias in CHANNEL_ALIASES:
        for model in CHANNEL_MODELS:
            counts[f"{model._meta.label}@{alias}"] = model.objects.using(alias).count()
    return counts


def assert_nothing_written() -> None:
    assert {label: n for label, n in row_counts().items() if n} == {}


# --- The command -----------------------------------------------------------------------


def test_command_prints_a_summary(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(valid_file()), encoding="utf-8")
    call_command("import_data", str(path), stdout=io.StringIO())
    out = io.StringIO()

    call_command("import_data", str(path), stdout=out)

    output = out.getvalue()
    assert "legal_entities: 0 created, 0 updated, 1 unchanged" in output
    assert "async_customers: 0 created, 0 updated, 0 unchanged, 2 skipped" in output
    assert f"skipped async_customers: {guid(1)}, {guid(2)}" in output
    assert "skipped transactions: S0001-1-000001, S0002-1-000001" in output


def test_command_error_is_one_line_and_nothing_is_imported(tmp_path):
    payload = valid_file()
    payload["stores"][1]["legal_entity"] = "XXX"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload), encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), stdout=io.StringIO())

    assert str(excinfo.value) == (
        'stores[1].legal_entity: unknown legal entity "XXX" (nothing imported)'
    )
    assert_nothing_written()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "no such file"),
        ("not-json.json", "legal_entities: []", "not valid JSON"),
        ("latin1.json", b'{"x": "\xe9"}', "not UTF-8 text"),
    ],
)
def test_command_rejects_unreadable_files_in_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), stdout=io.StringIO())

    assert str(excinfo.value).startswith(f"{path}: {message}")
    assert "\n" not in str(excinfo.value)


# --- Batching ----------------------------------------------------------------------------


def _count_queries(payload: dict) -> int:
    with ExitStack() as stack:
        contexts = [
            stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in settings.DATABASES
        ]
        data_import(payload=payload)
    return sum(len(context.captured_queries) for context in contexts)


def _channel_file(first: int, count: int) -> dict:
    return {
        "channel": [
            {
                "store": "S0001",
                "async_customers": [async_customer(first + i, addresses=2) for i in range(count)],
            }
        ]
    }


def test_query_count_does_not_grow_with_the_number_of_async_customers():
    data_import(payload=setup_sections())

    small = _count_queries(_channel_file(1_000, 20))
    large = _count_queries(_channel_file(10_000, 200))

    assert AsyncCustomer.objects.using("channel").count() == 220
    assert AsyncCustomerAddress.objects.using("channel").count() == 440
    assert AsyncCustomerAttributeValue.objects.using("channel").count() == 440
    # bulk_create splits a batch at SQLite's 999 parameters: a few more INSERTs, not 200.
    assert large <= small + 12, (small, large)
