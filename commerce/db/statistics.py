"""Planner statistics kept fresh while a job bulk-writes (README "Performance").

PostgreSQL plans a query from the statistics ``ANALYZE`` last gathered on each table.
A conversion job writes hundreds of thousands of rows in minutes, and until the table
is analyzed again the planner does not know how many distinct parents its child rows
have: it guesses that a batch's 5,000 keys match a large share of a child table and
reads all of it (a hash join over a sequential scan), every batch. Each batch then
costs more as the table grows, and the job's time grows with the square of its size
(measured at 300,000 customers: the children reads, the link UPDATEs and 1010's
address reads took 0.2-0.8 s per batch, read the whole table each time). Autovacuum's
analyze catches up in its own time, and a server may run without it; PostgreSQL's own
advice after a bulk load is to run ``ANALYZE``.

So ``Progress`` (``jobs.services.executing``) calls ``planner_statistics_refresh`` for
every PostgreSQL database the process has used, once every ``STATISTICS_CHECK_ROWS``
records its runs select (counted across runs: a worker running a store's small
triggered chains all day checks as often as one running a single large run): one read
of ``pg_stat_user_tables``, and ``ANALYZE`` of the tables changed by
more rows than they held when last analyzed (filled from empty, doubled, rewritten).
Over a run of a million records that is a handful of ``ANALYZE`` per table, each
sampling at most 30,000 rows. SQLite needs none of it: without statistics its planner
takes an index for an equality, so there is nothing to do there.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

# Records a process's job runs select between two checks (a batch is up to 5,000).
STATISTICS_CHECK_ROWS = 20_000
# A table smaller than this is never analyzed on account of a job: it is read whole in
# less time than an ANALYZE takes.
STATISTICS_MIN_ROWS = 1_000

_STALE_TABLES = """
SELECT format('%%I.%%I', s.schemaname, s.relname)
FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
WHERE s.n_mod_since_analyze >= GREATEST(%s, c.reltuples)
ORDER BY 1
"""


def planner_statistics_refresh(connection) -> list[str]:
    """``ANALYZE`` the tables of ``connection``'s database whose statistics are stale
    (changed by more rows than they held when last analyzed, and by at least
    ``STATISTICS_MIN_ROWS``); the tables analyzed. Only on PostgreSQL and outside a
    transaction (an ANALYZE inside one would hold its lock until the commit); never
    raises: a failure is logged and the job goes on with the statistics it had."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    try:
        with connection.cursor() as cursor:
            if connection.pg_version >= 150000:
                # This session's own counts reach pg_stat_user_tables at most once a
                # second: the rows it has just written would be missed until then.
                # (Flushed when this statement ends; PostgreSQL 15 and later.)
                cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute(_STALE_TABLES, [STATISTICS_MIN_ROWS])
            tables = [name for (name,) in cursor.fetchall()]
            if tables:
                cursor.execute(f"ANALYZE {', '.join(tables)}")
    except DatabaseError as error:
        logger.warning("statistics of database %s not refreshed: %s", connection.alias, error)
        return []
    if tables:
        logger.debug("analyzed in database %s: %s", connection.alias, ", ".join(tables))
    return tables


def used_databases_statistics_refresh() -> dict[str, list[str]]:
    """``planner_statistics_refresh`` on every database this process has opened; the
    tables analyzed, by alias (only the aliases where some were)."""
    analyzed = {}
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue  # configured and touched, but not connected (or closed)
        tables = planner_statistics_refresh(connection)
        if tables:
            analyzed[connection.alias] = tables
    return analyzed
