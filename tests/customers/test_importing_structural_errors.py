"""import_data's structural errors reject the whole file in one line naming section,
index, field and value; nothing is written, whichever database fails."""

import copy
import json
import uuid

import pytest
from django.conf import settings

from commerce.models import LegalEntity
from customers.importing import ImportFileError, data_import, data_import_file, writing
from customers.models import AsyncCustomer
from tests.customers.test_importing import (
    assert_nothing_written,
    async_customer,
    guid,
    row_counts,
    valid_file,
)
from tests.factories.commerce import ChannelDatabaseFactory

pytestmark = pytest.mark.django_db(databases="__all__")


# --- Structural errors reject the whole file -------------------------------------------


def parent_of(payload: dict, path: list):
    """The container holding the item that ``path`` (keys and indexes) leads to."""
    for step in path[:-1]:
        payload = payload[step]
    return payload


def set_at(path: list, value):
    """A mutation of an import file: the item at ``path`` becomes ``value``."""

    def mutate(payload):
        parent_of(payload, path)[path[-1]] = value

    return mutate


def delete_at(path: list):
    """A mutation of an import file: the item at ``path`` is removed."""

    def mutate(payload):
        del parent_of(payload, path)[path[-1]]

    return mutate


def _repeat_async_customer(payload):
    payload["channel"][1]["async_customers"][0]["async_id"] = guid(1)


def _repeat_address_id(payload):
    payload["channel"][0]["async_addresses"][0]["async_id"] = guid(102)


def _repeat_transaction_id(payload):
    # A transaction id is unique within a store: repeated only at the same store.
    payload["channel"][1]["store"] = "S0001"
    payload["channel"][1]["transactions"][0]["id"] = "S0001-1-000001"


def _repeat_store(payload):
    payload["stores"][1]["number"] = "S0001"


def _repeat_location_id(payload):
    payload["customers"].append({**copy.deepcopy(payload["customers"][0]), "account": "C000002"})


STRUCTURAL_ERRORS = [
    pytest.param(
        lambda p: p.update(loyalty_programs=[]),
        'loyalty_programs: unknown section "loyalty_programs" (sections: legal_entities, '
        "customer_groups, customer_attributes, affiliations, functionality_profiles, "
        "channel_databases, customers, stores, channel)",
        id="unknown-section",
    ),
    pytest.param(
        set_at(["stores", 1, "colour"], "blue"),
        'stores[1].colour: unknown field, got "blue"',
        id="unknown-field",
    ),
    pytest.param(
        set_at(["channel", 1, "async_customers", 0, "addresses", 0, "planet"], "Mars"),
        'channel[1].async_customers[0].addresses[0].planet: unknown field, got "Mars"',
        id="unknown-nested-field",
    ),
    pytest.param(
        set_at(["customers", 0, "account"], 1),
        "customers[0].account: must be a string, got 1",
        id="number-for-string",
    ),
    pytest.param(
        set_at(["channel", 0, "transactions", 0, "lines", 0, "quantity"], 2),
        'channel[0].transactions[0].lines[0].quantity: must be a decimal string such as "9.99", '
        "got 2",
        id="number-for-decimal-string",
    ),
    pytest.param(
        set_at(["legal_entities", 0, "customer_account_digits"], True),
        "legal_entities[0].customer_account_digits: must be an integer, got true",
        id="bool-for-integer",
    ),
    pytest.param(
        set_at(["stores", 0, "offline"], "no"),
        'stores[0].offline: must be true or false, got "no"',
        id="string-for-bool",
    ),
    pytest.param(
        set_at(["channel", 1, "async_customers", 0, "attributes"], ["Newsletter"]),
        'channel[1].async_customers[0].attributes: must be an object, got ["Newsletter"]',
        id="list-for-object",
    ),
    pytest.param(
        set_at(["channel", 1, "transactions"], {"id": "x"}),
        'channel[1].transactions: must be a list, got {"id": "x"}',
        id="object-for-list",
    ),
    pytest.param(
        delete_at(["channel", 1, "transactions", 0, "business_date"]),
        "channel[1].transactions[0].business_date: required field is missing",
        id="missing-required",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "addresses", 1, "country"], None),
        "channel[0].async_customers[0].addresses[1].country: is required, got null",
        id="null-required",
    ),
    pytest.param(
        delete_at(["customers", 0, "last_name"]),
        "customers[0].last_name: is required for a person, got null",
        id="missing-name-of-hq-person",
    ),
    pytest.param(
        set_at(["channel", 0, "async_customers", 0, "type"], "alien"),
        'channel[0].async_customers[0].type: must be "person" or "organization", got "alien"',
        id="bad-customer-type",
    ),
    pytest.param(
        set_at(["channel", 1, "async_customers", 0, "addresses", 0, "purpose"], "holiday"),
        'channel[1].async_customers[0].addresses[0].purpose: must be one of "delivery", '
        '"invoice", "business", "home", "other", got "holiday"',
        id="bad-address-purpose",
    ),
    pytest.param(
        set_at(["channel", 1, "async_customers", 0, "contacts", 0, "type"], "fax"),
        'channel[1].async_customers[0].contacts[0].type: must be one of "email", "phone", "url", '
        'got "fax"',
        id="bad-contact-type",
    ),
    pytest.param(
        set_at(["customer_attributes", 1, "type"], "colour"),
        'customer_attributes[1].type: must be one of "boolean", "text", "integer", "decimal", '
        '"date", "choice", got "colour"',
        id="bad-attribute-type",
    ),
    pytest.param(
        set_at(["channel", 1, "async_customers", 0, "async_id"], "not-a-guid"),
        "channel[1].async_customers[0].async_id: must be a GUID such as "
        '5f0c2c8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f, got "not-a-guid"',
        id="malformed-guid",
    ),
    pytest.param(
        set_at(["channel", 1, "async_customers", 0, "created_at"], "24/11/2026 10:00"),
        "channel[1].async_customers[0].created_at: must be an ISO 8601 datetime such as "
        '2026-11-24T10:00:00Z, got "24/11/2026 10:00"',
        id="malformed-datetime",
    ),
    pytest.param(
        set_at(["channel", 1, "transactions", 0, "business_date"], "2026-13-01"),
        'channel[1].transactions[0].business_date: must be a date YYYY-MM-DD, got "2026-13-01"',
        id="malformed-date",
    ),
    pytest.param(
        set_at(["channel", 1, "transactions", 0, "lines", 1, "unit_price"], "9,99"),
        'channel[1].transactions[0].lines[1].unit_price: must be a decimal string such as "9.99", '
        'got "9,99"',
        id="malformed-decimal",
    ),
    pytest.param(
        set_at(["channel", 1, "store"], "S9999"),
        'channel[1].store: unknown store "S9999"',
        id="unknown-store",
    ),
    pytest.param(
        set_at(["stores", 1, "legal_entity"], "XXX"),
        'stores[1].legal_entity: unknown legal entity "XXX"',
        id="unknown-legal-entity",
    ),
    pytest.param(
        set_at(["customer_groups", 0, "legal_entity"], "XXX"),
        'customer_groups[0].legal_entity: unknown legal entity "XXX"',
        id="unknown-legal-entity-of-group",
    ),
    pytest.param(
        set_at(["stores", 1, "channel_database"], "AUSTIN"),
        'stores[1].channel_database: unknown channel database "AUSTIN"',
        id="unknown-channel-database",
    ),
    pytest.param(
        set_at(["stores", 1, "functionality_profile"], "SYNC"),
        'stores[1].functionality_profile: unknown functionality profile "SYNC"',
        id="unknown-functionality-profile",
    ),
    pytest.param(
        set_at(["stores", 1, "default_customer"], "C999999"),
        'stores[1].default_customer: unknown customer of legal entity USRT "C999999"',
        id="unknown-default-customer",
    ),
    pytest.param(
        set_at(["customers", 0, "customer_group"], "WHOLESALE"),
        'customers[0].customer_group: unknown customer group "WHOLESALE"',
        id="unknown-customer-group",
    ),
    pytest.param(
        _repeat_async_customer,
        "channel[1].async_customers[0].async_id: repeated async customer id "
        f'"{guid(1)}" (first at channel[0].async_customers[0].async_id)',
        id="repeated-async-customer-id",
    ),
    pytest.param(
        _repeat_address_id,
        "channel[0].async_addresses[0].async_id: repeated async address id "
        f'"{guid(102)}" (first at channel[0].async_customers[0].addresses[1].async_id)',
        id="repeated-async-address-id",
    ),
    pytest.param(
        _repeat_transaction_id,
        'channel[1].transactions[0].id: repeated transaction id "S0001-1-000001" '
        "(first at channel[0].transactions[0].id)",
        id="repeated-transaction-id",
    ),
    pytest.param(
        _repeat_store,
        'stores[1].number: repeated store number "S0001" (first at stores[0].number)',
        id="repeated-store-number",
    ),
    pytest.param(
        _repeat_location_id,
        'customers[1].addresses[0].location_id: repeated location id "LOC-1" '
        "(first at customers[0].addresses[0].location_id)",
        id="repeated-location-id",
    ),
    pytest.param(
        set_at(["channel", 1, "transactions", 0, "async_customer"], guid(2)),
        'channel[1].transactions[0].async_customer: set together with customer "C000001"; '
        f'use one of them, got "{guid(2)}"',
        id="customer-and-async-customer",
    ),
    pytest.param(
        set_at(["channel_databases", 1, "alias"], "channel9"),
        "channel_databases[1].alias: not a configured channel database alias "
        f'(configured: {", ".join(settings.CHANNEL_DATABASES)}), got "channel9"',
        id="alias-not-configured",
    ),
    pytest.param(
        delete_at(["customer_attributes", 1, "choices"]),
        "customer_attributes[1].choices: must list the values of a choice attribute, got null",
        id="choice-without-choices",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), STRUCTURAL_ERRORS)
def test_structural_error_rejects_the_whole_file(mutate, message):
    payload = valid_file()
    mutate(payload)

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == message
    assert_nothing_written()


def _hq_customer(n: int, **overrides) -> dict:
    record = {
        "account": f"C1{n:05d}",
        "legal_entity": "USRT",
        "type": "person",
        "first_name": "Hq",
        "last_name": f"Customer {n}",
        "customer_group": "RETAIL",
    }
    record.update(overrides)
    return record


def _organization(**overrides) -> dict:
    return {"type": "organization", "first_name": None, "last_name": None, **overrides}


# A name the customer's type needs, missing or null, is a structural error (SPEC: "type
# and the names its type needs of a customer" are required), wherever the record is.
MISSING_NAMES = [
    pytest.param(
        "customers", {"first_name": None}, "first_name", "person", id="hq-person-null-first"
    ),
    pytest.param(
        "customers", {"last_name": ...}, "last_name", "person", id="hq-person-missing-last"
    ),
    pytest.param(
        "customers",
        _organization(organization_name=...),
        "organization_name",
        "organization",
        id="hq-organization-missing-name",
    ),
    pytest.param(
        "async_customers", {"last_name": None}, "last_name", "person", id="async-person-null-last"
    ),
    pytest.param(
        "async_customers",
        {"first_name": ...},
        "first_name",
        "person",
        id="async-person-missing-first",
    ),
    pytest.param(
        "async_customers",
        _organization(organization_name=None),
        "organization_name",
        "organization",
        id="async-organization-null-name",
    ),
]


def _with(record: dict, overrides: dict) -> dict:
    record = {**record, **overrides}
    return {name: value for name, value in record.items() if value is not ...}


@pytest.mark.parametrize(("section", "overrides", "field", "type_"), MISSING_NAMES)
def test_missing_name_of_the_51st_customer_rejects_the_whole_file(section, overrides, field, type_):
    payload = valid_file()
    if section == "customers":
        # The default customer is the first; 49 good ones follow, the 51st is bad.
        records = [_hq_customer(n) for n in range(1, 50)]
        records.append(_with(_hq_customer(50), overrides))
        payload["customers"].extend(records)
        path = "customers[50]"
    else:
        records = [async_customer(n) for n in range(10, 60)]
        records.append(_with(async_customer(60), overrides))
        payload["channel"][0]["async_customers"] = records
        path = "channel[0].async_customers[50]"

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == f"{path}.{field}: is required for a {type_}, got null"
    assert_nothing_written()


def test_async_organization_needs_no_person_names():
    payload = valid_file()
    payload["channel"][0]["async_customers"] = [
        async_customer(
            1, type="organization", first_name=None, last_name=None, organization_name="Fabrikam"
        )
    ]

    data_import(payload=payload)

    customer = AsyncCustomer.objects.using("channel").get(async_customer_id=uuid.UUID(guid(1)))
    assert (customer.type, customer.organization_name) == ("organization", "Fabrikam")


def test_empty_name_of_an_hq_customer_rejects_the_file():
    payload = valid_file()
    payload["customers"][0]["first_name"] = "  "

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == 'customers[0].first_name: is required for a person, got "  "'
    assert_nothing_written()


def test_top_level_must_be_an_object():
    with pytest.raises(ImportFileError, match=r"^file: must be a JSON object, got \[") as exc:
        data_import(payload=[valid_file()])

    assert "\n" not in str(exc.value)
    assert_nothing_written()


def test_rejected_file_leaves_existing_records_unchanged():
    data_import(payload=valid_file())
    before = row_counts()
    payload = valid_file()
    payload["legal_entities"][0]["name"] = "Renamed"
    payload["channel"][1]["async_customers"].append(async_customer(5, type="alien"))

    with pytest.raises(ImportFileError, match=r"channel\[1\]\.async_customers\[1\]\.type"):
        data_import(payload=payload)

    assert LegalEntity.objects.get().name == "Contoso Retail USA"
    assert row_counts() == before


def test_a_failure_while_writing_rolls_back_every_database(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writing, "write_transactions", fail)

    with pytest.raises(RuntimeError):
        data_import(payload=valid_file())

    assert_nothing_written()


def test_channel_database_alias_taken_by_another_channel_database_is_rejected():
    ChannelDatabaseFactory(name="OLDHOUSTON", alias="channel")

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=valid_file())

    assert str(excinfo.value) == (
        'channel_databases[0].alias: already used by channel database "OLDHOUSTON", got "channel"'
    )
    assert AsyncCustomer.objects.using("channel").count() == 0
    assert LegalEntity.objects.count() == 0


def test_file_that_is_not_json_is_rejected(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"legal_entities": [}', encoding="utf-8")

    with pytest.raises(ImportFileError) as excinfo:
        data_import_file(path=path)

    assert str(excinfo.value) == (f"{path}: not valid JSON (Expecting value at line 1, column 21)")
    assert_nothing_written()


def test_file_is_read_and_imported(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(valid_file(), ensure_ascii=False), encoding="utf-8")

    report = data_import_file(path=path)

    assert report.counts["async_customers"].created == 2
    assert AsyncCustomer.objects.using("channel2").count() == 1
