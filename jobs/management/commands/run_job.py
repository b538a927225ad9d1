import datetime

from django.core.management.base import BaseCommand, CommandError

from jobs.models import JobRun
from jobs.services import (
    JOB_SPECS,
    JobRequestError,
    job_runs_execute,
    job_runs_request,
    job_runs_wait,
)


def format_run(run: JobRun) -> str:
    return (
        f"job run #{run.pk} {run.job} [{run.scope}] {run.status}: "
        f"selected={run.selected} succeeded={run.succeeded} failed={run.failed} "
        f"skipped={run.skipped}" + (f" - {run.message}" if run.message else "")
    )


def finish(command: BaseCommand, runs: list[JobRun]) -> None:
    for run in runs:
        command.stdout.write(format_run(run))
        for error in run.errors[:20]:
            command.stdout.write(f"  error: {error.splitlines()[-1] if error else error}")
    unfinished = [run for run in runs if run.is_active]
    if unfinished:
        raise CommandError(
            f"timed out waiting for job run(s) {', '.join(f'#{r.pk}' for r in unfinished)}"
        )
    failed = [run for run in runs if run.status == "failed"]
    if failed:
        raise CommandError(
            f"job run(s) failed: {'; '.join(f'#{r.pk}: {r.message}' for r in failed)}"
        )


class Command(BaseCommand):
    help = "Run a job: enqueue it (default), enqueue and --wait, or run it here with --sync."

    def add_arguments(self, parser):
        parser.add_argument("job", help=f"one of: {', '.join(sorted(JOB_SPECS))}")
        parser.add_argument("--channel-database", metavar="NAME")
        parser.add_argument("--store", metavar="NUMBER")
        parser.add_argument("--business-date", metavar="YYYY-MM-DD")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--sync", action="store_true", help="run in this process")
        mode.add_argument("--wait", action="store_true", help="wait for the cluster")
        parser.add_argument(
            "--timeout", type=float, default=3600, help="seconds --wait waits (default 3600)"
        )

    def handle(self, *args, **options):
        job = options["job"]
        if job not in JOB_SPECS:
            raise CommandError(
                f"unknown job {job!r}; expected one of: {', '.join(sorted(JOB_SPECS))}"
            )
        business_date = options["business_date"]
        if business_date:
            try:
                datetime.date.fromisoformat(business_date)
            except ValueError:
                raise CommandError(
                    f"--business-date: not a YYYY-MM-DD date: {business_date!r}"
                ) from None
        try:
            runs, refused = job_runs_request(
                job=job,
                channel_database=options["channel_database"],
                store=options["store"],
                business_date=business_date,
                via="command",
                enqueue=not options["sync"],
            )
        except JobRequestError as error:
            raise CommandError(str(error)) from None
        for error in refused:
            self.stderr.write(f"refused: {error}")
        if not runs:
            raise CommandError("nothing started: " + "; ".join(str(e) for e in refused))
        ids = [run.pk for run in runs]
        if options["sync"]:
            job_runs_execute(run_ids=ids)
        elif options["wait"]:
            for run in runs:
                self.stdout.write(f"queued job run #{run.pk} {run.job} [{run.scope}]")
            job_runs_wait(run_ids=ids, timeout=options["timeout"])
        else:
            for run in runs:
                self.stdout.write(str(run.pk))
            return
        finish(self, list(JobRun.objects.filter(pk__in=ids).order_by("pk")))
