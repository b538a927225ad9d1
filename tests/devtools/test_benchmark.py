import json

import pytest

from tests.support import PG_HOST, PG_PORT, base_env, manage, require_service

# README "Performance": the keys `benchmark --json` reports (more may follow).
REPORT_KEYS = {
    "customers",
    "stages",
    "total_seconds",
    "floor_seconds",
    "ratio",
    "raw_floor_seconds",
    "raw_ratio",
    "queries_per_customer",
    "peak_rss_mb",
    "database_mb",
}


def assert_benchmark_report(stdout: str, *, customers: int) -> dict:
    """One JSON object and nothing else, with every key and both floors measured: the raw
    floor wrote the pipeline's own rows (its customers inserted, its stamps as updates)."""
    report, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:].strip() == ""
    assert REPORT_KEYS <= set(report)
    assert report["customers"] == customers
    assert [s["stage"] for s in report["stages"]] == ["upload", "async-customers", "distribute"]
    assert report["floor_seconds"] > 0 and report["ratio"] > 0
    assert report["raw_floor_seconds"] > 0 and report["raw_ratio"] > 0
    tables = report["raw_floor_tables"]
    assert tables["default.customers_customer"]["inserts"] == customers
    assert tables["default.customers_stagedasynccustomer"]["inserts"] == customers
    # Each channel database holds its async customers (stamped) and every copy.
    for alias in ("channel", "channel2"):
        assert tables[f"{alias}.channel_async_customer"]["updates"] > 0
        assert tables[f"{alias}.channel_customer"]["inserts"] >= customers
    writes = report["raw_floor_writes_per_customer"]
    assert writes["inserts"] > 10 and writes["updates"] > 1
    assert set(report["database_mb"]) == {"default", "channel", "channel2"}
    assert all(size > 0 for size in report["database_mb"].values())
    return report


def test_benchmark_json_prints_one_json_object_and_nothing_else(tmp_path):
    # A real process: the benchmark's children write to the inherited standard output,
    # which call_command's stdout would not see.
    env = base_env(VAR_DIR=str(tmp_path))
    for name in ("DATABASE_URL", "CHANNEL_DATABASE_URLS", "REDIS_URL"):
        env.pop(name, None)

    result = manage(env, "benchmark", "--customers", "20", "--stores", "2", "--json")

    report, end = json.JSONDecoder().raw_decode(result.stdout)
    assert result.stdout[end:].strip() == ""
    assert report["customers"] == 20 and report["stores"] == 2
    assert [s["stage"] for s in report["stages"]] == ["upload", "async-customers", "distribute"]
    assert_benchmark_report(result.stdout, customers=20)
    assert report["engine"] == "sqlite3"


@pytest.mark.postgres
def test_benchmark_json_on_postgresql_measures_the_copy_floor(tmp_path):
    """The benchmark makes and drops its own databases on the server DATABASE_URL names;
    the raw floor writes with COPY."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    server = f"postgres://postgres@{PG_HOST}:{PG_PORT}/postgres"
    env = base_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=server,
        CHANNEL_DATABASE_URLS=f"channel={server},channel2={server}",
    )
    env.pop("REDIS_URL", None)

    result = manage(env, "benchmark", "--customers", "20", "--stores", "2", "--json")

    report = assert_benchmark_report(result.stdout, customers=20)
    assert report["engine"] == "postgresql"


def test_benchmark_matching_json_reports_each_size_of_the_customer_master(tmp_path):
    """R12's cost: the same account creation with a small and a larger customer master
    (query counts equal; times are reported, never asserted)."""
    env = base_env(VAR_DIR=str(tmp_path))
    for name in ("DATABASE_URL", "CHANNEL_DATABASE_URLS", "REDIS_URL"):
        env.pop(name, None)

    result = manage(
        env, "benchmark_matching", "--customers", "20", "--existing", "10", "200", "--json"
    )

    report, end = json.JSONDecoder().raw_decode(result.stdout)
    assert result.stdout[end:].strip() == ""
    small, large = report["runs"]
    assert (small["existing"], large["existing"]) == (10, 200)
    assert small["created"] == large["created"] == 20
    assert small["queries"] == large["queries"]
    assert small["possible_duplicates"] == large["possible_duplicates"] >= 10
    assert report["ratio"] > 0


def test_benchmark_reports_the_cost_of_each_extra_channel_database(tmp_path):
    """Three channel databases, each given a store, distributed side by side by two
    worker processes; the run again on one channel database gives the cost of each
    extra one, beside the raw floor's. Without the ORM floor its keys are null."""
    env = base_env(VAR_DIR=str(tmp_path))
    for name in ("DATABASE_URL", "CHANNEL_DATABASE_URLS", "REDIS_URL"):
        env.pop(name, None)
    env["CHANNEL_DATABASE_URLS"] = ",".join(
        f"{alias}=sqlite:///{tmp_path / alias}.sqlite3"
        for alias in ("channel", "channel2", "channel3")
    )

    result = manage(
        env,
        "benchmark",
        *("--customers", "30", "--stores", "2", "--channel-databases", "3"),
        *("--workers", "2", "--no-orm-floor", "--json"),
    )

    report, end = json.JSONDecoder().raw_decode(result.stdout)
    assert result.stdout[end:].strip() == ""
    assert (report["channel_databases"], report["stores"]) == (3, 3)  # a store each
    assert report["distribution_workers"] == 2
    assert report["floor_seconds"] is None and report["ratio"] is None
    tables = report["raw_floor_tables"]
    for alias in ("channel", "channel2", "channel3"):
        assert tables[f"{alias}.channel_customer"]["inserts"] >= 30  # every customer
    # One payload per set, received by all three channel databases.
    payloads = tables["default.jobs_downloadpayload"]["inserts"]
    assert tables["default.jobs_downloadsession"]["inserts"] == 3 * payloads
    extra = report["per_extra_channel_database"]
    assert extra["baseline_channel_databases"] == 1
    assert extra["pipeline_seconds"] == round(
        (report["total_seconds"] - extra["baseline_total_seconds"]) / 2, 3
    )
    assert extra["raw_floor_seconds"] == round(
        (report["raw_floor_seconds"] - extra["baseline_raw_floor_seconds"]) / 2, 3
    )


@pytest.mark.parametrize("option", ["--workers", "--channel-databases"])
def test_benchmark_refuses_a_count_below_one_in_one_line(option):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as refused:
        call_command("benchmark", option, "0", "--json")

    assert str(refused.value) == (
        "--customers, --stores, --channel-databases and --workers must be at least 1"
    )


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
    env = base_env(VAR_DIR=str(tmp_path))
    for name in ("DATABASE_URL", "CHANNEL_DATABASE_URLS", "REDIS_URL"):
        env.pop(name, None)
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
