"""`benchmark --json` on PostgreSQL: a module of its own, so that pytest-xdist (whole
modules per worker) runs it beside the other benchmark modules, not after them."""

import pytest

from tests.devtools.test_benchmark import assert_benchmark_report
from tests.support import PG_HOST, PG_PORT, base_env, manage, require_service


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
