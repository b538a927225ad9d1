import json

import pytest

from tests.support import embedded_env, manage

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
    env = embedded_env(tmp_path)

    result = manage(env, "benchmark", "--customers", "20", "--stores", "2", "--json")

    report, end = json.JSONDecoder().raw_decode(result.stdout)
    assert result.stdout[end:].strip() == ""
    assert report["customers"] == 20 and report["stores"] == 2
    assert [s["stage"] for s in report["stages"]] == ["upload", "async-customers", "distribute"]
    assert_benchmark_report(result.stdout, customers=20)
    assert report["engine"] == "sqlite3"


def test_benchmark_reports_the_cost_of_each_extra_channel_database(tmp_path):
    """Three channel databases, each given a store, distributed side by side by two
    worker processes; the run again on one channel database gives the cost of each
    extra one, beside the raw floor's. Without the ORM floor its keys are null."""
    env = embedded_env(tmp_path)
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
