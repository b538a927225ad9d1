"""Record isolation: which errors belong to one record's data, and how a job run names them.

Where data crosses a database (upload, distribution), a batch is written in one
transaction; if it fails with one of ``RECORD_ERRORS``, the records are written one at
a time so that the one the other side cannot take fails alone, named, and the rest of
its channel goes on. Errors of the database itself (unreachable, out of connections)
are not among them: they fail the run as a whole, to be run again.
"""

from django.db import DataError, IntegrityError

RECORD_ERRORS = (DataError, IntegrityError, ValueError, TypeError)


def error_summary(error: BaseException, *, limit: int = 300) -> str:
    """``Type: first line of the message``, short enough for a job run's error list."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {(lines[0] if lines else '')[:limit]}"
