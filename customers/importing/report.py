"""What an import tells: the report of a loaded file and the one-line error of a
rejected one. Every message names where (section, index, field) and the offending
value, shortened and escaped so that it stays one printable line whatever the file
holds (control characters, lone surrogates, huge numbers, deep nesting)."""

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SHOWN_CHARACTERS = 80


class ImportFileError(Exception):
    """The file cannot be imported; the message is one line naming where and why."""


class ImportIncompleteError(Exception):
    """HQ committed but a channel database did not: re-importing the same file adds
    the missing channel records (ids already present are skipped)."""


@dataclass
class SectionCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


@dataclass
class ImportReport:
    """What an import did, per section (in README "Import files" order), and the ids it skipped.

    Sections besides the file's own: ``number_sequences``, ``customer_addresses``
    (HQ addresses of imported customers), ``async_customers``,
    ``async_customer_addresses``, ``async_addresses`` and ``transactions``. For
    ``customer_edits`` (R11) ``created`` counts the channel requests created and
    ``updated`` the edits applied in place to async customers not uploaded yet.
    ``skipped_ids`` lists, per section, the channel ids already in their channel
    database.
    """

    counts: dict[str, SectionCounts] = field(default_factory=dict)
    skipped_ids: dict[str, list[str]] = field(default_factory=dict)

    def section(self, name: str) -> SectionCounts:
        return self.counts.setdefault(name, SectionCounts())

    def skip(self, name: str, key: Any) -> None:
        self.section(name).skipped += 1
        self.skipped_ids.setdefault(name, []).append(str(key))


# --- Messages ---------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[^\W\d](?:[\w -]{0,38}\w)?\Z")


def one_line(text: str) -> str:
    """``text`` with every non-printable character (line breaks, NUL, lone surrogates,
    U+2028...) escaped, so it prints as one line on any terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _digits(value: int) -> int:
    """Decimal digits of ``value`` without converting it to text (that has a limit)."""
    if value == 0:
        return 1
    estimate = max(int(abs(value).bit_length() * 0.30102999566398120), 1)
    return estimate + (abs(value) >= 10**estimate)


def show(value: Any) -> str:
    """The value as JSON, shortened to one line."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        text = f"{'-' if value < 0 else ''}an integer of {_digits(value)} digits"
    elif isinstance(value, Decimal):  # a JSON number as ijson read it
        text = str(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (ValueError, RecursionError, TypeError):
            text = f"a {type(value).__name__}"
        text = one_line(text)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "…"


def key_shown(name: Any) -> str:
    """A field or attribute name as a part of a path: plain when it reads plainly,
    JSON-quoted otherwise (so a name holding a dot, a bracket or a line break stays
    visible as one)."""
    if isinstance(name, str) and _PLAIN_KEY.match(name):
        return name
    return show(name)


def invalid(path: str, reason: str, value: Any) -> ImportFileError:
    return ImportFileError(f"{path}: {reason}, got {show(value)}")


def unknown(path: str, what: str, value: Any) -> ImportFileError:
    return ImportFileError(f"{path}: unknown {what} {show(value)}")
