"""R11 at a real-time store: a creation or an edit goes to HQ at once, and falls back to
the async way (an async customer, a channel request) when HQ cannot be reached."""

import pytest
from django.db import OperationalError

from customers.models import ChannelCustomer, ChannelRequest, Customer
from customers.services import customer_create_at_store
from customers.services import real_time as real_time_services
from customers.services.requests import customer_edit_at_store
from tests.customers.test_requests import email_change
from tests.fixtures import convert, person, realtime_store_at

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def realtime(organization):
    return realtime_store_at(organization)


def test_real_time_creation_falls_back_to_async_when_the_hq_call_fails(realtime, monkeypatch):
    def hq_down(**kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(real_time_services, "customers_create", hq_down)

    result = customer_create_at_store(store=realtime, data=person("Ona", "Offline"))

    assert result.mode == "async" and result.async_customer is not None
    assert "HQ could not be reached" in result.fallback_reason
    assert not Customer.objects.filter(party__last_name="Offline").exists()


def test_real_time_edit_goes_to_hq_at_once_or_falls_back_to_a_request(realtime, monkeypatch):
    created = customer_create_at_store(store=realtime, data=person("Ona", "Now"))
    account = created.customer.account

    at_once = customer_edit_at_store(
        store=realtime, customer=account, changes=email_change("now@x.example")
    )
    assert at_once.mode == "real_time"
    assert Customer.objects.get(account=account).email == "now@x.example"
    assert ChannelCustomer.objects.using("channel").get(account=account).email == "now@x.example"

    from customers.services.requests import at_store as request_services

    def hq_down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(request_services, "hq_customers_apply", hq_down)
    fallback = customer_edit_at_store(
        store=realtime, customer=account, changes=email_change("later@x.example")
    )

    assert fallback.mode == "request" and "HQ could not be reached" in fallback.fallback_reason
    assert ChannelRequest.objects.using("channel").get().target_account == account
    monkeypatch.undo()
    convert()
    assert Customer.objects.get(account=account).email == "later@x.example"
