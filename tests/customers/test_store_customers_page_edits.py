"""The store customer page's edits (README "Admin", R11): a customer edited in place, as
a channel request or at HQ at once, its "Add address" form, and an edit's whole way."""

import uuid

import pytest
from django.db import OperationalError

from customers.models import (
    AsyncCustomer,
    AsyncCustomerAddress,
    ChannelCustomer,
    ChannelRequest,
    Customer,
)
from customers.services import async_customer_create, customer_create_at_store
from customers.services.requests import at_store as request_services
from tests.customers.test_store_customers_page import (
    address_post,
    convert,
    edit_post,
    houston,
    karen,
    messages_of,
    ona,
    page_url,
    rows,
)
from tests.factories.customers import ChannelCustomerFactory
from tests.fixtures import person, realtime_store_at

pytestmark = pytest.mark.django_db(databases="__all__")
__all__ = ["houston", "karen", "ona"]  # fixtures


# --- One customer: edit in place, as a request, at HQ at once -----------------------------


def test_an_async_customer_not_uploaded_is_changed_in_place(admin_client, houston, ona):
    url = page_url(houston, ona.async_customer_id)
    page = admin_client.get(url)
    assert "Not uploaded yet" in page.content.decode()

    response = admin_client.post(url, edit_post(page, email="ona@new.example"), follow=True)

    (message,) = messages_of(response)
    assert "Email → ona@new.example" in message
    assert "Changed in place (not uploaded yet)" in message
    ona.refresh_from_db(using="channel")
    assert ona.email == "ona@new.example" and ona.phone == "+37060000000"
    assert not ChannelRequest.objects.using("channel").exists()
    assert response.context["customer"].pending_edits == []


def test_a_copy_edited_at_an_async_store_becomes_a_channel_request(admin_client, houston, karen):
    url = page_url(houston, "C000101")
    page = admin_client.get(url)

    response = admin_client.post(
        url, edit_post(page, phone="+1 713 555 0199", customer_group="STAFF"), follow=True
    )

    request = ChannelRequest.objects.using("channel").get()
    # Only what the user changed travels.
    assert request.changes["fields"] == {"phone": "+1 713 555 0199", "customer_group": "STAFF"}
    assert request.target_account == "C000101" and request.store_number == "S0001"
    (message,) = messages_of(response)
    assert (
        f"Recorded as channel request {str(request.request_id)[:8]}; "
        "HQ gets it with the next upload." in message
    )
    html = response.content.decode()
    assert "edit pending" in html and "Phone → +1 713 555 0199" in html
    listing = admin_client.get(page_url(houston), {"q": "karen"})
    assert rows(listing)[0]["pending_edits"] == 1 and "edit pending" in listing.content.decode()


def test_nothing_changed_is_said_and_nothing_recorded(admin_client, houston, karen):
    url = page_url(houston, "C000101")
    page = admin_client.get(url)

    response = admin_client.post(url, edit_post(page))

    assert response.status_code == 200
    (error,) = response.context["edit_form"].non_field_errors()
    assert error.startswith("Nothing changed")
    assert not ChannelRequest.objects.using("channel").exists()


def test_a_person_keeps_a_last_name(admin_client, houston, karen):
    url = page_url(houston, "C000101")

    response = admin_client.post(url, edit_post(admin_client.get(url), last_name=" "))

    assert response.context["edit_form"].errors["last_name"]
    assert not ChannelRequest.objects.using("channel").exists()


def test_add_address_in_place(admin_client, houston, ona):
    url = page_url(houston, ona.async_customer_id)

    response = admin_client.post(url, address_post(), follow=True)

    (message,) = messages_of(response)
    assert "address added: 9 New St, Houston, 77009, United States" in message
    assert "Changed in place (not uploaded yet)" in message
    address = AsyncCustomerAddress.objects.using("channel").get(async_customer=ona)
    assert (address.purpose, address.street, address.country) == ("invoice", "9 New St", "USA")
    assert "9 New St" in response.content.decode()  # listed among its addresses


def test_add_address_after_upload_is_a_request(admin_client, houston, ona):
    AsyncCustomer.objects.using("channel").filter(pk=ona.pk).update(upload_session_id=7)

    response = admin_client.post(
        page_url(houston, ona.async_customer_id), address_post(**{"address-is_primary": "on"})
    )

    assert response.status_code == 302
    request = ChannelRequest.objects.using("channel").get()
    assert request.target_async_customer_id == ona.async_customer_id
    (address,) = request.changes["addresses"]
    assert address["street"] == "9 New St" and address["is_primary"] is True
    assert address["async_address_id"]


def test_an_incomplete_address_names_its_fields(admin_client, houston, ona):
    response = admin_client.post(
        page_url(houston, ona.async_customer_id),
        address_post(**{"address-street": "", "address-country": ""}),
    )

    errors = response.context["address_form"].errors
    assert set(errors) == {"street", "country"}
    assert not AsyncCustomerAddress.objects.using("channel").exists()


@pytest.fixture
def galleria(organization):
    """A real-time store on Houston's channel database, with an HQ customer and its copy."""
    store = realtime_store_at(organization, name="Houston Galleria")
    created = customer_create_at_store(store=store, data=person("Rita", "Now"))
    return store, created.customer.account


def test_a_real_time_store_changes_hq_at_once(admin_client, galleria):
    store, account = galleria
    url = page_url(store, account)
    page = admin_client.get(url)
    assert "Real-time store" in page.content.decode()

    response = admin_client.post(url, edit_post(page, email="rita@now.example"), follow=True)

    (message,) = messages_of(response)
    assert "Changed at HQ at once (real-time store)." in message
    assert Customer.objects.get(account=account).email == "rita@now.example"
    assert ChannelCustomer.objects.using("channel").get(account=account).email == (
        "rita@now.example"
    )
    assert not ChannelRequest.objects.using("channel").exists()


def test_hq_validation_error_is_shown_on_the_field(admin_client, galleria):
    store, account = galleria
    url = page_url(store, account)

    response = admin_client.post(url, edit_post(admin_client.get(url), email="rita@@bad"))

    assert response.status_code == 200
    (error,) = response.context["edit_form"].errors["email"]
    assert 'Email: malformed email "rita@@bad"' in error
    assert "rita@@bad" in response.content.decode()
    assert Customer.objects.get(account=account).email == "rita@example.com"


def test_hq_unreachable_falls_back_to_a_request_and_says_why(admin_client, galleria, monkeypatch):
    store, account = galleria
    url = page_url(store, account)
    page = admin_client.get(url)

    def hq_down(**kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(request_services, "_edit_at_hq_now", hq_down)
    response = admin_client.post(url, edit_post(page, email="rita@later.example"), follow=True)

    (message,) = messages_of(response)
    assert "Recorded as channel request" in message
    assert "HQ could not be reached (OperationalError)" in message
    assert ChannelRequest.objects.using("channel").get().target_account == account


def test_an_edit_the_store_cannot_make_is_shown_as_a_form_error(admin_client, galleria):
    store, _ = galleria
    # A copy HQ does not know (not yet an HQ customer): the real-time call refuses it.
    ChannelCustomerFactory(legal_entity="USRT", account="C009999", first_name="Ghost")
    url = page_url(store, "C009999")

    response = admin_client.post(url, edit_post(admin_client.get(url), email="g@x.example"))

    assert response.status_code == 200
    (error,) = response.context["edit_form"].non_field_errors()
    assert error.startswith('unknown customer "C009999"')


def test_an_address_added_at_a_real_time_store_is_at_hq_and_at_the_store_at_once(
    admin_client, galleria
):
    store, account = galleria

    response = admin_client.post(page_url(store, account), address_post(), follow=True)

    (message,) = messages_of(response)
    assert "Changed at HQ at once (real-time store)." in message
    assert Customer.objects.get(account=account).party.addresses.filter(street="9 New St").exists()
    assert "9 New St" in response.content.decode()  # the store's copy has it


def test_unknown_customer_is_404(admin_client, houston):
    assert admin_client.get(page_url(houston, "C404404")).status_code == 404
    assert admin_client.get(page_url(houston, uuid.uuid4())).status_code == 404


# --- The whole way: edit at one store, conversion, the other store --------------------


def test_an_edit_reaches_hq_and_the_other_stores_copy_and_stops_being_pending(
    admin_client, organization
):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "Far"))
    convert()
    account = Customer.objects.get(async_customer_id=ona.async_customer_id).account
    houston, seattle = organization["houston"], organization["seattle"]
    url = page_url(houston, account)

    admin_client.post(url, edit_post(admin_client.get(url), email="ona@far.example"))
    assert len(admin_client.get(url).context["customer"].pending_edits) == 1
    convert()

    assert Customer.objects.get(account=account).email == "ona@far.example"
    assert admin_client.get(url).context["customer"].pending_edits == []
    other = admin_client.get(page_url(seattle), {"q": "ona@far"})
    assert [row["account"] for row in rows(other)] == [account]
