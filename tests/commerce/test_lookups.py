"""``__in_values`` (commerce.db.lookups) selects the same rows as ``__in``, on SQLite and
(in CI's PostgreSQL pass) on PostgreSQL, with the list sent as one parameter."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import FieldError
from django.db import connections

from commerce.db import HQ
from commerce.db.bulk import rows_delete
from commerce.db.lookups import in_values_sql
from commerce.models import SalesOrder, Statement
from customers.models import Address, AsyncCustomer, ChannelCustomerAddress, Party
from tests.factories.commerce import SalesOrderFactory
from tests.factories.customers import AsyncCustomerFactory, PartyFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def test_integer_text_and_uuid_keys_select_what_in_selects():
    parties = PartyFactory.create_batch(5)
    wanted = [parties[0].pk, parties[3].pk, 10**9]
    assert set(Party.objects.filter(pk__in_values=wanted)) == set(
        Party.objects.filter(pk__in=wanted)
    )
    names = [parties[1].name, "nobody", 'O\'Brien "x"']
    assert set(Party.objects.filter(name__in_values=names)) == set(
        Party.objects.filter(name__in=names)
    )
    rows = AsyncCustomerFactory.create_batch(3)
    guids = [rows[0].async_customer_id, rows[2].async_customer_id, uuid.uuid4()]
    found = AsyncCustomer.objects.using("channel").filter(async_customer_id__in_values=guids)
    assert {row.pk for row in found} == {rows[0].pk, rows[2].pk}


def test_empty_list_matches_nothing_and_a_long_list_is_one_parameter():
    PartyFactory.create_batch(2)
    assert not Party.objects.filter(pk__in_values=[]).exists()
    keys = list(range(1, 20_001))
    sent = []

    def spy(execute, sql, params, many, context):
        sent.append(params)
        return execute(sql, params, many, context)

    with connections[HQ].execute_wrapper(spy):
        assert Party.objects.filter(pk__in_values=keys).count() == 2
    assert [len(params) for params in sent] == [1]


def test_a_relation_selects_through_the_key_it_points_to():
    parties = PartyFactory.create_batch(3)
    wanted = [parties[0].pk, parties[2].pk]
    assert list(Address.objects.filter(party_id__in_values=wanted)) == list(
        Address.objects.filter(party_id__in=wanted)
    )


@pytest.mark.parametrize(
    "model, lookup, values",
    [
        (SalesOrder, "total__in_values", [Decimal("9.99")]),
        (SalesOrder, "created_at__in_values", [datetime.datetime.now(datetime.UTC)]),
        (Statement, "business_date__in_values", [datetime.date(2026, 1, 1)]),
    ],
)
def test_a_field_that_is_no_integer_uuid_or_text_has_no_in_values(model, lookup, values):
    SalesOrderFactory()
    with pytest.raises(FieldError, match="Unsupported lookup 'in_values'"):
        model.objects.filter(**{lookup: values})
    # What __in selects stays the way to ask (the Decimal of a SalesOrder is found).
    if lookup == "total__in_values":
        assert SalesOrder.objects.filter(total__in=values).count() == 1


def test_the_bulk_writer_refuses_a_list_of_an_unsupported_column():
    total = SalesOrder._meta.get_field("total")
    with pytest.raises(TypeError, match="SalesOrder.total: .* not DecimalField"):
        in_values_sql('"total"', total, [Decimal("1.50")], connections[HQ])
    assert (
        rows_delete(model=ChannelCustomerAddress, any_of={"location_id": ["L1"]}, using="channel")
        == 0
    )
