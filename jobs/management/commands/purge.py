from django.core.management.base import BaseCommand, CommandError

from jobs.services.retention import purge_run


class Command(BaseCommand):
    help = (
        "R15 retention: delete what the product no longer needs once it is RETENTION_DAYS "
        "old (applied download sessions, upload sessions, staging rows of completed "
        "records, synchronized channel rows and applied requests, job runs, scope checks); "
        "nothing pending, failed, under review or needed to repair a crash. Prints per "
        "table what it deleted, or with --dry-run what it would."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Delete nothing; count.")
        parser.add_argument(
            "--days", type=int, metavar="N", help="Keep N days (default: RETENTION_DAYS)."
        )

    def handle(self, *args, dry_run, days, **options):
        if days is not None and days < 0:
            raise CommandError(f"--days must be 0 or more, got {days}")
        verb = "would delete" if dry_run else "deleted"
        unreachable = []
        for database, label, count in purge_run(days=days, dry_run=dry_run):
            if isinstance(count, int):
                self.stdout.write(f"{database} {label}: {verb} {count}")
            else:
                self.stdout.write(f"{database} {label}: {count}")
                unreachable.append(database)
        if unreachable:
            raise CommandError(
                f"channel database {sorted(set(unreachable))[0]} cannot be reached; "
                "the others were purged"
            )
