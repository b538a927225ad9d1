"""The pipeline phase: upload, account creation and distribution through the real job
runs, in process, each stage timed, its SQL queries counted and its peak RSS read."""

from __future__ import annotations

import time
from pathlib import Path

from devtools.benchmark.measure import counting_queries, load_generate, peak_rss_mb
from devtools.benchmark.raw_floor import rows_dump


def phase_pipeline(*, customers: int, stores: int, dump: Path | None = None) -> dict:
    """Generate, then run the three stages timed; with ``dump``, every row is dumped
    before the first stage and after the last (untimed) for the raw floor."""
    from jobs.services import job_runs_execute, job_runs_request

    load_generate(customers=customers, stores=stores)
    if dump is not None:
        rows_dump(directory=dump, state="before")
    stages = []
    for job in ["upload", "async-customers", "distribute"]:
        with counting_queries() as counter:
            started = time.perf_counter()
            runs, _ = job_runs_request(job=job, enqueue=False, via="benchmark")
            job_runs_execute(run_ids=[r.pk for r in runs])
            seconds = time.perf_counter() - started
        from jobs.models import JobRun

        failed = list(JobRun.objects.filter(pk__in=[r.pk for r in runs], status="failed"))
        if failed:
            raise RuntimeError(f"{job} failed: {failed[0].message}")
        stages.append(
            {
                "stage": job,
                "seconds": round(seconds, 3),
                "customers_per_second": round(customers / seconds, 1) if seconds else None,
                "queries": counter.count,
                "queries_per_customer": round(counter.count / customers, 4),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        )
    if dump is not None:
        rows_dump(directory=dump, state="after")
    return {"stages": stages}
