"""R10 chains: the runs of one task die together; a dead chain's scopes are freed and its
queued runs failed, by a new request or by the schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job, JobRun, JobStatus
from jobs.services import (
    JOB_LEASE_SECONDS,
    JOB_QUEUED_LEASE_SECONDS,
    JOB_SPECS,
    JobAlreadyActive,
    JobSpec,
    conversion_request,
    job_chain_name,
    job_run_request,
    job_runs_execute,
    job_runs_reap_stale,
    requesting,
)
from jobs.tasks import job_runs_task, scheduled_conversion_task
from tests.factories.commerce import ChannelDatabaseFactory
from tests.jobs.test_services import aged, recording, request

pytestmark = pytest.mark.django_db
__all__ = ["recording"]  # fixtures


# --- Chains: the runs of one task die together (R10) -----------------------------------

TASK_ID = "5f1c0c5e9d3a4b7e8f2a6c1d0b9e8a7f"
DEAD = timedelta(seconds=JOB_LEASE_SECONDS + 5)
BEATING = timedelta(seconds=JOB_LEASE_SECONDS - 30)


@pytest.fixture
def enqueued_conversion(monkeypatch, django_capture_on_commit_callbacks):
    """Request the conversion as the admin or the schedule does: its runs are queued and
    ``job_run_enqueue`` stamps them with their task's id (the broker runs nothing here)."""
    ChannelDatabaseFactory(name="HOUSTON", alias="channel")
    ChannelDatabaseFactory(name="SEATTLE", alias="channel2")
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: TASK_ID)

    def request_conversion(**kwargs) -> list[JobRun]:
        with django_capture_on_commit_callbacks(execute=True):
            runs = conversion_request(**kwargs)
        return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))

    return request_conversion


def worker_died_in(run: JobRun, *, ago: timedelta = DEAD) -> JobRun:
    then = timezone.now() - ago
    return aged(run, status=JobStatus.RUNNING, started_at=then, heartbeat_at=then)


def refreshed(runs: list[JobRun]) -> list[JobRun]:
    return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))


def test_a_new_conversion_after_its_chain_died_is_accepted_and_fails_the_queued_rest(
    enqueued_conversion,
):
    chain = enqueued_conversion(channel_database="HOUSTON")
    assert [r.job for r in chain] == [Job.UPLOAD, Job.ASYNC_CUSTOMERS, Job.DISTRIBUTE]
    (task_id,) = {r.task_id for r in chain}  # one task for the chain
    assert task_id.startswith(f"job-runs-{chain[0].pk}-{chain[1].pk}-{chain[2].pk}~")
    dead = worker_died_in(chain[0])

    again = conversion_request(channel_database="HOUSTON", enqueue=False)

    assert [(r.job, r.status) for r in again] == [(r.job, JobStatus.QUEUED) for r in chain]
    assert not {r.pk for r in again} & {r.pk for r in chain}
    dead, *rest = refreshed(chain)
    assert dead.status == JobStatus.FAILED and "stopped reporting" in dead.message
    for run in rest:
        assert run.status == JobStatus.FAILED
        assert run.finished_at is not None and run.started_at is None
        assert run.message.startswith(
            f"The chain's worker died while running job run #{dead.pk} (Upload (P-0001))"
        )


def test_a_chain_whose_worker_beats_keeps_its_queued_runs(enqueued_conversion):
    chain = enqueued_conversion(channel_database="HOUSTON")
    worker_died_in(chain[0], ago=BEATING)

    assert job_runs_reap_stale() == 0
    with pytest.raises(JobAlreadyActive):  # a request for a task; --sync takes it at once
        conversion_request(channel_database="HOUSTON")

    assert [r.status for r in refreshed(chain)] == [
        JobStatus.RUNNING,
        JobStatus.QUEUED,
        JobStatus.QUEUED,
    ]


def test_a_chain_that_stopped_between_two_runs_is_reaped_after_the_lease(enqueued_conversion):
    chain = enqueued_conversion(channel_database="HOUSTON")
    then = timezone.now() - DEAD
    aged(
        chain[0],
        status=JobStatus.SUCCEEDED,
        started_at=then - timedelta(seconds=10),
        heartbeat_at=then,
        finished_at=then,
    )

    assert job_runs_reap_stale(job=Job.DISTRIBUTE) == 2  # the whole rest of the chain

    first, *rest = refreshed(chain)
    assert first.status == JobStatus.SUCCEEDED
    assert [r.status for r in rest] == [JobStatus.FAILED, JobStatus.FAILED]
    assert rest[0].message.startswith(
        f"The chain stopped after job run #{first.pk} (Upload (P-0001)) finished"
    )


def test_a_chain_that_finished_a_run_within_the_lease_is_not_reaped(enqueued_conversion):
    chain = enqueued_conversion(channel_database="HOUSTON")
    then = timezone.now() - BEATING
    aged(chain[0], status=JobStatus.SUCCEEDED, started_at=then, heartbeat_at=then, finished_at=then)

    assert job_runs_reap_stale() == 0

    assert [r.status for r in refreshed(chain)][1:] == [JobStatus.QUEUED, JobStatus.QUEUED]


def test_a_chain_not_started_yet_keeps_its_scopes_within_the_grace(enqueued_conversion):
    # Past the grace the next request takes it over (tests/jobs/test_enqueueing.py).
    chain = enqueued_conversion(channel_database="HOUSTON")
    for run in chain:
        aged(run, created_at=timezone.now() - timedelta(seconds=JOB_QUEUED_LEASE_SECONDS - 60))

    assert job_runs_reap_stale() == 0
    with pytest.raises(JobAlreadyActive):  # a request for a task; --sync takes it at once
        conversion_request(channel_database="HOUSTON")


def test_a_request_for_any_scope_of_a_dead_chain_frees_the_whole_chain(enqueued_conversion):
    chain = enqueued_conversion()
    assert [(r.job, r.scope) for r in chain] == [
        (Job.UPLOAD, "channel_database=HOUSTON"),
        (Job.UPLOAD, "channel_database=SEATTLE"),
        (Job.ASYNC_CUSTOMERS, "all"),
        (Job.DISTRIBUTE, "channel_database=HOUSTON"),
        (Job.DISTRIBUTE, "channel_database=SEATTLE"),
    ]
    dead = worker_died_in(chain[0])

    # Only the last scope of the chain, not the one the worker died in.
    again = job_run_request(
        job=Job.DISTRIBUTE, parameters={"channel_database": "SEATTLE"}, enqueue=False
    )

    assert again.status == JobStatus.QUEUED
    assert {r.status for r in refreshed(chain)} == {JobStatus.FAILED}
    assert refreshed([dead])[0].message.startswith("The worker stopped reporting")
    assert len(conversion_request(channel_database="HOUSTON", enqueue=False)) == 3


def test_a_conversion_of_another_channel_frees_the_scopes_it_shares_with_a_dead_chain(
    enqueued_conversion,
):
    chain = enqueued_conversion()
    worker_died_in(chain[0])  # upload HOUSTON, a scope the SEATTLE conversion does not need

    again = conversion_request(channel_database="SEATTLE", enqueue=False)

    assert [(r.job, r.scope) for r in again] == [
        (Job.UPLOAD, "channel_database=SEATTLE"),
        (Job.ASYNC_CUSTOMERS, "channel_database=SEATTLE"),
        (Job.DISTRIBUTE, "channel_database=SEATTLE"),
    ]
    assert {r.status for r in refreshed(chain)} == {JobStatus.FAILED}


def test_a_conversion_refused_by_a_live_run_still_frees_the_dead_chain(enqueued_conversion):
    chain = enqueued_conversion(channel_database="HOUSTON")
    worker_died_in(chain[0])
    live = worker_died_in(
        job_run_request(
            job=Job.DISTRIBUTE, parameters={"channel_database": "SEATTLE"}, enqueue=False
        ),
        ago=BEATING,
    )

    with pytest.raises(JobAlreadyActive) as refused:
        conversion_request(enqueue=False)

    assert refused.value.run.pk == live.pk
    assert {r.status for r in refreshed(chain)} == {JobStatus.FAILED}


def test_the_schedule_recovers_a_dead_chain_by_itself(enqueued_conversion):
    chain = enqueued_conversion()
    worker_died_in(chain[1], ago=BEATING)

    assert scheduled_conversion_task() == []  # the worker may still be alive

    worker_died_in(chain[1])
    new_ids = scheduled_conversion_task()

    assert len(new_ids) == len(chain)
    assert {r.status for r in refreshed(chain)} == {JobStatus.FAILED}
    assert refreshed(chain)[2].message.startswith(
        f"The chain's worker died while running job run #{chain[1].pk}"
    )


def test_a_redelivered_task_of_a_reaped_chain_runs_nothing(enqueued_conversion):
    chain = enqueued_conversion(channel_database="HOUSTON")
    worker_died_in(chain[0])
    assert job_runs_reap_stale() == 3
    before = [(r.status, r.message, r.finished_at) for r in refreshed(chain)]

    # django-q retries the task of the killed worker: every claim finds its run failed.
    assert job_runs_task([r.pk for r in chain]) == []

    assert [(r.status, r.message, r.finished_at) for r in refreshed(chain)] == before


class WorkerKilled(BaseException):
    """What a SIGKILL or Ctrl-C looks like to the code after it: nothing runs any more."""


def killed_job(*, run, progress, **parameters):
    raise WorkerKilled


def test_runs_executed_in_this_process_are_one_chain_reaped_together(monkeypatch):
    ChannelDatabaseFactory(name="HOUSTON", alias="channel")
    monkeypatch.setitem(
        JOB_SPECS, Job.UPLOAD, JobSpec(Job.UPLOAD, f"{__name__}.killed_job", "channel_database")
    )
    chain = conversion_request(enqueue=False)  # as convert_async_customers --sync does
    ids = [r.pk for r in chain]

    with pytest.raises(WorkerKilled):
        job_runs_execute(run_ids=ids)

    runs = refreshed(chain)
    assert {r.task_id for r in runs} == {job_chain_name(ids)}
    assert [r.status for r in runs] == [JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.QUEUED]
    worker_died_in(runs[0])

    assert job_runs_reap_stale(job=Job.DISTRIBUTE) == 3
    assert refreshed(chain)[2].message.startswith(
        f"The chain's worker died while running job run #{ids[0]} (Upload (P-0001))"
    )


def test_an_enqueue_of_runs_already_run_here_hands_nothing_to_the_queue(recording, monkeypatch):
    first, second = request(store="S0001"), request(store="S0002")
    job_runs_execute(run_ids=[first.pk, second.pk])  # --sync ran them before the enqueue
    tasks = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: tasks.append(args))

    assert requesting.job_run_enqueue(run_ids=[first.pk, second.pk]) == ""

    assert tasks == []
    assert {r.task_id for r in refreshed([first, second])} == {
        job_chain_name([first.pk, second.pk])
    }


def test_a_long_chain_is_named_within_the_task_id_field(recording):
    runs = [request(store=f"S{n:04d}") for n in range(1, 21)]
    ids = [r.pk for r in runs]

    job_runs_execute(run_ids=ids)

    task_ids = {r.task_id for r in refreshed(runs)}
    assert len(task_ids) == 1
    (task_id,) = task_ids
    assert len(task_id) <= JobRun._meta.get_field("task_id").max_length
    assert job_chain_name(ids).startswith(task_id) and task_id.startswith(f"job-runs-{ids[0]}-")
    assert len(recording) == 20
