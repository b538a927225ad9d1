"""The Store customers page's "All stores" switch, choosing a customer HQ found, and "Add
customer at store" as the store's own form (README "Store customers")."""

from contextlib import ExitStack
from dataclasses import replace

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commerce.db import channel_aliases
from customers.models import (
    AsyncCustomer,
    ChannelCustomer,
    Customer,
    CustomerGroup,
    PossibleDuplicate,
)
from customers.selectors import store_all
from customers.services import async_customer_create, customer_create_at_store
from tests.factories.commerce import LegalEntityFactory, StoreFactory
from tests.factories.customers import (
    AddressFactory,
    ChannelCustomerFactory,
    CustomerGroupFactory,
)
from tests.fixtures import person, realtime_store_at, run

pytestmark = pytest.mark.django_db(databases="__all__")


def list_url(store):
    return reverse("admin:customers_store_customers", args=[store.pk])


def customer_url(store, key):
    return reverse("admin:customers_store_customer", args=[store.pk, str(key)])


def add_url(store):
    return reverse("admin:customers_store_customer_add", args=[store.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def world(organization):
    """Houston (S0001) holds Karen Stone; Seattle's real-time store S0003 created Rita
    Stone (an HQ account Houston does not hold yet); Seattle's Øyvind Stone is uploaded
    to HQ, not an account yet."""
    AddressFactory(party=organization["default"].party, country="USA", is_primary=True)
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="STAFF", name="Employees")
    ChannelCustomerFactory(
        legal_entity="USRT", account="C000101", first_name="Karen", last_name="Stone",
        name="Karen Stone",
    )  # fmt: skip
    realtime = realtime_store_at(organization, "seattle")
    rita = customer_create_at_store(store=realtime, data=person("Rita", "Stone")).customer
    oyvind = async_customer_create(
        alias="channel2", store_number="S0002", data=person("Øyvind", "Stone")
    )
    run("upload", channel_database="SEATTLE")
    return {
        "houston": organization["houston"],
        "realtime": realtime,
        "rita": rita,
        "oyvind": oyvind,
    }


# --- The switch ----------------------------------------------------------------------------


def test_without_the_switch_only_the_store_is_searched(admin_client, world):
    response = admin_client.get(list_url(world["houston"]), {"q": "Stone"})

    assert [r["name"] for r in response.context["rows"]] == ["Karen Stone"]
    assert "hq_rows" not in response.context
    assert 'id="store-customer-all"' in response.content.decode()


def test_all_stores_lists_hqs_customers_marked_as_from_hq(admin_client, world):
    response = admin_client.get(list_url(world["houston"]), {"q": "Stone", "all": "1"})

    assert [r["name"] for r in response.context["rows"]] == ["Karen Stone"]
    hq = {r["name"]: r for r in response.context["hq_rows"]}
    assert set(hq) == {"Rita Stone", "Øyvind Stone"}
    assert (hq["Rita Stone"]["kind"], hq["Rita Stone"]["account"]) == (
        "account",
        world["rita"].account,
    )
    assert (hq["Øyvind Stone"]["kind"], hq["Øyvind Stone"]["store_number"]) == ("staged", "S0002")
    page = response.content.decode()
    assert page.count('<span class="store-badge store-badge-hq">HQ</span>') == 2
    assert page.count('value="Use at this store"') == 1  # not for a record that is no account
    assert "not an account yet (uploaded)" in page
    assert "Available at every store once HQ creates its account." in page
    assert 'name="all" value="1" id="store-customer-all" checked' in page


def test_all_stores_without_a_query_asks_for_one(admin_client, world):
    response = admin_client.get(list_url(world["houston"]), {"all": "1"})

    assert response.context["hq_rows"] == []
    assert "to search all stores" in response.content.decode()


def test_an_offline_store_says_hq_cannot_be_reached_and_shows_its_own(admin_client, world):
    houston = world["houston"]
    houston.offline = True
    houston.save()

    response = admin_client.get(list_url(houston), {"q": "Stone", "all": "1"})

    assert [r["name"] for r in response.context["rows"]] == ["Karen Stone"]
    page = response.content.decode()
    assert "HQ cannot be reached (the store is offline): only this store" in page
    assert "Rita Stone" not in page


def test_an_hq_database_error_is_said_and_the_local_results_shown(admin_client, world, monkeypatch):
    def hq_down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(store_all, "_hq_customers", hq_down)

    response = admin_client.get(list_url(world["houston"]), {"q": "Stone", "all": "1"})

    assert response.status_code == 200
    assert [r["name"] for r in response.context["rows"]] == ["Karen Stone"]
    assert "HQ could not be reached (server closed" in (response.content.decode())


# --- Choosing -------------------------------------------------------------------------------


def choose_url(store):
    return reverse("admin:customers_store_customer_choose", args=[store.pk])


def test_choosing_makes_the_customer_available_at_the_store_at_once(admin_client, world):
    houston, rita = world["houston"], world["rita"]

    response = admin_client.post(choose_url(houston), {"account": rita.account, "q": "Stone"})

    copy = ChannelCustomer.objects.using("channel").get(account=rita.account)
    assert copy.hq_version == rita.version and copy.name == "Rita Stone"
    assert sorted(copy.addresses.values_list("street", flat=True)) == ["1 Main St", "2 Side St"]
    assert response.status_code == 302 and response.url == customer_url(houston, rita.account)
    (message,) = messages_of(response)
    assert f"Rita Stone ({rita.account}) is now available at store S0001" in message
    opened = admin_client.get(response.url)
    assert opened.status_code == 200 and opened.context["record"] == copy
    listed = admin_client.get(list_url(houston), {"q": "Stone", "all": "1"})
    assert "Rita Stone" in [r["name"] for r in listed.context["rows"]]  # local now
    assert "Rita Stone" not in [r["name"] for r in listed.context["hq_rows"]]


def test_choosing_an_account_of_another_legal_entity_writes_nothing(admin_client, world):
    other = StoreFactory(number="S0900", legal_entity=LegalEntityFactory(code="DEMF"))

    response = admin_client.post(choose_url(other), {"account": world["rita"].account})

    assert response.status_code == 302 and response.url.startswith(list_url(other))
    assert "Nothing written: legal entity DEMF has no customer account" in messages_of(response)[0]
    assert (
        not ChannelCustomer.objects.using("channel").filter(account=world["rita"].account).exists()
    )


def test_choosing_needs_the_change_permission(client, world):
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_asynccustomer", "view_channelcustomer"])
    )
    client.force_login(user)

    page = client.get(list_url(world["houston"]), {"q": "Stone", "all": "1"})
    refused = client.post(choose_url(world["houston"]), {"account": world["rita"].account})

    assert page.status_code == 200 and 'value="Use at this store"' not in page.content.decode()
    assert refused.status_code == 403
    assert (
        not ChannelCustomer.objects.using("channel").filter(account=world["rita"].account).exists()
    )


# --- Add customer at store ------------------------------------------------------------------------


def add_post(**overrides) -> dict:
    data = {
        "type": "person",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "address_purpose": "delivery",
        "address_street": "1 Main St",
        "address_city": "Houston",
        "address_zip": "77001",
        "address_country": "USA",
        "address_primary": "on",
    }
    data.update(overrides)
    return data


def test_the_add_form_is_the_stores_with_its_legal_entitys_groups(admin_client, world):
    CustomerGroupFactory(code="ELSEWHERE")  # another legal entity's

    response = admin_client.get(add_url(world["houston"]))

    form = response.context["form"]
    assert "store" not in form.fields
    labels = [label for _, label in form.fields["customer_group"].choices]
    assert labels[0] == "The store's default"
    assert sorted(labels[1:]) == ["Employees (STAFF)", "Retail customers (RETAIL)"]
    assert "Add customer at store S0001" in response.content.decode()


def test_adding_at_an_async_store_ends_on_the_new_customers_store_page(admin_client, world):
    houston = world["houston"]
    staff = CustomerGroup.objects.get(legal_entity=houston.legal_entity, code="STAFF")

    response = admin_client.post(add_url(houston), add_post(customer_group=staff.pk))

    created = AsyncCustomer.objects.using("channel").get(last_name="Lovelace")
    assert created.customer_group == "STAFF" and created.store_number == "S0001"
    assert response.status_code == 302
    assert response.url == customer_url(houston, created.async_customer_id)
    assert "Pending sync" in messages_of(response)[0]
    page = admin_client.get(response.url)
    assert page.status_code == 200 and page.context["record"] == created


def test_adding_at_a_real_time_store_ends_on_its_account_and_says_a_duplicate(admin_client, world):
    realtime = world["realtime"]
    ada = replace(person("Ada", "Lovelace"), email="ada@example.com")
    first = customer_create_at_store(store=realtime, data=ada).customer

    response = admin_client.post(add_url(realtime), add_post(first_name="A."))

    (customer,) = Customer.objects.filter(party__name="A. Lovelace")
    assert response.url == customer_url(realtime, customer.account)
    said = messages_of(response)
    assert f"created customer account {customer.account}" in said[0]
    assert f"It may be a duplicate: possible duplicate of {first.account}" in said[1]
    assert PossibleDuplicate.objects.filter(customer=customer, duplicate_of=first).exists()
    assert admin_client.get(response.url).status_code == 200


def test_a_bad_input_stays_on_the_form_and_writes_nothing(admin_client, world):
    response = admin_client.post(add_url(world["houston"]), add_post(last_name=""))

    assert response.status_code == 200 and "last_name" in response.context["form"].errors
    assert not AsyncCustomer.objects.using("channel").filter(first_name="Ada").exists()


def test_the_store_pages_link_to_the_stores_add_form(admin_client, world):
    page = admin_client.get(list_url(world["houston"]))

    assert f'href="{add_url(world["houston"])}"' in page.content.decode()


def _page_query_counts(client, url, params) -> dict[str, int]:
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ["default", *channel_aliases()]
        }
        assert client.get(url, params).status_code == 200
    return {alias: len(c.captured_queries) for alias, c in captured.items()}


def test_the_all_stores_page_costs_the_same_with_more_rows(admin_client, world):
    params = {"q": "Stone", "all": "1"}
    few = _page_query_counts(admin_client, list_url(world["houston"]), params)
    for index in range(10):
        customer_create_at_store(store=world["realtime"], data=person("Amy", f"Stone{index}"))
        async_customer_create(
            alias="channel2", store_number="S0002", data=person("Ben", f"Stone{index}")
        )
    run("upload", channel_database="SEATTLE")

    many = _page_query_counts(admin_client, list_url(world["houston"]), params)

    listed = admin_client.get(list_url(world["houston"]), params).context["hq_rows"]
    assert len(listed) == 22
    assert many == few


def test_choosing_a_customer_the_store_holds_again_writes_nothing_new(admin_client, world):
    houston, rita = world["houston"], world["rita"]
    admin_client.post(choose_url(houston), {"account": rita.account})

    again = admin_client.post(choose_url(houston), {"account": rita.account})

    assert again.url == customer_url(houston, rita.account)
    assert messages_of(again)[-1] == f"Rita Stone ({rita.account}) was already at store S0001."
    assert ChannelCustomer.objects.using("channel").filter(account=rita.account).count() == 1
