"""Freshness: a store write triggers the conversion of its channel database after it
commits, coalesced (at most one chain queued per channel database, one more after a
running one); runs that found nothing leave no job run, only a check."""

import logging
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from commerce.models import ChannelDatabase, FunctionalityProfile
from customers.models import AsyncCustomer, ChannelCustomer
from customers.services import customer_create_at_store
from jobs import distribution, receivers
from jobs.enqueueing import job_queued_grace
from jobs.freshness import (
    channel_databases_serving,
    conversion_trigger_stages,
    job_chain_execute,
    job_demand_set,
    job_demands_start,
    store_write_trigger,
)
from jobs.models import Job, JobDemand, JobRun, JobScopeCheck, JobStatus
from jobs.services import (
    conversion_request,
    job_chains_busy,
    job_run_request,
    job_runs_execute,
)
from jobs.tasks import scheduled_conversion_task
from tests.commerce.test_admin import admin_url
from tests.factories.commerce import ChannelDatabaseFactory, LegalEntityFactory, StoreFactory
from tests.factories.jobs import JobRunFactory, JobScopeCheckFactory
from tests.fixtures import person

pytestmark = pytest.mark.django_db(databases="__all__")

HOUSTON = "channel_database=HOUSTON"
SEATTLE = "channel_database=SEATTLE"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on_commit callbacks as real commits would: the channel databases' first (the
    store's write), then HQ's (the enqueue; django-q2 runs tasks inline in tests)."""

    @contextmanager
    def commit(*, hq: bool = True):
        with ExitStack() as stack:
            if hq:
                stack.enter_context(django_capture_on_commit_callbacks(execute=True))
            for alias in ("channel", "channel2"):
                stack.enter_context(django_capture_on_commit_callbacks(using=alias, execute=True))
            yield

    return commit


def create_at(store, first: str, last: str = "Store"):
    return customer_create_at_store(store=store, data=person(first, last))


def chain_of(runs) -> list[tuple[str, str, str]]:
    return [(run.job, run.scope, run.requested_via) for run in runs]


def queued_ids() -> list[int]:
    return list(
        JobRun.objects.filter(status=JobStatus.QUEUED).order_by("pk").values_list("pk", flat=True)
    )


def account_at(alias: str, customer) -> str | None:
    return AsyncCustomer.objects.using(alias).get(pk=customer.pk).account


# --- The trigger ------------------------------------------------------------------------


def test_a_store_write_triggers_its_chain_only_after_the_channel_transaction_commits(
    organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(using="channel") as callbacks:
        create_at(organization["houston"], "Ona")
        assert not JobRun.objects.exists()

    assert len(callbacks) == 1
    callbacks[0]()
    assert chain_of(JobRun.objects.order_by("pk")) == [
        (Job.UPLOAD, HOUSTON, "trigger"),
        (Job.ASYNC_CUSTOMERS, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, HOUSTON, "trigger"),  # the other stores are owed at its end
    ]
    assert list(JobDemand.objects.values_list("job", "channel_database")) == [
        (Job.UPLOAD, "HOUSTON")
    ]


def test_a_store_write_rolled_back_triggers_nothing(
    organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(using="channel") as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic(using="channel"):
            create_at(organization["houston"], "Ona")
            raise RuntimeError("the store's transaction failed after the write")

    assert callbacks == []
    assert not JobRun.objects.exists() and not JobDemand.objects.exists()


def test_a_committed_write_reaches_both_stores_through_the_queue(organization, committed):
    with committed():
        ona = create_at(organization["houston"], "Ona").async_customer

    account = account_at("channel", ona)
    assert account
    assert ChannelCustomer.objects.using("channel2").filter(account=account).exists()
    assert not JobDemand.objects.exists()
    assert chain_of(JobRun.objects.filter(status=JobStatus.SUCCEEDED).order_by("pk")) == [
        (Job.UPLOAD, HOUSTON, "trigger"),
        (Job.ASYNC_CUSTOMERS, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, SEATTLE, "trigger"),  # owed by the chain's end, queued on its own
    ]


def test_a_real_time_creation_reaches_the_other_stores(organization, committed):
    FunctionalityProfile.objects.filter(code="ASYNC").update(create_customer_in_async_mode=False)

    with committed():
        result = create_at(organization["houston"], "Ona")

    assert result.mode == "real_time"
    assert ChannelCustomer.objects.using("channel2").filter(account=result.account).exists()
    # Upload and account creation found nothing: only the distribution is kept.
    assert chain_of(JobRun.objects.order_by("pk")) == [
        (Job.DISTRIBUTE, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, SEATTLE, "trigger"),
    ]


def test_the_chain_distributes_to_every_channel_database_of_the_stores_legal_entities(
    organization,
):
    other = ChannelDatabaseFactory(name="BERLIN", alias="channel3-not-configured")
    StoreFactory(
        number="S0009", legal_entity=LegalEntityFactory(code="DERT"), channel_database=other
    )

    assert channel_databases_serving(channel_database="HOUSTON") == ["HOUSTON", "SEATTLE"]
    assert channel_databases_serving(channel_database="SEATTLE") == ["SEATTLE", "HOUSTON"]
    assert channel_databases_serving(channel_database="BERLIN") == ["BERLIN"]


def test_a_trigger_that_fails_never_reaches_the_store(organization, monkeypatch, caplog):
    def unreachable(*, alias):
        raise ConnectionError("HQ is down")

    monkeypatch.setattr(receivers, "store_write_trigger", unreachable)

    with caplog.at_level(logging.ERROR, logger="jobs.receivers"):
        receivers._trigger_after_commit("channel")

    assert "the conversion was not triggered; the schedule will pick it up" in caplog.text


# --- Coalescing -------------------------------------------------------------------------


def test_writes_while_a_chain_is_queued_add_nothing(organization):
    first = store_write_trigger(alias="channel")

    assert [store_write_trigger(alias="channel") for _ in range(49)] == [[]] * 49
    assert JobRun.objects.count() == len(first) == 3
    assert JobDemand.objects.count() == 1


def test_chains_are_busy_only_while_every_active_run_of_theirs_is_alive(organization):
    now = timezone.now()
    late = now - job_queued_grace() - timedelta(seconds=1)
    JobRunFactory(job=Job.UPLOAD, scope=HOUSTON, status=JobStatus.RUNNING, heartbeat_at=now)
    JobRunFactory(job=Job.DISTRIBUTE, scope=SEATTLE, status=JobStatus.QUEUED, enqueued_at=late)
    houston, seattle = (
        conversion_trigger_stages(channel_database=name) for name in ("HOUSTON", "SEATTLE")
    )
    seattle_upload_only = seattle[:1]

    assert job_chains_busy(chains=[houston, seattle, seattle_upload_only, []]) == [
        True,  # running and beating
        False,  # its distribution was queued beyond the grace: to be taken over
        False,  # nothing of it is active
        False,
    ]


def test_a_distribution_owed_beside_an_upload_is_left_to_the_triggered_chain(organization):
    """The triggered chain distributes to its own channel database: the distribution owed
    there is not requested as a chain of its own, which would hold the scope and make the
    store's own conversion wait for it."""
    job_demand_set(job=Job.DISTRIBUTE, channel_database=["HOUSTON", "SEATTLE"])
    job_demand_set(job=Job.UPLOAD, channel_database="HOUSTON")

    runs = job_demands_start()

    assert chain_of(runs) == [
        (Job.UPLOAD, HOUSTON, "trigger"),
        (Job.ASYNC_CUSTOMERS, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, SEATTLE, "trigger"),
    ]


def test_a_write_behind_a_chain_whose_task_never_started_takes_the_chain_over(organization):
    """The short way is taken only while every run of the chain is alive: a chain queued
    beyond the grace goes the long way (``job_chain_request``), which takes it over."""
    first = store_write_trigger(alias="channel")
    late = timezone.now() - job_queued_grace() - timedelta(seconds=1)
    JobRun.objects.filter(pk__in=[run.pk for run in first]).update(enqueued_at=late)

    again = store_write_trigger(alias="channel")

    assert [run.pk for run in again] == [run.pk for run in first]
    assert JobRun.objects.filter(enqueued_at__gt=late).count() == 3


def test_writes_while_a_chain_runs_cause_exactly_one_more_chain(organization, monkeypatch):
    houston = organization["houston"]
    first = create_at(houston, "First").async_customer
    runs = store_write_trigger(alias="channel")
    during = []

    def write_while_distributing(stage):
        if stage == "after_session_created" and not during:
            # The chain's upload is over; each trigger sees the chain running.
            for index in range(3):
                during.append(create_at(houston, f"During{index}").async_customer)
                assert store_write_trigger(alias="channel") == []

    monkeypatch.setattr(distribution, "fault_hook", write_while_distributing)
    job_chain_execute(run_ids=[run.pk for run in runs])

    assert account_at("channel", first)
    assert [account_at("channel", customer) for customer in during] == [None] * 3
    more = JobRun.objects.filter(pk__in=queued_ids()).order_by("pk")
    assert chain_of(more) == [
        (Job.UPLOAD, HOUSTON, "trigger"),  # one more chain for the three writes
        (Job.ASYNC_CUSTOMERS, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, HOUSTON, "trigger"),
        (Job.DISTRIBUTE, SEATTLE, "trigger"),  # what the first chain owes Seattle
    ]
    *houston_chain, seattle = more

    job_chain_execute(run_ids=[run.pk for run in houston_chain])
    job_chain_execute(run_ids=[seattle.pk])
    job_chain_execute(run_ids=queued_ids())  # Seattle is owed the second chain's work

    assert all(account_at("channel", customer) for customer in during)
    accounts = {account_at("channel", customer) for customer in [first, *during]}
    assert accounts <= set(
        ChannelCustomer.objects.using("channel2").values_list("account", flat=True)
    )
    assert queued_ids() == [] and not JobDemand.objects.exists()
    uploads = JobRun.objects.filter(job=Job.UPLOAD, scope=HOUSTON)
    assert [run.selected for run in uploads.order_by("pk")] == [1, 3]


def test_two_channel_databases_convert_side_by_side_and_owe_each_other_distribution(
    organization,
):
    houston = create_at(organization["houston"], "Ona").async_customer
    seattle = create_at(organization["seattle"], "Mia").async_customer
    houston_chain = store_write_trigger(alias="channel")
    seattle_chain = store_write_trigger(alias="channel2")  # no scope in common: accepted
    assert [(run.job, run.scope) for run in seattle_chain] == [
        (Job.UPLOAD, SEATTLE),
        (Job.ASYNC_CUSTOMERS, SEATTLE),
        (Job.DISTRIBUTE, SEATTLE),
    ]

    job_chain_execute(run_ids=[run.pk for run in houston_chain])

    # Houston's chain owes Seattle a distribution; Seattle's queued chain will cover it.
    assert queued_ids() == [run.pk for run in seattle_chain]
    assert list(JobDemand.objects.values_list("job", "channel_database")) == [
        (Job.UPLOAD, "SEATTLE"),
        (Job.DISTRIBUTE, "SEATTLE"),
    ]

    job_chain_execute(run_ids=[run.pk for run in seattle_chain])
    (owed,) = JobRun.objects.filter(pk__in=queued_ids())
    assert (owed.job, owed.scope) == (Job.DISTRIBUTE, HOUSTON)  # Seattle's new account
    job_chain_execute(run_ids=[owed.pk])

    accounts = {account_at("channel", houston), account_at("channel2", seattle)}
    for alias in ("channel", "channel2"):
        held = set(ChannelCustomer.objects.using(alias).values_list("account", flat=True))
        assert accounts <= held
    assert not JobDemand.objects.exists() and queued_ids() == []


def test_a_conversion_claim_covers_the_demand_but_an_upload_alone_does_not(organization):
    job_demand_set(job=Job.UPLOAD, channel_database="HOUSTON")
    alone = job_run_request(
        job=Job.UPLOAD, parameters={"channel_database": "HOUSTON"}, enqueue=False
    )

    job_chain_execute(run_ids=[alone.pk])

    # The upload a person asked for ran, then the chain still owed was requested.
    assert JobRun.objects.get(pk=alone.pk).status == JobStatus.SUCCEEDED
    assert JobRun.objects.get(pk=queued_ids()[0]).job == Job.UPLOAD
    assert JobDemand.objects.count() == 1

    job_chain_execute(run_ids=queued_ids())

    assert not JobDemand.objects.filter(job=Job.UPLOAD).exists()


def test_an_upload_that_staged_customer_orders_owes_order_sync(channel_data):
    runs = store_write_trigger(alias="channel")

    job_chain_execute(run_ids=[run.pk for run in runs])

    (sync,) = JobRun.objects.filter(pk__in=queued_ids(), job=Job.SYNC_ORDERS)
    sync_id = sync.pk
    assert (sync.job, sync.scope, sync.requested_via) == (Job.SYNC_ORDERS, HOUSTON, "trigger")
    job_chain_execute(run_ids=[sync_id])
    assert JobRun.objects.get(pk=sync_id).succeeded == 1
    assert not JobDemand.objects.filter(job=Job.SYNC_ORDERS).exists()


# --- Quiet history ------------------------------------------------------------------------


def test_a_scheduled_tick_with_nothing_to_do_leaves_no_job_run(settled, committed):
    with committed():
        requested = scheduled_conversion_task()

    assert len(requested) == 5  # two uploads, account creation, two distributions
    assert not JobRun.objects.exists()
    checks = {(c.job, c.scope): c for c in JobScopeCheck.objects.all()}
    assert set(checks) == {
        (Job.UPLOAD, HOUSTON),
        (Job.UPLOAD, SEATTLE),
        (Job.ASYNC_CUSTOMERS, "all"),
        (Job.DISTRIBUTE, HOUSTON),
        (Job.DISTRIBUTE, SEATTLE),
    }
    assert all(c.checked_at and c.last_run is None for c in checks.values())


def test_runs_that_did_work_or_failed_are_kept_and_remembered_by_their_check(
    channel_data, committed
):
    with committed():
        scheduled_conversion_task()
    kept = {(run.job, run.scope): run for run in JobRun.objects.all()}
    assert kept[(Job.ASYNC_CUSTOMERS, "all")].status == JobStatus.COMPLETED_WITH_ERRORS
    first_check = JobScopeCheck.objects.get(job=Job.UPLOAD, scope=HOUSTON)
    assert first_check.last_run_id == kept[(Job.UPLOAD, HOUSTON)].pk

    with committed():
        scheduled_conversion_task()  # nothing new: checked again, nothing kept

    assert JobRun.objects.count() == len(kept)
    check = JobScopeCheck.objects.get(job=Job.UPLOAD, scope=HOUSTON)
    assert check.checked_at > first_check.checked_at
    assert check.last_run_id == kept[(Job.UPLOAD, HOUSTON)].pk


def test_a_run_a_person_asked_for_is_kept_even_when_it_found_nothing(settled):
    runs = conversion_request(channel_database="HOUSTON", via="admin", enqueue=False)

    job_runs_execute(run_ids=[run.pk for run in runs])

    assert [run.selected for run in JobRun.objects.order_by("pk")] == [0, 0, 0]
    assert JobScopeCheck.objects.filter(last_run__isnull=False).count() == 3


def test_the_schedule_requests_what_a_lost_trigger_owed(organization):
    job_demand_set(job=Job.UPLOAD, channel_database="SEATTLE")
    # A run outside the cluster (run_job --sync) holds Houston's upload: the schedule's
    # own chain is refused...
    job_run_request(job=Job.UPLOAD, parameters={"channel_database": "HOUSTON"}, enqueue=False)

    assert scheduled_conversion_task() == []

    # ...and the chain Seattle is owed is requested all the same.
    owed = JobRun.objects.filter(requested_via="trigger").order_by("pk")
    assert [(run.job, run.scope) for run in owed] == [
        (Job.UPLOAD, SEATTLE),
        (Job.ASYNC_CUSTOMERS, SEATTLE),
        (Job.DISTRIBUTE, SEATTLE),
    ]


# --- What the pages show --------------------------------------------------------------


def test_the_job_runs_page_filters_failures_and_errors_and_shows_the_last_check(admin_client):
    failed = JobRunFactory(status=JobStatus.FAILED, selected=0, succeeded=0, failed=0)
    with_errors = JobRunFactory(status=JobStatus.COMPLETED_WITH_ERRORS)
    clean = JobRunFactory(status=JobStatus.SUCCEEDED, failed=0, errors=[])
    JobScopeCheckFactory(job=clean.job, scope=clean.scope, last_run=clean)
    url = admin_url(JobRun, "changelist")

    shown = admin_client.get(url, {"outcome": "problems"}).context["cl"].result_list
    page = admin_client.get(url).content.decode()

    assert {run.pk for run in shown} == {failed.pk, with_errors.pk}
    assert "Failures and errors" in page
    check = JobScopeCheck.objects.get(scope=clean.scope)
    assert timezone.localtime(check.checked_at).strftime("%Y-%m-%d %H:%M:%S") in page


def test_the_channel_databases_page_shows_when_upload_and_distribution_last_checked(
    admin_client, settled, committed
):
    with committed():
        scheduled_conversion_task()

    page = admin_client.get(admin_url(ChannelDatabase, "changelist")).content.decode()

    for job in (Job.UPLOAD, Job.DISTRIBUTE):
        check = JobScopeCheck.objects.get(job=job, scope=HOUSTON)
        label = "upload" if job == Job.UPLOAD else "distribution"
        moment = timezone.localtime(check.checked_at).strftime("%Y-%m-%d %H:%M:%S")
        assert f'{label}&nbsp;<span style="white-space:nowrap">{moment}</span>' in page
    assert not JobRun.objects.exists()  # the checks show what no job run row does


def test_store_write_triggers_can_be_turned_off(settings, django_capture_on_commit_callbacks):
    from commerce.signals import store_data_written

    settings.CONVERSION_TRIGGERS = False
    with django_capture_on_commit_callbacks(using="channel") as callbacks:
        store_data_written.send(sender=None, alias="channel")

    assert callbacks == []
