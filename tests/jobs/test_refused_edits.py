"""R11: a store edit HQ refuses does not leave the store's copy and HQ apart: the next
distribution gives the store HQ's values back, and the store sees the request failed
with its reason."""

import pytest

from customers.models import ChannelCustomer, CustomerAttribute
from customers.selectors import async_status_rows
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from tests.factories.customers import CustomerFactory
from tests.fixtures import convert

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_refused_edit_gives_the_store_hqs_values_back(organization):
    customer = CustomerFactory(
        legal_entity=organization["legal_entity"], account="C000300", email="old@example.com"
    )
    convert()
    houston = ChannelCustomer.objects.using("channel")
    seattle = ChannelCustomer.objects.using("channel2")
    # The store checks the edit against what it knows; HQ's choices change before upload.
    result = customer_edit_at_store(
        store=organization["houston"],
        customer=customer.account,
        changes=CustomerChanges(fields={"email": "new@example.com"}, attributes={"Tier": "Gold"}),
    )
    assert houston.get(account="C000300").email == "new@example.com"  # shown at once
    CustomerAttribute.objects.filter(name="Tier").update(choices=["Silver"])

    convert()

    customer.refresh_from_db()
    assert customer.email == "old@example.com"
    assert houston.get(account="C000300").email == "old@example.com"
    assert seattle.get(account="C000300").email == "old@example.com"
    (row,) = [r for r in async_status_rows(store="S0001") if r["kind"] == "edit"]
    assert row["async_id"] == str(result.request_id) and row["status"] == "failed"
    assert "Tier" in row["last_error"] and "Gold" in row["last_error"]


def test_an_applied_edit_is_not_sent_again(organization):
    customer = CustomerFactory(legal_entity=organization["legal_entity"], account="C000301")
    convert()
    customer_edit_at_store(
        store=organization["houston"],
        customer=customer.account,
        changes=CustomerChanges(fields={"email": "kept@example.com"}),
    )

    runs = convert()

    distributed = {r.scope: r.succeeded for r in runs if r.job == "distribute"}
    assert set(distributed.values()) == {1}  # the new version, once per channel database
    assert ChannelCustomer.objects.using("channel").get(account="C000301").email == (
        "kept@example.com"
    )
