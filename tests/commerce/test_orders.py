"""R8 order synchronization and R9 statement posting resolve async customers."""

import io
import json

import pytest
from django.core.management import call_command

from commerce.models import (
    ChannelSalesLine,
    ChannelSalesTransaction,
    SalesOrder,
    SalesTransaction,
    Statement,
)
from commerce.services import failure_reason
from commerce.signals import ResolutionError, order_sync_requested, statement_posting_requested
from customers.models import Address, Customer, StagedAsyncCustomer, StagedAsyncCustomerAddress
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")


def channel_txn(transaction_id, *, type="cash_and_carry", alias="channel", store="S0001", **fields):
    txn = ChannelSalesTransaction.objects.using(alias).create(
        transaction_id=transaction_id,
        store_number=store,
        type=type,
        business_date="2026-11-24",
        **fields,
    )
    ChannelSalesLine.objects.using(alias).create(
        transaction=txn, line_number=1, item="0001", quantity="2", unit_price="10.00"
    )
    return txn


def transaction_status(store=None):
    out = io.StringIO()
    args = ["transaction_status", "--format", "json"] + (["--store", store] if store else [])
    call_command(*args, stdout=out)
    return {row["transaction_id"]: row for row in json.loads(out.getvalue())}


def test_order_for_async_customer_not_yet_created_gets_real_account(channel_data):
    run("upload")
    guid = channel_data["valid"][0].async_customer_id
    assert not Customer.objects.filter(async_customer_id=guid).exists()

    (sync,) = run("sync-orders")

    assert sync.status == "succeeded" and sync.succeeded == 1
    customer = Customer.objects.get(async_customer_id=guid)
    order = SalesOrder.objects.get()
    assert order.customer_account == customer.account
    assert order.total == 19.98 or str(order.total) == "19.98"
    assert StagedAsyncCustomer.objects.get(async_customer_id=guid).status == "completed"
    # the job later does not create it again
    run("async-customers")
    assert Customer.objects.filter(async_customer_id=guid).count() == 1
    row = transaction_status()["S0001-1-000001"]
    assert (row["status"], row["sales_order"], row["customer_account"]) == (
        "order_created",
        order.order_number,
        customer.account,
    )


def test_order_with_async_delivery_address_for_existing_customer(channel_data):
    address = channel_data["address"]
    channel_txn(
        "S0001-1-000002",
        type="customer_order",
        customer_account="C000001",
        delivery_address=str(address.async_address_id),
    )
    run("upload")

    run("sync-orders")

    order = SalesOrder.objects.get(transaction__transaction_id="S0001-1-000002")
    hq_address = Address.objects.get(async_address_id=address.async_address_id)
    assert order.customer_account == "C000001"
    assert order.delivery_location_id == hq_address.location_id
    assert hq_address.party.customer.account == "C000001"


def test_order_delivering_to_the_async_customers_own_address(channel_data):
    customer = channel_data["valid"][1]
    own = customer.addresses.using("channel").first()
    channel_txn(
        "S0001-1-000003",
        type="customer_order",
        async_customer_id=customer.async_customer_id,
        delivery_address=str(own.async_address_id),
    )
    run("upload")

    run("sync-orders")

    order = SalesOrder.objects.get(transaction__transaction_id="S0001-1-000003")
    assert (
        order.delivery_location_id
        == Address.objects.get(async_address_id=own.async_address_id).location_id
    )


def test_invalid_async_customer_fails_the_order_then_succeeds_after_fix(channel_data):
    invalid = channel_data["invalid"]
    channel_txn(
        "S0001-1-000004", type="customer_order", async_customer_id=invalid.async_customer_id
    )
    run("upload")

    (sync,) = run("sync-orders")

    txn = SalesTransaction.objects.get(transaction_id="S0001-1-000004")
    assert txn.status == "order_failed"
    assert 'invalid country code "XXL"' in txn.last_error
    assert sync.status == "completed_with_errors" and sync.failed == 1
    assert not Customer.objects.filter(async_customer_id=invalid.async_customer_id).exists()
    assert transaction_status()["S0001-1-000004"]["status"] == "order_failed"

    StagedAsyncCustomerAddress.objects.filter(country="XXL").update(country="USA")
    (retry,) = run("sync-orders")

    txn.refresh_from_db()
    assert txn.status == "order_created" and txn.last_error == ""
    assert retry.succeeded == 1
    assert Customer.objects.filter(async_customer_id=invalid.async_customer_id).count() == 1


def test_order_sync_twice_creates_no_second_order_or_customer(channel_data):
    run("upload")
    run("sync-orders")
    counts = (SalesOrder.objects.count(), Customer.objects.count())

    (second,) = run("sync-orders")

    assert (SalesOrder.objects.count(), Customer.objects.count()) == counts
    assert second.selected == 0


def test_statement_posting_creates_async_customers_first(channel_data):
    ona = channel_data["valid"][1]
    channel_txn("S0001-1-000010", async_customer_id=ona.async_customer_id)
    channel_txn("S0001-1-000011")  # anonymous: default customer
    run("upload")

    (post,) = run("post-statements", store="S0001", business_date="2026-11-24")

    assert post.status == "succeeded"
    statement = Statement.objects.get()
    assert statement.status == "posted" and statement.transaction_count == 2
    assert str(statement.total) == "40.00"
    created = Customer.objects.get(async_customer_id=ona.async_customer_id)
    posted = dict(
        SalesTransaction.objects.filter(statement=statement).values_list(
            "transaction_id", "posted_customer_account"
        )
    )
    assert posted == {"S0001-1-000010": created.account, "S0001-1-000011": "C000001"}
    rows = transaction_status("S0001")
    assert rows["S0001-1-000010"]["status"] == "posted"
    assert rows["S0001-1-000010"]["statement"] == "S0001/2026-11-24"

    (again,) = run("post-statements", store="S0001", business_date="2026-11-24")
    assert again.skipped == 1
    assert Customer.objects.filter(async_customer_id=ona.async_customer_id).count() == 1


def test_statement_with_unresolvable_transaction_posts_nothing(channel_data):
    ona, invalid = channel_data["valid"][1], channel_data["invalid"]
    channel_txn("S0001-1-000020", async_customer_id=ona.async_customer_id)
    channel_txn("S0001-1-000021", async_customer_id=invalid.async_customer_id)
    run("upload")

    (post,) = run("post-statements", store="S0001", business_date="2026-11-24")

    statement = Statement.objects.get()
    assert post.status == "completed_with_errors"
    assert statement.status == "failed"
    assert len(statement.errors) == 1
    assert statement.errors[0].startswith("S0001-1-000021: ")
    assert 'invalid country code "XXL"' in statement.errors[0]
    assert not SalesTransaction.objects.filter(status="posted").exists()
    assert not Customer.objects.filter(async_customer_id=ona.async_customer_id).exists()
    failed = SalesTransaction.objects.get(transaction_id="S0001-1-000021")
    assert failed.status == "posting_failed"

    StagedAsyncCustomerAddress.objects.filter(country="XXL").update(country="USA")
    run("post-statements", store="S0001", business_date="2026-11-24")

    statement.refresh_from_db()
    assert statement.status == "posted" and statement.errors == []
    assert SalesTransaction.objects.filter(status="posted").count() == 2


def test_failed_statement_fails_every_transaction_naming_what_blocks_it(channel_data):
    ona, invalid = channel_data["valid"][1], channel_data["invalid"]
    channel_txn("S0001-1-000030", async_customer_id=ona.async_customer_id)
    channel_txn("S0001-1-000031")  # anonymous: default customer
    channel_txn("S0001-1-000032", async_customer_id=invalid.async_customer_id)
    run("upload")

    (post,) = run("post-statements", store="S0001", business_date="2026-11-24")

    assert post.failed == 1
    txns = {t.transaction_id: t for t in SalesTransaction.objects.exclude(statement=None)}
    bad = txns["S0001-1-000032"]
    assert bad.status == "posting_failed"
    assert bad.last_error.startswith(f"async customer {invalid.async_customer_id}: ")
    assert 'invalid country code "XXL"' in bad.last_error
    blocked = f"statement S0001 2026-11-24 not posted: blocked by S0001-1-000032 ({bad.last_error})"
    for transaction_id in ("S0001-1-000030", "S0001-1-000031"):
        assert (txns[transaction_id].status, txns[transaction_id].last_error) == (
            "posting_failed",
            blocked,
        )
    rows = transaction_status("S0001")
    assert {rows[t]["status"] for t in txns} == {"posting_failed"}
    assert rows["S0001-1-000031"]["last_error"] == blocked

    StagedAsyncCustomerAddress.objects.filter(country="XXL").update(country="USA")
    (again,) = run("post-statements", store="S0001")

    assert again.succeeded == 1
    posted = SalesTransaction.objects.exclude(statement=None)
    assert {(t.status, t.last_error) for t in posted} == {("posted", "")}
    assert posted.count() == 3


def _raising(error):
    def receiver(sender, **kwargs):
        raise error

    return receiver


def test_statement_failing_for_another_reason_fails_every_transaction(channel_data):
    channel_txn("S0001-1-000040")
    channel_txn("S0001-1-000041")
    run("upload")
    receiver = _raising(RuntimeError("ledger offline"))
    statement_posting_requested.connect(receiver, dispatch_uid="test-ledger-offline")
    try:
        (post,) = run("post-statements", store="S0001", business_date="2026-11-24")
    finally:
        statement_posting_requested.disconnect(dispatch_uid="test-ledger-offline")

    statement = Statement.objects.get()
    assert statement.errors == ["statement: RuntimeError: ledger offline"]
    assert post.errors == ["statement S0001 2026-11-24: statement: RuntimeError: ledger offline"]
    failed = SalesTransaction.objects.exclude(statement=None)
    assert {(t.status, t.last_error) for t in failed} == {
        ("posting_failed", "statement S0001 2026-11-24 not posted: RuntimeError: ledger offline")
    }
    assert failed.count() == 2


def test_order_failure_reads_the_same_on_the_transaction_and_the_job_run(channel_data):
    run("upload")
    receiver = _raising(RuntimeError("HQ ledger offline"))
    order_sync_requested.connect(receiver, dispatch_uid="test-order-ledger-offline")
    try:
        (sync,) = run("sync-orders")
    finally:
        order_sync_requested.disconnect(dispatch_uid="test-order-ledger-offline")

    txn = SalesTransaction.objects.get(transaction_id="S0001-1-000001")
    assert (txn.status, txn.last_error) == ("order_failed", "RuntimeError: HQ ledger offline")
    assert sync.errors == [f"transaction S0001-1-000001: {txn.last_error}"]


def test_failure_reason_of_a_resolution_error_lists_the_reasons():
    error = ResolutionError({"T1": "async customer A: no such customer", "T2": "no address"})

    assert failure_reason(error) == "async customer A: no such customer; no address"
    assert failure_reason(ValueError("bad")) == "ValueError: bad"
