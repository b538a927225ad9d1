"""import_data of a valid file: setup into HQ, channel records into each store's channel
database; a reimport skips by id, setup records are updated by key; the legal entity's
duplicate policy (R12)."""

import datetime
import uuid
from decimal import Decimal

import pytest
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
from customers.importing import ImportFileError, data_import
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
)
from tests.customers.test_importing import (
    assert_nothing_written,
    async_customer,
    guid,
    row_counts,
    setup_sections,
    valid_file,
)
from tests.factories.commerce import ChannelDatabaseFactory, StoreFactory
from tests.factories.customers import AsyncCustomerFactory

pytestmark = pytest.mark.django_db(databases="__all__")


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


# --- Duplicate policy (R12) ------------------------------------------------------------------


def test_duplicate_policy_is_loaded_and_upserted():
    payload = setup_sections()
    payload["legal_entities"][0]["duplicate_policy"] = "review"

    data_import(payload=payload)
    assert LegalEntity.objects.get(code="USRT").duplicate_policy == "review"

    del payload["legal_entities"][0]["duplicate_policy"]  # omitted: kept as it is
    data_import(payload=payload)
    assert LegalEntity.objects.get(code="USRT").duplicate_policy == "review"

    payload["legal_entities"][0]["duplicate_policy"] = "create"
    report = data_import(payload=payload)
    assert LegalEntity.objects.get(code="USRT").duplicate_policy == "create"
    assert report.counts["legal_entities"].updated == 1


def test_duplicate_policy_defaults_to_create():
    data_import(payload=setup_sections())

    assert LegalEntity.objects.get(code="USRT").duplicate_policy == "create"


def test_an_unknown_duplicate_policy_rejects_the_file():
    payload = valid_file()
    payload["legal_entities"][0]["duplicate_policy"] = "merge"

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == (
        'legal_entities[0].duplicate_policy: must be "create" or "review", got "merge"'
    )
    assert_nothing_written()
