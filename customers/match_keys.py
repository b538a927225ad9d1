"""R12 match keys: the normalized forms duplicate detection compares.

Pure functions, no database: the services that write customers store these keys in
indexed columns (``Customer.match_*``), duplicate detection computes them for staged
records at match time, and the migration that added the columns backfilled them
with the same functions.

- email: surrounding and inner whitespace removed, case folded;
- phone: E.164 (``phonenumbers``), parsed with the country of the customer's primary
  (else first) address, else a fallback country (the store's, or the legal entity's);
  a number that cannot be parsed, or cannot be a number of its country, has no key;
- name and zip: the display name case folded, accents stripped (NFKD without the
  combining marks), whitespace collapsed, then "|" and the zip in capitals without
  spaces, of the same address; no key without both.

An empty key never matches anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import phonenumbers
import pycountry

KINDS = ("email", "phone", "name_zip")
# How a message and a page name each kind.
KIND_LABELS = {"email": "email", "phone": "phone", "name_zip": "name and zip"}


def reasons_in_words(reasons: dict[str, str]) -> str:
    """What two records share, said to an operator: 'same email, same name and zip code
    98101' (a key itself is never shown: it is a normalized form of the value)."""
    words = []
    for kind in KINDS:
        if kind not in reasons:
            continue
        if kind == "name_zip":
            zip_code = str(reasons[kind]).rpartition("|")[2]
            words.append(f"same name and zip code {zip_code}".rstrip())
        else:
            words.append(f"same {KIND_LABELS[kind]}")
    return ", ".join(words)


# The Customer column holding each kind.
KIND_COLUMNS = {"email": "match_email", "phone": "match_phone", "name_zip": "match_name_zip"}
MATCH_KEY_COLUMNS = tuple(KIND_COLUMNS[kind] for kind in KINDS)


@dataclass(frozen=True)
class MatchKeys:
    email: str = ""
    phone: str = ""
    name_zip: str = ""

    def items(self) -> list[tuple[str, str]]:
        """(kind, key) of the keys this record has, in KINDS order."""
        return [(kind, getattr(self, kind)) for kind in KINDS if getattr(self, kind)]

    def columns(self) -> dict[str, str]:
        """The Customer column values."""
        return {KIND_COLUMNS[kind]: getattr(self, kind) for kind in KINDS}

    def values(self) -> tuple[str, ...]:
        """The Customer column values in ``MATCH_KEY_COLUMNS`` order."""
        return tuple(getattr(self, kind) for kind in KINDS)


def email_key(email: str | None) -> str:
    return "".join((email or "").split()).casefold()


@cache
def alpha2(alpha3: str | None) -> str | None:
    """ISO 3166-1 alpha-2 of an alpha-3 code (what ``phonenumbers`` calls a region)."""
    if not alpha3:
        return None
    country = pycountry.countries.get(alpha_3=alpha3.strip().upper())
    return country.alpha_2 if country else None


def phone_key(phone: str | None, *, country: str | None = None) -> str:
    """E.164 form of ``phone``, read as a number of ``country`` (alpha-3) unless it
    carries its own country code; "" when it cannot be a phone number."""
    text = (phone or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, alpha2(country))
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def name_fold(name: str | None) -> str:
    """Case folded, accents stripped, whitespace collapsed: "  José  NÚÑEZ" -> "jose nunez"."""
    decomposed = unicodedata.normalize("NFKD", (name or "").casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def zip_fold(zip: str | None) -> str:
    return "".join((zip or "").split()).upper()


def name_zip_key(name: str | None, zip: str | None) -> str:
    folded, code = name_fold(name), zip_fold(zip)
    return f"{folded}|{code}" if folded and code else ""


def main_address(addresses: Iterable) -> object | None:
    """The primary address, else the first one (objects with ``is_primary``)."""
    addresses = list(addresses)
    return next((a for a in addresses if a.is_primary), addresses[0] if addresses else None)


def match_keys(
    *, email: str, phone: str, name: str, addresses: Iterable, fallback_country: str | None
) -> MatchKeys:
    """The keys of one customer or staged record; ``addresses`` have ``zip``, ``country``
    and ``is_primary``."""
    address = main_address(addresses)
    country = (address.country if address is not None else "") or fallback_country
    return MatchKeys(
        email=email_key(email),
        phone=phone_key(phone, country=country if alpha2(country) else fallback_country),
        name_zip=name_zip_key(name, address.zip if address is not None else ""),
    )
