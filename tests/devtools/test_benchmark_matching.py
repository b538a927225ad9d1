"""`benchmark_matching --json`: R12's cost with customer masters of two sizes."""

import json

from tests.support import embedded_env, manage


def test_benchmark_matching_json_reports_each_size_of_the_customer_master(tmp_path):
    """R12's cost: the same account creation with a small and a larger customer master
    (query counts equal; times are reported, never asserted)."""
    env = embedded_env(tmp_path)

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
