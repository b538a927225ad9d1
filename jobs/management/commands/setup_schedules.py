from django.core.management.base import BaseCommand

from jobs.services import schedules_setup


class Command(BaseCommand):
    help = "Create or update the recurring schedules of all jobs (idempotent)."

    def handle(self, *args, **options):
        for name, created in schedules_setup():
            self.stdout.write(f"{'created' if created else 'updated'}: {name}")
