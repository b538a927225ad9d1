"""Changes to the HQ customer master made outside the jobs (customers.services.master)."""

import pytest

from customers.services.master import customer_version_raise
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db


def _versions(*customers):
    for customer in customers:
        customer.refresh_from_db()
    return [customer.version for customer in customers]


def test_raises_the_customers_given_by_id_or_by_party_and_no_others():
    by_id, by_party, untouched = CustomerFactory.create_batch(3)

    changed = customer_version_raise(customer_ids=[by_id.pk], party_ids=[by_party.party_id])

    assert changed == 2
    assert _versions(by_id, by_party, untouched) == [2, 2, 1]


def test_a_customer_named_twice_is_raised_once_and_a_rerun_raises_again():
    customer = CustomerFactory()

    customer_version_raise(customer_ids=[customer.pk, customer.pk], party_ids=[customer.party_id])
    customer_version_raise(customer_ids=[customer.pk])

    assert _versions(customer) == [3]


def test_nothing_to_raise_issues_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert customer_version_raise() == 0
