"""What the benchmark children measure with: SQL queries counted on every
connection, their peak RSS, and the synthetic load they generate on fresh databases."""

from __future__ import annotations

import resource
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections

ROOT = Path(settings.BASE_DIR)
BATCH = settings.CONVERSION_BATCH_SIZE


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_sizes_mb() -> dict[str, float]:
    """Each configured database's size on disk, in MB, by alias: PostgreSQL's
    ``pg_database_size`` (tables, indexes, TOAST), or a SQLite file with its WAL."""
    sizes = {}
    for alias in connections:
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_database_size(current_database())")
                size = cursor.fetchone()[0]
        else:
            name = Path(str(connection.settings_dict["NAME"]))
            size = sum(p.stat().st_size for p in (name, Path(f"{name}-wal")) if p.exists())
        sizes[alias] = round(size / 2**20, 1)
    return sizes


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    counter = QueryCounter()
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(counter))
        yield counter


def load_generate(*, customers: int, stores: int) -> None:
    from devtools.generate import async_customers_generate, organization_generate

    organization = organization_generate(stores=stores)
    per_store, extra = divmod(customers, stores)
    for index, (number, alias) in enumerate(organization.stores):
        async_customers_generate(
            alias=alias, store_number=number, count=per_store + (1 if index < extra else 0)
        )
