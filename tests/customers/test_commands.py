import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from customers.services import AddressInput, CustomerInput, customer_create_at_store
from tests.factories.commerce import (
    FunctionalityProfileFactory,
    LegalEntityFactory,
    StoreFactory,
)
from tests.factories.customers import (
    AddressFactory,
    AffiliationFactory,
    AsyncAddressFactory,
    AsyncCustomerFactory,
    CustomerAttributeFactory,
    CustomerFactory,
    PartyFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")

EXPORT_KEYS = {
    "account",
    "legal_entity",
    "type",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "customer_group",
    "currency",
    "language",
    "title",
    "async_customer_id",
    "addresses",
    "attributes",
    "affiliations",
}
ADDRESS_KEYS = {"location_id", "purpose", "street", "city", "state", "zip", "country", "primary"}
STATUS_COLUMNS = [
    "kind",
    "store",
    "channel_database",
    "async_id",
    "status",
    "customer_account",
    "last_error",
]


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def hq_customers():
    usrt = LegalEntityFactory(code="USRT")
    demf = LegalEntityFactory(code="DEMF", currency="EUR")
    ona = CustomerFactory(
        legal_entity=usrt,
        account="C000001",
        party=PartyFactory(first_name="Ona", last_name="Šimkutė", name="Ona Šimkutė"),
    )
    AddressFactory(party=ona.party, location_id="LOC-1", country="LTU", is_primary=True)
    AddressFactory(party=ona.party, location_id="LOC-2", purpose="invoice")
    ona.attribute_values.create(attribute=CustomerAttributeFactory(name="Newsletter"), value=True)
    ona.affiliations.create(affiliation=AffiliationFactory(name="Employees"))
    CustomerFactory(legal_entity=demf, account="DE000001", currency="EUR")
    return ona


def test_export_json_is_one_array_with_the_spec_keys(hq_customers):
    output = _run("export_customers")

    rows = json.loads(output)
    assert isinstance(rows, list) and len(rows) == 2
    assert all(set(row) == EXPORT_KEYS for row in rows)
    ona = next(row for row in rows if row["account"] == "C000001")
    assert ona["name"] == "Ona Šimkutė" and "Šimkutė" in output  # not \u-escaped
    assert [set(a) for a in ona["addresses"]] == [ADDRESS_KEYS, ADDRESS_KEYS]
    assert [a["primary"] for a in ona["addresses"]] == [True, False]
    assert ona["attributes"] == {"Newsletter": True}
    assert ona["affiliations"] == ["Employees"]
    assert ona["async_customer_id"] is None


def test_export_json_of_no_customers_is_an_empty_array():
    assert json.loads(_run("export_customers", "--format", "json")) == []


def test_export_csv_has_a_header_and_one_row_per_customer(hq_customers):
    output = _run("export_customers", "--format", "csv")

    reader = csv.DictReader(io.StringIO(output))
    assert set(reader.fieldnames) == EXPORT_KEYS
    rows = list(reader)
    assert sorted(row["account"] for row in rows) == ["C000001", "DE000001"]
    ona = next(row for row in rows if row["account"] == "C000001")
    assert [set(a) for a in json.loads(ona["addresses"])] == [ADDRESS_KEYS, ADDRESS_KEYS]
    assert json.loads(ona["attributes"]) == {"Newsletter": True}
    assert json.loads(ona["affiliations"]) == ["Employees"]


def test_export_legal_entity_filters(hq_customers):
    json_rows = json.loads(_run("export_customers", "--legal-entity", "DEMF"))
    csv_rows = list(
        csv.DictReader(
            io.StringIO(_run("export_customers", "--legal-entity", "USRT", "--format", "csv"))
        )
    )

    assert [(r["account"], r["legal_entity"]) for r in json_rows] == [("DE000001", "DEMF")]
    assert [r["account"] for r in csv_rows] == ["C000001"]


def test_export_unknown_legal_entity_is_an_error(hq_customers):
    with pytest.raises(CommandError, match='Unknown legal entity "NOPE"'):
        _run("export_customers", "--legal-entity", "NOPE")


def test_real_time_customer_is_exported_at_once_without_async_id():
    store = StoreFactory(
        functionality_profile=FunctionalityProfileFactory(
            code="REALTIME", create_customer_in_async_mode=False
        )
    )
    result = customer_create_at_store(
        store=store,
        data=CustomerInput(
            first_name="José",
            last_name="Núñez",
            addresses=(
                AddressInput(
                    purpose="delivery",
                    street="1 Main St",
                    city="Houston",
                    zip="77001",
                    country="USA",
                ),
            ),
        ),
    )
    assert result.mode == "real_time"

    rows = json.loads(_run("export_customers"))

    exported = next(row for row in rows if row["account"] == result.account)
    assert exported["name"] == "José Núñez"
    assert exported["async_customer_id"] is None
    assert exported["addresses"][0]["city"] == "Houston"


@pytest.fixture
def async_records():
    StoreFactory(number="S0001")
    StoreFactory(number="S0002", channel_database__alias="channel2")
    return [
        AsyncCustomerFactory(store_number="S0001"),
        AsyncCustomerFactory(store_number="S0001", last_name="Müller"),
        AsyncCustomerFactory(store_number="S0002", using="channel2"),
        AsyncAddressFactory(store_number="S0001", customer_account="C000009"),
        AsyncAddressFactory(store_number="S0002", using="channel2"),
    ]


def _guid(record) -> str:
    return str(getattr(record, "async_customer_id", None) or record.async_address_id)


def test_status_json_lists_every_async_customer_and_address(async_records):
    rows = json.loads(_run("async_customer_status", "--format", "json"))

    assert sorted(row["async_id"] for row in rows) == sorted(_guid(r) for r in async_records)
    assert all(set(row) == set(STATUS_COLUMNS) for row in rows)
    assert {row["status"] for row in rows} == {"pending_upload"}
    assert sorted(row["kind"] for row in rows) == ["address"] * 2 + ["customer"] * 3
    assert {row["channel_database"] for row in rows} == {"CHANNEL", "CHANNEL2"}
    address = next(row for row in rows if row["async_id"] == _guid(async_records[3]))
    assert (address["store"], address["customer_account"]) == ("S0001", "C000009")


def test_status_filters_by_status_and_store(async_records):
    pending = json.loads(
        _run("async_customer_status", "--status", "pending_upload", "--format", "json")
    )
    uploaded = json.loads(_run("async_customer_status", "--status", "uploaded", "--format", "json"))
    store_2 = json.loads(_run("async_customer_status", "--store", "S0002", "--format", "json"))

    assert len(pending) == 5
    assert uploaded == []
    assert {row["store"] for row in store_2} == {"S0002"} and len(store_2) == 2


def test_status_table_has_header_aligned_rows_and_count(async_records):
    lines = _run("async_customer_status").splitlines()

    assert lines[0].split() == STATUS_COLUMNS
    assert lines[-1] == "5 rows"
    status_column = lines[0].index("status")
    assert all(line[status_column:].startswith("pending_upload") for line in lines[1:-1])


def test_status_rejects_unknown_status():
    with pytest.raises(CommandError, match='Unknown status "done"'):
        _run("async_customer_status", "--status", "done")


def test_status_rejects_unknown_store(async_records):
    with pytest.raises(CommandError, match='Unknown store "S9999"'):
        _run("async_customer_status", "--store", "S9999")
