"""Several workers creating accounts at once on PostgreSQL: one customer per GUID, ever."""

import pytest

from tests.support import (
    account_creation_at_once,
    finished,
    job_workers_at_once,
    json_outputs_at_once,
    manage,
    python,
    python_json,
)

pytestmark = [pytest.mark.postgres]

SEED = """
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores=2)
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count={count}, invalid_every=50)
"""

CHECK = """
import json
from django.db.models import Count
from customers.models import Customer, StagedAsyncCustomer
print(json.dumps({
    "customers": Customer.objects.exclude(async_customer_id=None).count(),
    "duplicate_guids": Customer.objects.exclude(async_customer_id=None)
        .values("async_customer_id").annotate(n=Count("id")).filter(n__gt=1).count(),
    "duplicate_accounts": Customer.objects.values("legal_entity", "account")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
    "staged": dict(StagedAsyncCustomer.objects.values_list("status").annotate(n=Count("id"))),
    "attempts_max": max(StagedAsyncCustomer.objects.values_list("attempts", flat=True)),
}))
"""


def test_four_workers_create_each_async_customer_exactly_once(postgres_env):
    per_store = 300
    finished(python(postgres_env, SEED.format(count=per_store)))
    manage(postgres_env, "run_job", "upload", "--sync")

    results = account_creation_at_once(postgres_env, workers=4, batch_size=25)

    selected = [r[0] for r in results]
    assert sum(selected) == 2 * per_store  # every staged row claimed by exactly one worker
    assert sum(1 for s in selected if s > 0) >= 2, f"workers did not overlap: {selected}"
    state = python_json(postgres_env, CHECK)
    invalid = 2 * (per_store // 50)
    assert state["customers"] == 2 * per_store - invalid
    assert state["duplicate_guids"] == 0
    assert state["duplicate_accounts"] == 0
    assert state["staged"] == {"completed": 2 * per_store - invalid, "failed": invalid}
    assert state["attempts_max"] == 1


ORDERS_SEED = """
from commerce.models import ChannelSalesLine, ChannelSalesTransaction
from customers.models import AsyncCustomer
for number, alias in [("L001", "channel"), ("L002", "channel2")]:
    for i, customer in enumerate(AsyncCustomer.objects.using(alias).filter(store_number=number)):
        txn = ChannelSalesTransaction.objects.using(alias).create(
            transaction_id=f"{number}-{i:06d}", store_number=number, type="customer_order",
            business_date="2026-11-24", async_customer_id=customer.async_customer_id)
        ChannelSalesLine.objects.using(alias).create(
            transaction=txn, line_number=1, item="0001", quantity="1", unit_price="5.00")
"""

ORDER_WORKER_PRELUDE = """
from jobs.orders import orders_sync_run
from jobs.account_creation import account_creation_run
"""
ORDERS_RUN = "orders_sync_run(progress=counter)"
ACCOUNTS_RUN = "account_creation_run(progress=counter, batch_size=10)"

ORDERS_CHECK = """
import json
from django.db.models import Count
from commerce.models import SalesOrder, SalesTransaction
from customers.models import Customer
orders = SalesOrder.objects.values_list("customer_account", "transaction__async_customer_id")
accounts = dict(
    Customer.objects.exclude(async_customer_id=None).values_list("async_customer_id", "account")
)
print(json.dumps({
    "customers": Customer.objects.exclude(async_customer_id=None).count(),
    "duplicate_guids": Customer.objects.exclude(async_customer_id=None)
        .values("async_customer_id").annotate(n=Count("id")).filter(n__gt=1).count(),
    "orders": SalesOrder.objects.count(),
    "orders_on_real_account": sum(1 for account, guid in orders if accounts.get(guid) == account),
    "statuses": dict(SalesTransaction.objects.values_list("status").annotate(n=Count("id"))),
}))
"""


def test_order_sync_and_account_creation_at_once_create_each_customer_once(postgres_env):
    per_store = 120
    finished(python(postgres_env, SEED.format(count=per_store)))
    finished(python(postgres_env, ORDERS_SEED))
    manage(postgres_env, "run_job", "upload", "--sync")

    runs = [ORDERS_RUN, ACCOUNTS_RUN, ORDERS_RUN, ACCOUNTS_RUN]
    job_workers_at_once(postgres_env, runs, prelude=ORDER_WORKER_PRELUDE)
    # retry leftovers
    job_workers_at_once(postgres_env, [ORDERS_RUN], prelude=ORDER_WORKER_PRELUDE, delay=0)

    state = python_json(postgres_env, ORDERS_CHECK)
    invalid = 2 * (per_store // 50)
    assert state["duplicate_guids"] == 0
    assert state["customers"] == 2 * per_store - invalid
    assert state["orders"] == state["orders_on_real_account"] == 2 * per_store - invalid
    assert state["statuses"] == {"order_created": 2 * per_store - invalid, "order_failed": invalid}


# A conversion chain whose task the broker lost: queued, handed over an hour ago.
LOST_CHAIN = """
import json
from datetime import timedelta
from django.utils import timezone
from jobs.models import JobRun
from jobs.services import conversion_request
runs = conversion_request(via="schedule", enqueue=False)
ids = [run.pk for run in runs]
JobRun.objects.filter(pk__in=ids).update(
    task_id="job-runs-lost~000000000000", enqueued_at=timezone.now() - timedelta(hours=1)
)
print(json.dumps(ids))
"""

# convert_async_customers --sync, started at the same moment by two processes.
SYNC_CONVERSION = """
import json, time
from jobs.services import JobAlreadyActive, conversion_request, job_runs_execute
while time.time() < {start_at}:
    time.sleep(0.005)
try:
    runs = conversion_request(via="command", enqueue=False)
except JobAlreadyActive as error:
    print(json.dumps({{"refused": str(error)}}))
else:
    done = job_runs_execute(run_ids=[run.pk for run in runs])
    print(json.dumps({{"ran": [run.pk for run in done if run is not None]}}))
"""

RUNS = """
import json
from jobs.models import JobRun
print(json.dumps([[r.pk, r.status, r.worker, r.selected] for r in JobRun.objects.order_by("pk")]))
"""


def test_two_sync_conversions_take_over_a_lost_chain_and_exactly_one_runs_it(postgres_env):
    per_store = 40
    finished(python(postgres_env, SEED.format(count=per_store)))
    lost = python_json(postgres_env, LOST_CHAIN)

    results = json_outputs_at_once(postgres_env, SYNC_CONVERSION, [{}, {}])

    ran = [result.get("ran", []) for result in results]
    assert sorted(run_id for ids in ran for run_id in ids if run_id in lost) == sorted(lost)
    assert sum(1 for ids in ran if set(lost) <= set(ids)) == 1, results  # one took it all
    runs = {pk: (status, worker) for pk, status, worker, _ in python_json(postgres_env, RUNS)}
    assert {runs[pk][0] for pk in lost} <= {"succeeded", "completed_with_errors"}
    assert len({runs[pk][1] for pk in lost}) == 1  # claimed by one process
    state = python_json(postgres_env, CHECK)
    invalid = 2 * (per_store // 50)
    assert state["customers"] == 2 * per_store - invalid
    assert state["duplicate_guids"] == 0 and state["duplicate_accounts"] == 0


DISTRIBUTE_PRELUDE = """
from jobs import distribution, download_payloads

distribution.DISTRIBUTION_BATCH = 50
read = download_payloads.payloads_read
def slow_read(queryset):  # both runs are building the same window at once
    time.sleep(0.2)
    return read(queryset)
download_payloads.payloads_read = slow_read
"""
DISTRIBUTE_RUN = (
    'distribution.distribution_run(run=None, progress=counter, channel_database="{name}")'
)

SHARED_CHECK = """
import json
from django.db.models import Count
from customers.models import ChannelCustomer, Customer
from jobs.models import DownloadPayload, DownloadSession
print(json.dumps({
    "customers": Customer.objects.count(),
    "payloads": DownloadPayload.objects.count(),
    "sessions_per_payload": sorted(set(
        DownloadSession.objects.values("payload").annotate(n=Count("id"))
        .values_list("n", flat=True))),
    "copies": [ChannelCustomer.objects.using(a).count() for a in ("channel", "channel2")],
}))
"""


def test_two_channel_databases_distributed_at_once_build_each_payload_once(postgres_env):
    per_store = 150
    finished(python(postgres_env, SEED.format(count=per_store)))
    manage(postgres_env, "run_job", "upload", "--sync")
    manage(postgres_env, "run_job", "async-customers", "--sync")

    runs = [DISTRIBUTE_RUN.format(name=name) for name in ("LOAD1", "LOAD2")]
    results = job_workers_at_once(postgres_env, runs, prelude=DISTRIBUTE_PRELUDE)

    state = python_json(postgres_env, CHECK.replace("print", "x = ") + SHARED_CHECK)
    customers = state["customers"]  # the created ones and the stores' default customer
    assert results == [[customers, customers, 0]] * 2, results
    assert state["copies"] == [customers, customers]
    # Every window's payload built by one run and received by both (the key's lock).
    assert state["payloads"] == -(-customers // 50)
    assert state["sessions_per_payload"] == [2]
