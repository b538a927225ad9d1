"""R12 for the real-time call of R1 (README "Store customers"): a customer created at a
real-time store is matched like a staged record; policy "create" creates it and lists
the possible duplicate, policy "review" creates it async so HQ holds it for review."""

import io
import json

import pytest
from django.core.management import call_command

from customers.models import (
    AsyncCustomer,
    ChannelCustomer,
    Customer,
    PossibleDuplicate,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.services import CustomerInput, customer_create_at_store
from tests.customers.test_duplicates import existing
from tests.factories.customers import AddressFactory
from tests.fixtures import realtime_store_at, run

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def galleria(organization):
    AddressFactory(party=organization["default"].party, is_primary=True, country="USA")
    return realtime_store_at(organization)


@pytest.fixture
def ona(organization):
    return existing(
        organization["legal_entity"], "Ona", "Šimkutė", email="ona@example.com", phone=""
    )


def typed(**fields) -> CustomerInput:
    return CustomerInput(**{"first_name": "O.", "last_name": "Simkute", **fields})


def test_policy_create_creates_it_and_lists_the_possible_duplicate(galleria, ona):
    result = customer_create_at_store(store=galleria, data=typed(email="ONA@Example.com"))

    assert result.mode == "real_time" and result.customer.account != ona.account
    (listed,) = PossibleDuplicate.objects.all()
    assert (listed.customer_id, listed.duplicate_of_id) == (result.customer.pk, ona.pk)
    assert listed.reasons == {"email": "ona@example.com"}
    assert result.duplicates == f"possible duplicate of {ona.account} (same email)"
    assert ChannelCustomer.objects.using("channel").filter(account=result.account).exists()


def test_a_phone_typed_without_country_code_is_read_with_the_stores_country(galleria, organization):
    rita = existing(organization["legal_entity"], "Rita", "Stone", phone="+1 713 555 0199")

    result = customer_create_at_store(
        store=galleria, data=typed(first_name="R.", last_name="Other", phone="(713) 555-0199")
    )

    (listed,) = PossibleDuplicate.objects.all()
    assert (listed.customer_id, listed.duplicate_of_id) == (result.customer.pk, rita.pk)
    assert listed.reasons == {"phone": "+17135550199"}


def test_nothing_alike_lists_nothing(galleria, ona):
    result = customer_create_at_store(store=galleria, data=typed(email="someone@else.example"))

    assert result.mode == "real_time" and result.duplicates == ""
    assert not PossibleDuplicate.objects.exists()


def test_policy_review_creates_it_async_and_hq_holds_it_for_review(galleria, ona, organization):
    legal_entity = organization["legal_entity"]
    legal_entity.duplicate_policy = "review"
    legal_entity.save()
    customers_before = Customer.objects.count()

    result = customer_create_at_store(store=galleria, data=typed(email="ona@example.com"))

    assert result.mode == "async" and result.customer is None
    assert result.fallback_reason == (
        f"HQ holds it for review as a possible duplicate of {ona.account} (same email); "
        "created as an async customer"
    )
    assert Customer.objects.count() == customers_before
    assert AsyncCustomer.objects.using("channel").get().store_number == "S0003"

    run("upload")
    run("async-customers")

    held = StagedAsyncCustomer.objects.get(
        async_customer_id=result.async_customer.async_customer_id
    )
    assert held.status == StagingStatus.NEEDS_REVIEW
    assert ona.account in held.last_error
    assert Customer.objects.count() == customers_before


def _create_at_galleria(first_name: str, last_name: str) -> tuple[dict, str]:
    """create_customer_at_store at S0003 for ona@example.com: its JSON and its stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_customer_at_store",
        "--store",
        "S0003",
        "--first-name",
        first_name,
        "--last-name",
        last_name,
        "--email",
        "ona@example.com",
        stdout=out,
        stderr=err,
    )
    return json.loads(out.getvalue()), err.getvalue()


def test_the_command_says_the_duplicate_and_the_review(galleria, ona, organization):
    created, err = _create_at_galleria("O.", "Simkute")
    assert created["possible_duplicates"] == [ona.account]
    assert err == (
        f"Store S0003: possible duplicate of {ona.account} (same email); "
        "created and listed under possible duplicates.\n"
    )

    legal_entity = organization["legal_entity"]
    legal_entity.duplicate_policy = "review"
    legal_entity.save()
    held, err = _create_at_galleria("Ona", "S")
    assert held["account"] is None and held["async_customer_id"]
    assert "HQ holds it for review" in err and err.count("\n") == 1
