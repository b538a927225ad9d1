"""R11/R5: a failed channel request is fixed in typed fields at HQ, and a stored request
whose changes are not of their types fails alone, by name."""

import pytest

from customers.models import Customer, StagedAsyncCustomer, StagedChannelRequest
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges, CustomerChangesError
from customers.services.requests import customer_edit_at_store
from tests.fixtures import convert, person, run

pytestmark = pytest.mark.django_db(databases="__all__")

CONFUSED = [
    ({"fields": {"email": 5}}, "email: 5 is not text"),
    ({"fields": {"first_name": ["Ona"]}}, "first_name: a list is not text"),
    ({"fields": []}, "fields: a list is not an object"),
    ({"attributes": {"Tier": float("inf")}}, "attributes.Tier: inf is not a finite number"),
    ({"attributes": {"Tier": float("nan")}}, "attributes.Tier: nan is not a finite number"),
    ({"attributes": {"Tier": {"a": [1]}}}, "attributes.Tier: an object is not a single value"),
    ({"affiliations": [{"name": "x"}]}, "affiliations: an object is not a name"),
    ({"addresses": [{"street": 5}]}, "addresses[0].street: 5 is not text"),
    ({"addresses": [{"purpose": ["home"]}]}, "addresses[0].purpose: a list is not text"),
    ({"addresses": [{"is_primary": "yes"}]}, 'addresses[0].is_primary: "yes" is not true or false'),
    (
        {"addresses": [{"async_address_id": "x"}]},
        'addresses[0].async_address_id: "x" is not a GUID',
    ),
    ({"addresses": "1 Main St"}, 'addresses: "1 Main St" is not a list'),
    ({"contacts": []}, "changes: unknown part contacts"),
    ("email", 'changes: "email" is not an object of changes'),
]


@pytest.mark.parametrize(("data", "message"), CONFUSED)
def test_a_change_of_the_wrong_type_is_refused_naming_field_and_value(data, message):
    with pytest.raises(CustomerChangesError) as caught:
        CustomerChanges.from_json(data)

    assert str(caught.value).startswith(message)


def test_a_nested_value_is_refused_without_spelling_it_out():
    deep: list = []
    for _ in range(3000):
        deep = [deep]

    with pytest.raises(CustomerChangesError, match="attributes.Tier: a list is not a single"):
        CustomerChanges.from_json({"attributes": {"Tier": deep}})


def test_a_well_typed_change_reads_back_as_written():
    changes = CustomerChanges.from_json(
        {
            "fields": {"email": "ona@new.example"},
            "attributes": {"Tier": "Gold", "Newsletter": None, "Visits": 3},
            "affiliations": ["Employees"],
            "addresses": [
                {
                    "purpose": "home",
                    "street": "1 A St",
                    "city": "Houston",
                    "zip": "77001",
                    "country": "USA",
                    "state": None,
                    "is_primary": True,
                    "async_address_id": None,
                }
            ],
        }
    )

    assert CustomerChanges.from_json(changes.as_json()) == changes
    assert changes.addresses[0].state == "" and changes.addresses[0].is_primary


def test_a_type_confused_request_stored_at_hq_fails_alone(organization):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "A"))
    convert()
    account = Customer.objects.get(async_customer_id=ona.async_customer_id).account
    customer_edit_at_store(
        store=organization["houston"],
        customer=account,
        changes=CustomerChanges(fields={"phone": "+15550100"}),
    )
    jonas = async_customer_create(alias="channel", store_number="S0001", data=person("Jonas", "B"))
    run("upload")
    # As an older version (or a hand in the database) wrote it.
    StagedChannelRequest.objects.update(
        changes={"fields": {"phone": "+15550100"}, "addresses": [{"street": 5}]}
    )

    (creation,) = run("async-customers")

    request = StagedChannelRequest.objects.get()
    assert request.status == "failed"
    assert request.last_error == "changes: addresses[0].street: 5 is not text"
    assert creation.status == "completed_with_errors"
    assert StagedAsyncCustomer.objects.get(async_customer_id=jonas.async_customer_id).status == (
        "completed"
    )
    assert Customer.objects.filter(async_customer_id=jonas.async_customer_id).exists()
    # The next run is not stopped by it either.
    async_customer_create(alias="channel", store_number="S0001", data=person("Rita", "C"))
    run("upload")
    (again,) = run("async-customers")
    assert again.status in ("succeeded", "completed_with_errors")
    assert Customer.objects.filter(party__first_name="Rita").exists()
