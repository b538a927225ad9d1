from django.core.management.base import BaseCommand, CommandError

from jobs.services import JobRequestError, schedules_setup


class Command(BaseCommand):
    help = (
        "Create or update the recurring schedules of all jobs (idempotent): the conversion, "
        "order synchronization, and each store's end-of-day statement posting (END_OF_DAY_TIME)."
    )

    def handle(self, *args, **options):
        try:
            schedules = schedules_setup()
        except JobRequestError as error:
            raise CommandError(str(error)) from error
        for name, created in schedules:
            self.stdout.write(f"{'created' if created else 'updated'}: {name}")
