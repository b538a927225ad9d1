import uuid

import factory
from django.utils import timezone

from customers.models import (
    Address,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AttributeType,
    ChannelCustomer,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
    Party,
)
from tests.factories.base import ChannelFactory
from tests.factories.commerce import LegalEntityFactory


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup
        django_get_or_create = ("legal_entity", "code")

    legal_entity = factory.SubFactory(LegalEntityFactory)
    code = "RETAIL"
    name = "Retail customers"


class CustomerAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAttribute
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Attribute {n}")
    type = AttributeType.TEXT
    choices = factory.LazyAttribute(lambda o: ["Silver", "Gold"] if o.type == "choice" else [])


class AffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Affiliation {n}")


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    type = CustomerType.PERSON
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    legal_entity = factory.SubFactory(LegalEntityFactory)
    account = factory.Sequence(lambda n: f"D{n + 1:06d}")
    party = factory.SubFactory(PartyFactory)
    customer_group = factory.SubFactory(
        CustomerGroupFactory, legal_entity=factory.SelfAttribute("..legal_entity")
    )
    currency = "USD"
    language = "en-us"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    party = factory.SubFactory(PartyFactory)
    location_id = factory.Sequence(lambda n: f"LOC-{n + 1:06d}")
    purpose = "delivery"
    street = factory.Faker("street_address")
    city = factory.Faker("city")
    zip = factory.Faker("postcode")
    country = "USA"


class ChannelCustomerFactory(ChannelFactory):
    class Meta:
        model = ChannelCustomer

    legal_entity = "LE00"
    account = factory.Sequence(lambda n: f"D{n + 1:06d}")
    type = CustomerType.PERSON
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")


class AsyncCustomerFactory(ChannelFactory):
    class Meta:
        model = AsyncCustomer

    async_customer_id = factory.LazyFunction(uuid.uuid4)
    store_number = "S0001"
    type = CustomerType.PERSON
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.com")
    created_at = factory.LazyFunction(timezone.now)


class AsyncCustomerAddressFactory(ChannelFactory):
    class Meta:
        model = AsyncCustomerAddress

    async_address_id = factory.LazyFunction(uuid.uuid4)
    purpose = "delivery"
    street = factory.Faker("street_address")
    city = factory.Faker("city")
    zip = factory.Faker("postcode")
    country = "USA"
    is_primary = True


class AsyncAddressFactory(ChannelFactory):
    class Meta:
        model = AsyncAddress

    async_address_id = factory.LazyFunction(uuid.uuid4)
    store_number = "S0001"
    customer_account = "D000001"
    purpose = "invoice"
    street = factory.Faker("street_address")
    city = factory.Faker("city")
    zip = factory.Faker("postcode")
    country = "USA"
    created_at = factory.LazyFunction(timezone.now)
