import io
import json

from django.core.management.base import BaseCommand, CommandError

from commerce.models import LegalEntity
from commerce.output import (
    csv_cell,
    csv_dict_writer,
    iter_chunks,
    stdout_closed_quietly,
    write_json_array,
)
from customers.selectors import customer_export_rows

EXPORT_COLUMNS = [
    "account",
    "legal_entity",
    "type",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "customer_group",
    "currency",
    "language",
    "title",
    "async_customer_id",
    "addresses",
    "attributes",
    "affiliations",
]
JSON_COLUMNS = {"addresses", "attributes", "affiliations"}


def _csv_value(row: dict, column: str) -> str:
    value = row[column]
    if column in JSON_COLUMNS:
        return csv_cell(json.dumps(value, ensure_ascii=False))
    return "" if value is None else csv_cell(str(value))


class Command(BaseCommand):
    help = (
        "Export the HQ customer master as a JSON array or CSV on standard "
        "output. CSV has CRLF line ends and quotes every cell holding a line break "
        "(RFC 4180); a cell starting with = + - @, a tab or a carriage return gets a "
        "leading ' so that spreadsheets show it as text (OWASP CSV injection); JSON is "
        "exact."
    )

    def add_arguments(self, parser):
        parser.add_argument("--legal-entity", metavar="CODE", help="Only this legal entity.")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, legal_entity=None, format="json", **options):
        if legal_entity and not LegalEntity.objects.filter(code=legal_entity).exists():
            raise CommandError(f'Unknown legal entity "{legal_entity}".')
        rows = customer_export_rows(legal_entity=legal_entity)
        with stdout_closed_quietly():
            if format == "json":
                write_json_array(self.stdout, rows)
            else:
                self._write_csv(rows)

    def _write_csv(self, rows):
        buffer = io.StringIO()
        writer = csv_dict_writer(buffer, EXPORT_COLUMNS)
        writer.writeheader()
        for chunk in iter_chunks(rows):
            for row in chunk:
                writer.writerow({column: _csv_value(row, column) for column in EXPORT_COLUMNS})
            self.stdout.write(buffer.getvalue(), ending="")
            buffer.seek(0)
            buffer.truncate()
        self.stdout.write(buffer.getvalue(), ending="")
