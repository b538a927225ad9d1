"""Fault injection (README "Record isolation"): an arbitrary exception raised while one
chosen record is processed, in each stage that processes records, fails that record
alone with its reason; every other record of the run converts, and once the fault is
gone the record converts too (nothing is lost).

Every stage calls ``commerce.isolation.record_checkpoint(stage, key)`` for each record;
a path that processes records belongs in ``STAGES`` below.
"""

import datetime

import pytest

from commerce.isolation import faults_injected
from commerce.models import (
    ChannelSalesLine,
    ChannelSalesTransaction,
    SalesTransaction,
    Statement,
)
from customers.models import (
    ChannelAffiliation,
    ChannelCustomerAttribute,
    Customer,
    CustomerAttribute,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.selectors import async_status_rows
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from customers.services.staging import staged_records_retry
from jobs.services import TRIGGER
from tests.factories.customers import AffiliationFactory, AsyncAddressFactory, CustomerFactory
from tests.fixtures import convert, person, run

pytestmark = pytest.mark.django_db(databases="__all__")

BUSINESS_DATE = datetime.date(2026, 11, 24)


class Injected(Exception):
    """Nothing the product knows: an exception no handler was written for."""


def sale(alias, store, transaction_id, *, type, async_customer_id=None):
    txn = ChannelSalesTransaction.objects.using(alias).create(
        transaction_id=transaction_id,
        store_number=store,
        type=type,
        business_date=BUSINESS_DATE,
        async_customer_id=async_customer_id,
    )
    ChannelSalesLine.objects.using(alias).create(
        transaction=txn, line_number=1, item="0001", quantity="1", unit_price="5.00"
    )
    return txn


@pytest.fixture
def store_data(organization):
    """What two stores captured: async customers, async addresses of existing customers,
    edits travelling as channel requests, customer orders and cash-and-carry sales."""
    houston = [
        async_customer_create(alias="channel", store_number="S0001", data=person("Ona", f"H{i}"))
        for i in range(4)
    ]
    seattle = [
        async_customer_create(alias="channel2", store_number="S0002", data=person("Sam", f"S{i}"))
        for i in range(2)
    ]
    existing = [
        CustomerFactory(legal_entity=organization["legal_entity"], account=f"C00020{i}")
        for i in range(3)
    ]
    convert()  # the edits below are made after the upload: they travel as requests
    addresses = [
        AsyncAddressFactory(store_number="S0001", customer_account=c.account) for c in existing
    ]
    requests = [
        customer_edit_at_store(
            store=organization["houston"],
            customer=c.account,
            changes=CustomerChanges(fields={"email": f"new{i}@example.com"}),
        ).request_id
        for i, c in enumerate(existing)
    ]
    newer = [
        async_customer_create(alias="channel", store_number="S0001", data=person("Ida", f"N{i}"))
        for i in range(3)
    ]
    orders = [
        sale("channel", "S0001", f"S0001-1-00000{i}", type="customer_order", async_customer_id=c)
        for i, c in enumerate(c.async_customer_id for c in newer)
    ]
    cash = [
        sale("channel", "S0001", "S0001-2-000001", type="cash_and_carry"),
        sale("channel2", "S0002", "S0002-2-000001", type="cash_and_carry"),
    ]
    return {
        "customers": [*houston, *seattle, *newer],
        "newer": newer,
        "addresses": addresses,
        "requests": requests,
        "orders": orders,
        "cash": cash,
    }


def rows_by_id():
    return {row["async_id"]: row for row in async_status_rows()}


def assert_all_synchronized(*, but=()):
    rows = rows_by_id()
    assert rows, "no records"
    not_done = {key: r["status"] for key, r in rows.items() if r["status"] != "synchronized"}
    assert set(not_done) == {str(key) for key in but}, not_done


def fault_at(stage, key):
    def fault(at_stage, at_key):
        if at_stage == stage and str(at_key) == str(key):
            raise Injected(f"injected into {key}")

    return fault


def test_upload(store_data):
    chosen = store_data["newer"][1].async_customer_id

    with faults_injected(fault_at("upload", chosen)):
        runs = convert()

    (upload,) = [r for r in runs if r.job == "upload" and r.failed]
    assert upload.status == "completed_with_errors"
    assert any(str(chosen) in e and "Injected: injected into" in e for e in upload.errors)
    assert rows_by_id()[str(chosen)]["status"] == "pending_upload"
    assert_all_synchronized(but=[chosen])

    convert()
    assert_all_synchronized()


@pytest.mark.parametrize(
    ("stage", "pick"),
    [
        ("account_creation:async customer", lambda d: d["newer"][0].async_customer_id),
        ("account_creation:async address", lambda d: d["addresses"][1].async_address_id),
        ("account_creation:channel request", lambda d: d["requests"][1]),
    ],
)
def test_account_creation(store_data, stage, pick):
    chosen = pick(store_data)

    with faults_injected(fault_at(stage, chosen)):
        runs = convert()

    (creation,) = [r for r in runs if r.job == "async-customers" and r.failed]
    assert creation.status == "completed_with_errors" and creation.failed == 1
    assert any(str(chosen) in e and "Injected" in e for e in creation.errors)
    row = rows_by_id()[str(chosen)]
    assert row["status"] == "failed"
    assert "could not be processed (Injected: injected into" in row["last_error"]
    assert_all_synchronized(but=[chosen])

    failed_model = {
        "account_creation:async customer": StagedAsyncCustomer,
        "account_creation:async address": StagedAsyncAddress,
        "account_creation:channel request": StagedChannelRequest,
    }[stage]
    failed = failed_model.objects.filter(status="failed").values_list("pk", flat=True)
    assert staged_records_retry(model=failed_model, ids=list(failed)) == 1
    convert()
    assert_all_synchronized()


@pytest.mark.parametrize("via", ["command", TRIGGER])
def test_distribution(store_data, via):
    """A command's run looks at every customer, a triggered one at those changed since
    the last that did (README "Freshness"): the same isolation either way."""
    run("upload")
    run("async-customers")
    chosen = Customer.objects.get(async_customer_id=store_data["newer"][2].async_customer_id)

    with faults_injected(fault_at("distribution", chosen.account)):
        runs = run("distribute", via=via)

    # Both channel databases serve its legal entity: each names it, each sends the rest.
    assert [(r.failed, r.status) for r in runs] == [(1, "completed_with_errors")] * 2
    assert all(chosen.account in r.errors[0] and "Injected" in r.errors[0] for r in runs)
    assert rows_by_id()[str(chosen.async_customer_id)]["status"] == "created"
    assert_all_synchronized(but=[chosen.async_customer_id])

    run("distribute", via=via)
    assert_all_synchronized()


def test_reference_data(store_data):
    """R16: a reference record a channel database cannot take fails alone; the other
    reference records and every customer are distributed, and the next run sends it."""
    CustomerAttribute.objects.filter(name="Tier").update(choices=["Silver", "Gold", "Platinum"])
    AffiliationFactory(name="Students")
    run("upload")
    run("async-customers")

    with faults_injected(fault_at("reference_data", "attribute Tier")):
        runs = run("distribute")

    assert [(r.failed, r.status) for r in runs] == [(1, "completed_with_errors")] * 2
    assert all("attribute Tier" in r.errors[0] and "Injected" in r.errors[0] for r in runs)
    for alias in ("channel", "channel2"):
        tier = ChannelCustomerAttribute.objects.using(alias).get(name="Tier")
        assert tier.choices == ["Silver", "Gold"]
        assert ChannelAffiliation.objects.using(alias).filter(name="Students").exists()
    assert_all_synchronized()

    run("distribute")
    for alias in ("channel", "channel2"):
        tier = ChannelCustomerAttribute.objects.using(alias).get(name="Tier")
        assert tier.choices == ["Silver", "Gold", "Platinum"]


def test_order_sync(store_data):
    convert()
    chosen = store_data["orders"][1].transaction_id

    with faults_injected(fault_at("order_sync", chosen)):
        (orders,) = run("sync-orders")

    assert orders.failed == 1 and orders.succeeded == 2
    assert chosen in orders.errors[0] and "Injected" in orders.errors[0]
    statuses = dict(SalesTransaction.objects.values_list("transaction_id", "status"))
    assert statuses[chosen] == "order_failed"
    others = [t.transaction_id for t in store_data["orders"] if t.transaction_id != chosen]
    assert {statuses[t] for t in others} == {"order_created"}

    (again,) = run("sync-orders")
    assert again.succeeded == 1
    assert SalesTransaction.objects.get(transaction_id=chosen).status == "order_created"


def test_posting(store_data, organization):
    convert()
    chosen = store_data["cash"][0].transaction_id  # Houston's sale

    with faults_injected(fault_at("posting", chosen)):
        houston = run("post-statements", store="S0001", business_date=str(BUSINESS_DATE))
        seattle = run("post-statements", store="S0002", business_date=str(BUSINESS_DATE))

    assert houston[0].failed == 1 and "Injected" in " ".join(houston[0].errors)
    assert seattle[0].succeeded == 1
    statements = {s.store.number: s.status for s in Statement.objects.select_related("store")}
    assert statements == {"S0001": "failed", "S0002": "posted"}
    assert SalesTransaction.objects.get(transaction_id=chosen).status == "posting_failed"

    run("post-statements", store="S0001", business_date=str(BUSINESS_DATE))
    assert set(Statement.objects.values_list("status", flat=True)) == {"posted"}


def test_a_fault_of_the_run_fails_the_run_and_no_record(store_data):
    """A database that cannot be reached is not a record's fault: the run fails, no
    record is marked failed, and the next run converts everything."""
    from django.db import OperationalError

    def database_down(stage, key):
        if stage == "account_creation:async customer":
            raise OperationalError("server closed the connection unexpectedly")

    run("upload")
    with faults_injected(database_down):
        (creation,) = run("async-customers")

    assert creation.status == "failed" and "OperationalError" in creation.message
    assert not StagedAsyncCustomer.objects.filter(status="failed").exists()

    convert()
    assert_all_synchronized()


STAGES = {
    "upload",
    "account_creation:async customer",
    "account_creation:async address",
    "account_creation:channel request",
    "distribution",
    "reference_data",
    "order_sync",
    "posting",
}


def test_every_stage_that_processes_records_passes_the_checkpoint(organization):
    """The stages the tests above inject into are every stage that reached the
    checkpoint in a whole day's work: a new stage that processes records shows up here."""
    seen = set()
    with faults_injected(lambda stage, key: seen.add(stage)):
        ona = async_customer_create(alias="channel", store_number="S0001", data=person("O", "N"))
        AsyncAddressFactory(store_number="S0001", customer_account="C000001")
        sale(
            "channel",
            "S0001",
            "T-1",
            type="customer_order",
            async_customer_id=ona.async_customer_id,
        )
        sale("channel", "S0001", "T-2", type="cash_and_carry")
        convert()
        customer_edit_at_store(
            store=organization["houston"],
            customer=Customer.objects.get(async_customer_id=ona.async_customer_id).account,
            changes=CustomerChanges(fields={"email": "o@new.example"}),
        )
        convert()
        run("sync-orders")
        run("post-statements", store="S0001", business_date=str(BUSINESS_DATE))

    assert seen == STAGES
