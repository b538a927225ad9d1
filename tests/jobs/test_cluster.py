"""The conversion through a real qcluster process (ORM broker on SQLite files)."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support import ROOT, finished, manage, python

pytestmark = [pytest.mark.cluster]

SEED = """
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores=2)
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count=40, invalid_every=20)
"""


def start_cluster(env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_cluster(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # qcluster stops its own workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_conversion_through_qcluster(sqlite_files_env):
    env = sqlite_files_env
    finished(python(env, SEED))
    cluster = start_cluster(env)
    try:
        result = manage(env, "convert_async_customers", "--wait", "--timeout", "240", timeout=300)
    finally:
        stop_cluster(cluster)

    assert result.stdout.count("succeeded") >= 4, result.stdout
    assert "completed_with_errors" in result.stdout  # the invalid ones
    rows = json.loads(manage(env, "async_customer_status", "--format", "json").stdout)
    statuses = [row["status"] for row in rows]
    assert len(rows) == 80
    assert statuses.count("failed") == 4
    assert statuses.count("synchronized") == 76
    worked = json.loads(
        finished(
            python(
                env,
                "import json; from jobs.models import JobRun;"
                "print(json.dumps(sorted(set(JobRun.objects.values_list('worker', flat=True)))))",
            )
        )
    )
    assert worked and all(str(os.getpid()) not in w for w in worked)  # ran in the cluster
