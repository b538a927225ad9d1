from django.core.management.base import BaseCommand, CommandError

from jobs.services.retention import purge_run


class Command(BaseCommand):
    help = (
        "R15 retention: delete what the product no longer needs once it is RETENTION_DAYS "
        "old (applied download sessions, upload sessions, staging rows of completed "
        "records, synchronized channel rows and applied requests, job runs, scope checks, "
        "the queue's results of succeeded tasks); "
        "nothing pending, failed, under review or needed to repair a crash. Prints per "
        "table what it deleted, or with --dry-run what it would. The event log is kept "
        "EVENT_LOG_RETENTION_DAYS (default 365)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Delete nothing; count.")
        parser.add_argument(
            "--days", type=int, metavar="N", help="Keep N days (default: RETENTION_DAYS)."
        )
        parser.add_argument(
            "--event-log-days",
            type=int,
            metavar="N",
            help="Keep N days of the event log (default: EVENT_LOG_RETENTION_DAYS).",
        )

    def handle(self, *args, dry_run, days, event_log_days, **options):
        for option, value in (("--days", days), ("--event-log-days", event_log_days)):
            if value is not None and value < 0:
                raise CommandError(f"{option} must be 0 or more, got {value}.")
        verb = "would delete" if dry_run else "deleted"
        unreachable = []
        for database, label, count in purge_run(
            days=days, dry_run=dry_run, event_log_days=event_log_days
        ):
            if isinstance(count, int):
                self.stdout.write(f"{database} {label}: {verb} {count}")
            else:
                self.stdout.write(f"{database} {label}: {count}")
                unreachable.append(database)
        if unreachable:
            raise CommandError(
                f"Channel database {sorted(set(unreachable))[0]} cannot be reached; "
                "the others were purged."
            )
