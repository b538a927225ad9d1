import uuid

import factory
from django.utils import timezone

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
    AttributeType,
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
    ContactType,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    CustomerType,
    Party,
    PossibleDuplicate,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagedChannelRequest,
)
from tests.factories.base import ChannelFactory
from tests.factories.commerce import LegalEntityFactory


class PostalAddress(factory.Factory):
    """The postal fields every address factory declares: a delivery address in the USA."""

    class Meta:
        abstract = True

    purpose = "delivery"
    street = factory.Faker("street_address")
    city = factory.Faker("city")
    zip = factory.Faker("postcode")
    country = "USA"


class PersonName(factory.Factory):
    """A person's type and names, as HQ, staging and the channel databases hold them."""

    class Meta:
        abstract = True

    type = CustomerType.PERSON
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class NamedPerson(PersonName):
    """A person's names and the full name made of them (parties, channel customers)."""

    class Meta:
        abstract = True

    name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")


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


class PartyFactory(factory.django.DjangoModelFactory, NamedPerson):
    class Meta:
        model = Party


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


class AddressFactory(factory.django.DjangoModelFactory, PostalAddress):
    class Meta:
        model = Address

    party = factory.SubFactory(PartyFactory)
    location_id = factory.Sequence(lambda n: f"LOC-{n + 1:06d}")


class ChannelCustomerFactory(ChannelFactory, NamedPerson):
    class Meta:
        model = ChannelCustomer

    legal_entity = "LE00"
    account = factory.Sequence(lambda n: f"D{n + 1:06d}")


class AsyncCustomerFactory(ChannelFactory, PersonName):
    class Meta:
        model = AsyncCustomer

    async_customer_id = factory.LazyFunction(uuid.uuid4)
    store_number = "S0001"
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.com")
    created_at = factory.LazyFunction(timezone.now)


class AsyncCustomerAddressFactory(ChannelFactory, PostalAddress):
    class Meta:
        model = AsyncCustomerAddress

    async_address_id = factory.LazyFunction(uuid.uuid4)
    is_primary = True


class AsyncAddressFactory(ChannelFactory, PostalAddress):
    class Meta:
        model = AsyncAddress

    async_address_id = factory.LazyFunction(uuid.uuid4)
    store_number = "S0001"
    customer_account = "D000001"
    purpose = "invoice"
    created_at = factory.LazyFunction(timezone.now)


class ContactInfoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactInfo

    party = factory.SubFactory(PartyFactory)
    type = ContactType.EMAIL
    value = factory.Sequence(lambda n: f"contact{n}@example.com")


class CustomerAttributeValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAttributeValue

    customer = factory.SubFactory(CustomerFactory)
    attribute = factory.SubFactory(CustomerAttributeFactory)
    value = "text"


class CustomerAffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAffiliation

    customer = factory.SubFactory(CustomerFactory)
    affiliation = factory.SubFactory(AffiliationFactory)


class ChannelCustomerAddressFactory(ChannelFactory, PostalAddress):
    """Pass ``customer`` (a ChannelCustomer of the same database) for ``using="channel2"``."""

    class Meta:
        model = ChannelCustomerAddress

    customer = factory.SubFactory(ChannelCustomerFactory)
    location_id = factory.Sequence(lambda n: f"LOC-C{n + 1:06d}")


class AsyncCustomerContactFactory(ChannelFactory):
    class Meta:
        model = AsyncCustomerContact

    async_customer = factory.SubFactory(AsyncCustomerFactory)
    type = ContactType.PHONE
    value = factory.Sequence(lambda n: f"+1555{n:07d}")


class AsyncCustomerAttributeValueFactory(ChannelFactory):
    class Meta:
        model = AsyncCustomerAttributeValue

    async_customer = factory.SubFactory(AsyncCustomerFactory)
    name = factory.Sequence(lambda n: f"Attribute {n}")
    value = "text"


class AsyncCustomerAffiliationFactory(ChannelFactory):
    class Meta:
        model = AsyncCustomerAffiliation

    async_customer = factory.SubFactory(AsyncCustomerFactory)
    name = factory.Sequence(lambda n: f"Affiliation {n}")


class StagedAsyncCustomerFactory(factory.django.DjangoModelFactory, PersonName):
    class Meta:
        model = StagedAsyncCustomer

    channel_database = "CHANNEL"
    store_number = "S0001"
    async_customer_id = factory.LazyFunction(uuid.uuid4)
    created_at_store = factory.LazyFunction(timezone.now)


class StagedAsyncCustomerAddressFactory(factory.django.DjangoModelFactory, PostalAddress):
    class Meta:
        model = StagedAsyncCustomerAddress

    staged_customer = factory.SubFactory(StagedAsyncCustomerFactory)
    async_address_id = factory.LazyFunction(uuid.uuid4)
    is_primary = True


class StagedAsyncCustomerContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StagedAsyncCustomerContact

    staged_customer = factory.SubFactory(StagedAsyncCustomerFactory)
    type = ContactType.EMAIL
    value = factory.Sequence(lambda n: f"staged{n}@example.com")


class StagedAsyncCustomerAttributeValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StagedAsyncCustomerAttributeValue

    staged_customer = factory.SubFactory(StagedAsyncCustomerFactory)
    name = factory.Sequence(lambda n: f"Attribute {n}")
    value = "text"


class StagedAsyncCustomerAffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StagedAsyncCustomerAffiliation

    staged_customer = factory.SubFactory(StagedAsyncCustomerFactory)
    name = factory.Sequence(lambda n: f"Affiliation {n}")


class StagedAsyncAddressFactory(factory.django.DjangoModelFactory, PostalAddress):
    class Meta:
        model = StagedAsyncAddress

    channel_database = "CHANNEL"
    store_number = "S0001"
    async_address_id = factory.LazyFunction(uuid.uuid4)
    customer_account = "D000001"
    created_at_store = factory.LazyFunction(timezone.now)
    purpose = "invoice"


class PossibleDuplicateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PossibleDuplicate

    customer = factory.SubFactory(CustomerFactory)
    duplicate_of = factory.SubFactory(
        CustomerFactory, legal_entity=factory.SelfAttribute("..customer.legal_entity")
    )
    legal_entity = factory.SelfAttribute("customer.legal_entity")
    reasons = factory.LazyAttribute(
        lambda o: {"email": f"{o.customer.account.lower()}@example.com"}
    )


class AsyncCustomerLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AsyncCustomerLink

    async_customer_id = factory.LazyFunction(uuid.uuid4)
    channel_database = "CHANNEL"
    customer = factory.SubFactory(CustomerFactory)
    linker = "admin"
    linked_at = factory.LazyFunction(timezone.now)


class ChannelCustomerAsyncLinkFactory(ChannelFactory):
    class Meta:
        model = ChannelCustomerAsyncLink

    customer = factory.SubFactory(ChannelCustomerFactory)
    async_customer_id = factory.LazyFunction(uuid.uuid4)
    account = factory.SelfAttribute("customer.account")


class ChannelRequestFactory(ChannelFactory):
    class Meta:
        model = ChannelRequest

    request_id = factory.LazyFunction(uuid.uuid4)
    store_number = "S0001"
    target_account = "D000001"
    edited_at = factory.LazyFunction(timezone.now)
    changes = factory.LazyFunction(lambda: {"fields": {"email": "new@example.com"}})


class StagedChannelRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StagedChannelRequest

    channel_database = "CHANNEL"
    store_number = "S0001"
    request_id = factory.LazyFunction(uuid.uuid4)
    target_account = "D000001"
    edited_at = factory.LazyFunction(timezone.now)
    changes = factory.LazyFunction(lambda: {"fields": {"email": "new@example.com"}})


class ChannelCustomerGroupFactory(ChannelFactory):
    class Meta:
        model = ChannelCustomerGroup

    legal_entity = "USRT"
    code = factory.Sequence(lambda n: f"GROUP{n}")
    name = "Retail customers"


class ChannelCustomerAttributeFactory(ChannelFactory):
    class Meta:
        model = ChannelCustomerAttribute

    name = factory.Sequence(lambda n: f"Attribute {n}")
    type = AttributeType.CHOICE
    choices = ["Silver", "Gold"]


class ChannelAffiliationFactory(ChannelFactory):
    class Meta:
        model = ChannelAffiliation

    name = factory.Sequence(lambda n: f"Affiliation {n}")


class ChannelStoreDefaultsFactory(ChannelFactory):
    class Meta:
        model = ChannelStoreDefaults

    store_number = factory.Sequence(lambda n: f"S{n:04d}")
    legal_entity = "USRT"
    account = factory.Sequence(lambda n: f"C{n:06d}")
    type = CustomerType.PERSON
    customer_group = "RETAIL"
    currency = "USD"
    affiliations = ["Employees"]


class ChannelReferenceVersionFactory(ChannelFactory):
    class Meta:
        model = ChannelReferenceVersion

    key = factory.Sequence(lambda n: f"reference_{n}")
    checksum = factory.Sequence(lambda n: f"{n:064x}")
    applied_at = factory.LazyFunction(timezone.now)
