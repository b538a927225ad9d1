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
from tests.factories.commerce import FunctionalityProfileFactory, StoreFactory
from tests.factories.customers import AddressFactory
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def galleria(organization):
    AddressFactory(party=organization["default"].party, is_primary=True, country="USA")
    return StoreFactory(
        number="S0003",
        legal_entity=organization["legal_entity"],
        default_customer=organization["default"],
        channel_database=organization["houston"].channel_database,
        functionality_profile=FunctionalityProfileFactory(
            code="REALTIME", create_customer_in_async_mode=False
        ),
    )


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


def test_the_command_says_the_duplicate_and_the_review(galleria, ona, organization):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_customer_at_store",
        "--store",
        "S0003",
        "--first-name",
        "O.",
        "--last-name",
        "Simkute",
        "--email",
        "ona@example.com",
        stdout=out,
        stderr=err,
    )
    created = json.loads(out.getvalue())
    assert created["possible_duplicates"] == [ona.account]
    assert err.getvalue() == (
        f"Store S0003: possible duplicate of {ona.account} (same email); "
        "created and listed under possible duplicates.\n"
    )

    legal_entity = organization["legal_entity"]
    legal_entity.duplicate_policy = "review"
    legal_entity.save()
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_customer_at_store",
        "--store",
        "S0003",
        "--first-name",
        "Ona",
        "--last-name",
        "S",
        "--email",
        "ona@example.com",
        stdout=out,
        stderr=err,
    )
    held = json.loads(out.getvalue())
    assert held["account"] is None and held["async_customer_id"]
    assert "HQ holds it for review" in err.getvalue() and err.getvalue().count("\n") == 1
