import pytest

from commerce.models import ChannelSalesTransaction, SalesTransaction
from customers.models import (
    Address,
    AsyncAddress,
    AsyncCustomer,
    ChannelCustomer,
    Customer,
    StagedAsyncCustomer,
)
from customers.selectors import async_status_rows
from jobs.models import DownloadSession, JobRun, UploadSession
from jobs.services import conversion_request, job_runs_execute, job_runs_request

pytestmark = pytest.mark.django_db(databases="__all__")


def convert():
    runs = conversion_request(enqueue=False)
    job_runs_execute(run_ids=[r.pk for r in runs])
    return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))


def statuses():
    return {row["async_id"]: row for row in async_status_rows()}


def test_status_before_conversion_is_pending_upload(channel_data):
    rows = statuses()
    assert len(rows) == 6
    assert {r["status"] for r in rows.values()} == {"pending_upload"}


def test_full_conversion_synchronizes_valid_and_fails_invalid(channel_data):
    runs = convert()

    assert [r.job for r in runs] == [
        "upload",
        "upload",
        "async-customers",
        "distribute",
        "distribute",
    ]
    assert runs[2].status == "completed_with_errors"
    assert all(r.status == "succeeded" for r in runs if r.job != "async-customers")
    rows = statuses()
    for customer in [*channel_data["valid"], channel_data["seattle"]]:
        row = rows[str(customer.async_customer_id)]
        assert row["status"] == "synchronized", row
        assert row["customer_account"].startswith("C")
    bad = rows[str(channel_data["invalid"].async_customer_id)]
    assert bad["status"] == "failed"
    assert 'Address 1: Country: invalid country code "XXL"' in bad["last_error"]
    assert rows[str(channel_data["address"].async_address_id)]["status"] == "synchronized"
    # every valid customer is in every channel database of its legal entity
    accounts = set(
        Customer.objects.exclude(async_customer_id=None).values_list("account", flat=True)
    )
    assert len(accounts) == 4
    for alias in ("channel", "channel2"):
        copies = set(ChannelCustomer.objects.using(alias).values_list("account", flat=True))
        assert accounts | {"C000001"} <= copies
    # the channel linked the async customer's transaction and addresses
    ona = AsyncCustomer.objects.using("channel").get(pk=channel_data["valid"][0].pk)
    txn = ChannelSalesTransaction.objects.using("channel").get()
    assert txn.customer_account == ona.account
    assert all(a.location_id for a in ona.addresses.all())
    address = AsyncAddress.objects.using("channel").get()
    hq_address = Address.objects.get(location_id=address.location_id)
    assert hq_address.is_primary and hq_address.party.customer.account == "C000001"
    assert SalesTransaction.objects.get().async_customer_id == ona.async_customer_id


def test_account_numbers_come_from_the_sequence_and_skip_existing(channel_data, organization):
    convert()
    accounts = sorted(
        Customer.objects.exclude(async_customer_id=None).values_list("account", flat=True)
    )
    assert accounts == ["C000002", "C000003", "C000004", "C000005"]


def test_each_job_run_twice_changes_nothing_the_second_time(channel_data):
    def snapshot() -> tuple:
        return (
            Customer.objects.count(),
            StagedAsyncCustomer.objects.count(),
            UploadSession.objects.count(),
            DownloadSession.objects.count(),
            ChannelCustomer.objects.using("channel").count(),
            Address.objects.count(),
            statuses(),
        )

    convert()
    before = snapshot()
    second = convert()

    assert snapshot() == before
    assert all(r.succeeded == 0 for r in second)


def test_same_job_same_scope_is_refused_while_active(organization):
    first, refused = job_runs_request(job="upload", channel_database="HOUSTON", enqueue=False)
    assert not refused
    again, refused = job_runs_request(job="upload", channel_database="HOUSTON", enqueue=False)
    assert again == []
    assert "already queued" in str(refused[0]) and f"#{first[0].pk}" in str(refused[0])
