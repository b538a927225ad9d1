"""An import file on disk, streamed to the walker (reader.py) through ijson.

The bytes ijson reads are checked first (``_CheckedBytes``): UTF-8 (the byte of the
first bad sequence is named), no byte order mark, and two things ijson's C backend
gets wrong:

- an escaped lone surrogate (``\\ud800``) it silently turns into "?": the reader puts
  ``\\uffff`` (a noncharacter, the same six bytes) in its place, which the walker
  rejects with its section, index and field;
- a run of more than MAX_DIGITS digits: past Python's int/str conversion limit ijson
  fails inside its read loop and may crash the process, so the reader stops before
  the run and the walker names where it was.

A file that is not JSON gets the json module's account of it (line and column).
"""

import codecs
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from .reader import MAX_DIGITS, TOO_MANY_DIGITS, Item, ParseFailure, Walker
from .report import ImportFileError, invalid, show

READ_SIZE = 1 << 16
# An escaped surrogate in the raw bytes: a whole run of backslashes (an odd one
# escapes), "u" and D800-DFFF; a high one may be followed by its low half. The run is
# matched from its start only and without backtracking: linear in any input.
_SURROGATE_ESCAPE = re.compile(
    rb"(?<!\\)(\\++)u[dD]([89a-fA-F])[0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
)
_LONE_MARK = b"ffff"
_LONG_DIGITS = re.compile(rb"(?<![0-9])[0-9]{%d}" % (MAX_DIGITS + 1))
_DIGITS = b"0123456789"


class _NotText(Exception):
    def __init__(self, reason: str, offset: int):
        self.reason = reason
        self.offset = offset


class _TooManyDigits(Exception):
    pass


class FileSource:
    """An import file on disk, streamed: each ``items`` call reads it once more.
    ``digest`` is the hash of the last complete read (the import compares the
    reads, so a file changed between them is rejected, not half-applied)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = str(path)
        self.digest: bytes | None = None
        self._open().close()  # one line for a missing or unreadable file, before anything

    def _open(self):
        try:
            return self.path.open("rb")
        except FileNotFoundError:
            raise ImportFileError(f"{self.name}: no such file") from None
        except IsADirectoryError:
            raise ImportFileError(f"{self.name}: is a directory, not a file") from None
        except OSError as exc:
            raise ImportFileError(
                f"{self.name}: cannot read the file ({exc.strerror or exc})"
            ) from None

    def items(self, want: frozenset[str] | None = None) -> Iterator[Item]:
        with self._open() as handle:
            reader = _CheckedBytes(handle)
            walker = Walker(_guarded(ijson.basic_parse(reader, buf_size=READ_SIZE)))
            try:
                yield from walker.items(want)
                for _ in walker.events:  # ijson rejects what follows the object
                    break
            except ParseFailure as failure:
                raise self._failure(failure, failure.where or walker.where) from None
            except OSError as exc:
                raise ImportFileError(
                    f"{self.name}: cannot read the file ({exc.strerror or exc})"
                ) from None
            self.digest = reader.digest.digest()

    def _failure(self, failure: ParseFailure, where: str) -> ImportFileError:
        cause = failure.cause
        if isinstance(cause, _NotText):
            return ImportFileError(
                f"{self.name}: not UTF-8 text ({cause.reason} at byte {cause.offset})"
            )
        if isinstance(cause, _TooManyDigits):
            return ImportFileError(f"{where}: {TOO_MANY_DIGITS}")
        if isinstance(cause, ArithmeticError):  # Decimal: an exponent beyond any range
            return ImportFileError(f"{where}: number out of range")
        if isinstance(cause, EOFError):
            return ImportFileError(f"{self.name}: not valid JSON (the file ends at {where})")
        return self._syntax_error(where, cause)

    def _syntax_error(self, where: str, cause: BaseException) -> ImportFileError:
        """The JSON module's account of a syntax error (line and column). Reads the
        file once more as text: a cost in memory paid only for a file that is not JSON."""
        detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        try:
            json.loads(
                self.path.read_text(encoding="utf-8-sig"),
                object_pairs_hook=_discard,
                parse_constant=_reject_constant,
                parse_int=_discard,
                parse_float=_discard,
            )
        except json.JSONDecodeError as exc:
            return ImportFileError(
                f"{self.name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            )
        except _Constant as constant:
            return invalid(
                where,
                "must be a finite number (NaN and Infinity are not JSON)",
                float(constant.name),
            )
        except (RecursionError, ValueError, OSError, MemoryError):
            pass
        return ImportFileError(
            f"{self.name}: not valid JSON ({one_line_detail(detail)}) at {where}"
        )


def one_line_detail(text: str) -> str:
    return show(text)[1:-1] if text else text


class _Constant(Exception):
    def __init__(self, name: str):
        self.name = name


def _discard(_value: Any) -> None:
    return None


def _reject_constant(name: str) -> None:
    raise _Constant(name)


def _guarded(events: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """ijson's events; a failure to read them becomes ParseFailure."""
    try:
        yield from events
    except (ijson.JSONError, _NotText, _TooManyDigits, ValueError, ArithmeticError) as exc:
        raise ParseFailure(exc) from exc


class _CheckedBytes:
    """The bytes of an import file for ijson: without a UTF-8 byte order mark, checked
    to be UTF-8, with escaped lone surrogates marked (see the module docstring), and
    hashed."""

    def __init__(self, handle):
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0  # bytes of the file read so far
        self._held = b""  # the end of the last chunk, kept until its escapes are whole
        self._started = False
        self._too_many_digits = False
        self.digest = hashlib.blake2b(digest_size=32)

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson's probe of the type read() returns
            return b""
        if self._too_many_digits:  # ijson has read what comes before the run: stop here
            raise _TooManyDigits
        while True:
            data = self._handle.read(READ_SIZE if size is None or size < 0 else size)
            if not self._started:
                self._started = True
                if data.startswith(codecs.BOM_UTF8):
                    self._offset += len(codecs.BOM_UTF8)
                    data = data[len(codecs.BOM_UTF8) :]
            self._check_utf8(data)
            self.digest.update(data)
            out = self._mark_lone_surrogates(self._held + data, final=not data)
            out = self._stop_at_long_digits(out, final=not data)
            if out or not data or self._too_many_digits:
                return out

    def _stop_at_long_digits(self, data: bytes, *, final: bool) -> bytes:
        """Holds back a run of digits until it ends; a run past MAX_DIGITS ends the
        bytes given to ijson just before it."""
        long_run = _LONG_DIGITS.search(data)
        if long_run:
            self._too_many_digits = True
            if not long_run.start():  # an empty read would tell ijson the file ended
                raise _TooManyDigits
            return data[: long_run.start()]
        if final:
            return data
        end = len(data.rstrip(_DIGITS))
        self._held = data[end:] + self._held
        return data[:end]

    def _check_utf8(self, data: bytes) -> None:
        pending = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise _NotText(exc.reason, self._offset - pending + exc.start) from None
        self._offset += len(data)

    def _mark_lone_surrogates(self, buffer: bytes, *, final: bool) -> bytes:
        """Returns what can go to ijson, holding back a tail that may end inside an
        escape sequence (it is completed by the next chunk)."""
        cut = len(buffer) if final else max(len(buffer) - 12, 0)
        run = cut - len(buffer[:cut].rstrip(b"\\"))  # backslashes just before the cut
        cut -= run % 2  # the next read starts the rest of the run: keep its parity
        marked: bytearray | None = None
        position = 0
        while True:
            match = _SURROGATE_ESCAPE.search(buffer, position)
            if match is None or match.start() >= cut:
                break
            position = match.end()
            cut = max(cut, position)
            if len(match.group(1)) % 2 == 0:  # an escaped backslash, then "ud..."
                position = match.end(1) + 1
                continue
            high = match.group(2) in b"89abAB"
            if high and match.group(3):  # a proper pair
                continue
            if match.group(3):  # a low half after a lone low: look at it again
                position = match.end(2) + 2
            marked = marked if marked is not None else bytearray(buffer)
            start = match.end(1) + 1
            marked[start : start + 4] = _LONE_MARK
        data = bytes(marked) if marked is not None else buffer
        self._held = data[cut:]
        return data[:cut]
