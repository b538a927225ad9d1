from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from customers.importing import (
    ImportFileError,
    ImportIncompleteError,
    ImportReport,
    data_import_file,
)
from customers.importing.report import one_line

SHOWN_SKIPPED_IDS = 20


class Command(BaseCommand):
    help = (
        "Load a JSON import file (setup records into HQ, store data into the channel "
        "databases), streamed. All or nothing: a bad file loads nothing and the error names "
        "the section, index, field and offending value."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON import file")

    def handle(self, *args, file, verbosity, **options):
        try:
            report = data_import_file(path=file)
        except ImportFileError as exc:
            raise CommandError(one_line(f"{exc} (nothing imported)")) from None
        except ImportIncompleteError as exc:
            raise CommandError(one_line(str(exc))) from None
        except DatabaseError as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(
                one_line(f"{file}: database error, nothing imported: {reason}")
            ) from None
        self._write_summary(file, report, show_all_ids=verbosity >= 2)

    def _write_summary(self, file: str, report: ImportReport, *, show_all_ids: bool) -> None:
        file = one_line(file)
        if not report.counts:
            self.stdout.write(f"Imported {file}: the file holds no records.")
            return
        self.stdout.write(self.style.SUCCESS(f"Imported {file}:"))
        for section, counts in report.counts.items():
            line = (
                f"  {section}: {counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged"
            )
            if counts.skipped:
                line += f", {counts.skipped} skipped (id already in the channel database)"
            self.stdout.write(line)
        for section, ids in report.skipped_ids.items():
            shown = ids if show_all_ids else ids[:SHOWN_SKIPPED_IDS]
            more = len(ids) - len(shown)
            tail = f" … and {more} more (-v 2 lists all)" if more else ""
            self.stdout.write(one_line(f"  skipped {section}: {', '.join(shown)}{tail}"))
