from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from customers.importing import ImportFileError
from devtools.demo.loading import ADMIN_PASSWORD, ADMIN_USERNAME, DemoRefused, demo_setup


class Command(BaseCommand):
    help = (
        "Load a demo organization (legal entities, stores, channel databases, customers, "
        "async customers and transactions) and a development superuser admin/admin. "
        "Creates only what is missing and leaves existing records as they are, so a "
        "second run changes nothing."
    )

    def handle(self, *args, **options):
        try:
            report = demo_setup()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        except ImportFileError as exc:
            raise CommandError(f"Demo data rejected: {exc}") from None
        except DatabaseError as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(
                f"Database error, nothing loaded: {reason} (did you run setup_databases?)"
            ) from None
        for section, counts in report.imported.counts.items():
            self.stdout.write(
                f"{section:<26} created {counts.created:>3}  updated {counts.updated:>3}  "
                f"unchanged {counts.unchanged:>3}  skipped {counts.skipped:>3}"
            )
        if report.admin_created:
            self.stdout.write(
                f"Created superuser {ADMIN_USERNAME} / {ADMIN_PASSWORD} "
                "(development only: change the password on any shared machine)."
            )
        else:
            self.stdout.write(f"Superuser {ADMIN_USERNAME} already exists; left unchanged.")
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING("DEBUG is off: the demo and its admin user are for development.")
            )
        self.stdout.write(self.style.SUCCESS("Demo organization ready."))
