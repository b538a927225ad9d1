"""ISO 3166-1 alpha-3 country codes and names, from pycountry's copy of the ISO data.

Addresses store the alpha-3 code (R5 rejects any other); the admin offers
"Name (CODE)" choices.
"""

import unicodedata
from functools import cache

import pycountry

ISO3166_ALPHA3: frozenset[str] = frozenset(country.alpha_3 for country in pycountry.countries)


@cache
def _names() -> dict[str, str]:
    # common_name is the everyday name where ISO's is formal ("Bolivia" for
    # "Bolivia, Plurinational State of").
    return {
        country.alpha_3: getattr(country, "common_name", None) or country.name
        for country in pycountry.countries
    }


def _sort_key(name: str) -> str:
    # "Åland Islands" sorts with the A's, not after "Zimbabwe".
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def _choices() -> tuple[tuple[str, str], ...]:
    ordered = sorted(_names().items(), key=lambda item: (_sort_key(item[1]), item[0]))
    return tuple((code, f"{name} ({code})") for code, name in ordered)


def country_choices() -> list[tuple[str, str]]:
    """(alpha-3 code, "Name (CODE)") for every country, sorted by name."""
    return list(_choices())


def country_name(code: str) -> str:
    """The country's name, or the code itself when it is not an ISO 3166-1 alpha-3 code."""
    return _names().get(code, code)
