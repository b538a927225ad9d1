"""An HQ fix runs the rest of the chain (jobs.fix_chain): what it queues, in which
order, what it leaves to a busy run, and that the record then reaches every store."""

import pytest
from django.utils import timezone

from commerce.models import TransactionStatus, TransactionType
from customers.models import ChannelCustomer, StagedAsyncCustomer, StagingStatus
from jobs.fix_chain import fix_chain_request, fix_chain_stages
from jobs.freshness import job_chain_execute, job_demands_start
from jobs.models import Job, JobDemand, JobRun
from jobs.services import job_run_request
from tests.factories.commerce import SalesTransactionFactory
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def failed_customer(channel_data):
    run("upload", channel_database="HOUSTON")
    run("async-customers")
    staged = StagedAsyncCustomer.objects.get(
        async_customer_id=channel_data["invalid"].async_customer_id
    )
    assert staged.status == StagingStatus.FAILED
    staged.addresses.filter(country="XXL").update(country="USA")
    StagedAsyncCustomer.objects.filter(pk=staged.pk).update(status=StagingStatus.PENDING)
    return staged


def test_the_chain_creates_then_distributes_to_every_store_then_its_transactions(
    failed_customer, organization
):
    guid = failed_customer.async_customer_id
    order = SalesTransactionFactory(
        store=organization["houston"],
        type=TransactionType.CUSTOMER_ORDER,
        async_customer_id=guid,
        status=TransactionStatus.ORDER_FAILED,
    )
    SalesTransactionFactory(
        store=organization["houston"],
        async_customer_id=guid,
        status=TransactionStatus.POSTING_FAILED,
    )
    SalesTransactionFactory(  # another customer's: not this fix's business
        store=organization["houston"], status=TransactionStatus.ORDER_FAILED
    )

    stages = fix_chain_stages(customer_ids=[failed_customer.pk])

    assert stages == [
        (Job.ASYNC_CUSTOMERS, {"staged_customer_ids": [failed_customer.pk]}),
        (Job.DISTRIBUTE, {"channel_database": "HOUSTON"}),
        (Job.DISTRIBUTE, {"channel_database": "SEATTLE"}),
        (Job.SYNC_ORDERS, {"transaction_ids": [order.pk]}),
        (Job.POST_STATEMENTS, {"store": "S0001", "business_date": "2026-11-24"}),
    ]


def test_the_chain_is_queued_as_one_task_after_commit(
    failed_customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        runs, following = fix_chain_request(customer_ids=[failed_customer.pk])

    assert following == []
    assert [(r.job, r.parameters.get("channel_database")) for r in runs] == [
        (Job.ASYNC_CUSTOMERS, None),
        (Job.DISTRIBUTE, "HOUSTON"),
        (Job.DISTRIBUTE, "SEATTLE"),
    ]
    assert len(callbacks) == 1  # one hand-over: one task runs them in order
    assert set(
        JobRun.objects.filter(pk__in=[r.pk for r in runs]).values_list("status", flat=True)
    ) == {"queued"}


def test_a_busy_distribution_is_left_out_and_owed_at_the_chains_end(failed_customer):
    busy = job_run_request(
        job=Job.DISTRIBUTE, parameters={"channel_database": "SEATTLE"}, enqueue=False
    )
    now = timezone.now()
    JobRun.objects.filter(pk=busy.pk).update(status="running", started_at=now, heartbeat_at=now)

    runs, following = fix_chain_request(customer_ids=[failed_customer.pk])

    assert [error.run.pk for error in following] == [busy.pk]
    assert [r.parameters.get("channel_database") for r in runs] == [None, "HOUSTON"]
    job_chain_execute(run_ids=[r.pk for r in runs])
    account = StagedAsyncCustomer.objects.get(pk=failed_customer.pk).account
    assert ChannelCustomer.objects.using("channel").filter(account=account).exists()
    # SEATTLE is owed a distribution (the busy run read before the account existed),
    # requested once the busy run has finished.
    assert list(JobDemand.objects.values_list("job", "channel_database")) == [
        (Job.DISTRIBUTE, "SEATTLE")
    ]
    assert job_demands_start() == []  # still busy: its own end will ask
    JobRun.objects.filter(pk=busy.pk).update(status="succeeded", finished_at=timezone.now())
    (owed,) = job_demands_start()
    job_chain_execute(run_ids=[owed.pk])
    assert ChannelCustomer.objects.using("channel2").filter(account=account).exists()
