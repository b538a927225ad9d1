import copy
import datetime
import io
import json
import uuid
from contextlib import ExitStack
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers.importing import ImportFileError, data_import, data_import_file, writing
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
from tests.factories.commerce import ChannelDatabaseFactory, StoreFactory
from tests.factories.customers import AsyncCustomerFactory

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


# --- A valid file ---------------------------------------------------------------------


def test_valid_file_loads_setup_into_hq():
    report = data_import(payload=valid_file())

    entity = LegalEntity.objects.get(code="USRT")
    assert (entity.name, entity.currency) == ("Contoso Retail USA", "USD")
    sequence = NumberSequence.objects.get(legal_entity=entity)
    assert (sequence.prefix, sequence.digits, sequence.next_number) == ("C", 6, 1)
    assert CustomerGroup.objects.get(legal_entity=entity, code="RETAIL").name == "Retail"
    assert CustomerAttribute.objects.get(name="Tier").choices == ["Silver", "Gold"]
    assert CustomerAttribute.objects.get(name="Newsletter").type == "boolean"
    assert Affiliation.objects.filter(name="Employees").exists()
    assert FunctionalityProfile.objects.get(code="ASYNC").create_customer_in_async_mode is True
    assert dict(ChannelDatabase.objects.values_list("name", "alias")) == {
        "HOUSTON": "channel",
        "DALLAS": "channel2",
    }
    customer = Customer.objects.select_related("party", "customer_group").get(account="C000001")
    assert customer.party.name == "Default Customer"
    assert customer.customer_group.code == "RETAIL"
    assert (customer.currency, customer.language, customer.email, customer.phone) == (
        "USD",
        "en-us",
        "",
        "",
    )
    address = Address.objects.get(location_id="LOC-1")
    assert address.party_id == customer.party_id
    assert (address.street, address.country, address.is_primary) == ("1 Main St", "USA", True)
    stores = {s.number: s for s in Store.objects.select_related("channel_database")}
    assert stores["S0001"].channel_database.alias == "channel"
    assert stores["S0002"].channel_database.alias == "channel2"
    assert stores["S0002"].default_customer_id == customer.pk
    assert stores["S0002"].offline is False
    assert report.counts["legal_entities"].created == 1
    assert report.counts["customers"].created == 1
    assert report.counts["stores"].created == 2


def test_valid_file_loads_channel_records_into_each_store_channel_database():
    report = data_import(payload=valid_file())

    houston = AsyncCustomer.objects.using("channel").get()
    assert houston.async_customer_id == uuid.UUID(guid(1))
    assert houston.store_number == "S0001"
    assert houston.last_name == "Šimkutė 1"
    assert houston.organization_name == ""
    assert houston.customer_group == ""
    assert houston.created_at == datetime.datetime(2026, 11, 24, 10, tzinfo=datetime.UTC)
    assert houston.account is None
    addresses = AsyncCustomerAddress.objects.using("channel").filter(async_customer=houston)
    assert sorted((str(a.async_address_id), a.is_primary) for a in addresses) == [
        (guid(101), True),
        (guid(102), False),
    ]
    contact = AsyncCustomerContact.objects.using("channel").get(async_customer=houston)
    assert (contact.type, contact.value, contact.is_primary) == (
        "email",
        "ona1@work.example",
        False,
    )
    attributes = AsyncCustomerAttributeValue.objects.using("channel").filter(async_customer=houston)
    assert {a.name: a.value for a in attributes} == {"Newsletter": True, "Tier": "Gold"}
    affiliation = AsyncCustomerAffiliation.objects.using("channel").get(async_customer=houston)
    assert affiliation.name == "Employees"
    async_addr = AsyncAddress.objects.using("channel").get()
    assert (async_addr.async_address_id, async_addr.customer_account) == (
        uuid.UUID(guid(9001)),
        "C000001",
    )
    assert async_addr.store_number == "S0001"
    txn = ChannelSalesTransaction.objects.using("channel").get()
    assert (txn.transaction_id, txn.store_number, txn.type) == (
        "S0001-1-000001",
        "S0001",
        "customer_order",
    )
    assert txn.async_customer_id == uuid.UUID(guid(1))
    assert txn.customer_account is None
    assert txn.delivery_address == guid(101)
    assert txn.business_date == datetime.date(2026, 11, 24)
    lines = list(ChannelSalesLine.objects.using("channel").filter(transaction=txn))
    assert [(line.line_number, line.item, line.quantity, line.unit_price) for line in lines] == [
        (1, "0001", Decimal("2"), Decimal("9.99")),
        (2, "0002", Decimal("1.5"), Decimal("3.00")),
    ]

    dallas = AsyncCustomer.objects.using("channel2").get()
    assert (dallas.async_customer_id, dallas.store_number) == (uuid.UUID(guid(2)), "S0002")
    txn2 = ChannelSalesTransaction.objects.using("channel2").get()
    assert (txn2.transaction_id, txn2.customer_account, txn2.async_customer_id) == (
        "S0002-1-000001",
        "C000001",
        None,
    )
    assert AsyncAddress.objects.using("channel2").count() == 0
    assert report.counts["async_customers"].created == 2
    assert report.counts["async_customer_addresses"].created == 3
    assert report.counts["async_addresses"].created == 1
    assert report.counts["transactions"].created == 2
    assert report.skipped_ids == {}


def test_reimport_adds_nothing_and_reports_skipped_ids():
    data_import(payload=valid_file())
    before = row_counts()

    report = data_import(payload=valid_file())

    assert row_counts() == before
    assert report.skipped_ids == {
        "async_customers": [guid(1), guid(2)],
        "async_addresses": [guid(9001)],
        "transactions": ["S0001-1-000001", "S0002-1-000001"],
    }
    assert all(counts.created == 0 for counts in report.counts.values())
    assert all(counts.updated == 0 for counts in report.counts.values())
    assert report.counts["customers"].unchanged == 1
    assert Customer.objects.get(account="C000001").version == 1


def test_setup_records_are_updated_by_key_and_next_number_is_never_lowered():
    data_import(payload=valid_file())
    NumberSequence.objects.update(next_number=57)
    changed = setup_sections()
    changed["legal_entities"][0].update(name="Contoso USA", customer_account_prefix="K")
    changed["customers"][0].update(email="default@example.com", last_name="Shopper")
    changed["customers"][0]["addresses"][0]["street"] = "9 Elm St"
    changed["stores"][1]["channel_database"] = "HOUSTON"

    report = data_import(payload=changed)

    assert LegalEntity.objects.get().name == "Contoso USA"
    sequence = NumberSequence.objects.get()
    assert (sequence.prefix, sequence.digits, sequence.next_number) == ("K", 6, 57)
    customer = Customer.objects.select_related("party").get()
    assert (customer.email, customer.party.name, customer.version) == (
        "default@example.com",
        "Default Shopper",
        2,
    )
    assert Address.objects.get().street == "9 Elm St"
    assert Store.objects.get(number="S0002").channel_database.name == "HOUSTON"
    assert LegalEntity.objects.count() == 1
    assert Customer.objects.count() == 1
    assert report.counts["customers"].updated == 1
    assert report.counts["stores"].updated == 1
    assert report.counts["stores"].unchanged == 1


def test_new_primary_address_demotes_the_old_one():
    data_import(payload=setup_sections())
    changed = setup_sections()
    changed["customers"][0]["addresses"].append(
        {
            "location_id": "LOC-2",
            "purpose": "invoice",
            "street": "5 Oak St",
            "city": "Houston",
            "zip": "77003",
            "country": "USA",
            "primary": True,
        }
    )
    del changed["customers"][0]["addresses"][0]["primary"]

    data_import(payload=changed)

    assert dict(Address.objects.values_list("location_id", "is_primary")) == {
        "LOC-1": False,
        "LOC-2": True,
    }


def test_references_known_only_to_the_database_are_accepted():
    store = StoreFactory(number="S0100", channel_database=ChannelDatabaseFactory(alias="channel2"))
    payload = {
        "customer_groups": [{"legal_entity": store.legal_entity.code, "code": "VIP"}],
        "channel": [{"store": "S0100", "async_customers": [async_customer(7)]}],
    }

    data_import(payload=payload)

    assert CustomerGroup.objects.filter(code="VIP", legal_entity=store.legal_entity).exists()
    assert AsyncCustomer.objects.using("channel2").get().store_number == "S0100"
    assert AsyncCustomer.objects.using("channel").count() == 0


def test_an_id_already_in_the_channel_database_is_skipped_not_duplicated():
    data_import(payload=setup_sections())
    AsyncCustomerFactory(async_customer_id=uuid.UUID(guid(1)), first_name="Store-made")
    payload = {"channel": [{"store": "S0001", "async_customers": [async_customer(1)]}]}

    report = data_import(payload=payload)

    assert AsyncCustomer.objects.using("channel").get().first_name == "Store-made"
    assert AsyncCustomerAddress.objects.using("channel").count() == 0
    assert report.skipped_ids == {"async_customers": [guid(1)]}


def test_missing_created_at_is_now():
    before = timezone.now()
    payload = valid_file()
    del payload["channel"][0]["async_customers"][0]["created_at"]
    payload["channel"][0]["async_addresses"][0]["created_at"] = None

    data_import(payload=payload)

    customer = AsyncCustomer.objects.using("channel").get()
    assert before <= customer.created_at <= timezone.now()
    assert before <= AsyncAddress.objects.using("channel").get().created_at <= timezone.now()


def test_business_errors_are_loaded_into_the_channel_database_as_is():
    payload = valid_file()
    payload["channel"][0]["async_customers"] = [
        async_customer(
            1,
            customer_group="NO-SUCH-GROUP",
            email="not-an-email",
            attributes={"Newsletter": "maybe", "Shoe size": 42},
            affiliations=["Unknown club"],
        ),
        async_customer(3, first_name="", last_name=""),
    ]
    payload["channel"][0]["async_customers"][0]["addresses"][0]["country"] = "ZZZ"

    data_import(payload=payload)

    customers = {c.async_customer_id: c for c in AsyncCustomer.objects.using("channel").all()}
    bad = customers[uuid.UUID(guid(1))]
    assert (bad.customer_group, bad.email) == ("NO-SUCH-GROUP", "not-an-email")
    assert (
        AsyncCustomerAddress.objects.using("channel")
        .get(async_address_id=uuid.UUID(guid(101)))
        .country
        == "ZZZ"
    )
    attributes = AsyncCustomerAttributeValue.objects.using("channel").filter(async_customer=bad)
    assert {a.name: a.value for a in attributes} == {"Newsletter": "maybe", "Shoe size": 42}
    assert AsyncCustomerAffiliation.objects.using("channel").get(async_customer=bad).name == (
        "Unknown club"
    )
    assert customers[uuid.UUID(guid(3))].name == ""


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
