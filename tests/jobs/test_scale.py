"""Scale-out: PostgreSQL + Redis, two qcluster processes sharing the work, one killed.

10,000 async customers across 4 stores and 2 channel databases. A driver keeps asking
for upload, account creation and distribution (so they overlap); one cluster is killed
with SIGKILL in the middle; the other, and the next runs, finish the work.
"""

import json
import signal
import subprocess
import uuid

import pytest

from tests.support import (
    CONVERSION_CHECK,
    REDIS_HOST,
    REDIS_PORT,
    finished,
    process_group_kill,
    python,
    python_json,
    qcluster_start,
    require_service,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.cluster]

CUSTOMERS_PER_STORE = 2500
INVALID_EVERY = 100

SEED = f"""
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores=4, channel_databases=2)
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count={CUSTOMERS_PER_STORE},
                             invalid_every={INVALID_EVERY})
"""

DRIVER = """
import json, time
from collections import Counter
from jobs.models import JobRun
from jobs.services import job_runs_request
from customers.selectors import async_status_rows

deadline = time.time() + {timeout}
valid = {valid}
while time.time() < deadline:
    for job in ("upload", "async-customers", "distribute"):
        job_runs_request(job=job, via="scale-test")  # scopes still active are refused
    statuses = Counter(row["status"] for row in async_status_rows())
    active = JobRun.objects.filter(status__in=["queued", "running"]).count()
    running_pids = [int(w.rsplit(":", 1)[1]) for w in JobRun.objects.filter(status="running")
                    .exclude(worker="").values_list("worker", flat=True)]
    print(json.dumps({{"t": round(time.time(), 1), "statuses": statuses, "active": active,
                      "running_pids": running_pids}}), flush=True)
    if statuses["synchronized"] >= valid and active == 0:
        break
    time.sleep(1)
"""


def cluster_running(clusters, pids):
    import psutil

    for cluster in clusters:
        try:
            family = {p.pid for p in psutil.Process(cluster.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            continue
        if family & set(pids):
            return cluster
    return None


def test_two_clusters_one_killed_convert_everything_once(postgres_env):
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    env = {
        **postgres_env,
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "Q_CLUSTER_NAME": f"scale-{uuid.uuid4().hex[:8]}",
        "Q_WORKERS": "2",
        "CONVERSION_BATCH_SIZE": "1000",
        "JOB_LEASE_SECONDS": "15",
        "JOB_QUEUED_LEASE_SECONDS": "30",
    }
    total = 4 * CUSTOMERS_PER_STORE
    valid = total - total // INVALID_EVERY
    finished(python(env, SEED), timeout=600)

    clusters = [qcluster_start(env), qcluster_start(env)]
    driver = python(env, DRIVER.format(timeout=420, valid=valid))
    try:
        # SIGKILL the cluster (and its workers) whose worker is running a job right now.
        killed_at = None
        for line in driver.stdout:
            progress = json.loads(line)
            if killed_at is None and progress["running_pids"]:
                victim = cluster_running(clusters, progress["running_pids"])
                if victim is not None:
                    process_group_kill(victim, signal.SIGKILL)
                    killed_at = progress
        assert driver.wait(timeout=60) == 0, driver.stderr.read()[-3000:]
    finally:
        for cluster in clusters:
            process_group_kill(cluster, signal.SIGTERM)
        for cluster in clusters:
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process_group_kill(cluster, signal.SIGKILL)

    assert killed_at is not None, "no job was seen running to kill"
    state = python_json(env, CONVERSION_CHECK)
    assert state["rows"] == total
    assert state["statuses"] == {"synchronized": valid, "failed": total - valid}, state
    assert state["customers"] == valid
    assert state["duplicate_guids"] == 0 and state["duplicate_accounts"] == 0
    assert state["staged"] == total  # nothing uploaded twice, nothing lost
    # Every valid customer (and the default one) is in both channel databases.
    assert state["copies"] == {"channel": valid + 1, "channel2": valid + 1}
    assert set(state["runs"]) <= {"succeeded", "completed_with_errors", "failed"}
    assert state["runs"].get("failed", 0) >= 1  # the killed run was detected as dead
    assert len(state["workers"]) >= 2  # the work was shared
