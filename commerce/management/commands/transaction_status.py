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
from commerce.selectors import transaction_status_rows

COLUMNS = [
    "transaction_id",
    "store",
    "type",
    "status",
    "customer_account",
    "sales_order",
    "statement",
    "last_error",
]


class Command(BaseCommand):
    help = (
        "One row per sales transaction with its status. A channel "
        "database that cannot be read is named in one warning line on standard error; "
        "the others are still listed and the exit code stays 0."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NUMBER", help="Only this store.")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, store=None, format="table", **options):
        unreachable = []
        try:
            if store is not None and not Store.objects.filter(number=store).exists():
                raise CommandError(f'Unknown store "{store}".')
            rows = transaction_status_rows(store=store, unreachable=unreachable)
            with stdout_closed_quietly():
                if format == "json":
                    write_json_array(self.stdout, rows)
                else:
                    self._write_table(rows)
        except DatabaseError as exc:  # HQ: channel databases are in `unreachable`
            raise CommandError(f"HQ database error: {' '.join(str(exc).split())}") from None
        write_unreachable(self.stderr, unreachable)

    def _write_table(self, rows) -> None:
        rows = [{**row, "last_error": shorten(row["last_error"], 80)} for row in rows]
        for line in format_table(rows, COLUMNS):
            self.stdout.write(line)
        self.stdout.write(f"{len(rows)} row{'' if len(rows) == 1 else 's'}")
