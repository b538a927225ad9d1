"""Freshness through real qcluster processes (ORM broker on SQLite files): store writes
coalesce into at most two conversion runs per channel database, an idle cluster with
schedules on keeps no job run rows, and a write whose run died with its cluster is
picked up by the schedule.

Writes are made the way a store makes them (``customer_create_at_store`` in a separate
process), so the trigger path is the product's own. The cluster's job functions are
wrapped in the cluster's own process (``tests.support.qcluster_start``'s prelude) to
count the uploads it runs and to hold a channel database's first distribution until
the test says go, so that the writes of a burst surely arrive while a run is going on.
"""

import time
from collections import Counter

import pytest

from tests.support import (
    TWO_STORES_SEED,
    finished,
    manage,
    process_group_kill,
    python,
    python_json,
    qcluster_running,
    wait_for,
)

pytestmark = [pytest.mark.cluster]

# Writes `count` customers at each store in turn, each in its own transaction.
WRITE = """
import json
from commerce.models import Store
from customers.services.store import customer_create_at_store
from devtools.benchmark.freshness import store_customer_input
stores = list(Store.objects.order_by("number"))
for index in range({first}, {first} + {count}):
    for offset, store in enumerate(stores):
        customer_create_at_store(store=store, data=store_customer_input(index * 10 + offset))
print(json.dumps(True))
"""

STATE = """
import json
from customers.models import AsyncCustomer, ChannelCustomer
from jobs.models import JobDemand, JobRun
aliases = ("channel", "channel2")
accounts = set()
for alias in aliases:
    accounts |= set(AsyncCustomer.objects.using(alias).exclude(account=None)
                    .values_list("account", flat=True))
print(json.dumps({
    "created": sum(AsyncCustomer.objects.using(a).count() for a in aliases),
    "pending": sum(AsyncCustomer.objects.using(a).filter(account=None).count() for a in aliases),
    "accounts": len(accounts),
    "copies": {a: len(accounts & set(ChannelCustomer.objects.using(a)
                                      .values_list("account", flat=True))) for a in aliases},
    "demands": sorted(JobDemand.objects.values_list("job", "channel_database")),
    "active": JobRun.objects.filter(status__in=["queued", "running"]).count(),
    "runs": [[r.job, r.scope, r.requested_via, r.status, r.selected, r.message]
             for r in JobRun.objects.order_by("pk")],
}))
"""

CHECKS = """
import json
from jobs.models import JobScopeCheck
print(json.dumps(sorted([c.job, c.scope, c.checked_at.timestamp()]
                        for c in JobScopeCheck.objects.all())))
"""

# Forked workers inherit these patches. {here} is the test's directory.
COUNT_UPLOADS = """
import pathlib, time
from jobs import distribution, upload

HERE = pathlib.Path({here!r})
real_upload, real_distribution = upload.upload_run, distribution.distribution_run

def counted_upload(**kwargs):
    with open(HERE / "uploads.log", "a") as log:
        log.write(kwargs["channel_database"] + "\\n")
    return real_upload(**kwargs)

upload.upload_run = counted_upload
"""

HOLD_FIRST_DISTRIBUTIONS = """
def held_distribution(**kwargs):
    channel = kwargs["channel_database"]
    marker = HERE / f"held-{{channel}}"
    if channel in {held!r} and not marker.exists():
        marker.write_text("held")  # the chain's upload and account creation are done
        deadline = time.monotonic() + {hold_seconds}
        while not (HERE / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return real_distribution(**kwargs)

distribution.distribution_run = held_distribution
"""


def settle(env) -> None:
    """Everything already there (the default customer) reaches both stores."""
    finished(python(env, TWO_STORES_SEED))
    manage(env, "convert_async_customers", "--sync")


def state(env) -> dict:
    return python_json(env, STATE)


def synchronized(env, expected: int):
    """A condition: every customer written has its account at its store and a copy at
    both, and nothing is queued, running or owed any more."""
    seen = {}

    def check() -> bool:
        seen.update(state(env))
        return (
            seen["created"] == expected
            and seen["pending"] == 0
            and seen["accounts"] == expected
            and seen["copies"] == {"channel": expected, "channel2": expected}
            and seen["active"] == 0
            and seen["demands"] == []
        )

    return check, seen


def write(env, *, first: int, count: int) -> None:
    python_json(env, WRITE.format(first=first, count=count))


def test_a_burst_of_fifty_writes_gives_at_most_two_conversion_runs_per_channel_database(
    sqlite_files_env, tmp_path
):
    env = sqlite_files_env
    settle(env)
    # Half the burst while no cluster runs: each channel database gets one chain, queued.
    write(env, first=0, count=25)
    prelude = COUNT_UPLOADS.format(here=str(tmp_path)) + HOLD_FIRST_DISTRIBUTIONS.format(
        held=("LOAD1", "LOAD2"), hold_seconds=60
    )
    log = tmp_path / "qcluster.log"
    with qcluster_running(env, prelude=prelude, log=log):
        held = [tmp_path / "held-LOAD1", tmp_path / "held-LOAD2"]
        assert wait_for(lambda: all(m.exists() for m in held), timeout=30), log.read_text()
        # The other half while both chains run: each store is owed one more chain.
        write(env, first=25, count=25)
        assert state(env)["demands"] == [["upload", "LOAD1"], ["upload", "LOAD2"]]
        (tmp_path / "go").write_text("go")
        done, seen = synchronized(env, expected=100)
        assert wait_for(done, timeout=90, poll=0.5), (seen, log.read_text()[-3000:])

    uploads = Counter((tmp_path / "uploads.log").read_text().split())
    assert uploads == {"LOAD1": 2, "LOAD2": 2}, uploads
    triggered = sorted(
        (scope, selected)
        for job, scope, via, _status, selected, _message in seen["runs"]
        if job == "upload" and via == "trigger"
    )
    assert triggered == [("channel_database=LOAD1", 25)] * 2 + [("channel_database=LOAD2", 25)] * 2
    assert all(status != "failed" for _j, _s, _v, status, _n, _m in seen["runs"]), seen["runs"]


def test_an_idle_cluster_with_schedules_on_keeps_no_job_run_rows(sqlite_files_env, tmp_path):
    env = sqlite_files_env
    settle(env)
    manage(env, "setup_schedules")
    before = state(env)["runs"]
    started = time.time()
    log = tmp_path / "qcluster.log"
    with qcluster_running(env, log=log):
        # The cluster's scheduler looks at the schedules every 30 seconds.
        checked = []

        def ticked() -> bool:
            checked[:] = [c for c in python_json(env, CHECKS) if c[2] > started]
            return {(job, scope) for job, scope, _at in checked} >= {
                ("upload", "channel_database=LOAD1"),
                ("upload", "channel_database=LOAD2"),
                ("async-customers", "all"),
                ("distribute", "channel_database=LOAD1"),
                ("distribute", "channel_database=LOAD2"),
                ("sync-orders", "all"),
            }

        assert wait_for(ticked, timeout=100, poll=1), (checked, log.read_text()[-3000:])

    assert state(env)["runs"] == before  # checked, and not one row more


def test_a_write_whose_run_died_with_the_cluster_is_picked_up_by_the_schedule(
    sqlite_files_env, tmp_path
):
    env = {**sqlite_files_env, "JOB_LEASE_SECONDS": "5"}
    settle(env)
    manage(env, "setup_schedules")  # due at once; a cluster's scheduler looks every 30 s
    prelude = COUNT_UPLOADS.format(here=str(tmp_path)) + HOLD_FIRST_DISTRIBUTIONS.format(
        held=("LOAD1",), hold_seconds=600
    )
    log = tmp_path / "qcluster.log"
    with qcluster_running(env, prelude=prelude, log=log) as killed:
        write(env, first=0, count=1)  # one customer at each store
        assert wait_for((tmp_path / "held-LOAD1").exists, timeout=30), log.read_text()
        write(env, first=1, count=1)  # its run is owed: LOAD1's chain is running
        process_group_kill(killed)  # SIGKILL the cluster and its workers, no clean-up
        killed.wait(timeout=10)

    lost = state(env)
    assert ["upload", "LOAD1"] in lost["demands"], lost
    assert lost["pending"] >= 2, lost  # LOAD1's two customers have no account yet

    with qcluster_running(env, log=log):
        done, seen = synchronized(env, expected=4)
        assert wait_for(done, timeout=120, poll=0.5), (seen, log.read_text()[-3000:])

    runs = seen["runs"]
    dead = [r for r in runs if r[0] == "distribute" and r[3] == "failed"]
    assert dead and dead[0][5].startswith("The worker stopped reporting"), runs
    # A later chain uploaded the write the dead chain never read: the schedule tick's
    # own conversion, or, when the tick found another scope still held (the other
    # store's chain, queued when the cluster died, within its grace), the owed chain the
    # tick requests (``job_demands_start``, requested as a trigger's chains are).
    uploads = [
        via
        for job, scope, via, status, n, _message in runs
        if (job, scope, status, n) == ("upload", "channel_database=LOAD1", "succeeded", 1)
    ]
    assert uploads[0] == "trigger" and uploads[1:] in (["schedule"], ["trigger"]), runs
