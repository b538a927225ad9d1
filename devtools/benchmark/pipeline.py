"""The pipeline phase: upload, account creation and distribution through the real job
runs, in process, each stage timed, its SQL queries counted and its peak RSS read.

Distribution runs one job run per channel database. With ``workers`` above 1 they run
side by side in that many worker processes, as the cluster's workers run the runs a
conversion task hands out (``jobs.freshness.job_chain_execute``); with 1, one after the
other in this process."""

from __future__ import annotations

import multiprocessing
import resource
import time
from pathlib import Path

from django.db import connections

from devtools.benchmark.measure import (
    counting_queries,
    database_sizes_mb,
    load_generate,
    peak_rss_mb,
)
from devtools.benchmark.raw_floor import rows_dump

STAGES = ["upload", "async-customers", "distribute"]


def _execute_one(run_id: int) -> int:
    """A worker process: execute one run; the SQL queries it made."""
    from jobs.services import job_runs_execute

    with counting_queries() as counter:
        job_runs_execute(run_ids=[run_id])
    connections.close_all()
    return counter.count


def _stage_execute(job: str, *, workers: int) -> int:
    """Request and execute ``job`` for every scope; the SQL queries made."""
    from jobs.services import job_runs_execute, job_runs_request

    runs, _ = job_runs_request(job=job, enqueue=False, via="benchmark")
    ids = [run.pk for run in runs]
    if job != "distribute" or workers <= 1 or len(ids) <= 1:
        with counting_queries() as counter:
            job_runs_execute(run_ids=ids)
        return counter.count
    # Forked workers open their own connections (none is shared across the fork).
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(min(workers, len(ids))) as pool:
        return sum(pool.map(_execute_one, ids, chunksize=1))


def _children_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def phase_pipeline(
    *, customers: int, stores: int, workers: int = 1, dump: Path | None = None
) -> dict:
    """Generate, then run the three stages timed; with ``dump``, every row is dumped
    before the first stage and after the last (untimed) for the raw floor."""
    from jobs.models import JobRun

    load_generate(customers=customers, stores=stores)
    if dump is not None:
        rows_dump(directory=dump, state="before")
    stages = []
    for job in STAGES:
        started = time.perf_counter()
        queries = _stage_execute(job, workers=workers)
        seconds = time.perf_counter() - started
        failed = list(JobRun.objects.filter(job=job, status="failed"))
        if failed:
            raise RuntimeError(f"{job} failed: {failed[0].message}")
        stages.append(
            {
                "stage": job,
                "seconds": round(seconds, 3),
                "customers_per_second": round(customers / seconds, 1) if seconds else None,
                "queries": queries,
                "queries_per_customer": round(queries / customers, 4),
                "peak_rss_mb": round(max(peak_rss_mb(), _children_peak_rss_mb()), 1),
            }
        )
    sizes = database_sizes_mb()  # before the dump, which writes nothing to them anyway
    if dump is not None:
        rows_dump(directory=dump, state="after")
    return {"stages": stages, "distribution_workers": workers, "database_mb": sizes}
