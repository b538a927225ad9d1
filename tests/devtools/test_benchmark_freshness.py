"""`benchmark --freshness --json`: a real cluster, every customer arriving, and the
observer's query."""

import json

import pytest

from tests.support import embedded_env, manage

# Section "Freshness": the keys `benchmark --freshness --json` reports.
FRESHNESS_KEYS = {
    "engine",
    "broker",
    "customers",
    "p50_seconds",
    "p95_seconds",
    "max_seconds",
    "not_arrived",
    "all_stores",
    "job_runs",
    "chains",
    "stages",
}


@pytest.mark.cluster
def test_benchmark_freshness_json_reports_every_customer_arriving(tmp_path):
    """A real cluster on fresh SQLite files with the ORM broker (the embedded default):
    every customer created at the stores holds its account, and the report is one JSON
    object with the latencies and where the time went."""
    env = embedded_env(tmp_path)
    env["Q_POLL"] = "0.2"

    result = manage(env, "benchmark", "--freshness", "--rate", "4", "--seconds", "2", "--json")

    report, end = json.JSONDecoder().raw_decode(result.stdout)
    assert result.stdout[end:].strip() == ""
    assert FRESHNESS_KEYS <= set(report)
    assert (report["engine"], report["broker"]) == ("sqlite3", "orm")
    assert (report["customers"], report["not_arrived"]) == (8, 0)
    assert 0 < report["p50_seconds"] <= report["p95_seconds"] <= report["max_seconds"]
    assert report["all_stores"]["p95"] >= report["p95_seconds"]
    assert report["job_runs"] >= 3 and report["chains"] >= 1
    assert set(report["stages"]) >= {"to_upload", "chain_pickup", "chain_run"}


@pytest.mark.django_db(databases="__all__")
def test_the_freshness_observer_sees_only_the_accounts_a_store_holds():
    from devtools.benchmark.freshness import _accounts_held
    from tests.factories.customers import AsyncCustomerFactory

    held = AsyncCustomerFactory(account="C000001")
    waiting = AsyncCustomerFactory()
    elsewhere = AsyncCustomerFactory(using="channel2", account="C000002")

    assert _accounts_held("channel", [held.pk, waiting.pk]) == [(held.pk, "C000001")]
    assert _accounts_held("channel2", [elsewhere.pk]) == [(elsewhere.pk, "C000002")]
