"""R1 and R11 guards on store edits: a store changes only customers of its own legal
entity (a channel database may serve stores of two), values must fit their columns,
and no edit dated in the future can freeze a field."""

import datetime
import uuid

import pytest
from django.utils import timezone

from customers.models import (
    AsyncCustomer,
    ChannelRequest,
    Customer,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import AddressInput, CustomerValidationError
from tests.factories.commerce import LegalEntityFactory, StoreFactory
from tests.factories.customers import CustomerFactory, CustomerGroupFactory
from tests.fixtures import convert, person

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def two_entities(organization):
    """Store S0009 of legal entity DEMF shares Houston's channel database with S0001
    (USRT); customer group USONLY exists only in USRT."""
    demf = LegalEntityFactory(code="DEMF")
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="USONLY")
    berlin = StoreFactory(
        number="S0009",
        legal_entity=demf,
        default_customer=CustomerFactory(legal_entity=demf, account="D000001"),
        functionality_profile=organization["houston"].functionality_profile,
        channel_database=organization["houston"].channel_database,
    )
    return {**organization, "demf": demf, "berlin": berlin}


def written_request(*, store_number, guid, changes, edited_at):
    """A request in the channel database that no store check saw."""
    return ChannelRequest.objects.using("channel").create(
        request_id=uuid.uuid4(),
        store_number=store_number,
        target_async_customer_id=guid,
        edited_at=edited_at,
        changes=changes.as_json(),
    )


def group_change(code):
    return CustomerChanges(fields={"customer_group": code})


def test_a_store_cannot_edit_an_async_customer_of_another_legal_entity(two_entities):
    hans = async_customer_create(alias="channel", store_number="S0009", data=person("Hans", "M"))

    with pytest.raises(CustomerEditError, match="legal entity DEMF") as error:
        customer_edit_at_store(
            store=two_entities["houston"],
            customer=str(hans.async_customer_id),
            changes=group_change("USONLY"),
        )

    assert "\n" not in str(error.value)
    assert AsyncCustomer.objects.using("channel").get().customer_group == ""
    convert()
    AsyncCustomer.objects.using("channel").update(upload_session_id=None)  # not uploaded
    customer = Customer.objects.get(async_customer_id=hans.async_customer_id)
    assert customer.legal_entity.code == "DEMF"
    with pytest.raises(CustomerEditError, match="legal entity DEMF"):
        customer_edit_at_store(
            store=two_entities["houston"],
            customer=str(hans.async_customer_id),
            changes=group_change("USONLY"),
        )
    assert not ChannelRequest.objects.using("channel").exists()


@pytest.mark.parametrize("created_first", [False, True], ids=["staged", "created"])
def test_a_request_across_legal_entities_fails_alone_at_hq(two_entities, created_first):
    hans = async_customer_create(alias="channel", store_number="S0009", data=person("Hans", "M"))
    if created_first:
        convert()
    bad = written_request(
        store_number="S0001",
        guid=hans.async_customer_id,
        changes=group_change("USONLY"),
        edited_at=timezone.now(),
    )
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "S"))
    eva = async_customer_create(alias="channel", store_number="S0009", data=person("Eva", "B"))

    runs = convert()

    assert all(r.status != "failed" for r in runs), [r.errors for r in runs]
    staged = StagedChannelRequest.objects.get(request_id=bad.request_id)
    assert staged.status == "failed"
    assert "legal entity DEMF" in staged.last_error and "S0001" in staged.last_error
    hans_customer = Customer.objects.get(async_customer_id=hans.async_customer_id)
    assert hans_customer.legal_entity.code == "DEMF"
    assert hans_customer.customer_group.code == "RETAIL"
    assert Customer.objects.get(async_customer_id=ona.async_customer_id).legal_entity.code == (
        "USRT"
    )
    assert Customer.objects.get(async_customer_id=eva.async_customer_id).legal_entity.code == (
        "DEMF"
    )


def test_an_address_too_long_for_its_column_fails_its_request_and_the_rest_converts(
    organization,
):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "S"))
    convert()
    street = "Long street " * 30  # 360 characters; the column holds 250
    bad = written_request(
        store_number="S0001",
        guid=ona.async_customer_id,
        changes=CustomerChanges(
            addresses=(
                AddressInput(
                    purpose="invoice",
                    street=street,
                    city="Houston",
                    zip="77009",
                    country="USA",
                    async_address_id=uuid.uuid4(),
                ),
            )
        ),
        edited_at=timezone.now(),
    )
    jo = async_customer_create(alias="channel", store_number="S0001", data=person("Jo", "K"))

    runs = convert()

    assert all(r.status != "failed" for r in runs), [r.errors for r in runs]
    staged = StagedChannelRequest.objects.get(request_id=bad.request_id)
    assert staged.status == "failed"
    assert staged.last_error.startswith('Address 1: Street: "Long street')
    assert "longer than 250 characters (360)" in staged.last_error
    assert Customer.objects.filter(async_customer_id=jo.async_customer_id).exists()
    assert not Customer.objects.get(async_customer_id=ona.async_customer_id).party.addresses.filter(
        purpose="invoice", zip="77009"
    )


def test_the_store_refuses_a_value_longer_than_its_column(organization):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "S"))

    with pytest.raises(CustomerValidationError, match=r"first_name: .* longer than 100 characters"):
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(ona.async_customer_id),
            changes=CustomerChanges(fields={"first_name": "x" * 5000}),
        )

    assert AsyncCustomer.objects.using("channel").get().first_name == "Ona"


def test_a_name_too_long_for_the_party_fails_its_record_by_name(organization):
    """First and last name fit their columns (100 each) but not the party's name (200):
    the record fails at HQ (R5) naming it, the others convert, on every engine."""
    long = async_customer_create(
        alias="channel", store_number="S0001", data=person("x" * 100, "y" * 100)
    )
    jo = async_customer_create(alias="channel", store_number="S0001", data=person("Jo", "K"))

    convert()

    staged = StagedAsyncCustomer.objects.get(async_customer_id=long.async_customer_id)
    assert staged.status == "failed"
    assert staged.last_error.startswith('Name: "xxx')
    assert "longer than 200 characters (201)" in staged.last_error
    assert Customer.objects.filter(async_customer_id=jo.async_customer_id).exists()


def test_an_edit_dated_in_the_future_is_refused_at_the_store(organization):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "S"))

    with pytest.raises(CustomerEditError, match="edited_at: 2099-01-01.* is in the future"):
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(ona.async_customer_id),
            changes=CustomerChanges(fields={"email": "ona@future.example"}),
            edited_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
        )

    assert AsyncCustomer.objects.using("channel").get().email == "ona@example.com"


def test_an_edit_dated_in_the_future_does_not_beat_a_later_store_edit(organization):
    """R11: HQ takes an edit's time as at most when it received it (staging)."""
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "S"))
    convert()
    written_request(
        store_number="S0001",
        guid=ona.async_customer_id,
        changes=CustomerChanges(fields={"email": "ona@2099.example"}),
        edited_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
    )
    convert()
    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    assert customer.email == "ona@2099.example"
    assert not customer.field_changed_at["email"].startswith("2099")

    customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(fields={"email": "ona@later.example"}),
    )
    convert()

    customer.refresh_from_db()
    assert customer.email == "ona@later.example"
