"""``__in_values`` (commerce.lookups) selects the same rows as ``__in``, on SQLite and
(in CI's PostgreSQL pass) on PostgreSQL, with the list sent as one parameter."""

import uuid

import pytest
from django.db import connections

from commerce.db import HQ
from customers.models import AsyncCustomer, Party
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
