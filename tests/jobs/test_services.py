"""R10 job runs: registry, exactly-once claims, leases, progress, refusals, enqueueing,
automatic garbage collection paused while a job runs."""

import gc
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import checks
from django.db import transaction
from django.utils import timezone

from jobs.models import Job, JobRun, JobStatus
from jobs.services import (
    JOB_LEASE_SECONDS,
    JOB_QUEUED_LEASE_SECONDS,
    JOB_SPECS,
    MAX_ERRORS_KEPT,
    JobAlreadyActive,
    JobSpec,
    Progress,
    executing,
    job_run_execute,
    job_run_request,
    job_runs_reap_stale,
    job_specs_check,
    requesting,
)

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []


def recording_job(*, run, progress, **parameters):
    """A job function for these tests: records its call and counts one success."""
    CALLS.append({"run": run.pk, **parameters})
    progress.add(selected=1, succeeded=1)


@pytest.fixture
def recording(monkeypatch):
    """Synchronize orders runs ``recording_job`` instead of the real job."""
    CALLS.clear()
    monkeypatch.setitem(
        JOB_SPECS,
        Job.SYNC_ORDERS,
        JobSpec(Job.SYNC_ORDERS, f"{__name__}.recording_job", "all"),
    )
    return CALLS


def request(**parameters) -> JobRun:
    return job_run_request(job=Job.SYNC_ORDERS, parameters=parameters, enqueue=False)


def aged(run: JobRun, **fields) -> JobRun:
    JobRun.objects.filter(pk=run.pk).update(**fields)
    run.refresh_from_db()
    return run


# --- The registry ---------------------------------------------------------------------


def test_every_job_function_resolves_to_a_callable():
    assert set(JOB_SPECS) == set(Job.values)
    for spec in JOB_SPECS.values():
        assert callable(spec.resolve()), spec.function

    assert job_specs_check() == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("jobs.orders.no_such_run", "cannot import 'jobs.orders.no_such_run'"),
        ("jobs.nowhere.upload_run", "cannot import 'jobs.nowhere.upload_run'"),
        ("jobs.services.MAX_ERRORS_KEPT", "'jobs.services.MAX_ERRORS_KEPT' is not callable"),
    ],
)
def test_system_check_reports_a_job_function_that_does_not_resolve(monkeypatch, path, reason):
    monkeypatch.setitem(JOB_SPECS, Job.UPLOAD, JobSpec(Job.UPLOAD, path, "channel_database"))

    errors = [e for e in checks.run_checks() if e.id == "jobs.E001"]

    assert len(errors) == 1
    assert errors[0].msg.startswith(f"job 'upload': {reason}")


# --- Claiming a run exactly once --------------------------------------------------------


def test_execute_runs_the_job_function_with_the_run_parameters(recording):
    run = request(store="S0001")

    executed = job_run_execute(run_id=run.pk)

    assert recording == [{"run": run.pk, "store": "S0001"}]
    run.refresh_from_db()
    assert (run.status, run.selected, run.succeeded) == (JobStatus.SUCCEEDED, 1, 1)
    assert executed.status == JobStatus.SUCCEEDED
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert run.worker


def test_a_run_executed_twice_runs_its_job_once(recording):
    run = request()

    first = job_run_execute(run_id=run.pk)
    second = job_run_execute(run_id=run.pk)

    assert first is not None and second is None
    assert len(recording) == 1
    run.refresh_from_db()
    assert (run.status, run.selected) == (JobStatus.SUCCEEDED, 1)


@pytest.mark.parametrize(
    "status",
    [JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.COMPLETED_WITH_ERRORS],
)
def test_execute_of_a_run_that_is_not_queued_does_nothing(recording, status):
    run = aged(request(), status=status)

    assert job_run_execute(run_id=run.pk) is None

    assert recording == []
    run.refresh_from_db()
    assert run.status == status and run.started_at is None


def failing_job(*, run, progress, **parameters):
    progress.add(selected=2, succeeded=1)
    raise ValueError("the ledger is closed")


def test_a_job_function_that_raises_fails_the_run_with_the_reason(monkeypatch):
    monkeypatch.setitem(
        JOB_SPECS, Job.SYNC_ORDERS, JobSpec(Job.SYNC_ORDERS, f"{__name__}.failing_job", "all")
    )
    run = request()

    job_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.message) == (JobStatus.FAILED, "ValueError: the ledger is closed")
    assert (run.selected, run.succeeded) == (2, 1)
    assert "ValueError: the ledger is closed" in run.errors[-1]


def test_a_job_function_that_cannot_be_imported_fails_the_run(monkeypatch):
    monkeypatch.setitem(
        JOB_SPECS, Job.SYNC_ORDERS, JobSpec(Job.SYNC_ORDERS, "jobs.orders.no_such_run", "all")
    )
    run = request()

    job_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert run.message.startswith("ImportError: ")
    assert run.finished_at is not None


# --- Leases: a run whose worker died ----------------------------------------------------


def test_a_running_run_without_heartbeat_within_the_lease_is_reaped():
    stale = aged(
        request(),
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=JOB_LEASE_SECONDS + 5),
    )

    assert job_runs_reap_stale() == 1

    stale.refresh_from_db()
    assert stale.status == JobStatus.FAILED
    assert stale.finished_at is not None
    assert "stopped reporting" in stale.message


def test_a_new_request_for_the_scope_of_a_dead_run_is_accepted():
    stale = aged(
        request(),
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=JOB_LEASE_SECONDS + 5),
    )

    again = request()

    assert again.pk != stale.pk and again.status == JobStatus.QUEUED
    stale.refresh_from_db()
    assert stale.status == JobStatus.FAILED


def test_a_running_run_that_beats_is_not_reaped_and_keeps_its_scope():
    alive = aged(
        request(),
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=JOB_LEASE_SECONDS - 30),
    )

    assert job_runs_reap_stale() == 0
    with pytest.raises(JobAlreadyActive):
        request()

    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING


def test_a_queued_run_older_than_the_queued_lease_is_reaped():
    lost = aged(
        request(), created_at=timezone.now() - timedelta(seconds=JOB_QUEUED_LEASE_SECONDS + 5)
    )
    waiting = aged(
        request(store="S0001"),
        created_at=timezone.now() - timedelta(seconds=JOB_QUEUED_LEASE_SECONDS - 60),
    )

    assert job_runs_reap_stale() == 1

    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert (lost.status, waiting.status) == (JobStatus.FAILED, JobStatus.QUEUED)


def test_reaping_is_limited_to_the_job_and_scope_asked():
    old = timezone.now() - timedelta(seconds=JOB_LEASE_SECONDS + 5)
    other_scope = aged(request(store="S0002"), status=JobStatus.RUNNING, heartbeat_at=old)
    asked = aged(request(store="S0001"), status=JobStatus.RUNNING, heartbeat_at=old)

    assert job_runs_reap_stale(job=Job.SYNC_ORDERS, scope=asked.scope) == 1

    other_scope.refresh_from_db()
    assert other_scope.status == JobStatus.RUNNING


# --- Progress -------------------------------------------------------------------------


def running_run() -> JobRun:
    return aged(request(), status=JobStatus.RUNNING, heartbeat_at=timezone.now())


@pytest.fixture
def save_due(monkeypatch):
    """Every ``Progress`` save is due at once (``PROGRESS_SAVE_SECONDS`` 0)."""
    monkeypatch.setattr(executing, "PROGRESS_SAVE_SECONDS", 0)


def test_progress_accumulates_counters_and_saves_them_in_one_update(
    save_due, django_assert_num_queries
):
    run = running_run()
    progress = Progress(run)
    before = run.heartbeat_at

    with django_assert_num_queries(1):
        progress.add(selected=3, succeeded=2, failed=1, errors=["customer A: bad country"])
    with django_assert_num_queries(1):
        progress.add(selected=2, succeeded=1, skipped=1)

    saved = JobRun.objects.get(pk=run.pk)
    assert (saved.selected, saved.succeeded, saved.failed, saved.skipped) == (5, 3, 1, 1)
    assert saved.errors == ["customer A: bad country"]
    assert saved.heartbeat_at > before


def test_progress_saves_at_most_once_per_interval_and_the_outcome_saves_the_rest(
    monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(executing, "PROGRESS_SAVE_SECONDS", 1.0)
    clock = [1000.0]
    monkeypatch.setattr(executing, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    run = running_run()
    progress = Progress(run)

    with django_assert_num_queries(0):  # just claimed: the claim saved the heartbeat
        progress.add(selected=3, succeeded=3)
    clock[0] += executing.PROGRESS_SAVE_SECONDS
    with django_assert_num_queries(1):
        progress.add(selected=2, succeeded=2)
    with django_assert_num_queries(0):
        progress.add(selected=1, failed=1, errors=["customer C: bad country"])
    assert JobRun.objects.get(pk=run.pk).selected == 5  # what was saved a second ago

    clock[0] += executing.PROGRESS_SAVE_SECONDS
    with django_assert_num_queries(1):
        progress.add()
    saved = JobRun.objects.get(pk=run.pk)
    assert (saved.selected, saved.failed, saved.errors) == (6, 1, ["customer C: bad country"])


def test_a_short_run_saves_its_counters_with_its_outcome(recording):
    run = job_run_request(job=Job.SYNC_ORDERS, parameters={}, enqueue=False)

    job_run_execute(run_id=run.pk)

    saved = JobRun.objects.get(pk=run.pk)
    assert (saved.status, saved.selected, saved.succeeded) == (JobStatus.SUCCEEDED, 1, 1)


def test_progress_keeps_at_most_max_errors(save_due, django_assert_num_queries):
    progress = Progress(running_run())
    progress.add(failed=MAX_ERRORS_KEPT - 1, errors=[f"e{i}" for i in range(MAX_ERRORS_KEPT - 1)])

    progress.add(failed=3, errors=["last", "dropped 1", "dropped 2"])
    with django_assert_num_queries(1):
        progress.add(failed=1, errors=["dropped 3"])

    saved = JobRun.objects.get(pk=progress.run.pk)
    assert len(saved.errors) == MAX_ERRORS_KEPT
    assert saved.errors[-1] == "last"
    assert saved.failed == MAX_ERRORS_KEPT + 3


# --- Requesting -------------------------------------------------------------------------


def test_a_second_request_for_the_same_job_and_scope_is_refused():
    first = request(store="S0001")

    with pytest.raises(JobAlreadyActive) as refused:
        request(store="S0001")

    assert refused.value.run.pk == first.pk
    assert str(refused.value) == (
        f"Synchronize orders for store=S0001 is already queued (job run #{first.pk}); "
        "not started again"
    )
    assert request(store="S0002").scope == "store=S0002"
    assert JobRun.objects.count() == 2


def test_a_finished_run_does_not_block_its_scope():
    first = aged(request(), status=JobStatus.SUCCEEDED)

    assert request().pk != first.pk


def test_request_enqueues_only_when_the_transaction_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(requesting, "job_run_enqueue", lambda *, run_ids: enqueued.append(run_ids))

    with django_capture_on_commit_callbacks() as callbacks:
        run = job_run_request(job=Job.SYNC_ORDERS)
        assert enqueued == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert enqueued == [[run.pk]]


def test_a_request_rolled_back_enqueues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            job_run_request(job=Job.SYNC_ORDERS)
            raise RuntimeError("the caller failed after requesting")

    assert callbacks == []
    assert not JobRun.objects.exists()


def test_request_without_enqueue_registers_no_callback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        request()

    assert callbacks == []


def test_a_committed_request_is_executed_by_the_queue(
    recording, django_capture_on_commit_callbacks
):
    # django-q2 runs tasks inline in tests (Conf.SYNC): the commit runs the job.
    with django_capture_on_commit_callbacks(execute=True):
        run = job_run_request(job=Job.SYNC_ORDERS)

    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED
    assert run.task_id
    assert recording == [{"run": run.pk}]


# --- Garbage collection while a job runs -------------------------------------------------


class CycleMade:
    """Garbage in a reference cycle: freed only by the cyclic collector."""

    made = 0
    freed = 0

    def __init__(self):
        self.me = self
        CycleMade.made += 1

    def __del__(self):
        CycleMade.freed += 1


def cycling_job(*, run, progress, **parameters):
    """Two batches, each leaving cycles behind; records whether automatic collection ran."""
    CALLS.append({"automatic": gc.isenabled()})
    for _batch in range(2):
        for _ in range(100):
            CycleMade()
        freed_before = CycleMade.freed
        progress.add(selected=100, succeeded=100)
        CALLS.append({"freed_by_batch_end": CycleMade.freed - freed_before})
    raise ValueError("after two batches")


def test_a_job_runs_with_automatic_collection_paused_and_collects_each_batch(monkeypatch):
    monkeypatch.setitem(
        JOB_SPECS, Job.SYNC_ORDERS, JobSpec(Job.SYNC_ORDERS, f"{__name__}.cycling_job", "all")
    )
    CALLS.clear()
    assert gc.isenabled()

    job_run_execute(run_id=request().pk)

    assert CALLS == [
        {"automatic": False},
        {"freed_by_batch_end": 100},  # each batch's cycles freed when it reports progress
        {"freed_by_batch_end": 100},
    ]
    assert gc.isenabled()  # restored, also after a job that raised
