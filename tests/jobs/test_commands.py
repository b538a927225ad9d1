import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from customers.models import Customer, StagedAsyncCustomer
from jobs.models import JobRun

pytestmark = pytest.mark.django_db(databases="__all__")


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_run_job_sync_prints_counters(channel_data):
    output = call("run_job", "upload", "--channel-database", "HOUSTON", "--sync")

    assert "upload [channel_database=HOUSTON] succeeded: selected=6" in output
    assert JobRun.objects.get().status == "succeeded"


def test_run_job_default_enqueues_and_prints_ids(channel_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        output = call("run_job", "upload")

    ids = [int(line) for line in output.split()]
    assert sorted(JobRun.objects.values_list("pk", flat=True)) == sorted(ids)
    assert len(ids) == 2 and len(callbacks) == 2  # one per channel database, after commit
    assert set(JobRun.objects.values_list("status", flat=True)) == {"queued"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], 'Unknown job "nope"'),
        (["upload", "--channel-database", "MARS"], 'Unknown channel database "MARS"'),
        (["upload", "--store", "S9999"], 'Unknown store "S9999"'),
        (["upload", "--business-date", "2026-13-01"], "not a YYYY-MM-DD date"),
    ],
)
def test_run_job_bad_input_is_a_one_line_error(organization, args, message):
    with pytest.raises(CommandError, match=message):
        call("run_job", *args)
    assert not JobRun.objects.exists()


def test_convert_async_customers_sync_runs_the_three_jobs_in_order(channel_data):
    output = call("convert_async_customers", "--sync")

    jobs = [run.job for run in JobRun.objects.order_by("pk")]
    assert jobs == ["upload", "upload", "async-customers", "distribute", "distribute"]
    assert output.index("upload") < output.index("async-customers") < output.index("distribute")
    assert Customer.objects.exclude(async_customer_id=None).count() == 4


def test_async_customer_status_reports_every_status(channel_data):
    call("run_job", "upload", "--channel-database", "HOUSTON", "--sync")
    call("run_job", "async-customers", "--sync")
    call("run_job", "distribute", "--channel-database", "SEATTLE", "--sync")

    rows = json.loads(call("async_customer_status", "--format", "json"))

    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    # Seattle's customer was never uploaded; Houston's were created but distributed
    # only to Seattle, so they are "created" at Houston; the invalid one failed.
    assert len(by_status["pending_upload"]) == 1
    assert len(by_status["created"]) == 4  # 3 customers + the async address
    assert len(by_status["failed"]) == 1
    call("run_job", "distribute", "--channel-database", "HOUSTON", "--sync")
    rows = json.loads(call("async_customer_status", "--format", "json", "--status", "synchronized"))
    assert len(rows) == 4
    call("run_job", "upload", "--channel-database", "SEATTLE", "--sync")
    rows = json.loads(call("async_customer_status", "--format", "json", "--status", "uploaded"))
    assert [row["store"] for row in rows] == ["S0002"]


def test_setup_schedules_is_idempotent(db):
    call("setup_schedules")
    first = list(Schedule.objects.values_list("name", "func", "minutes"))
    call("setup_schedules")

    assert list(Schedule.objects.values_list("name", "func", "minutes")) == first
    assert len(first) >= 1


def test_each_store_gets_an_end_of_day_schedule_that_posts_its_statements(
    organization, monkeypatch
):
    monkeypatch.setenv("END_OF_DAY_TIME", "22:15")
    call("setup_schedules")
    call("setup_schedules")

    schedules = Schedule.objects.filter(name__startswith="End of day")
    assert sorted(schedules.values_list("name", flat=True)) == [
        "End of day: post the statements of store S0001",
        "End of day: post the statements of store S0002",
    ]
    houston = schedules.get(name__endswith="S0001")
    assert houston.schedule_type == Schedule.DAILY and "S0001" in houston.kwargs
    local = timezone.localtime(houston.next_run)
    assert (local.hour, local.minute) == (22, 15)


def test_a_bad_schedule_interval_is_a_one_line_error(db, monkeypatch):
    monkeypatch.setenv("CONVERSION_SCHEDULE_MINUTES", "often")
    with pytest.raises(CommandError, match="CONVERSION_SCHEDULE_MINUTES: expected a whole"):
        call("setup_schedules")


def test_a_bad_end_of_day_time_is_a_one_line_error(db, monkeypatch):
    monkeypatch.setenv("END_OF_DAY_TIME", "half past ten")
    with pytest.raises(CommandError, match="END_OF_DAY_TIME must be HH:MM"):
        call("setup_schedules")


def test_run_job_refuses_a_future_business_date_with_exit_1(organization):
    future = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    with pytest.raises(CommandError) as error:
        call("run_job", "post-statements", "--business-date", future, "--sync")

    assert error.value.returncode == 1
    assert str(error.value) == (
        f'Business date "{future}" is in the future; a statement is posted for a day that '
        "has begun."
    )
    assert not JobRun.objects.exists()


def test_run_job_exits_1_when_a_scope_is_refused_and_runs_the_others(organization):
    from jobs.services import job_run_request

    active = job_run_request(
        job="post-statements", parameters={"store": "S0001"}, via="command", enqueue=False
    )

    with pytest.raises(CommandError, match=f"Refused: .*#{active.pk}") as error:
        call("run_job", "post-statements", "--sync")

    assert error.value.returncode == 1 and "\n" not in str(error.value)
    ran = JobRun.objects.exclude(pk=active.pk).get()
    assert ran.parameters["store"] == "S0002" and ran.status == "succeeded"


def test_run_job_prints_records_held_for_review_apart_from_failed(organization):
    from customers.models import StagingStatus
    from tests.customers.test_duplicates import at_store, existing

    legal_entity = organization["legal_entity"]
    legal_entity.duplicate_policy = "review"
    legal_entity.save()
    existing(legal_entity, "Ona", "Šimkutė", email="ona@example.com")
    record = at_store("Ona", "Simkute", email="ona@example.com")
    call("run_job", "upload", "--sync")

    output = call("run_job", "async-customers", "--sync")

    assert "succeeded: selected=1 succeeded=0 failed=0 held=1 skipped=0" in output
    assert "1 held for review" in output
    run = JobRun.objects.get(job="async-customers")
    assert (run.status, run.failed, run.held) == ("succeeded", 0, 1)
    staged = record.async_customer_id
    assert StagedAsyncCustomer.objects.get(async_customer_id=staged).status == (
        StagingStatus.NEEDS_REVIEW
    )
