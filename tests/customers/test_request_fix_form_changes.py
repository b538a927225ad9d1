"""R11 complete at HQ: a failed request that removes affiliations, changes or retires
addresses and adds or removes contact info is fixed in typed inputs, never JSON, and
saving keeps every part the operator left."""

import pytest

from customers.models import StagedChannelRequest, StagingStatus
from tests.customers.test_request_fix_form import post, request_page
from tests.factories.customers import AddressFactory, CustomerFactory, StagedChannelRequestFactory

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def failed_request(organization):
    customer = CustomerFactory(legal_entity=organization["legal_entity"], account="C000778")
    address = AddressFactory(party=customer.party, street="1 Old St", city="Seattle")
    return StagedChannelRequestFactory(
        channel_database="SEATTLE",
        store_number="S0002",
        target_account=customer.account,
        status=StagingStatus.FAILED,
        last_error='address_changes[0].country: invalid country code "XX"',
        changes={
            "fields": {},
            "attributes": {},
            "affiliations": [],
            "addresses": [],
            "affiliations_removed": ["Employees"],
            "address_changes": [
                {"address": address.location_id, "values": {"country": "XX", "city": "Tacoma"}}
            ],
            "addresses_retired": [address.location_id],
            "contacts": [{"type": "email", "value": "ona@", "is_primary": True}],
            "contacts_removed": [{"type": "", "value": "+15550100"}],
        },
    )


def test_the_new_parts_are_typed_inputs_named_in_words(admin_client, failed_request):
    page = request_page(admin_client, failed_request)

    form = page.context["adminform"].form
    html = page.content.decode()
    assert "<textarea" not in html
    assert form["affiliations_removed"].value() == ["Employees"]
    assert form["address_change_0_city"].value() == "Tacoma"
    assert form["address_change_0_street"].value() == ""  # not changed
    assert form["contact_0_value"].value() == "ona@"
    assert "1 Old St, Seattle" in html  # the address by its street, not its id
    assert "any type: +15550100" in html


def test_fixing_the_country_keeps_every_part(admin_client, failed_request):
    page = request_page(admin_client, failed_request)

    response = post(
        admin_client,
        failed_request,
        page,
        address_change_0_country="CAN",
        contact_0_value="ona@example.com",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    failed_request.refresh_from_db()
    changes = failed_request.changes
    location = changes["addresses_retired"][0]
    assert changes["affiliations_removed"] == ["Employees"]
    assert changes["address_changes"] == [
        {"address": location, "values": {"city": "Tacoma", "country": "CAN"}}
    ]
    assert changes["contacts"] == [
        {"type": "email", "value": "ona@example.com", "is_primary": True}
    ]
    assert changes["contacts_removed"] == [{"type": "", "value": "+15550100"}]


def test_a_bad_value_is_shown_on_its_input(admin_client, failed_request):
    page = request_page(admin_client, failed_request)

    response = post(
        admin_client, failed_request, page, contact_0_value="still-bad", _sync_again="1"
    )

    form = response.context["adminform"].form
    assert 'malformed email "still-bad"' in form.errors["contact_0_value"][0]
    assert StagedChannelRequest.objects.get().changes["contacts"][0]["value"] == "ona@"
