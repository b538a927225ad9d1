import datetime

from django.core.management.base import BaseCommand, CommandError

from jobs.models import JobRun, JobStatus
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
        f"held={run.held} skipped={run.skipped}" + (f" - {run.message}" if run.message else "")
    )


def finish(command: BaseCommand, runs: list[JobRun], refused: list = ()) -> None:
    """Print each run's counters and errors; exit 1 (one line) when a run is unfinished
    or failed, or a scope was refused (README "Management commands")."""
    for run in runs:
        command.stdout.write(format_run(run))
        for error in run.errors[:20]:
            command.stdout.write(f"  error: {error.splitlines()[-1] if error else error}")
    unfinished = [run for run in runs if run.is_active]
    if unfinished:
        raise CommandError(
            f"Timed out waiting for job run(s) {', '.join(f'#{r.pk}' for r in unfinished)}."
        )
    failed = [run for run in runs if run.status == JobStatus.FAILED]
    if failed:
        raise CommandError(
            f"Job run(s) failed: {'; '.join(f'#{r.pk}: {r.message}' for r in failed)}"
        )
    if refused:
        raise CommandError(refused_line(refused))


def refused_line(refused: list) -> str:
    return "Refused: " + "; ".join(" ".join(str(error).split()) for error in refused)


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
                f'Unknown job "{job}"; expected one of: {", ".join(sorted(JOB_SPECS))}.'
            )
        business_date = options["business_date"]
        if business_date:
            try:
                datetime.date.fromisoformat(business_date)
            except ValueError:
                raise CommandError(
                    f'Option --business-date: "{business_date}" is not a YYYY-MM-DD date.'
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
            raise CommandError(" ".join(str(error).split())) from None
        if not runs:
            raise CommandError("Nothing started. " + refused_line(refused))
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
            if refused:  # some scopes queued, the others refused: say so and exit 1
                raise CommandError(refused_line(refused))
            return
        finish(self, list(JobRun.objects.filter(pk__in=ids).order_by("pk")), refused)
