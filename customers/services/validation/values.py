"""How validation names a value and the checks every text value takes (R5): a value
shown in a message (``quoted``), text that fits its column (``too_long``,
``lengths_errors``), an email that is one (``email_is_valid``)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from customers.services.validation.limits import SHOWN_VALUE_CHARACTERS


def quoted(value: Any) -> str:
    """The value as a message shows it: quoted if text, shortened if long."""
    if isinstance(value, str):
        # One printable line whatever the value holds (a line break, a NUL).
        shown = value if value.isprintable() else value.encode("unicode_escape").decode()
        text = f'"{shown}"'
    else:
        text = repr(value)
    if len(text) <= SHOWN_VALUE_CHARACTERS:
        return text
    return text[: SHOWN_VALUE_CHARACTERS - 2] + ('…"' if isinstance(value, str) else "…")


def email_is_valid(value: str) -> bool:
    """An email address Django's ``validate_email`` accepts."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# Characters no one-line field holds: control characters (NUL, which PostgreSQL cannot
# store in text at all, line breaks, escapes) and lone surrogates (not encodable).
_NOT_IN_A_FIELD = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def too_long(name: str, value: Any, limit: int) -> str | None:
    """A text value the column cannot hold (or not text at all, or with a character no
    one-line field holds), named with the value."""
    if not isinstance(value, str):
        return f"{name}: {quoted(value)} is not text"
    if _NOT_IN_A_FIELD.search(value):
        return f"{name}: {quoted(value)} holds a control character"
    if len(value) > limit:
        return f"{name}: {quoted(value)} is longer than {limit} characters ({len(value)})"
    return None


def lengths_errors(values: dict[str, Any], limits: dict[str, int], prefix: str = "") -> list[str]:
    """``too_long`` of each value against its limit, named with ``prefix``."""
    found = (too_long(f"{prefix}{name}", value, limits[name]) for name, value in values.items())
    return [error for error in found if error]
