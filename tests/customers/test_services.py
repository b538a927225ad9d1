import uuid

import pytest

from commerce.models import NumberSequence
from customers.models import (
    Address,
    AsyncCustomer,
    ChannelCustomer,
    Customer,
    CustomerType,
)
from customers.services import (
    AddressInput,
    ContactInput,
    CustomerInput,
    CustomerValidationError,
    ReferenceData,
    account_numbers_allocate,
    customer_create_at_store,
    customer_input_errors,
)
from tests.factories.commerce import StoreFactory
from tests.factories.customers import (
    AffiliationFactory,
    CustomerAttributeFactory,
    CustomerFactory,
    CustomerGroupFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")


def _person(**overrides) -> CustomerInput:
    values = dict(
        first_name="Ona",
        last_name="Šimkutė",
        email="ona@example.com",
        addresses=(
            AddressInput(
                purpose="delivery",
                street="Gedimino pr. 1",
                city="Vilnius",
                zip="01103",
                country="LTU",
                is_primary=True,
            ),
        ),
        contacts=(ContactInput(type="phone", value="+37060000000"),),
    )
    values.update(overrides)
    return CustomerInput(**values)


def test_async_profile_creates_pending_async_customer_in_channel_only(async_store):
    result = customer_create_at_store(store=async_store, data=_person())

    assert result.mode == "async"
    stored = AsyncCustomer.objects.using("channel").get()
    assert stored.account is None and stored.store_status == "Pending sync"
    assert isinstance(stored.async_customer_id, uuid.UUID)
    assert stored.addresses.count() == 1 and stored.contacts.count() == 1
    assert not Customer.objects.filter(async_customer_id=stored.async_customer_id).exists()
    assert not ChannelCustomer.objects.using("channel").exists()


def test_real_time_store_creates_hq_account_and_channel_copy(realtime_store):
    result = customer_create_at_store(store=realtime_store, data=_person())

    assert result.mode == "real_time"
    customer = Customer.objects.get(pk=result.customer.pk)
    assert customer.account == "C000001"
    assert customer.async_customer_id is None
    assert Address.objects.filter(party=customer.party, is_primary=True).count() == 1
    copy = ChannelCustomer.objects.using("channel").get()
    assert (copy.account, copy.name) == ("C000001", "Ona Šimkutė")
    assert copy.addresses.get().country == "LTU"
    assert not AsyncCustomer.objects.using("channel").exists()
    assert not ChannelCustomer.objects.using("channel2").exists()


def test_offline_real_time_store_falls_back_to_async(realtime_store):
    realtime_store.offline = True
    realtime_store.save()

    result = customer_create_at_store(store=realtime_store, data=_person())

    assert result.mode == "async"
    assert AsyncCustomer.objects.using("channel").count() == 1
    assert Customer.objects.count() == 1  # only the store's default customer


def test_defaults_come_from_store_default_customer(async_store):
    default = async_store.default_customer
    vip = CustomerGroupFactory(legal_entity=async_store.legal_entity, code="VIP")
    default.customer_group = vip
    default.currency = "EUR"
    default.language = "lt"
    default.save()

    customer_create_at_store(store=async_store, data=_person(type=""))

    stored = AsyncCustomer.objects.using("channel").get()
    assert (stored.customer_group, stored.currency, stored.language, stored.type) == (
        "VIP",
        "EUR",
        "lt",
        CustomerType.PERSON,
    )


def test_store_values_win_over_defaults(realtime_store):
    CustomerGroupFactory(legal_entity=realtime_store.legal_entity, code="WHOLESALE")

    result = customer_create_at_store(
        store=realtime_store, data=_person(customer_group="WHOLESALE", language="de")
    )

    assert result.customer.customer_group.code == "WHOLESALE"
    assert result.customer.language == "de"


def test_real_time_rejects_invalid_customer_and_writes_nothing(realtime_store):
    with pytest.raises(CustomerValidationError) as error:
        customer_create_at_store(store=realtime_store, data=_person(email="ona@", last_name=""))

    assert 'email: malformed email "ona@"' in error.value.errors
    assert 'last_name: empty name ""' in error.value.errors
    assert Customer.objects.count() == 1
    assert not ChannelCustomer.objects.using("channel").exists()


def test_validation_names_field_and_value():
    store = StoreFactory()
    CustomerAttributeFactory(name="Tier", type="choice", choices=["Silver", "Gold"])
    CustomerAttributeFactory(name="Visits", type="integer")
    AffiliationFactory(name="Employees")
    data = _person(
        customer_group="NOPE",
        currency="USD",
        attributes={"Tier": "Platinum", "Visits": "many", "Unknown": 1},
        affiliations=("Employees", "Pirates"),
        addresses=(AddressInput(purpose="delivery", street="x", city="y", zip="1", country="XXL"),),
    )

    errors = customer_input_errors(
        data=data, legal_entity=store.legal_entity, refs=ReferenceData.load()
    )

    assert errors == [
        f'customer_group: unknown customer group "NOPE" in legal entity {store.legal_entity.code}',
        'addresses[0].country: invalid country code "XXL"',
        'attributes.Tier: "Platinum" is not one of Silver, Gold',
        'attributes.Visits: "many" is not an integer',
        'attributes.Unknown: unknown attribute "Unknown"',
        'affiliations: unknown affiliation "Pirates"',
    ]


def test_account_numbers_skip_existing_accounts():
    existing = CustomerFactory(account="C000002")
    legal_entity = existing.legal_entity
    CustomerFactory(legal_entity=legal_entity, account="C000004")

    numbers = account_numbers_allocate(legal_entity_id=legal_entity.pk, count=3)

    assert numbers == ["C000001", "C000003", "C000005"]
    assert NumberSequence.objects.get(legal_entity=legal_entity).next_number == 6
    assert account_numbers_allocate(legal_entity_id=legal_entity.pk, count=1) == ["C000006"]
