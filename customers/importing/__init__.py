"""Import file service (README "Import files"): loads setup records into HQ and store data
into the channel databases, all or nothing.

``import_data`` streams its input (memory does not grow with the file) and reads it
twice:

1. check (``checks.file_check``): structure, types, limits, repeated ids and
   references against the file and HQ; reads only. A structural error rejects the
   file with one line naming the section, index, field and offending value.
   Business errors (R5: unknown customer group, attribute or affiliation, bad
   country, malformed email, empty name) are loaded as-is into the channel database,
   as a real store would send them; HQ reports them.
2. write (``writing.import_write``), in batches, inside one transaction per database
   the file touches: HQ and each channel database of its stores.

A failure while writing rolls back every database. The commits go HQ first, then each
channel database, so a crash between them leaves HQ with the setup records (stores
among them) and a channel database without this file's rows, never channel rows whose
store HQ does not know. The import then raises ImportIncompleteError, and re-importing
the same file completes the channel part: setup records are upserted by key, and
channel ids already in the target channel database are skipped and reported, so a
re-import adds nothing twice.
"""

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from commerce.db import HQ, sql_log_shortened

from .checks import Source, file_check
from .files import FileSource
from .reader import PayloadSource
from .report import ImportFileError, ImportIncompleteError, ImportReport, SectionCounts
from .writing import import_write

__all__ = [
    "ImportFileError",
    "ImportIncompleteError",
    "ImportReport",
    "SectionCounts",
    "data_import",
    "data_import_file",
]


def data_import(*, payload: Any) -> ImportReport:
    """Loads an import file's data (already parsed) into HQ and the channel databases,
    all or nothing. Safe to re-run: setup records are upserted, channel ids already
    present are skipped. Raises ImportFileError (nothing written) for a bad file."""
    return _import(PayloadSource(payload))


def data_import_file(*, path: str | Path) -> ImportReport:
    """Streams a JSON import file into ``data_import``'s loading (same guarantees);
    a file that cannot be read, is not UTF-8 or not JSON raises ImportFileError."""
    return _import(FileSource(path))


# SQL statements each connection keeps while importing with DEBUG on (Django keeps 9,000).
SQL_LOG_KEPT = 10


def _import(source: Source) -> ImportReport:
    with sql_log_shortened(SQL_LOG_KEPT):
        return _import_logged(source)


def _import_logged(source: Source) -> ImportReport:
    plan = file_check(source=source)
    report = ImportReport()
    now = timezone.now()
    hq_committed = False
    try:
        with ExitStack() as channels:
            for alias in plan.aliases:
                channels.enter_context(transaction.atomic(using=alias))
            # Entered last, so it commits first: HQ before the channel databases.
            with transaction.atomic(using=HQ):
                import_write(source=source, plan=plan, report=report, now=now)
            hq_committed = True
    except DatabaseError as exc:
        if not hq_committed:
            raise
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ImportIncompleteError(
            f"{source.name}: HQ records imported, but a channel database "
            f"did not commit ({reason}); import the same file again to complete it"
        ) from exc
    return report
