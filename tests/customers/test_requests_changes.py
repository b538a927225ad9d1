"""R11 complete: a store changes addresses (any field, primary, retire), attributes (set,
clear), affiliations (add, remove) and contact info (add, change, remove): in place, as
a request, from two stores in reverse order, on a failed record."""

import datetime
from dataclasses import replace

import pytest
from django.db import OperationalError
from django.utils import timezone

from customers.models import (
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomer,
    Customer,
    CustomerAttribute,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.services import async_customer_create, customer_create_at_store
from customers.services.changes import (
    AddressChange,
    ContactInput,
    ContactLocator,
    CustomerChanges,
)
from customers.services.requests import at_store, customer_edit_at_store
from customers.services.validation import StoreInputError
from tests.factories.customers import CustomerGroupFactory
from tests.fixtures import convert, person, realtime_store_at, run

pytestmark = pytest.mark.django_db(databases="__all__")


def rich_person(**extra):
    return replace(
        person("Ona", "Simkute", **extra),
        attributes={"Tier": "Silver"},
        affiliations=("Employees",),
        contacts=(ContactInput(type="email", value="alt@example.com"),),
    )


@pytest.fixture
def ona(organization):
    return async_customer_create(alias="channel", store_number="S0001", data=rich_person())


def first_address(row: AsyncCustomer):
    return AsyncCustomerAddress.objects.using("channel").get(async_customer=row, is_primary=True)


def refs(row: AsyncCustomer) -> tuple[str, str]:
    """The async GUIDs of the customer's primary and second address."""
    rows = AsyncCustomerAddress.objects.using("channel").filter(async_customer=row)
    return tuple(str(a.async_address_id) for a in rows.order_by("-is_primary"))


def locations(customer: Customer) -> tuple[str, str]:
    return tuple(a.location_id for a in customer.party.addresses.order_by("-is_primary"))


def hq(guid) -> Customer:
    return Customer.objects.get(async_customer_id=guid)


def state(customer: Customer) -> dict:
    party = customer.party
    return {
        "streets": sorted(a.street for a in party.addresses.all()),
        "primary": [a.street for a in party.addresses.filter(is_primary=True)],
        "attributes": {v.attribute.name: v.value for v in customer.attribute_values.all()},
        "affiliations": sorted(a.affiliation.name for a in customer.affiliations.all()),
        "contacts": sorted((c.type, c.value, c.is_primary) for c in party.contacts.all()),
    }


# Each kind of change: (the change, given the first address's reference; what HQ shows).
KINDS = {
    "change_address": (
        lambda ref, second=None: CustomerChanges(
            address_changes=(AddressChange(address=ref, values={"street": "2 Moved St"}),)
        ),
        lambda s: "2 Moved St" in s["streets"] and "1 Main St" not in s["streets"],
    ),
    "make_primary": (
        lambda ref, second: CustomerChanges(
            address_changes=(AddressChange(address=second, values={"is_primary": True}),)
        ),
        lambda s: s["primary"] == ["2 Side St"],
    ),
    "retire_address": (
        lambda ref, second=None: CustomerChanges(addresses_retired=(ref,)),
        lambda s: s["streets"] == ["2 Side St"],
    ),
    "set_attribute": (
        lambda ref, second=None: CustomerChanges(attributes={"Tier": "Gold"}),
        lambda s: s["attributes"] == {"Tier": "Gold"},
    ),
    "clear_attribute": (
        lambda ref, second=None: CustomerChanges(attributes={"Tier": None}),
        lambda s: s["attributes"] == {},
    ),
    "remove_affiliation": (
        lambda ref, second=None: CustomerChanges(affiliations_removed=("Employees",)),
        lambda s: s["affiliations"] == [],
    ),
    "add_contact": (
        lambda ref, second=None: CustomerChanges(
            contacts=(ContactInput(type="phone", value="+1 555 0100", is_primary=True),)
        ),
        lambda s: ("phone", "+1 555 0100", True) in s["contacts"],
    ),
    "change_contact": (
        lambda ref, second=None: CustomerChanges(
            contacts=(ContactInput(type="email", value="alt@example.com", is_primary=True),)
        ),
        lambda s: s["contacts"] == [("email", "alt@example.com", True)],
    ),
    "remove_contact": (
        lambda ref, second=None: CustomerChanges(
            contacts_removed=(ContactLocator("", "alt@example.com"),)
        ),
        lambda s: s["contacts"] == [],
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_in_place_before_upload(organization, ona, kind):
    make, shows = KINDS[kind]
    result = customer_edit_at_store(
        store=organization["houston"], customer=str(ona.async_customer_id), changes=make(*refs(ona))
    )
    assert result.mode == "in_place"
    convert()

    assert shows(state(hq(ona.async_customer_id))), state(hq(ona.async_customer_id))


def test_in_place_rows_at_the_store(organization, ona):
    address = first_address(ona)
    customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(
            attributes={"Tier": None},
            affiliations_removed=("Employees",),
            address_changes=(
                AddressChange(address=str(address.async_address_id), values={"city": "Austin"}),
            ),
            contacts=(ContactInput(type="url", value="https://ona.example"),),
            contacts_removed=(ContactLocator("email", "alt@example.com"),),
        ),
    )
    address.refresh_from_db(using="channel")
    assert address.city == "Austin"
    assert not AsyncCustomerAttributeValue.objects.using("channel").exists()
    assert not AsyncCustomerAffiliation.objects.using("channel").exists()
    assert list(AsyncCustomerContact.objects.using("channel").values_list("type", flat=True)) == [
        "url"
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_as_a_request_after_upload_and_every_store_follows(organization, ona, kind):
    make, shows = KINDS[kind]
    convert()
    customer = hq(ona.async_customer_id)
    version = customer.version
    result = customer_edit_at_store(
        store=organization["houston"], customer=str(ona.async_customer_id), changes=make(*refs(ona))
    )
    assert result.mode == "request"
    runs = convert()

    assert all(r.status == "succeeded" for r in runs), [r.errors for r in runs]
    customer.refresh_from_db()
    assert shows(state(customer)), state(customer)
    assert customer.version == version + 1
    request = StagedChannelRequest.objects.get()
    assert request.status == "completed" and not request.skipped
    hq_streets = state(customer)["streets"]
    for alias in ("channel", "channel2"):  # the channel copies follow (1010)
        copy = ChannelCustomer.objects.using(alias).get(account=customer.account)
        assert sorted(a.street for a in copy.addresses.all()) == hq_streets


@pytest.mark.parametrize("kind", KINDS)
def test_on_a_synchronous_customer_from_the_other_store(organization, ona, kind):
    make, shows = KINDS[kind]
    convert()
    customer = hq(ona.async_customer_id)
    result = customer_edit_at_store(
        store=organization["seattle"], customer=customer.account, changes=make(*locations(customer))
    )
    assert result.mode == "request"
    convert()

    assert shows(state(customer)), state(customer)


# Two stores, the later edit arriving first: (later edit, earlier edit, what HQ keeps).
PAIRS = {
    "address_field": (
        lambda ref, second=None: CustomerChanges(
            address_changes=(AddressChange(address=ref, values={"street": "Late St"}),)
        ),
        lambda ref, second=None: CustomerChanges(
            address_changes=(AddressChange(address=ref, values={"street": "Early St"}),)
        ),
        lambda s: "Late St" in s["streets"],
    ),
    "retire_after_change": (
        lambda ref, second=None: CustomerChanges(
            address_changes=(AddressChange(address=ref, values={"street": "Late St"}),)
        ),
        lambda ref, second=None: CustomerChanges(addresses_retired=(ref,)),
        lambda s: "Late St" in s["streets"],
    ),
    "attribute": (
        lambda ref, second=None: CustomerChanges(attributes={"Tier": "Gold"}),
        lambda ref, second=None: CustomerChanges(attributes={"Tier": None}),
        lambda s: s["attributes"] == {"Tier": "Gold"},
    ),
    "affiliation": (
        lambda ref, second=None: CustomerChanges(affiliations_removed=("Employees",)),
        lambda ref, second=None: CustomerChanges(affiliations=("Employees",)),
        lambda s: s["affiliations"] == [],
    ),
    "contact": (
        lambda ref, second=None: CustomerChanges(
            contacts=(ContactInput("email", "alt@example.com", True),)
        ),
        lambda ref, second=None: CustomerChanges(
            contacts_removed=(ContactLocator("email", "alt@example.com"),)
        ),
        lambda s: s["contacts"] == [("email", "alt@example.com", True)],
    ),
}


@pytest.mark.parametrize("kind", PAIRS)
def test_two_stores_in_reverse_order_time_order_wins(organization, ona, kind):
    late_change, early_change, keeps = PAIRS[kind]
    convert()
    customer = hq(ona.async_customer_id)
    location = customer.party.addresses.get(is_primary=True).location_id
    now = timezone.now()

    customer_edit_at_store(
        store=organization["seattle"],
        customer=customer.account,
        changes=late_change(location),
        edited_at=now - datetime.timedelta(minutes=1),
    )
    run("upload", channel_database="SEATTLE")
    run("async-customers")
    customer_edit_at_store(
        store=organization["houston"],
        customer=customer.account,
        changes=early_change(location),
        edited_at=now - datetime.timedelta(minutes=5),
    )
    convert()

    customer.refresh_from_db()
    assert keeps(state(customer)), state(customer)
    early = StagedChannelRequest.objects.get(channel_database="HOUSTON")
    assert early.status == "completed" and early.skipped


@pytest.mark.parametrize("kind", KINDS)
def test_on_a_failed_record_applied_to_it_and_tried_again(organization, kind):
    make, shows = KINDS[kind]
    bad = async_customer_create(
        alias="channel", store_number="S0001", data=rich_person(customer_group="PLATINUM")
    )
    addresses = refs(bad)
    convert()
    assert StagedAsyncCustomer.objects.get().status == "failed"
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="GOLDCLUB")
    run("distribute")  # the new group reaches the store (R16), which checks against it

    change = make(*addresses)
    customer_edit_at_store(
        store=organization["houston"],
        customer=str(bad.async_customer_id),
        changes=replace(change, fields={"customer_group": "GOLDCLUB"}),
    )
    convert()

    assert StagedAsyncCustomer.objects.get().status == "completed"
    assert StagedChannelRequest.objects.get().applied_to_staged
    assert shows(state(hq(bad.async_customer_id))), state(hq(bad.async_customer_id))


def test_an_unknown_address_is_refused_at_the_store_nothing_written(organization, ona):
    with pytest.raises(StoreInputError, match='address: unknown address "LOC-NOPE"'):
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(ona.async_customer_id),
            changes=CustomerChanges(addresses_retired=("LOC-NOPE",)),
        )
    assert AsyncCustomerAddress.objects.using("channel").count() == 2


def test_bad_values_are_refused_naming_field_and_value(organization, ona):
    ref = str(first_address(ona).async_address_id)
    with pytest.raises(StoreInputError, match='country: invalid country code "XX"'):
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(ona.async_customer_id),
            changes=CustomerChanges(
                address_changes=(AddressChange(address=ref, values={"country": "XX"}),)
            ),
        )
    with pytest.raises(StoreInputError, match='malformed email "nope"'):
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(ona.async_customer_id),
            changes=CustomerChanges(contacts=(ContactInput("email", "nope"),)),
        )
    assert first_address(ona).country == "USA"


def test_a_bad_request_fails_at_hq_alone_naming_field_and_value(organization, ona):
    convert()
    customer = hq(ona.async_customer_id)
    customer_edit_at_store(
        store=organization["seattle"],
        customer=customer.account,
        changes=CustomerChanges(attributes={"Tier": "Gold"}),
    )
    customer_edit_at_store(
        store=organization["seattle"],
        customer=customer.account,
        changes=CustomerChanges(affiliations_removed=("Employees",)),
    )
    # Reference data changed at HQ after the store checked the edit (R5 still applies).
    CustomerAttribute.objects.filter(name="Tier").update(choices=["Silver"])
    convert()

    bad, good = StagedChannelRequest.objects.order_by("edited_at")
    assert bad.status == "failed" and 'Tier: "Gold" is not one of Silver' in bad.last_error
    assert good.status == "completed"
    assert state(customer)["affiliations"] == []


def test_a_request_on_a_record_held_for_review_changes_the_staged_record(organization, ona):
    legal_entity = organization["legal_entity"]
    legal_entity.duplicate_policy = "review"
    legal_entity.save()
    twin = async_customer_create(alias="channel2", store_number="S0002", data=rich_person())
    convert()
    held = StagedAsyncCustomer.objects.filter(status="needs_review").get()
    guid, store = (
        (twin.async_customer_id, organization["seattle"])
        if held.async_customer_id == twin.async_customer_id
        else (ona.async_customer_id, organization["houston"])
    )

    customer_edit_at_store(
        store=store,
        customer=str(guid),
        changes=CustomerChanges(affiliations_removed=("Employees",), attributes={"Tier": None}),
    )
    run("upload")
    run("async-customers")

    held.refresh_from_db()
    assert held.status == "needs_review"
    assert not held.affiliations.exists() and not held.attribute_values.exists()
    assert StagedChannelRequest.objects.get().applied_to_staged


@pytest.mark.parametrize("kind", KINDS)
def test_at_a_real_time_store_at_hq_at_once_or_as_a_request_when_hq_is_down(
    organization, kind, monkeypatch
):
    make, shows = KINDS[kind]
    realtime = realtime_store_at(organization)
    customer = customer_create_at_store(store=realtime, data=rich_person()).customer

    at_once = customer_edit_at_store(
        store=realtime, customer=customer.account, changes=make(*locations(customer))
    )
    assert at_once.mode == "real_time"
    assert shows(state(customer)), state(customer)
    copy = ChannelCustomer.objects.using("channel").get(account=customer.account)
    assert sorted(a.street for a in copy.addresses.all()) == state(customer)["streets"]

    def hq_down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(at_store, "hq_customers_apply", hq_down)
    fallback = customer_edit_at_store(
        store=realtime,
        customer=customer.account,
        changes=CustomerChanges(attributes={"Tier": "Gold"}),
    )
    assert fallback.mode == "request" and "HQ could not be reached" in fallback.fallback_reason
