"""The customers admin's "Add customer at store" (R1): the store's own form, async,
real-time and offline stores, errors with nothing written, and permissions."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.urls import reverse

from customers.models import AsyncCustomer, ChannelCustomer, Customer
from tests.commerce.test_admin import admin_url
from tests.factories.commerce import ChannelDatabaseFactory, StoreFactory
from tests.factories.customers import CustomerGroupFactory

pytestmark = pytest.mark.django_db(databases="__all__")


# --- Add customer at store (R1) --------------------------------------------------------------

ADD_AT_STORE = "/admin/customers/customer/add-at-store/"


def _store_customer(store, **overrides):
    data = {
        "store": store.pk,
        "type": "person",
        "first_name": "Ona",
        "last_name": "Šimkutė",
        "email": "ona@example.com",
        "phone": "+37060000000",
        "address_purpose": "delivery",
        "address_street": "Gedimino pr. 1",
        "address_city": "Vilnius",
        "address_zip": "01103",
        "address_country": "LTU",
        "address_primary": "on",
    }
    data.update(overrides)
    return data


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_add_at_store_for_a_store_opens_the_stores_own_form(admin_client, async_store):
    response = admin_client.get(ADD_AT_STORE, {"store": async_store.pk})

    assert response.status_code == 302
    assert response.url == reverse("admin:customers_store_customer_add", args=[async_store.pk])


def test_store_page_links_to_add_customer_at_this_store(admin_client, async_store):
    response = admin_client.get(admin_url(async_store.__class__, "change", async_store.pk))

    assert f"{ADD_AT_STORE}?store={async_store.pk}" in response.content.decode()


def test_customer_list_links_to_add_customer_at_store(admin_client):
    response = admin_client.get(admin_url(Customer, "changelist"))

    assert ADD_AT_STORE in response.content.decode()


def test_async_store_creates_an_async_customer_in_its_channel_database(admin_client, async_store):
    response = admin_client.post(ADD_AT_STORE, _store_customer(async_store))

    created = AsyncCustomer.objects.using("channel").get()
    assert (created.first_name, created.account, created.store_number) == (
        "Ona",
        None,
        async_store.number,
    )
    assert created.customer_group == "RETAIL"  # R2: from the store's default customer
    (address,) = created.addresses.all()
    assert (address.country, address.is_primary) == ("LTU", True)
    assert not Customer.objects.filter(async_customer_id=created.async_customer_id).exists()
    (message,) = _messages(response)
    assert f"async customer {created.async_customer_id}" in message
    assert "channel database CHANNEL" in message and "Pending sync" in message
    assert response.status_code == 302  # the store customer page of the new customer
    assert response.url == reverse(
        "admin:customers_store_customer", args=[async_store.pk, str(created.async_customer_id)]
    )
    assert admin_client.get(response.url).context["record"] == created


def test_async_store_on_channel2_creates_the_customer_in_channel2(admin_client):
    store = StoreFactory(channel_database=ChannelDatabaseFactory(alias="channel2"))

    response = admin_client.post(ADD_AT_STORE, _store_customer(store))

    created = AsyncCustomer.objects.using("channel2").get()
    assert not AsyncCustomer.objects.using("channel").exists()
    follow = admin_client.get(response.url)
    assert follow.status_code == 200 and follow.context["record"] == created
    assert follow.context["record"]._state.db == "channel2"


def test_offline_store_falls_back_to_async(admin_client, realtime_store):
    realtime_store.offline = True
    realtime_store.save()

    response = admin_client.post(ADD_AT_STORE, _store_customer(realtime_store))

    assert AsyncCustomer.objects.using("channel").count() == 1
    assert "offline" in _messages(response)[0]


def test_realtime_store_creates_the_hq_customer_and_the_channel_copy(admin_client, realtime_store):
    before = set(Customer.objects.values_list("pk", flat=True))

    response = admin_client.post(ADD_AT_STORE, _store_customer(realtime_store))

    (customer,) = Customer.objects.exclude(pk__in=before)
    assert customer.account == "C000001" and customer.party.name == "Ona Šimkutė"
    assert customer.party.addresses.get().country == "LTU"
    copy = ChannelCustomer.objects.using("channel").get(account="C000001")
    assert copy.addresses.get().country == "LTU"
    assert not AsyncCustomer.objects.using("channel").exists()
    (message,) = _messages(response)
    assert "created customer account C000001" in message
    assert response.status_code == 302
    assert response.url == reverse(
        "admin:customers_store_customer", args=[realtime_store.pk, "C000001"]
    )


def test_organization_needs_its_name(admin_client, async_store):
    response = admin_client.post(
        ADD_AT_STORE, _store_customer(async_store, type="organization", organization_name="")
    )

    assert response.status_code == 200
    assert "organization_name" in response.context["form"].errors
    assert not AsyncCustomer.objects.using("channel").exists()


@pytest.mark.parametrize("store_fixture", ["async_store", "realtime_store"])
def test_bad_country_is_shown_and_nothing_is_written(admin_client, request, store_fixture):
    store = request.getfixturevalue(store_fixture)
    customers_before = Customer.objects.count()

    response = admin_client.post(ADD_AT_STORE, _store_customer(store, address_country="XXL"))

    assert response.status_code == 200
    assert "address_country" in response.context["form"].errors
    assert "XXL" in response.content.decode()
    assert Customer.objects.count() == customers_before
    assert not AsyncCustomer.objects.using("channel").exists()
    assert not ChannelCustomer.objects.using("channel").exists()


def test_hq_validation_errors_are_shown_and_nothing_is_written(admin_client, realtime_store):
    customers_before = Customer.objects.count()

    response = admin_client.post(
        ADD_AT_STORE, _store_customer(realtime_store, email="not-an-email")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["email"] == ['Email: malformed email "not-an-email"']
    assert "malformed email" in response.content.decode()
    assert Customer.objects.count() == customers_before
    assert not ChannelCustomer.objects.using("channel").exists()


def test_customer_group_of_another_legal_entity_is_refused(admin_client, async_store):
    other_group = CustomerGroupFactory(code="OTHER")

    response = admin_client.post(
        ADD_AT_STORE, _store_customer(async_store, customer_group=other_group.pk)
    )

    assert response.status_code == 200
    assert "customer_group" in response.context["form"].errors
    assert not AsyncCustomer.objects.using("channel").exists()


def test_add_at_store_needs_the_add_customer_permission(client, async_store):
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(user)

    assert client.get(ADD_AT_STORE).status_code == 403
    assert client.post(ADD_AT_STORE, _store_customer(async_store)).status_code == 403
    assert not AsyncCustomer.objects.using("channel").exists()


def test_add_at_store_with_the_permission_is_allowed(client, async_store):
    user = User.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_customer"))
    client.force_login(user)

    response = client.post(ADD_AT_STORE, _store_customer(async_store))

    assert response.status_code == 302
    assert AsyncCustomer.objects.using("channel").count() == 1


def test_add_at_store_needs_staff(client):
    client.force_login(User.objects.create_user("shopper", password="x"))

    response = client.get(ADD_AT_STORE)

    assert response.status_code == 302 and "/admin/login/" in response.url
