from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from commerce.models import Store
from commerce.output import (
    format_table,
    shorten,
    stdout_closed_quietly,
    write_json_array,
    write_unreachable,
)
from customers.selectors import AsyncStatus, async_status_rows

STATUS_COLUMNS = [
    "kind",
    "store",
    "channel_database",
    "async_id",
    "status",
    "customer_account",
    "last_error",
]
# The table is for people; --format json carries the whole message.
TABLE_ERROR_WIDTH = 80


class Command(BaseCommand):
    help = (
        "One row per async customer and async address in every channel database, with "
        "its conversion status. A channel database that cannot be read "
        "is named in one warning line on standard error; the others are still listed "
        "and the exit code stays 0."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NUMBER", help="Only this store.")
        parser.add_argument(
            "--status", metavar="S", help=f"Only this status: {', '.join(AsyncStatus.ALL)}."
        )
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, store=None, status=None, format="table", **options):
        if status is not None and status not in AsyncStatus.ALL:
            raise CommandError(
                f'Unknown status "{status}"; use one of {", ".join(AsyncStatus.ALL)}.'
            )
        unreachable = []
        try:
            if store is not None and not Store.objects.filter(number=store).exists():
                raise CommandError(f'Unknown store "{store}".')
            rows = async_status_rows(store=store, status=status, unreachable=unreachable)
            with stdout_closed_quietly():
                if format == "json":
                    write_json_array(self.stdout, rows)
                else:
                    self._write_table(rows)
        except DatabaseError as exc:  # HQ: channel databases are in `unreachable`
            raise CommandError(f"HQ database error: {' '.join(str(exc).split())}") from None
        write_unreachable(self.stderr, unreachable)

    def _write_table(self, rows) -> None:
        rows = [
            {**row, "last_error": shorten(row["last_error"], TABLE_ERROR_WIDTH)} for row in rows
        ]
        for line in format_table(rows, STATUS_COLUMNS):
            self.stdout.write(line)
        self.stdout.write(f"{len(rows)} row{'' if len(rows) == 1 else 's'}")
