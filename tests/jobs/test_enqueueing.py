"""R10 queue faults: a task the broker refuses fails its runs at once, and a queued run
whose task has not started within the grace is taken over by the next request for its
scope (a trigger, the schedule, a command, ``--sync``); the first task then runs nothing."""

import io
import logging
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from customers.models import AsyncCustomer, ChannelCustomer
from customers.services import customer_create_at_store
from jobs import enqueueing
from jobs.enqueueing import job_queued_grace, job_run_take_over
from jobs.models import Job, JobRun, JobStatus
from jobs.services import (
    JOB_SPECS,
    JobAlreadyActive,
    JobSpec,
    conversion_request,
    job_run_request,
    job_runs_execute,
)
from jobs.tasks import job_runs_task, scheduled_job_task
from tests.fixtures import person

pytestmark = pytest.mark.django_db(databases="__all__")

CALLS: list[int] = []
REFUSED = ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def recording_job(*, run, progress, **parameters):
    CALLS.append(run.pk)
    progress.add(selected=1, succeeded=1)


@pytest.fixture
def recording(monkeypatch):
    """Synchronize orders runs ``recording_job``; the broker is retried without pauses."""
    CALLS.clear()
    monkeypatch.setitem(
        JOB_SPECS, Job.SYNC_ORDERS, JobSpec(Job.SYNC_ORDERS, f"{__name__}.recording_job", "all")
    )
    monkeypatch.setattr(enqueueing, "ENQUEUE_RETRY_DELAYS", (0, 0))
    return CALLS


@pytest.fixture
def broker(monkeypatch):
    """django-q's ``async_task`` behind a switch: each call takes the next outcome
    ("down" raises what redis-py raises with Redis stopped, "lost" accepts the task and
    never runs it, "up" runs it inline); once the outcomes run out, the last one holds."""
    from django_q import tasks

    real = tasks.async_task
    outcomes: list[str] = ["up"]
    calls: list[str] = []

    def async_task(*args, **kwargs):
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        calls.append(outcome)
        if outcome == "down":
            raise REFUSED
        if outcome == "lost":
            return "lost-task"
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "async_task", async_task)
    monkeypatch.setattr(enqueueing, "ENQUEUE_RETRY_DELAYS", (0, 0))

    def switch(*next_outcomes: str) -> list[str]:
        outcomes[:] = list(next_outcomes)
        return calls

    return switch


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on_commit callbacks as real commits would: the store's channel transaction
    first, then HQ's (the enqueue)."""

    @contextmanager
    def commit():
        with ExitStack() as stack:
            stack.enter_context(django_capture_on_commit_callbacks(execute=True))
            for alias in ("channel", "channel2"):
                stack.enter_context(django_capture_on_commit_callbacks(using=alias, execute=True))
            yield

    return commit


def past_the_grace(*runs: JobRun) -> None:
    """Move the runs' hand-over back beyond the grace, as if their task had waited."""
    then = timezone.now() - job_queued_grace() - timedelta(seconds=1)
    JobRun.objects.filter(pk__in=[run.pk for run in runs]).update(enqueued_at=then)


def requested(**parameters) -> JobRun:
    return job_run_request(job=Job.SYNC_ORDERS, parameters=parameters, via="trigger")


def unconverted() -> dict[str, int]:
    return {
        alias: AsyncCustomer.objects.using(alias).filter(account__isnull=True).count()
        for alias in ("channel", "channel2")
    }


# --- The broker refuses the task ----------------------------------------------------------


def test_a_task_the_broker_refuses_fails_its_run_at_once_and_frees_the_scope(
    recording, broker, django_capture_on_commit_callbacks, caplog
):
    calls = broker("down")

    with caplog.at_level(logging.ERROR, logger="jobs.enqueueing"):
        with django_capture_on_commit_callbacks(execute=True):
            run = requested()

    run.refresh_from_db()
    assert calls == ["down", "down", "down"]  # tried again before giving up
    assert run.status == JobStatus.FAILED and run.finished_at is not None
    assert run.message == f"could not be queued: ConnectionError: {REFUSED}"
    assert f"could not be queued: ConnectionError: {REFUSED}" in caplog.text
    broker("up")
    with django_capture_on_commit_callbacks(execute=True):
        again = requested()  # not refused: the scope is free
    again.refresh_from_db()
    assert again.status == JobStatus.SUCCEEDED and recording == [again.pk]


def test_a_broker_that_blinks_is_ridden_out(recording, broker, django_capture_on_commit_callbacks):
    calls = broker("down", "up")

    with django_capture_on_commit_callbacks(execute=True):
        run = requested()

    run.refresh_from_db()
    assert calls == ["down", "up"]
    assert run.status == JobStatus.SUCCEEDED and recording == [run.pk]


def test_a_failed_hand_over_leaves_a_chain_failed_whole(
    organization, broker, django_capture_on_commit_callbacks
):
    broker("down")

    with django_capture_on_commit_callbacks(execute=True):
        chain = conversion_request(channel_database="HOUSTON", via="schedule")

    statuses = JobRun.objects.filter(pk__in=[r.pk for r in chain]).values_list("status", "message")
    assert {status for status, _message in statuses} == {JobStatus.FAILED}
    assert all(message.startswith("could not be queued: ") for _status, message in statuses)
    assert len(conversion_request(channel_database="HOUSTON", enqueue=False)) == 3


def test_store_writes_with_the_broker_failing_mid_burst_leave_no_run_queued(
    organization, broker, committed
):
    houston, seattle = organization["houston"], organization["seattle"]
    # Up for the first write, refused once then up for the second (a blink), down for
    # the rest of the burst: Redis stopped.
    for index, outcomes in enumerate([("up",), ("down", "up"), *[("down",)] * 4]):
        calls = broker(*outcomes)
        with committed():
            store = houston if index % 2 == 0 else seattle
            customer_create_at_store(store=store, data=person(f"Burst{index}", "Store"))

    assert calls[-3:] == ["down", "down", "down"]
    assert not JobRun.objects.filter(status=JobStatus.QUEUED).exists()
    refused = JobRun.objects.filter(status=JobStatus.FAILED)
    assert refused.exists()
    assert {run.message.split(":")[0] for run in refused} == {"could not be queued"}
    assert unconverted()["channel"] and unconverted()["channel2"]

    call_command("convert_async_customers", "--sync")

    assert unconverted() == {"channel": 0, "channel2": 0}
    accounts = set(AsyncCustomer.objects.using("channel").values_list("account", flat=True))
    assert accounts <= set(
        ChannelCustomer.objects.using("channel2").values_list("account", flat=True)
    )


# --- The task never starts: taken over after the grace -----------------------------------


def test_a_queued_run_within_the_grace_keeps_its_scope(
    recording, broker, django_capture_on_commit_callbacks
):
    broker("lost")
    with django_capture_on_commit_callbacks(execute=True):
        run = requested()

    with pytest.raises(JobAlreadyActive):
        job_run_request(job=Job.SYNC_ORDERS)  # a request for a task waits the grace

    run.refresh_from_db()
    assert run.status == JobStatus.QUEUED and run.task_id.startswith(f"job-runs-{run.pk}~")


def test_sync_takes_over_a_queued_run_at_once_within_the_grace(
    recording, broker, django_capture_on_commit_callbacks
):
    """``--sync`` runs the job in its own process now: a queued run whose task has not
    started is its to run at once (a store write's trigger, then ``--sync`` a second
    later, with no cluster)."""
    broker("lost")
    with django_capture_on_commit_callbacks(execute=True):
        lost = requested()
    lost.refresh_from_db()
    first_task = lost.task_id

    taken = job_run_request(job=Job.SYNC_ORDERS, enqueue=False)  # as run_job --sync
    job_runs_execute(run_ids=[taken.pk])

    assert taken.pk == lost.pk and recording == [lost.pk]
    assert job_runs_task([lost.pk], first_task) == [] and recording == [lost.pk]


def test_sync_takes_over_a_queued_run_whose_task_never_started_and_the_task_runs_nothing(
    recording, broker, django_capture_on_commit_callbacks
):
    broker("lost")
    with django_capture_on_commit_callbacks(execute=True):
        lost = requested()
    lost.refresh_from_db()
    first_task = lost.task_id
    past_the_grace(lost)

    (taken,) = [job_run_request(job=Job.SYNC_ORDERS, enqueue=False)]  # as run_job --sync
    job_runs_execute(run_ids=[taken.pk])

    assert taken.pk == lost.pk and recording == [lost.pk]
    lost.refresh_from_db()
    done = (lost.status, lost.selected, lost.succeeded, lost.worker, lost.finished_at)
    assert done[:3] == (JobStatus.SUCCEEDED, 1, 1)

    # The broker delivers the first task after all: it claims nothing.
    assert job_runs_task([lost.pk], first_task) == []

    lost.refresh_from_db()
    assert recording == [lost.pk]
    assert (lost.status, lost.selected, lost.succeeded, lost.worker, lost.finished_at) == done


def test_the_schedule_hands_a_queued_run_whose_task_never_started_to_a_new_task(
    recording, broker, django_capture_on_commit_callbacks
):
    broker("lost", "up")
    with django_capture_on_commit_callbacks(execute=True):
        lost = requested()
    lost.refresh_from_db()
    first_task = lost.task_id
    past_the_grace(lost)

    with django_capture_on_commit_callbacks(execute=True):
        assert scheduled_job_task(Job.SYNC_ORDERS) == [lost.pk]  # the same run, not refused

    lost.refresh_from_db()
    assert lost.status == JobStatus.SUCCEEDED and recording == [lost.pk]
    assert lost.task_id != first_task and lost.task_id.startswith(f"job-runs-{lost.pk}~")
    assert job_runs_task([lost.pk], first_task) == [] and recording == [lost.pk]


def test_a_chain_that_has_started_is_left_to_the_job_lease(
    organization, broker, django_capture_on_commit_callbacks
):
    broker("lost")
    with django_capture_on_commit_callbacks(execute=True):
        chain = conversion_request(channel_database="HOUSTON", via="schedule")
    past_the_grace(*chain)
    now = timezone.now()
    JobRun.objects.filter(pk=chain[0].pk).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now
    )

    with pytest.raises(JobAlreadyActive):
        conversion_request(channel_database="HOUSTON", enqueue=False)
    for run in chain[1:]:  # the upload runs: the chain's queued rest is not taken
        with pytest.raises(JobAlreadyActive):
            job_run_request(job=run.job, parameters=run.parameters, enqueue=False)


def test_of_two_requests_that_read_the_same_stale_run_one_takes_it(
    recording, broker, django_capture_on_commit_callbacks
):
    broker("lost")
    with django_capture_on_commit_callbacks(execute=True):
        lost = requested()
    past_the_grace(lost)
    first, second = JobRun.objects.get(pk=lost.pk), JobRun.objects.get(pk=lost.pk)

    assert job_run_take_over(run=first) is True
    assert job_run_take_over(run=second) is False


def test_convert_sync_with_no_cluster_takes_over_the_triggered_chain(
    organization, committed, monkeypatch
):
    """The ORM broker with no cluster: a store write's chain waits in the broker table."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "BROKER_CLASS", "django_q.brokers.orm.ORM")
    with committed():
        customer_create_at_store(store=organization["houston"], data=person("Ona", "Store"))
    triggered = list(JobRun.objects.order_by("pk"))
    assert [run.status for run in triggered] == [JobStatus.QUEUED] * 3
    (queued_task,) = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]

    call_command("convert_async_customers", "--sync")  # at once, within the grace

    assert unconverted() == {"channel": 0, "channel2": 0}
    upload, _account_creation, distribution = (JobRun.objects.get(pk=run.pk) for run in triggered)
    assert (upload.status, upload.selected) == (JobStatus.SUCCEEDED, 1)  # Ona
    assert distribution.status == JobStatus.SUCCEEDED
    taken = [(run.pk, run.status, run.selected, run.finished_at) for run in (upload, distribution)]

    # A cluster starts and takes the first task: the runs taken over are not run again.
    job_runs_task(*queued_task["args"])

    assert [
        (run.pk, run.status, run.selected, run.finished_at)
        for run in JobRun.objects.filter(pk__in=[upload.pk, distribution.pk]).order_by("pk")
    ] == taken
    # What the task still held (account creation for Houston) it ran, and nothing of the
    # triggered chain is left queued.
    assert not JobRun.objects.filter(
        pk__in=[run.pk for run in triggered], status=JobStatus.QUEUED
    ).exists()


# --- Distributions side by side (README "Distribution") ---------------------------------


def test_a_conversion_task_hands_its_distributions_to_tasks_of_their_own(
    organization, broker, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", False)  # a real broker: tasks wait for a worker
    customer_create_at_store(store=organization["houston"], data=person("Ona", "Store"))
    runs = conversion_request(via="command", enqueue=False)
    chain = enqueueing.job_task_id([run.pk for run in runs])
    JobRun.objects.filter(pk__in=[run.pk for run in runs]).update(
        task_id=chain, enqueued_at=timezone.now()
    )
    calls = broker("lost")  # the broker takes the handed-out tasks; no worker yet

    job_runs_task([run.pk for run in runs], chain)

    first, second = JobRun.objects.filter(job=Job.DISTRIBUTE).order_by("pk")
    assert (first.status, first.task_id) == (JobStatus.SUCCEEDED, chain)  # run by the chain
    assert second.status == JobStatus.QUEUED and second.task_id not in ("", chain)
    assert calls == ["lost"]  # one task of its own, for another worker
    assert ChannelCustomer.objects.using("channel").exists()  # HOUSTON, the first

    job_runs_task([second.pk], second.task_id)  # a second worker takes it

    second.refresh_from_db()
    assert (second.status, second.selected) == (JobStatus.SUCCEEDED, first.selected)
    assert unconverted() == {"channel": 0, "channel2": 0}
    assert ChannelCustomer.objects.using("channel2").filter(account__isnull=False).exists()


def test_without_a_task_the_distributions_run_here_in_order(organization, broker):
    customer_create_at_store(store=organization["houston"], data=person("Ona", "Store"))
    calls = broker("lost")

    call_command("convert_async_customers", "--sync", stdout=io.StringIO())

    assert calls == []  # nothing handed to the broker
    assert set(JobRun.objects.filter(job=Job.DISTRIBUTE).values_list("status", flat=True)) == {
        JobStatus.SUCCEEDED
    }
