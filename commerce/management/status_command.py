"""The status commands' one shape (README "Statuses"): ``--store`` and ``--format``, an
unknown store refused in one line, rows as a table or one JSON array on standard
output, a channel database that cannot be read named on standard error (exit 0), an HQ
database error in one line (exit 1)."""

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

# The table is for people; --format json carries the whole message.
TABLE_ERROR_WIDTH = 80


class StatusCommand(BaseCommand):
    columns: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NUMBER", help="Only this store.")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def status_rows(self, *, store: str | None, unreachable: list, **options):
        """The rows to print; a channel database that cannot be read goes to
        ``unreachable``."""
        raise NotImplementedError

    def handle(self, *args, store=None, format="table", **options):
        unreachable = []
        try:
            if store is not None and not Store.objects.filter(number=store).exists():
                raise CommandError(f'Unknown store "{store}".')
            rows = self.status_rows(store=store, unreachable=unreachable, **options)
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
        for line in format_table(rows, self.columns):
            self.stdout.write(line)
        self.stdout.write(f"{len(rows)} row{'' if len(rows) == 1 else 's'}")
