"""The store customer page's other changes (README "Admin", R11): change or retire an
address; set or clear attributes, add or remove affiliations and contact info; errors
on the input they name, nothing written."""

import pytest

from customers.models import (
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomerAddress,
    ChannelRequest,
)
from tests.customers.test_store_customers_page import houston, karen, messages_of, page_url
from tests.factories.customers import AsyncCustomerFactory

pytestmark = pytest.mark.django_db(databases="__all__")
__all__ = ["houston", "karen"]  # fixtures


@pytest.fixture
def ona(houston):
    row = AsyncCustomerFactory(first_name="Ona", last_name="Smith", customer_group="RETAIL")
    AsyncCustomerAddress.objects.using("channel").create(
        async_customer=row,
        async_address_id="6f1c9a52-4df1-4a8e-9d0e-1f6f1f1f1f1f",
        purpose="delivery",
        street="1 Old St",
        city="Houston",
        zip="77001",
        country="USA",
        is_primary=True,
    )
    AsyncCustomerAffiliation.objects.using("channel").create(async_customer=row, name="Employees")
    AsyncCustomerContact.objects.using("channel").create(
        async_customer=row, type="email", value="alt@example.com"
    )
    return row


GUID = "6f1c9a52-4df1-4a8e-9d0e-1f6f1f1f1f1f"


def change_post(**values) -> dict:
    data = {f"change-{k}": v for k, v in values.items()}
    return {**data, "_change_address": "Change address"}


def more_post(**values) -> dict:
    data = {f"more-{k}": v for k, v in values.items()}
    return {**data, "_more_changes": "Save these changes"}


def test_change_an_address_in_place(admin_client, houston, ona):
    url = page_url(houston, ona.async_customer_id)
    page = admin_client.get(url)
    assert page.context["change_address_form"].fields["address"].choices == [
        (GUID, "1 Old St, Houston (primary)")
    ]

    response = admin_client.post(
        url, change_post(address=GUID, street="2 New St", country="CAN"), follow=True
    )

    (message,) = messages_of(response)
    assert "address changed: 2 New St, Canada" in message and "in place" in message
    address = AsyncCustomerAddress.objects.using("channel").get()
    assert (address.street, address.country, address.city) == ("2 New St", "CAN", "Houston")


def test_retire_an_address_of_a_copy_is_a_request(admin_client, houston, karen):
    location = ChannelCustomerAddress.objects.using("channel").get().location_id

    response = admin_client.post(
        page_url(houston, karen.account), change_post(address=location, retire="on")
    )

    assert response.status_code == 302
    assert ChannelRequest.objects.using("channel").get().changes["addresses_retired"] == [location]
    assert not ChannelCustomerAddress.objects.using("channel").exists()  # the store's view now


def test_a_bad_address_value_is_shown_on_its_input(admin_client, houston, ona):
    response = admin_client.post(
        page_url(houston, ona.async_customer_id), change_post(address=GUID, street=" \t")
    )
    assert "Nothing changed" in str(response.context["change_address_form"].non_field_errors())

    response = admin_client.post(
        page_url(houston, ona.async_customer_id), change_post(address="nope", city="Austin")
    )
    assert "address" in response.context["change_address_form"].errors
    assert AsyncCustomerAddress.objects.using("channel").get().city == "Houston"


def test_attributes_affiliations_and_contacts_in_place(admin_client, houston, ona):
    response = admin_client.post(
        page_url(houston, ona.async_customer_id),
        more_post(
            attribute="Tier",
            attribute_action="set",
            attribute_value="Gold",
            remove_affiliation="Employees",
            contact_type="phone",
            contact_value="+1 713 555 0100",
            contact_primary="on",
            remove_contact="email:alt@example.com",
        ),
        follow=True,
    )

    (message,) = messages_of(response)
    assert "affiliation removed: Employees" in message
    assert AsyncCustomerAttributeValue.objects.using("channel").get().value == "Gold"
    assert not AsyncCustomerAffiliation.objects.using("channel").exists()
    contact = AsyncCustomerContact.objects.using("channel").get()
    assert (contact.type, contact.value, contact.is_primary) == ("phone", "+1 713 555 0100", True)


def test_a_malformed_contact_email_is_shown_on_its_input(admin_client, houston, ona):
    response = admin_client.post(
        page_url(houston, ona.async_customer_id),
        more_post(contact_type="email", contact_value="nope"),
    )

    errors = response.context["more_changes_form"].errors
    assert 'malformed email "nope"' in errors["contact_value"][0]
    assert AsyncCustomerContact.objects.using("channel").count() == 1


def test_clear_an_attribute_and_add_an_affiliation_of_a_copy(admin_client, houston, karen):
    response = admin_client.post(
        page_url(houston, karen.account),
        more_post(attribute="Tier", attribute_action="clear", add_affiliation="Employees"),
    )

    assert response.status_code == 302
    changes = ChannelRequest.objects.using("channel").get().changes
    assert changes["attributes"] == {"Tier": None} and changes["affiliations"] == ["Employees"]
