from django.core.management.base import BaseCommand, CommandError

from jobs.management.commands.run_job import finish
from jobs.models import JobRun
from jobs.services import JobRequestError, conversion_request, job_runs_execute, job_runs_wait


class Command(BaseCommand):
    help = (
        "Run the conversion: upload (P-0001), Synchronize customers and channel requests, "
        "distribution (1010), each after the previous finished."
    )

    def add_arguments(self, parser):
        parser.add_argument("--channel-database", metavar="NAME")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--sync", action="store_true", help="run in this process")
        mode.add_argument("--wait", action="store_true", help="wait for the cluster")
        parser.add_argument("--timeout", type=float, default=3600)

    def handle(self, *args, **options):
        try:
            runs = conversion_request(
                channel_database=options["channel_database"],
                via="command",
                enqueue=not options["sync"],
            )
        except JobRequestError as error:
            raise CommandError(str(error)) from None
        ids = [run.pk for run in runs]
        if options["sync"]:
            job_runs_execute(run_ids=ids)
        else:
            for run in runs:
                self.stdout.write(f"queued job run #{run.pk} {run.job} [{run.scope}]")
            if not options["wait"]:
                return
            job_runs_wait(run_ids=ids, timeout=options["timeout"])
        finish(self, list(JobRun.objects.filter(pk__in=ids).order_by("pk")))
