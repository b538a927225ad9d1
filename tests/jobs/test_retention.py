"""R15 retention (README, Retention): `purge` deletes what is no longer needed and
nothing pending, failed, under review or needed to repair a crash."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Task

from commerce.isolation import RunAborted
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    ChannelCustomer,
    ChannelRequest,
    Customer,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedChannelRequest,
    StagingStatus,
)
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from jobs import distribution
from jobs.models import (
    AppliedDownloadSession,
    DownloadSession,
    JobRun,
    JobScopeCheck,
    UploadSession,
)
from jobs.services.retention import purge_run
from tests.fixtures import convert, person, run

pytestmark = pytest.mark.django_db(databases="__all__")


def purged(**kwargs) -> dict[tuple[str, str], int]:
    return {(db, label): count for db, label, count in purge_run(**kwargs)}


@pytest.fixture
def converted(channel_data, organization):
    """The sample converted (one invalid record failed), a store edit applied, and a
    new async customer still pending upload."""
    convert()
    houston = Customer.objects.get(async_customer_id=channel_data["valid"][0].async_customer_id)
    customer_edit_at_store(
        store=organization["houston"],
        customer=houston.account,
        changes=CustomerChanges(fields={"email": "ona@new.example"}),
    )
    convert()
    pending = async_customer_create(
        alias="channel", store_number="S0001", data=person("Pending", "Person")
    )
    return {**channel_data, "pending": pending, "edited": houston}


def test_purge_keeps_everything_younger_than_the_retention(converted):
    results = purged()  # RETENTION_DAYS, 30 by default

    assert set(results.values()) == {0}
    assert StagedAsyncCustomer.objects.count() == 5


def test_purge_deletes_what_is_done_and_keeps_what_is_not(converted):
    failed = StagedAsyncCustomer.objects.get(status=StagingStatus.FAILED)
    runs_before = JobRun.objects.count()
    assert runs_before and DownloadSession.objects.count() > 2

    results = purged(days=0)

    # Done: staged records created at HQ, the applied request, synchronized channel rows.
    assert list(StagedAsyncCustomer.objects.all()) == [failed]
    assert set(StagedAsyncCustomerAddress.objects.values_list("staged_customer", flat=True)) == {
        failed.pk
    }
    assert not StagedAsyncAddress.objects.exists()
    assert not StagedChannelRequest.objects.exists()
    assert not ChannelRequest.objects.using("channel").exists()
    assert not AsyncAddress.objects.using("channel").exists()
    assert not JobRun.objects.exists() and not JobScopeCheck.objects.exists()
    assert results[("HQ", "job runs")] == runs_before
    assert results[("HOUSTON", "async customers")] == 3
    # Kept: the failed and the pending async customers, the copies, HQ customers,
    # the latest applied download session and its channel record per channel database,
    # the latest upload session per channel database (and the failed record's).
    left = set(AsyncCustomer.objects.using("channel").values_list("first_name", flat=True))
    assert left == {"Bad", "Pending"}
    assert ChannelCustomer.objects.using("channel2").count() == Customer.objects.count()
    sessions = DownloadSession.objects.all()
    assert sorted(sessions.values_list("channel_database", flat=True)) == ["HOUSTON", "SEATTLE"]
    for alias, session in (("channel", "HOUSTON"), ("channel2", "SEATTLE")):
        latest = sessions.get(channel_database=session).pk
        markers = AppliedDownloadSession.objects.using(alias).values_list("session_id", flat=True)
        assert list(markers) == [latest]
    assert UploadSession.objects.filter(pk=failed.upload_session_id).exists()

    # The next conversion takes the pending customer and creates nothing twice.
    accounts = Customer.objects.count()
    convert()
    assert Customer.objects.count() == accounts + 1
    assert AsyncCustomer.objects.using("channel").get(first_name="Pending").account


def test_the_queue_results_of_succeeded_tasks_go_and_failed_ones_stay(organization):
    """django-q2 keeps every task's result (``save_limit`` 0: no read of them all as
    each task ends); ``purge`` deletes those of succeeded tasks past the retention."""
    old = timezone.now() - datetime.timedelta(days=31)

    def task(name, *, success, stopped):
        return Task.objects.create(
            id=name,
            name=name,
            func="jobs.tasks.job_runs_task",
            started=stopped,
            stopped=stopped,
            success=success,
        )

    task("old-ok", success=True, stopped=old)
    task("old-failed", success=False, stopped=old)
    task("new-ok", success=True, stopped=timezone.now())

    assert purged()[("HQ", "queue task results")] == 1
    assert sorted(Task.objects.values_list("name", flat=True)) == ["new-ok", "old-failed"]


def test_dry_run_counts_what_a_purge_deletes_and_deletes_nothing(converted, capsys):
    staged = StagedAsyncCustomer.objects.count()
    call_command("purge", "--dry-run", "--days", "0")
    out = capsys.readouterr().out
    assert "HQ staged async customers: would delete 4" in out
    assert "HOUSTON async customers: would delete 3" in out
    assert StagedAsyncCustomer.objects.count() == staged

    call_command("purge", "--days", "0")
    assert "HQ staged async customers: deleted 4" in capsys.readouterr().out


class Crash(RunAborted):
    pass


def test_a_session_a_crash_left_unfinished_survives_the_purge_and_is_repaired(
    channel_data, monkeypatch
):
    run("upload")
    run("async-customers")

    def crash(stage):
        if stage == "after_channel_commit":
            raise Crash(stage)

    monkeypatch.setattr(distribution, "fault_hook", crash)
    run("distribute", channel_database="HOUSTON")
    unfinished = DownloadSession.objects.get(channel_database="HOUSTON")
    assert unfinished.status == "created"
    # Older than any retention: still kept, with its channel record.
    DownloadSession.objects.update(created_at=timezone.now() - datetime.timedelta(days=400))
    AppliedDownloadSession.objects.using("channel").update(
        applied_at=timezone.now() - datetime.timedelta(days=400)
    )

    purged(days=0)

    assert DownloadSession.objects.filter(pk=unfinished.pk).exists()
    assert AppliedDownloadSession.objects.using("channel").filter(session_id=unfinished.pk)
    monkeypatch.setattr(distribution, "fault_hook", lambda stage: None)
    (repaired,) = run("distribute", channel_database="HOUSTON")
    unfinished.refresh_from_db()
    assert unfinished.status == "applied" and repaired.selected == 0


def test_an_unacknowledged_upload_session_is_kept(channel_data):
    run("upload")
    UploadSession.objects.update(
        status="applied", created_at=timezone.now() - datetime.timedelta(days=400)
    )
    UploadSession.objects.create(channel_database="HOUSTON", status="acknowledged")
    kept = set(UploadSession.objects.filter(status="applied").values_list("pk", flat=True))

    purged(days=0)

    assert kept <= set(UploadSession.objects.values_list("pk", flat=True))


def test_schedules_include_the_daily_purge():
    from django_q.models import Schedule

    call_command("setup_schedules")
    schedule = Schedule.objects.get(func="jobs.tasks.scheduled_purge_task")
    assert schedule.schedule_type == Schedule.DAILY


def purge_queries(customers_per_store: int) -> tuple[int, int]:
    from devtools.generate import async_customers_generate, organization_generate
    from tests.jobs.test_query_counts import AllQueries

    organization = organization_generate(stores=2)
    for number, alias in organization.stores:
        async_customers_generate(
            alias=alias,
            store_number=number,
            count=customers_per_store,
            invalid_every=7,
            seed=customers_per_store,
        )
    convert()
    with AllQueries() as queries:
        results = purge_run(days=0)
    return queries.count, sum(count for _db, _label, count in results)


def test_purge_queries_do_not_grow_with_the_rows():
    purge_queries(3)  # every kind of row has been purged once before both measures
    few, deleted_few = purge_queries(5)
    many, deleted_many = purge_queries(60)
    assert deleted_many > deleted_few * 5
    assert many <= few + 4, (few, many)


def test_the_customer_page_links_a_timeline_only_while_it_is_kept(converted, admin_client):
    customer = converted["edited"]
    url = f"/admin/customers/customer/{customer.pk}/change/"
    timeline = f"timeline/HOUSTON/customer/{customer.async_customer_id}/"
    assert timeline in admin_client.get(url).content.decode()

    purged(days=0)

    page = admin_client.get(url)
    assert page.status_code == 200 and timeline not in page.content.decode()


def test_the_event_log_is_kept_longer_and_then_expires(organization):
    """The audit trail outlives what the jobs need: EVENT_LOG_RETENTION_DAYS (365)."""
    from commerce.events import ChannelEvent, Event, EventAction, EventKind, NewEvent, events_record

    now = timezone.now()
    for using in ("default", "channel"):
        events_record(
            [
                NewEvent(kind=EventKind.ACCOUNT, key=key, action=EventAction.EDITED, at=at)
                for key, at in (
                    ("OLD", now - datetime.timedelta(days=400)),
                    ("MONTHS", now - datetime.timedelta(days=100)),
                    ("NEW", now),
                )
            ],
            using=using,
        )

    assert purged(dry_run=True)[("HQ", "event log")] == 1
    assert purged()[("HQ", "event log")] == 1  # only the one past 365 days
    assert set(Event.objects.values_list("key", flat=True)) == {"MONTHS", "NEW"}
    assert set(ChannelEvent.objects.using("channel").values_list("key", flat=True)) == {
        "MONTHS",
        "NEW",
    }

    purge_run(event_log_days=30)
    assert list(Event.objects.values_list("key", flat=True)) == ["NEW"]
