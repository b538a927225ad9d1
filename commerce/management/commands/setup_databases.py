from django.core.management.base import BaseCommand

from commerce.services import databases_migrate


class Command(BaseCommand):
    help = "Migrate the HQ database and every configured channel database (idempotent)."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        aliases = databases_migrate(verbosity=max(verbosity - 1, 0), stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Migrated: {', '.join(aliases)}"))
