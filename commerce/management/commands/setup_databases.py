from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from commerce.services import databases_migrate


class Command(BaseCommand):
    help = (
        "Migrate the HQ database and every configured channel database (idempotent). "
        "A channel database that cannot be reached is named in one error line; the "
        "others are still migrated, and the exit code is 1."
    )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        unreachable = []
        try:
            migrated = databases_migrate(
                verbosity=max(verbosity - 1, 0), stdout=self.stdout, unreachable=unreachable
            )
        except DatabaseError as exc:  # HQ: channel databases are in `unreachable`
            raise CommandError(f"HQ database not migrated: {' '.join(str(exc).split())}") from None
        self.stdout.write(self.style.SUCCESS(f"Migrated: {', '.join(migrated)}"))
        if unreachable:
            # Non-zero exit: a deployment script must not go on with a database unmigrated.
            raise CommandError(f"Not migrated: {'; '.join(str(u) for u in unreachable)}")
