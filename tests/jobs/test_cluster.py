"""The conversion through a real qcluster process (ORM broker on SQLite files)."""

import json
import os

import pytest

from tests.support import finished, manage, python, qcluster_running

pytestmark = [pytest.mark.cluster]

SEED = """
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores=2)
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count=40, invalid_every=20)
"""


def test_conversion_through_qcluster(sqlite_files_env):
    env = sqlite_files_env
    finished(python(env, SEED))
    with qcluster_running(env):
        result = manage(env, "convert_async_customers", "--wait", "--timeout", "240", timeout=300)

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
