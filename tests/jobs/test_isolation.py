"""Messy store data: one bad or colliding record fails alone, named; the rest of its
channel goes on, and nothing is merged or dropped in silence (issue "Hardening")."""

import datetime
import uuid
from dataclasses import replace

import pytest
from django.db import IntegrityError

from commerce.models import (
    ACCOUNT_MAX_LENGTH,
    ChannelSalesLine,
    ChannelSalesTransaction,
    SalesTransaction,
    Statement,
)
from customers.models import (
    AsyncCustomer,
    AsyncCustomerAddress,
    ChannelCustomer,
    Customer,
    StagedAsyncCustomer,
)
from customers.selectors import async_status_rows
from customers.services import async_customer_create
from customers.services import staging as staging_services
from jobs import distribution
from tests.fixtures import convert, person, run

pytestmark = pytest.mark.django_db(databases="__all__")


def statuses(store):
    return {row["async_id"]: row for row in async_status_rows(store=store)}


def sale(alias, store, transaction_id, *, business_date="2026-11-24", **fields):
    txn = ChannelSalesTransaction.objects.using(alias).create(
        transaction_id=transaction_id,
        store_number=store,
        type=fields.pop("type", "cash_and_carry"),
        business_date=business_date,
        **fields,
    )
    ChannelSalesLine.objects.using(alias).create(
        transaction=txn, line_number=1, item="0001", quantity="1", unit_price="5.00"
    )
    return txn


def test_same_async_customer_guid_at_two_channel_databases_is_a_named_failure(organization):
    guid = uuid.uuid4()
    houston = async_customer_create(
        alias="channel", store_number="S0001", data=person("Ona", "Houston", async_customer_id=guid)
    )
    async_customer_create(
        alias="channel2",
        store_number="S0002",
        data=person("Other", "Seattle", async_customer_id=guid),
    )

    convert()

    created = Customer.objects.get(async_customer_id=guid)
    assert created.party.last_name == "Houston" and created.async_origin == "HOUSTON"
    seattle = statuses("S0002")[str(guid)]
    assert seattle["status"] == "failed"
    assert str(guid) in seattle["last_error"] and created.account in seattle["last_error"]
    assert "HOUSTON" in seattle["last_error"]
    # Seattle's async customer is not linked to Houston's account at its store.
    assert AsyncCustomer.objects.using("channel2").get().account is None
    assert statuses("S0001")[str(houston.async_customer_id)]["status"] == "synchronized"
    copy = ChannelCustomer.objects.using("channel2").get(account=created.account)
    assert copy.async_customer_id is None  # the GUID is only trusted where it was made


def test_same_async_address_guid_at_two_stores_uploads_both_channels(organization):
    shared = uuid.uuid4()

    def with_address_guid(data):
        return replace(data, addresses=(replace(data.addresses[0], async_address_id=shared),))

    async_customer_create(
        alias="channel", store_number="S0001", data=with_address_guid(person("Ona", "Houston"))
    )
    seattle = async_customer_create(
        alias="channel2", store_number="S0002", data=with_address_guid(person("Sam", "Seattle"))
    )

    uploads = run("upload")
    run("async-customers")

    assert all(r.status == "succeeded" for r in uploads)
    assert StagedAsyncCustomer.objects.count() == 2  # both channels staged
    row = statuses("S0002")[str(seattle.async_customer_id)]
    assert row["status"] == "failed"
    assert "Address 1: Async address ID" in row["last_error"] and str(shared) in row["last_error"]


def test_same_transaction_id_at_two_stores_reaches_hq_twice(organization):
    sale("channel", "S0001", "T-1")
    sale("channel2", "S0002", "T-1")

    run("upload")

    assert sorted(
        SalesTransaction.objects.filter(transaction_id="T-1").values_list(
            "store__number", flat=True
        )
    ) == ["S0001", "S0002"]


def test_a_record_hq_cannot_stage_fails_alone_and_is_named(organization, monkeypatch):
    good = [
        async_customer_create(alias="channel", store_number="S0001", data=person("Ona", f"G{i}"))
        for i in range(3)
    ]
    poison = async_customer_create(
        alias="channel", store_number="S0001", data=person("Poison", "Pill")
    )
    real_stage = staging_services.async_customers_stage

    def stage(*, rows, **kwargs):
        if any(row.async_customer_id == poison.async_customer_id for row in rows):
            raise IntegrityError("value HQ cannot hold")
        return real_stage(rows=rows, **kwargs)

    monkeypatch.setattr("jobs.upload.async_customers_stage", stage)

    (upload,) = run("upload", channel_database="HOUSTON")

    assert upload.status == "completed_with_errors"
    assert upload.succeeded == 3 and upload.failed == 1
    assert any(str(poison.async_customer_id) in error for error in upload.errors)
    rows = statuses("S0001")
    assert rows[str(poison.async_customer_id)]["status"] == "pending_upload"
    assert all(rows[str(c.async_customer_id)]["status"] == "uploaded" for c in good)

    monkeypatch.setattr("jobs.upload.async_customers_stage", real_stage)
    (again,) = run("upload", channel_database="HOUSTON")
    assert again.succeeded == 1 and statuses("S0001")[str(poison.async_customer_id)]["status"] == (
        "uploaded"
    )


def test_a_customer_the_channel_cannot_take_fails_alone(organization, monkeypatch):
    customers = [
        async_customer_create(alias="channel", store_number="S0001", data=person("Ona", f"D{i}"))
        for i in range(3)
    ]
    run("upload")
    run("async-customers")
    poison_account = Customer.objects.get(async_customer_id=customers[1].async_customer_id).account
    real_apply = distribution.channel_customers_apply

    def apply(*, payloads, **kwargs):
        if any(p["account"] == poison_account for p in payloads):
            raise IntegrityError("conflicting row at the store")
        return real_apply(payloads=payloads, **kwargs)

    monkeypatch.setattr(distribution, "channel_customers_apply", apply)

    (houston,) = run("distribute", channel_database="HOUSTON")

    assert houston.status == "completed_with_errors" and houston.failed == 1
    assert any(poison_account in error for error in houston.errors)
    rows = statuses("S0001")
    assert rows[str(customers[1].async_customer_id)]["status"] == "created"
    assert rows[str(customers[0].async_customer_id)]["status"] == "synchronized"
    assert rows[str(customers[2].async_customer_id)]["status"] == "synchronized"

    monkeypatch.setattr(distribution, "channel_customers_apply", real_apply)
    (again,) = run("distribute", channel_database="HOUSTON")
    assert again.status == "succeeded" and again.succeeded == 1
    assert statuses("S0001")[str(customers[1].async_customer_id)]["status"] == "synchronized"


def test_a_late_sale_goes_into_a_new_statement_of_its_date(organization):
    sale("channel", "S0001", "T-1")
    run("upload")
    (first,) = run("post-statements", store="S0001")
    assert first.status == "succeeded"

    sale("channel", "S0001", "T-2")  # uploaded after the date's statement was posted
    run("upload")
    (late,) = run("post-statements", store="S0001")

    assert late.status == "succeeded" and late.succeeded == 1
    assert SalesTransaction.objects.get(transaction_id="T-2").status == "posted"
    statements = Statement.objects.filter(store__number="S0001").order_by("sequence")
    assert [(s.sequence, s.status, s.transaction_count) for s in statements] == [
        (1, "posted", 1),
        (2, "posted", 1),
    ]


def test_posting_a_future_date_is_refused_and_makes_no_statement(organization):
    from commerce.models import Store
    from commerce.services import StatementError, statement_calculate
    from jobs.models import JobRun
    from jobs.services import JobRequestError

    future = datetime.date.today() + datetime.timedelta(days=3)

    # Refused when asked (no run is made), and by the job itself should a run carry one.
    with pytest.raises(JobRequestError, match=f'Business date "{future}" is in the future'):
        run("post-statements", store="S0001", business_date=future.isoformat())
    with pytest.raises(StatementError, match="in the future"):
        statement_calculate(store=Store.objects.get(number="S0001"), business_date=future)
    assert not JobRun.objects.exists()
    assert not Statement.objects.exists()


def test_a_date_without_sales_makes_no_empty_statement(organization):
    (posting,) = run("post-statements", store="S0001", business_date="2026-11-20")

    assert posting.status == "succeeded" and posting.skipped == 1
    assert not Statement.objects.exists()


def test_an_account_has_one_length_wherever_it_is_stored():
    from django.apps import apps

    lengths = {
        f"{model._meta.label}.{field.name}": field.max_length
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if getattr(field, "max_length", None)
        and field.name in {"account", "customer_account", "posted_customer_account"}
    }
    assert lengths and set(lengths.values()) == {ACCOUNT_MAX_LENGTH}, lengths


def test_async_addresses_are_linked_only_in_their_own_channel_database(organization):
    customer = async_customer_create(
        alias="channel", store_number="S0001", data=person("Ona", "Houston")
    )
    convert()
    guids = {a.async_address_id for a in customer.addresses.all()}
    houston_links = AsyncCustomerAddress.objects.using("channel").filter(
        async_address_id__in=guids, location_id__isnull=False
    )
    assert houston_links.count() == 2
    assert (
        not ChannelCustomer.objects.using("channel2")
        .filter(async_customer_id=customer.async_customer_id)
        .exists()
    )
