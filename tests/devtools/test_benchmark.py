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
