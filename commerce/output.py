"""Output helpers shared by the commands that print tables and JSON arrays."""

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator

from commerce.db import CHUNK

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# "=HYPERLINK(...)" in a customer name would become a live link. OWASP's rule is to
# prefix such a cell with a single quote, whatever the column, phone numbers included.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def iter_chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextlib.contextmanager
def stdout_closed_quietly():
    """A reader that stops early (``| head``) ends the command without a traceback."""
    try:
        yield
    except BrokenPipeError:
        # Python would report the failed flush of stdout at exit; point it at devnull.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def csv_cell(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a leading ' before a
    formula trigger (OWASP, CSV injection); any other value unchanged."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def csv_dict_writer(stream, fieldnames: list[str]) -> csv.DictWriter:
    """A CSV writer whose rows a spreadsheet reads back as written: RFC 4180's CRLF
    line ends. Python's csv quotes a cell holding a character of the line terminator;
    with "\n" alone a bare CR went out unquoted, and a spreadsheet, which ends a row at
    CR, LF or CRLF, started a new row (and a new first cell, "=1+1") there."""
    return csv.DictWriter(stream, fieldnames=fieldnames, lineterminator="\r\n")


def write_json_array(stdout, rows) -> int:
    """Stream ``rows`` as one JSON array, chunk by chunk. Returns the number of rows."""
    count = 0
    stdout.write("[", ending="")
    for chunk in iter_chunks(rows):
        text = ",\n".join(json.dumps(row, ensure_ascii=False) for row in chunk)
        stdout.write(("\n" if count == 0 else ",\n") + text, ending="")
        count += len(chunk)
    stdout.write("\n]" if count else "]")
    return count


def format_table(rows: list[dict], columns: list[str]) -> list[str]:
    """Left-aligned columns under a header; empty values show as "-"."""
    cells = [
        [
            "-" if row[column] in (None, "") else " ".join(str(row[column]).split())
            for column in columns
        ]
        for row in rows
    ]
    widths = [
        max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)
    ]
    lines = [columns, *cells]
    return [
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


def shorten(text: str | None, width: int) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def write_unreachable(stderr, unreachable) -> None:
    """One warning line per channel database a status command could not read, on
    standard error, so ``--format json`` keeps standard output one JSON array."""
    for database in unreachable:
        stderr.write(f"Warning: {database}; its rows are not listed.")
