from django.core.management.base import CommandError

from commerce.management.status_command import StatusCommand
from customers.selectors import AsyncStatus, async_status_rows


class Command(StatusCommand):
    help = (
        "One row per async customer and async address in every channel database, with "
        "its conversion status. A channel database that cannot be read "
        "is named in one warning line on standard error; the others are still listed "
        "and the exit code stays 0."
    )
    columns = [
        "kind",
        "store",
        "channel_database",
        "async_id",
        "status",
        "customer_account",
        "last_error",
    ]

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--status", metavar="S", help=f"Only this status: {', '.join(AsyncStatus.ALL)}."
        )

    def handle(self, *args, status=None, **options):
        if status is not None and status not in AsyncStatus.ALL:
            raise CommandError(
                f'Unknown status "{status}"; use one of {", ".join(AsyncStatus.ALL)}.'
            )
        super().handle(*args, status=status, **options)

    def status_rows(self, *, store, unreachable, status=None, **options):
        return async_status_rows(store=store, status=status, unreachable=unreachable)
