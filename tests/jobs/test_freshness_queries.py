"""What a store's write and its chain cost in queries (README "Freshness"): under load
every store writes while its chain is alive, and every chain's end asks about every
channel database, so these stay a few queries whatever the number of stores."""

import pytest
from django.utils import timezone

from jobs.freshness import job_chain_execute, job_demand_set, job_demands_start, store_write_trigger
from jobs.models import Job, JobRun, JobStatus
from jobs.services import conversion_request
from tests.factories.jobs import JobRunFactory
from tests.jobs.test_freshness import create_at

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_write_while_a_chain_is_alive_costs_its_trigger_three_queries(
    organization, django_assert_num_queries
):
    """A busy store writes many times a second, nearly always while its chain is queued
    or running: the trigger then reads the channel database's name, sets the demand and
    asks whether the chain is alive (``job_chain_busy``), nothing more."""
    first = store_write_trigger(alias="channel")
    with django_assert_num_queries(3):
        assert store_write_trigger(alias="channel") == []
    running = JobRun.objects.filter(pk=first[0].pk)
    running.update(status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    with django_assert_num_queries(3):
        assert store_write_trigger(alias="channel") == []


def test_a_chain_reads_its_runs_once_and_saves_each_runs_counters_once(settled):
    """The bookkeeping of a store's triggered chain: its three runs read in one query
    before the first claim (not again after each claim), and each run's counters saved
    once, with its outcome (``PROGRESS_SAVE_SECONDS``: no UPDATE per batch before it)."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    for first in ("Ann", "Bob", "Cy"):
        create_at(settled["houston"], first)
    runs = conversion_request(channel_database="HOUSTON", enqueue=False)
    JobRun.objects.filter(pk__in=[run.pk for run in runs]).update(task_id="task-1")

    with CaptureQueriesContext(connections["default"]) as hq:
        job_chain_execute(run_ids=[run.pk for run in runs], task_id="task-1")

    statements = [query["sql"] for query in hq.captured_queries]
    run_reads = [
        sql
        for sql in statements
        if sql.startswith("SELECT") and '"jobs_jobrun"."parameters"' in sql
    ]
    counter_saves = [
        sql for sql in statements if sql.startswith('UPDATE "jobs_jobrun"') and '"selected"' in sql
    ]
    assert len(run_reads) == 1, run_reads
    assert len(counter_saves) == 3, counter_saves  # one outcome per run
    assert JobRun.objects.filter(pk__in=[run.pk for run in runs], selected=3).count() == 3


def test_the_end_of_a_chain_asks_about_every_owed_chain_in_one_query(
    organization, django_assert_num_queries
):
    """Under load every chain's end finds the other channel databases owed work while
    their chains are alive: it reads the demands and asks whether those chains are
    alive (``job_chains_busy``), two queries however many channel databases there are."""
    now = timezone.now()
    names = [f"BUSY{index}" for index in range(6)]
    for name in names:
        JobRunFactory(
            job=Job.DISTRIBUTE,
            scope=f"channel_database={name}",
            status=JobStatus.QUEUED,
            enqueued_at=now,
        )
        job_demand_set(job=Job.UPLOAD, channel_database=name)
    job_demand_set(job=Job.DISTRIBUTE, channel_database=names)

    with django_assert_num_queries(2):
        assert job_demands_start() == []
