"""The customers admin (README "Admin"): every customers model's pages, channel records
in the chosen channel database, HQ customers' versions and address countries."""

import uuid

import pytest

from customers.models import (
    Address,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    AsyncCustomerLink,
    ChannelAffiliation,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelCustomerAsyncLink,
    ChannelCustomerAttribute,
    ChannelCustomerGroup,
    ChannelReferenceVersion,
    ChannelRequest,
    ChannelStoreDefaults,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    Party,
    PossibleDuplicate,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagedChannelRequest,
    StagingStatus,
)
from tests.commerce.test_admin import (
    AdminPagesContract,
    admin_url,
    change_form_post_data,
    in_channel,
    registered_models,
)
from tests.customers.test_admin_add_at_store import ADD_AT_STORE
from tests.factories.customers import (
    AddressFactory,
    AffiliationFactory,
    AsyncAddressFactory,
    AsyncCustomerAddressFactory,
    AsyncCustomerAffiliationFactory,
    AsyncCustomerAttributeValueFactory,
    AsyncCustomerContactFactory,
    AsyncCustomerFactory,
    AsyncCustomerLinkFactory,
    ChannelAffiliationFactory,
    ChannelCustomerAddressFactory,
    ChannelCustomerAsyncLinkFactory,
    ChannelCustomerAttributeFactory,
    ChannelCustomerFactory,
    ChannelCustomerGroupFactory,
    ChannelReferenceVersionFactory,
    ChannelRequestFactory,
    ChannelStoreDefaultsFactory,
    ContactInfoFactory,
    CustomerAffiliationFactory,
    CustomerAttributeFactory,
    CustomerAttributeValueFactory,
    CustomerFactory,
    CustomerGroupFactory,
    PartyFactory,
    PossibleDuplicateFactory,
    StagedAsyncAddressFactory,
    StagedAsyncCustomerAddressFactory,
    StagedAsyncCustomerAffiliationFactory,
    StagedAsyncCustomerAttributeValueFactory,
    StagedAsyncCustomerContactFactory,
    StagedAsyncCustomerFactory,
    StagedChannelRequestFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")


# --- Sample rows for every customers model ------------------------------------------------


def _parties(n):
    parties = PartyFactory.create_batch(n)
    for party in parties:
        CustomerFactory(party=party)
        AddressFactory(party=party)
    return parties


def _customers(n):
    customers = CustomerFactory.create_batch(n)
    for customer in customers:
        AddressFactory(party=customer.party, is_primary=True)
    return customers


def _async_customers(n):
    customers = AsyncCustomerFactory.create_batch(n)
    for customer in customers:
        AsyncCustomerAddressFactory(async_customer=customer)
    return customers


def _staged_customers(n):
    staged = StagedAsyncCustomerFactory.create_batch(n)
    for row in staged:
        StagedAsyncCustomerAddressFactory(staged_customer=row)
    return staged


MAKERS = {
    CustomerGroup: lambda n: CustomerGroupFactory.create_batch(n),
    CustomerAttribute: lambda n: CustomerAttributeFactory.create_batch(n),
    Affiliation: lambda n: AffiliationFactory.create_batch(n),
    Party: _parties,
    Customer: _customers,
    Address: lambda n: AddressFactory.create_batch(n),
    ContactInfo: lambda n: ContactInfoFactory.create_batch(n),
    CustomerAttributeValue: lambda n: CustomerAttributeValueFactory.create_batch(n),
    CustomerAffiliation: lambda n: CustomerAffiliationFactory.create_batch(n),
    ChannelCustomer: lambda n: [ChannelCustomerAddressFactory().customer for _ in range(n)],
    ChannelCustomerAddress: lambda n: ChannelCustomerAddressFactory.create_batch(n),
    AsyncCustomer: _async_customers,
    AsyncCustomerAddress: lambda n: [
        AsyncCustomerAddressFactory(async_customer=AsyncCustomerFactory()) for _ in range(n)
    ],
    AsyncCustomerContact: lambda n: AsyncCustomerContactFactory.create_batch(n),
    AsyncCustomerAttributeValue: lambda n: AsyncCustomerAttributeValueFactory.create_batch(n),
    AsyncCustomerAffiliation: lambda n: AsyncCustomerAffiliationFactory.create_batch(n),
    AsyncAddress: lambda n: AsyncAddressFactory.create_batch(n),
    StagedAsyncCustomer: _staged_customers,
    StagedAsyncCustomerAddress: lambda n: StagedAsyncCustomerAddressFactory.create_batch(n),
    StagedAsyncCustomerContact: lambda n: StagedAsyncCustomerContactFactory.create_batch(n),
    StagedAsyncCustomerAttributeValue: lambda n: (
        StagedAsyncCustomerAttributeValueFactory.create_batch(n)
    ),
    StagedAsyncCustomerAffiliation: lambda n: StagedAsyncCustomerAffiliationFactory.create_batch(n),
    StagedAsyncAddress: lambda n: StagedAsyncAddressFactory.create_batch(n),
    PossibleDuplicate: lambda n: PossibleDuplicateFactory.create_batch(n),
    AsyncCustomerLink: lambda n: AsyncCustomerLinkFactory.create_batch(n),
    ChannelCustomerAsyncLink: lambda n: ChannelCustomerAsyncLinkFactory.create_batch(n),
    ChannelRequest: lambda n: ChannelRequestFactory.create_batch(n),
    StagedChannelRequest: lambda n: StagedChannelRequestFactory.create_batch(n),
    ChannelCustomerGroup: lambda n: ChannelCustomerGroupFactory.create_batch(n),
    ChannelCustomerAttribute: lambda n: ChannelCustomerAttributeFactory.create_batch(n),
    ChannelAffiliation: lambda n: ChannelAffiliationFactory.create_batch(n),
    ChannelStoreDefaults: lambda n: ChannelStoreDefaultsFactory.create_batch(n),
    ChannelReferenceVersion: lambda n: ChannelReferenceVersionFactory.create_batch(n),
}


def test_every_registered_customers_model_has_sample_rows():
    assert set(registered_models("customers")) == set(MAKERS)


class TestCustomersAdminPages(AdminPagesContract):
    MAKERS = MAKERS


def test_site_header_says_retail_hq(admin_client):
    assert "Retail HQ" in admin_client.get("/admin/").content.decode()


# --- Channel records: the chosen channel database ------------------------------------------


def test_async_customer_in_channel2_is_listed_only_when_channel2_is_chosen(admin_client):
    AsyncCustomerFactory(first_name="Only", last_name="InChannel")
    AsyncCustomerFactory(first_name="Only", last_name="InChannelTwo", using="channel2")
    url = admin_url(AsyncCustomer, "changelist")

    default = admin_client.get(url)
    second = admin_client.get(url, {"channel_db": "channel2"})

    assert [c.last_name for c in default.context["cl"].result_list] == ["InChannel"]
    assert [c.last_name for c in second.context["cl"].result_list] == ["InChannelTwo"]


def test_async_customer_change_page_saves_into_channel2(admin_client):
    CustomerAttribute.objects.create(name="Tier", type="choice", choices=["Silver", "Gold"])
    AsyncCustomerFactory(email="channel@example.com")  # the same primary key, in channel
    customer = AsyncCustomerFactory(email="before@example.com", using="channel2")
    address = AsyncCustomerAddressFactory(async_customer=customer, city="Kaunas", using="channel2")
    AsyncCustomerContactFactory(async_customer=customer, using="channel2")
    url = in_channel(admin_url(AsyncCustomer, "change", customer.pk), "channel2")

    page = admin_client.get(url)
    assert page.status_code == 200
    assert page.context["original"].email == "before@example.com"
    assert "CHANNEL2" in page.content.decode() or "channel2" in page.content.decode()
    data = change_form_post_data(
        page,
        email="after@example.com",
        **{
            "addresses-0-city": "Vilnius",
            "attribute_values-TOTAL_FORMS": "1",
            "attribute_values-0-name": "Tier",
            "attribute_values-0-value": "Gold",  # picked in the select of the choices
        },
    )
    response = admin_client.post(url, data)

    assert response.status_code == 302
    saved = AsyncCustomer.objects.using("channel2").get(pk=customer.pk)
    assert saved.email == "after@example.com"
    assert saved.async_customer_id == customer.async_customer_id
    assert AsyncCustomerAddress.objects.using("channel2").get(pk=address.pk).city == "Vilnius"
    (value,) = AsyncCustomerAttributeValue.objects.using("channel2").filter(async_customer=saved)
    assert (value.name, value.value) == ("Tier", "Gold")
    assert AsyncCustomer.objects.using("channel").get().email == "channel@example.com"


def test_async_customer_added_in_channel2_gets_a_guid(admin_client):
    url = in_channel(admin_url(AsyncCustomer, "add"), "channel2")
    page = admin_client.get(url)
    data = change_form_post_data(
        page,
        store_number="S0002",
        type="person",
        first_name="Ona",
        last_name="Šimkutė",
        **{
            "addresses-TOTAL_FORMS": "1",
            "addresses-0-purpose": "delivery",
            "addresses-0-street": "Gedimino pr. 1",
            "addresses-0-city": "Vilnius",
            "addresses-0-zip": "01103",
            "addresses-0-country": "LTU",
            "addresses-0-is_primary": "on",
        },
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302
    created = AsyncCustomer.objects.using("channel2").get()
    assert isinstance(created.async_customer_id, uuid.UUID) and created.account is None
    (address,) = created.addresses.all()
    assert isinstance(address.async_address_id, uuid.UUID) and address.city == "Vilnius"
    assert not AsyncCustomer.objects.using("channel").exists()


def test_deleting_an_inline_row_in_channel2(admin_client):
    customer = AsyncCustomerFactory(using="channel2")
    AsyncCustomerContactFactory(async_customer=customer, using="channel2")
    url = in_channel(admin_url(AsyncCustomer, "change", customer.pk), "channel2")
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, **{"contacts-0-DELETE": "on"}))

    assert response.status_code == 302
    assert not AsyncCustomerContact.objects.using("channel2").exists()


def test_job_written_fields_are_read_only(admin_client):
    customer = AsyncCustomerFactory(account="C000009", upload_session_id=7)
    url = admin_url(AsyncCustomer, "change", customer.pk)
    page = admin_client.get(url)

    form = page.context["adminform"].form
    assert {"account", "upload_session_id", "synchronized_at", "async_customer_id"}.isdisjoint(
        form.fields
    )


def test_channel_customer_copies_are_view_only(admin_client):
    copy = ChannelCustomerFactory()

    page = admin_client.get(admin_url(ChannelCustomer, "change", copy.pk))

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False


# --- HQ customers ------------------------------------------------------------------------


def test_editing_a_customer_raises_its_version(admin_client):
    customer = CustomerFactory(email="old@example.com")
    url = admin_url(Customer, "change", customer.pk)
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, email="new@example.com"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.email, customer.version) == ("new@example.com", 2)


def test_editing_an_address_raises_its_customers_version(admin_client):
    customer = CustomerFactory()
    address = AddressFactory(party=customer.party, city="Old")
    url = admin_url(Address, "change", address.pk)
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, city="New"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.version == 2


def test_deleting_addresses_raises_their_customers_version_once(admin_client):
    customer, other = CustomerFactory(), CustomerFactory()
    addresses = AddressFactory.create_batch(2, party=customer.party)

    response = admin_client.post(
        admin_url(Address, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in addresses],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not Address.objects.filter(party=customer.party).exists()
    customer.refresh_from_db()
    other.refresh_from_db()
    assert (customer.version, other.version) == (2, 1)


def test_customer_added_without_account_takes_the_next_sequence_number(admin_client):
    group = CustomerGroupFactory()
    party = PartyFactory()
    page = admin_client.get(admin_url(Customer, "add"))
    data = change_form_post_data(
        page,
        legal_entity=group.legal_entity.pk,
        party=party.pk,
        customer_group=group.pk,
        currency="USD",
        account="",
    )

    response = admin_client.post(admin_url(Customer, "add"), data)

    assert response.status_code == 302
    assert Customer.objects.get(party=party).account == "C000001"


def test_staged_rows_are_not_added_by_hand_and_keep_job_fields(admin_client):
    staged = StagedAsyncCustomerFactory(status=StagingStatus.FAILED, last_error="email: bad")
    url = admin_url(StagedAsyncCustomer, "change", staged.pk)
    page = admin_client.get(url)

    assert admin_client.get(admin_url(StagedAsyncCustomer, "add")).status_code == 403
    form = page.context["adminform"].form
    assert {"status", "last_error", "account", "attempts"}.isdisjoint(form.fields)
    response = admin_client.post(url, change_form_post_data(page, email="fixed@example.com"))
    assert response.status_code == 302
    staged.refresh_from_db()
    assert (staged.email, staged.status) == ("fixed@example.com", StagingStatus.FAILED)


# --- Address countries ----------------------------------------------------------------------

LITHUANIA_SELECTED = '<option value="LTU" selected>Lithuania (LTU)</option>'


@pytest.mark.parametrize(
    "factory",
    [AddressFactory, StagedAsyncAddressFactory, StagedAsyncCustomerAddressFactory],
    ids=lambda factory: factory._meta.model.__name__,
)
def test_address_country_is_a_select_of_country_names(admin_client, factory):
    row = factory(country="LTU")

    page = admin_client.get(admin_url(factory._meta.model, "change", row.pk))

    assert page.status_code == 200
    assert '<select name="country"' in page.content.decode()
    assert LITHUANIA_SELECTED in page.content.decode()


def test_party_address_inline_country_is_a_select_of_country_names(admin_client):
    address = AddressFactory(country="LTU")

    page = admin_client.get(admin_url(Party, "change", address.party_id))

    assert '<select name="addresses-0-country"' in page.content.decode()
    assert LITHUANIA_SELECTED in page.content.decode()


def test_hq_address_refuses_a_code_that_is_not_a_country(admin_client):
    address = AddressFactory(country="USA")
    url = admin_url(Address, "change", address.pk)
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, country="XXL"))

    assert response.status_code == 200
    assert "country" in response.context["adminform"].form.errors
    address.refresh_from_db()
    assert address.country == "USA"


def test_staged_address_shows_its_bad_code_until_a_country_is_picked(admin_client):
    staged = StagedAsyncCustomerFactory(status=StagingStatus.FAILED, last_error="bad country")
    StagedAsyncCustomerAddressFactory(staged_customer=staged, country="XXL")
    url = admin_url(StagedAsyncCustomer, "change", staged.pk)
    page = admin_client.get(url)
    assert '<option value="XXL" selected>XXL (not an ISO 3166-1 alpha-3 code)</option>' in (
        page.content.decode()
    )

    kept = admin_client.post(url, change_form_post_data(page, email="fixed@example.com"))
    assert kept.status_code == 302
    assert staged.addresses.get().country == "XXL"  # R5 judges it at HQ, not the form

    page = admin_client.get(url)  # the saved record is a newer version (R11)
    fixed = admin_client.post(url, change_form_post_data(page, **{"addresses-0-country": "LTU"}))
    assert fixed.status_code == 302
    assert staged.addresses.get().country == "LTU"


def test_add_at_store_offers_country_names(admin_client, async_store):
    response = admin_client.get(ADD_AT_STORE)

    assert '<option value="LTU">Lithuania (LTU)</option>' in response.content.decode()
