import datetime
from decimal import Decimal

import factory

from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    SalesLine,
    SalesOrder,
    SalesOrderLine,
    SalesTransaction,
    Statement,
    Store,
    TransactionType,
)
from tests.factories.base import ChannelFactory


class LegalEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegalEntity
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"LE{n:02d}")
    name = factory.LazyAttribute(lambda o: f"{o.code} Retail")
    currency = "USD"
    customer_sequence = factory.RelatedFactory(
        "tests.factories.commerce.NumberSequenceFactory", factory_related_name="legal_entity"
    )


class NumberSequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberSequence
        django_get_or_create = ("legal_entity",)

    legal_entity = factory.SubFactory(LegalEntityFactory, customer_sequence=None)
    prefix = "C"
    digits = 6
    next_number = 1


class FunctionalityProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunctionalityProfile
        django_get_or_create = ("code",)

    code = "ASYNC"
    name = "Create customers in async mode"
    create_customer_in_async_mode = True


class ChannelDatabaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelDatabase
        django_get_or_create = ("alias",)

    name = factory.LazyAttribute(lambda o: o.alias.upper())
    alias = "channel"


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    number = factory.Sequence(lambda n: f"S{n + 1:04d}")
    name = factory.Faker("city")
    legal_entity = factory.SubFactory(LegalEntityFactory)
    channel_database = factory.SubFactory(ChannelDatabaseFactory)
    functionality_profile = factory.SubFactory(FunctionalityProfileFactory)
    default_customer = factory.SubFactory(
        "tests.factories.customers.CustomerFactory",
        legal_entity=factory.SelfAttribute("..legal_entity"),
    )
    offline = False


class Sale(factory.Factory):
    """A cash-and-carry sale of 24 November 2026, at a store and as HQ holds it."""

    class Meta:
        abstract = True

    type = TransactionType.CASH_AND_CARRY
    business_date = datetime.date(2026, 11, 24)


class SaleLine(factory.Factory):
    """One item 0001 at 9.99, numbered in turn: a sale's or an order's line."""

    class Meta:
        abstract = True

    line_number = factory.Sequence(lambda n: n + 1)
    item = "0001"
    quantity = Decimal("1")
    unit_price = Decimal("9.99")


class ChannelSalesTransactionFactory(ChannelFactory, Sale):
    class Meta:
        model = ChannelSalesTransaction

    transaction_id = factory.Sequence(lambda n: f"S0001-1-{n:06d}")
    store_number = "S0001"


class ChannelSalesLineFactory(ChannelFactory, SaleLine):
    class Meta:
        model = ChannelSalesLine


class SalesTransactionFactory(factory.django.DjangoModelFactory, Sale):
    class Meta:
        model = SalesTransaction

    transaction_id = factory.Sequence(lambda n: f"S0001-9-{n:06d}")
    store = factory.SubFactory(StoreFactory)
    channel_database = factory.LazyAttribute(lambda o: o.store.channel_database.name)


class SalesLineFactory(factory.django.DjangoModelFactory, SaleLine):
    class Meta:
        model = SalesLine

    transaction = factory.SubFactory(SalesTransactionFactory)


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Statement

    store = factory.SubFactory(StoreFactory)
    business_date = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(n))


class SalesOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesOrder

    order_number = factory.Sequence(lambda n: f"SO-{n + 1:06d}")
    transaction = factory.SubFactory(SalesTransactionFactory, type=TransactionType.CUSTOMER_ORDER)
    store = factory.SelfAttribute("transaction.store")
    customer_account = "D000001"
    total = Decimal("9.99")


class SalesOrderLineFactory(factory.django.DjangoModelFactory, SaleLine):
    class Meta:
        model = SalesOrderLine

    order = factory.SubFactory(SalesOrderFactory)
