"""R10: a conversion chain killed with SIGKILL in the middle of its upload recovers within
the job lease, through real qcluster processes (ORM broker on SQLite files).

The first cluster's upload is held right after HQ applied a batch and before the channel
stamped it (the worst place to die), and the whole cluster is SIGKILLed there: one run
stays `running`, the rest of its chain `queued`. A second cluster starts. The schedule's
tick is refused while the lease runs and accepted once it has expired; the new chain
converts every valid customer exactly once. django-q then redelivers the killed task
(its retry), which runs nothing.
"""

import time

import pytest

from tests.support import (
    CONVERSION_CHECK,
    finished,
    process_group_kill,
    python,
    python_json,
    qcluster_running,
    wait_for,
)

pytestmark = [pytest.mark.cluster]

# JOB_LEASE_SECONDS: long enough that the first tick after the kill (a new process) falls
# inside it, also on a loaded machine: with 6 s a suite run on a slow day (2026-12-04)
# saw that tick, a Python process started after the kill, arrive after the lease.
LEASE = 12
RETRY = 20  # Q_RETRY: django-q redelivers the killed task this long after it took it
STORES, PER_STORE, INVALID_EVERY = 2, 40, 20
VALID = STORES * (PER_STORE - PER_STORE // INVALID_EVERY)

SEED = f"""
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores={STORES})
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count={PER_STORE},
                             invalid_every={INVALID_EVERY})
"""

# Forked workers inherit this patch (tests.support.qcluster_start's prelude).
HOLD_UPLOAD = """
import pathlib, time
from jobs import upload

def hold(stage, marker=pathlib.Path({marker!r})):
    if stage == "customers:after_hq_apply":
        marker.write_text("held")
        time.sleep(600)

upload.fault_hook = hold
"""

# One tick of the conversion schedule; prints the ids of the runs it requested.
TICK = """
import json
from jobs.tasks import scheduled_conversion_task
print(json.dumps(scheduled_conversion_task()))
"""

WAIT = """
import json
from jobs.services import job_runs_wait
runs = job_runs_wait(run_ids={ids}, timeout={timeout}, poll=0.2)
print(json.dumps([[r.pk, r.job, r.status] for r in runs]))
"""

RUNS = """
import json
from jobs.models import JobRun
print(json.dumps([
    {"id": r.id, "job": r.job, "status": r.status, "message": r.message, "task_id": r.task_id}
    for r in JobRun.objects.order_by("pk")
]))
"""

REDELIVERED = """
import json
from django_q.models import Task
task = Task.objects.filter(name={task_id!r}).first()
print(json.dumps({{"task": task and {{"success": task.success, "result": task.result}}}}))
"""


def test_a_chain_killed_mid_upload_recovers_within_the_lease(sqlite_files_env, tmp_path):
    env = {
        **sqlite_files_env,
        "JOB_LEASE_SECONDS": str(LEASE),
        "Q_RETRY": str(RETRY),
        "Q_TIMEOUT": str(RETRY - 5),
        "Q_WORKERS": "1",
        "CONVERSION_BATCH_SIZE": "25",  # several batches, so a heartbeat every batch
    }
    finished(python(env, SEED))
    marker = tmp_path / "upload-held"
    log = tmp_path / "qcluster.log"

    with qcluster_running(env, prelude=HOLD_UPLOAD.format(marker=str(marker)), log=log) as killed:
        first_ids = python_json(env, TICK)
        assert wait_for(marker.exists, timeout=30), log.read_text()[-3000:]
        process_group_kill(killed)  # SIGKILL: the cluster and its workers, no clean-up
        killed_at = time.monotonic()
        killed.wait(timeout=10)

    runs = python_json(env, RUNS)
    assert [r["status"] for r in runs] == ["running"] + ["queued"] * (len(first_ids) - 1), runs
    assert len({r["task_id"] for r in runs}) == 1 and runs[0]["task_id"]  # one chain

    with qcluster_running(env, log=log):
        refused = python_json(env, TICK)  # within the lease: the worker may still be alive
        assert refused == [], runs
        recovered = []
        assert wait_for(
            lambda: recovered.extend(python_json(env, TICK)) or recovered,
            timeout=LEASE + 10,
            poll=0.5,
        )
        accepted_after = time.monotonic() - killed_at
        new_runs = python_json(env, WAIT.format(ids=recovered, timeout=30))
        converted_after = time.monotonic() - killed_at

        # django-q redelivers the killed task after its retry: it runs nothing.
        redelivered = {}
        assert wait_for(
            lambda: (
                redelivered.update(python_json(env, REDELIVERED.format(task_id=runs[0]["task_id"])))
                or redelivered["task"] is not None
            ),
            timeout=RETRY + 15,
            poll=1,
        ), (redelivered, log.read_text()[-3000:])

    print(f"accepted {accepted_after:.1f}s, converted {converted_after:.1f}s after the kill")
    assert accepted_after < LEASE + 5
    assert converted_after < LEASE + 30
    assert [status for _pk, _job, status in new_runs] == [
        "succeeded",
        "succeeded",
        "completed_with_errors",  # the invalid customers
        "succeeded",
        "succeeded",
    ], new_runs
    assert redelivered["task"] == {"success": True, "result": []}
    old = [r for r in python_json(env, RUNS) if r["id"] in first_ids]
    assert [r["status"] for r in old] == ["failed"] * len(first_ids)
    assert old[0]["message"].startswith("The worker stopped reporting")
    for run in old[1:]:
        assert run["message"].startswith(
            f"The chain's worker died while running job run #{old[0]['id']} (Upload (P-0001))"
        ), run

    state = python_json(env, CONVERSION_CHECK)
    total = STORES * PER_STORE
    assert state["statuses"] == {"synchronized": VALID, "failed": total - VALID}, state
    assert state["customers"] == VALID
    assert state["duplicate_guids"] == 0 and state["duplicate_accounts"] == 0
    assert state["staged"] == total  # the batch HQ applied before the kill, staged once
    assert state["copies"] == {"channel": VALID + 1, "channel2": VALID + 1}  # + the default
