import json

from tests.support import base_env, manage


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
