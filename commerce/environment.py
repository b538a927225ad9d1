"""The one reader of the environment: django-environ's ``Env``, made strict.

``environ.Env`` guesses: ``bool`` reads any unknown word as "no", ``float`` drops the
characters it cannot read, ``int`` fails with a bare ``ValueError``. Settings read here
refuse a value they cannot read instead, with a one-line ``ImproperlyConfigured`` that
names the variable and the value (README "Configuration"). A variable that is unset or
blank takes its default; a list that is set but blank is empty.
"""

from __future__ import annotations

import math
import re

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
_DECIMAL = re.compile(r"\d+(\.\d*)?|\.\d+")


class Env(environ.Env):
    """``environ.Env`` whose typed readers refuse what they cannot read."""

    def _raw(self, var: str) -> str | None:
        # Read as written: Env.get_value would take a value starting with "$" for the
        # name of another variable (a SECRET_KEY may start with "$").
        return self.ENVIRON.get(f"{self.prefix}{var}")

    def _given(self, var: str) -> str | None:
        raw = self._raw(var)
        return raw.strip() if raw is not None and raw.strip() else None

    @staticmethod
    def refused(var: str, expected: str, raw: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{var}: expected {expected}, got {raw!r}")

    def str(self, var: str, default: str = "") -> str:
        raw = self._raw(var)
        return default if raw is None else raw

    def bool(self, var: str, default: bool) -> bool:
        value = self._given(var)
        if value is None:
            return default
        word = value.lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise self.refused(var, "1/0, true/false, yes/no or on/off", self._raw(var))
        return self.parse_value(word, bool)

    def int(self, var: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self._given(var)
        if value is None:
            return default
        number = self.parse_value(value, int) if value.isascii() and value.isdigit() else None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            if maximum is not None:
                expected = f"a whole number from {minimum} to {maximum}"
            else:
                expected = f"a whole number of {minimum} or more"
            raise self.refused(var, expected, self._raw(var))
        return number

    def float(self, var: str, default: float) -> float:
        """A number greater than 0 (an interval in seconds)."""
        value = self._given(var)
        if value is None:
            return default
        number = self.parse_value(value, float) if _DECIMAL.fullmatch(value) else 0.0
        if not (number > 0 and math.isfinite(number)):
            raise self.refused(var, "a number greater than 0", self._raw(var))
        return number

    def list(self, var: str, default: list[str]) -> list[str]:
        """Comma-separated; blank items are dropped, so a set but blank value is []."""
        raw = self._raw(var)
        if raw is None:
            return list(default)
        return [item.strip() for item in self.parse_value(raw, list) if item.strip()]
