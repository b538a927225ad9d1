"""Planner statistics kept fresh while a job bulk-writes (``commerce.db.statistics``,
README "Performance"): the stale tables of PostgreSQL are analyzed, once, so a batch's
children are read through their index instead of the whole table; SQLite is left alone;
``Progress`` checks every ``STATISTICS_CHECK_ROWS`` records."""

import pytest
from django.db import connection

import jobs.services.executing as executing
from commerce.db.statistics import planner_statistics_refresh
from jobs.models import Job, JobRun, JobStatus
from jobs.services import job_run_request
from jobs.services.executing import Progress
from tests.support import python_json

# 20,000 staged customers with two addresses each, written by the bulk writer and never
# analyzed (the server may run autovacuum or not: the child table is checked before
# anything could have analyzed it); then the plan of a batch's children read, the
# tables analyzed by two refreshes, and the plan again.
CHILDREN_PLANS = """
import json, uuid
from django.db import connection
from django.utils import timezone
from commerce.db.bulk import ids_reserve, rows_insert
from commerce.db.statistics import planner_statistics_refresh
from customers.models import StagedAsyncCustomer, StagedAsyncCustomerAddress

now = timezone.now()
ids = ids_reserve(model=StagedAsyncCustomer, count=20000, using="default")
rows_insert(model=StagedAsyncCustomer,
    columns=["id", "channel_database", "store_number", "type", "async_customer_id",
             "last_name", "created_at_store"],
    rows=[(pk, "CHANNEL", "S0001", "person", uuid.uuid4(), f"N{pk}", now) for pk in ids],
    using="default")
rows_insert(model=StagedAsyncCustomerAddress,
    columns=["staged_customer_id", "async_address_id", "purpose", "street", "city", "zip",
             "country"],
    rows=[(pk, uuid.uuid4(), "home", "1 Main St", "Seattle", "98101", "USA")
          for pk in ids for _ in range(2)],
    using="default")
batch = ids[7000:7100]

def plan():
    query = StagedAsyncCustomerAddress.objects.filter(staged_customer_id__in_values=batch)
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\\n".join(row[0] for row in cursor.fetchall())

with connection.cursor() as cursor:
    cursor.execute("SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables "
                   "WHERE relname = 'customers_stagedasynccustomeraddress'")
    never_analyzed = cursor.fetchone() == (None, None)
before = plan()
first = planner_statistics_refresh(connection)
second = planner_statistics_refresh(connection)
print(json.dumps({"never_analyzed": never_analyzed, "before": before, "after": plan(),
                  "first": first, "second": second}))
"""


@pytest.mark.postgres
def test_stale_tables_are_analyzed_once_and_children_read_through_their_index(postgres_env):
    result = python_json(postgres_env, CHILDREN_PLANS, timeout=300)
    table = "public.customers_stagedasynccustomeraddress"
    assert table in result["first"]
    assert "public.customers_stagedasynccustomer" in result["first"]
    assert result["second"] == []  # fresh now: nothing analyzed again
    seq_scan = "Seq Scan on customers_stagedasynccustomeraddress"
    if result["never_analyzed"]:
        # The control: without statistics the planner reads the whole child table.
        assert seq_scan in result["before"], result["before"]
    assert seq_scan not in result["after"], result["after"]
    assert "_staged_customer_id_" in result["after"]  # its foreign key index


@pytest.mark.django_db
def test_sqlite_is_left_alone(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert planner_statistics_refresh(connection) == []


@pytest.fixture
def statistics_checks(monkeypatch):
    """Checks every 10 records (counted from 0), recorded instead of run."""
    checks = []
    monkeypatch.setattr(executing, "STATISTICS_CHECK_ROWS", 10)
    monkeypatch.setattr(executing, "_records_unchecked", 0)
    monkeypatch.setattr(executing, "used_databases_statistics_refresh", lambda: checks.append(1))
    return checks


@pytest.mark.django_db
def test_progress_checks_the_statistics_every_so_many_records(statistics_checks):
    checks = statistics_checks
    progress = Progress(job_run_request(job=Job.SYNC_ORDERS, parameters={}, enqueue=False))

    progress.add(selected=6, succeeded=6)
    assert checks == []
    progress.add(selected=6, failed=6, errors=["x"])
    assert checks == [1]  # 12 records since the start
    progress.add(selected=9, succeeded=9)
    assert checks == [1]  # 9 since the last check
    progress.add(selected=1, succeeded=1)
    assert checks == [1, 1]


@pytest.mark.django_db
def test_small_runs_add_up_to_a_statistics_check(statistics_checks):
    """A worker running many small runs (a store's triggered chains) checks too: the
    records are counted per process, not per run."""
    for _ in range(3):
        run = job_run_request(job=Job.SYNC_ORDERS, parameters={}, enqueue=False)
        Progress(run).add(selected=4, succeeded=4)
        JobRun.objects.filter(pk=run.pk).update(status=JobStatus.SUCCEEDED)

    assert statistics_checks == [1]  # 12 records over three runs
