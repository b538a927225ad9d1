"""Reading an import file as a stream of records, one at a time.

A file is never held in memory whole: ijson turns it into parse events (files.py) and
the walker here builds one record at a time (a legal entity, an HQ customer with its
addresses, one async customer with its children, a channel entry's header), so
memory does not grow with the file. A payload already in memory
(``data_import(payload=...)``) is turned into the same events, so both are checked by
the same code, and either can be read again (the import reads twice: check, write).

Every value is checked here for what no database can store or no later step can
handle, naming the section, index and field:

- NUL (``\\u0000``) in a string or a name: PostgreSQL cannot store it, in text or JSON.
- a lone surrogate (``\\ud800``): not text, cannot be encoded to UTF-8; and U+FFFF,
  which the file reader (files.py) puts in the place of an escaped lone surrogate.
- NaN and infinities (JSON has none, though Python's json parses them), integers
  beyond 64 bits, a run of more than MAX_DIGITS digits (in a number or a string, as
  the file reader stops it).
- nesting deeper than ``MAX_DEPTH`` (a channel record is five levels deep; recursive
  encoders further on, json.dumps among them, fail at about a thousand).
- a name repeated inside one object (JSON parsers keep the last one silently).
"""

import math
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .report import ImportFileError, invalid, key_shown, show
from .schema import CHANNEL_LISTS, SCHEMAS, SECTIONS

# The file's own structure takes 5 levels (file, channel, entry, list, record) and an
# attribute value 2 more; nothing a store sends needs more.
MAX_DEPTH = 32
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_BAD_TEXT = re.compile("[\x00\ud800-\udfff\uffff]")
# Python's int/str conversion limit (4,300 digits by default); nothing the file holds
# needs a run of digits near it.
MAX_DIGITS = min(sys.get_int_max_str_digits() or 4300, 4300)
_LONG_DIGITS_TEXT = re.compile(f"(?<![0-9])[0-9]{{{MAX_DIGITS + 1}}}")
TOO_MANY_DIGITS = (
    f"holds more than {MAX_DIGITS} digits in a row, which no field needs and no number "
    "within range has"
)
_PREVIEW_EVENTS = 64

Item = tuple[str, int, str, Any]  # kind, channel entry index (-1 outside), path, value


class _BadValue(Exception):
    def __init__(self, reason: str, value: Any):
        self.reason = reason
        self.value = value


class _BadName(Exception):
    pass


class _TooDeep(Exception):
    pass


class ParseFailure(Exception):
    """The event stream broke (not JSON, not UTF-8, a number Python cannot read);
    ``where`` is the path being read when it did."""

    def __init__(self, cause: BaseException):
        self.cause = cause
        self.where = ""


def _text_problem(text: str) -> str:
    if "\x00" in text:
        return "must not contain NUL (\\u0000), which PostgreSQL cannot store"
    return "must be valid text, without a lone surrogate (\\ud800-\\udfff) or U+FFFF"


def _string_problem(text: str) -> str | None:
    if _BAD_TEXT.search(text):
        return _text_problem(text)
    if len(text) > MAX_DIGITS and _LONG_DIGITS_TEXT.search(text):
        return TOO_MANY_DIGITS  # as the file reader (files.py) finds it
    return None


def _scalar(event: str, value: Any) -> Any:
    if event == "string":
        if problem := _string_problem(value):
            raise _BadValue(problem, value)
        return value
    if event == "number":
        kind = type(value)
        if kind is int:
            if not _INT_MIN <= value <= _INT_MAX:
                raise _BadValue("integer out of range (at most 64 bits)", value)
            return value
        if kind is Decimal:  # ijson reads a fraction or exponent as Decimal
            number = float(value)
            if not math.isfinite(number):
                raise _BadValue("number out of range", value)
            return number
        if kind is float and math.isfinite(value):
            return value
        raise _BadValue("must be a finite number (NaN and Infinity are not JSON)", value)
    if event in ("boolean", "null"):
        return value
    raise _BadValue("must be a JSON value (string, number, true, false, null, list, object)", value)


class Walker:
    """Turns events into the file's items, remembering where it is for errors."""

    def __init__(self, events: Iterator[tuple[str, Any]]):
        self.events = events
        self.where = ""

    def items(self, want: frozenset[str] | None) -> Iterator[Item]:
        """Records of the kinds in ``want`` (all when None), in file order. Kinds: a
        section name (its records), ``channel`` (an entry's fields other than its
        lists, at the entry's end), ``channel.store`` (as soon as it is read) and each
        of CHANNEL_LISTS (the records of an entry's list)."""
        events = self.events
        self.where = "file"
        event, value = next(events)
        if event != "start_map":
            raise invalid("file", "must be a JSON object", self._preview(event, value))
        seen = set()
        for event, name in events:
            if event == "end_map":
                return
            self.where = name_path = key_shown(name)
            self._check_name(name, name_path)
            if name not in SCHEMAS:
                raise ImportFileError(
                    f"{name_path}: unknown section {show(name)} (sections: {', '.join(SECTIONS)})"
                )
            if name in seen:
                raise ImportFileError(f"{name_path}: repeated section {show(name)}")
            seen.add(name)
            event, value = next(events)
            if event == "null":
                continue
            if event != "start_array":
                raise invalid(name, "must be a list", self._preview(event, value))
            if name == "channel":
                yield from self._channel(want)
            else:
                yield from self._records(name, -1, name, want, depth=3)

    def _records(
        self, kind: str, entry: int, prefix: str, want: frozenset[str] | None, *, depth: int
    ) -> Iterator[Item]:
        build = want is None or kind in want
        index = 0
        for event, value in self.events:
            if event == "end_array":
                return
            self.where = path = f"{prefix}[{index}]"
            if build:
                yield kind, entry, path, self._value(event, value, path, depth)
            else:
                self._skip(event)
            index += 1

    def _channel(self, want: frozenset[str] | None) -> Iterator[Item]:
        entry = 0
        events = self.events
        for event, value in events:
            if event == "end_array":
                return
            self.where = path = f"channel[{entry}]"
            if event != "start_map":
                raise invalid(path, "must be an object", self._preview(event, value))
            header: dict[str, Any] = {}
            for event, name in events:
                if event == "end_map":
                    break
                self.where = field_path = f"{path}.{key_shown(name)}"
                self._check_name(name, field_path)
                if name in header:
                    raise invalid(field_path, "repeated field", name)
                event, value = next(events)
                if name in CHANNEL_LISTS and event == "start_array":
                    header[name] = []  # streamed below, never kept
                    yield from self._records(name, entry, field_path, want, depth=5)
                elif name in CHANNEL_LISTS and event != "null":
                    raise invalid(field_path, "must be a list", self._preview(event, value))
                else:
                    header[name] = self._value(event, value, field_path, 4)
                    if name == "store" and (want is None or "channel.store" in want):
                        yield "channel.store", entry, field_path, header[name]
            self.where = path
            if want is None or "channel" in want:
                yield "channel", entry, path, header
            entry += 1

    def _check_name(self, name: Any, path: str) -> None:
        if not isinstance(name, str):
            raise invalid(path, "a name must be a string", name)
        if problem := _string_problem(name):
            raise invalid(path, problem, name)

    def _value(self, event: str, value: Any, path: str, depth: int) -> Any:
        """Builds one JSON value starting at ``event`` (at nesting ``depth``), checking
        every string, name and number in it."""
        if event == "start_map":
            root: Any = {}
        elif event == "start_array":
            root = []
        else:
            try:
                return _scalar(event, value)
            except _BadValue as bad:
                raise invalid(path, bad.reason, bad.value) from None
        stack: list[Any] = [root]
        names: list[Any] = [None]
        try:
            for event, value in self.events:
                top = stack[-1]
                if event == "map_key":
                    names[-1] = value
                    if type(value) is not str or _string_problem(value) or value in top:
                        raise _BadName
                elif event == "end_map" or event == "end_array":
                    stack.pop()
                    names.pop()
                    if not stack:
                        return root
                elif event == "start_map" or event == "start_array":
                    child: Any = {} if event == "start_map" else []
                    if type(top) is dict:
                        top[names[-1]] = child
                    else:
                        top.append(child)
                    stack.append(child)
                    names.append(None)
                    if depth + len(stack) - 1 > MAX_DEPTH:
                        raise _TooDeep
                elif type(top) is dict:
                    top[names[-1]] = _scalar(event, value)
                else:
                    top.append(_scalar(event, value))
        except _BadValue as bad:
            raise invalid(path + _inner_path(stack, names), bad.reason, bad.value) from None
        except _BadName:
            where = path + _inner_path(stack, names)
            self._check_name(names[-1], where)
            raise invalid(where, "repeated field", names[-1]) from None
        except _TooDeep:
            where = path + _inner_path(stack[:-1], names[:-1], reading=False)
            raise ImportFileError(f"{where}: nested more than {MAX_DEPTH} levels deep") from None
        except ParseFailure as failure:
            failure.where = failure.where or path + _inner_path(stack, names)
            raise
        raise ParseFailure(EOFError("the file ends inside a value"))

    def _skip(self, event: str) -> None:
        if event != "start_map" and event != "start_array":
            return
        depth = 1
        for event, _ in self.events:
            if event == "start_map" or event == "start_array":
                depth += 1
            elif event == "end_map" or event == "end_array":
                depth -= 1
                if depth == 0:
                    return

    def _preview(self, event: str, value: Any) -> Any:
        """The start of a value, for a message that rejects it: reading no more than a
        few events, so a huge value is never built."""
        if event != "start_map" and event != "start_array":
            return value
        root: Any = {} if event == "start_map" else []
        stack, names = [root], [None]
        for count, (event, value) in enumerate(self.events):
            if count == _PREVIEW_EVENTS or not stack:
                break
            top = stack[-1]
            if event == "map_key":
                names[-1] = value
                continue
            if event in ("end_map", "end_array"):
                stack.pop()
                names.pop()
                continue
            child = {} if event == "start_map" else [] if event == "start_array" else value
            if isinstance(top, dict):
                top[names[-1]] = child
            else:
                top.append(child)
            if event in ("start_map", "start_array"):
                stack.append(child)
                names.append(None)
        return root


def _inner_path(stack: list[Any], names: list[Any], *, reading: bool = True) -> str:
    """The path inside a value being built: each list's index is that of its last
    element, except the innermost's while ``reading`` (the element being read next)."""
    parts = []
    last = len(stack) - 1
    for level, (container, name) in enumerate(zip(stack, names, strict=True)):
        if type(container) is dict:
            if name is not None:
                parts.append(f".{key_shown(name)}")
        else:
            parts.append(f"[{len(container) - (0 if reading and level == last else 1)}]")
    return "".join(parts)


# --- A payload in memory --------------------------------------------------------


def payload_events(payload: Any) -> Iterator[tuple[str, Any]]:
    """The parse events of a value already in memory, as ijson would give them for
    its JSON text (without recursion, so any depth is walked safely)."""
    stack: list[tuple[Iterator, bool]] = []
    current: Iterator = iter((payload,))
    is_map = False
    while True:
        for item in current:
            if is_map:
                name, item = item
                yield "map_key", name
            if isinstance(item, dict):
                yield "start_map", None
                stack.append((current, is_map))
                current, is_map = iter(item.items()), True
                break
            if isinstance(item, list | tuple):
                yield "start_array", None
                stack.append((current, is_map))
                current, is_map = iter(item), False
                break
            if item is None:
                yield "null", None
            elif isinstance(item, bool):
                yield "boolean", item
            elif isinstance(item, int | float):
                yield "number", item
            elif isinstance(item, str):
                yield "string", item
            else:
                yield "other", item
        else:
            if not stack:
                return
            yield ("end_map" if is_map else "end_array"), None
            current, is_map = stack.pop()


class PayloadSource:
    """An import file already parsed (a dict, as ``json.loads`` gives it)."""

    name = "payload"

    def __init__(self, payload: Any):
        self.payload = payload
        self.digest: bytes | None = None

    def items(self, want: frozenset[str] | None = None) -> Iterator[Item]:
        yield from Walker(payload_events(self.payload)).items(want)
