"""Reads of stores (README "Layout": selectors read): stores by number, and the country
a store's phone numbers are typed in (R1, R12: the country of its default customer's
primary, else first, address)."""

from __future__ import annotations

from collections.abc import Iterable

from commerce.models import Store
from customers.models import Address


def stores_by_number(numbers: Iterable[str]) -> dict[str, Store]:
    return {
        s.number: s
        for s in Store.objects.filter(number__in=set(numbers)).select_related(
            "legal_entity", "default_customer__customer_group"
        )
    }


def _default_customer_addresses(filter_field: str, values) -> list[tuple]:
    """(key, store number, country, is_primary, pk) of the addresses of the default
    customers of the stores whose ``filter_field`` is among ``values``."""
    stores = "party__customer__default_for_stores"
    return list(
        Address.objects.filter(**{f"{stores}__{filter_field}__in": list(values)})
        .order_by()
        .values_list(
            f"{stores}__{filter_field}", f"{stores}__number", "country", "is_primary", "pk"
        )
    )


def _first_by_key(rows: list[tuple]) -> dict:
    """Per key, the country of the first store's primary (else first) address."""
    countries: dict = {}
    for key, _number, country, _primary, _pk in sorted(
        rows, key=lambda r: (str(r[0]), r[1], not r[3], r[4])
    ):
        countries.setdefault(key, country)
    return countries


def store_countries(store_numbers: Iterable[str]) -> dict[str, str]:
    """Store number -> the country of its default customer's primary (else first)
    address: where a phone number typed at the store without a country code is from."""
    numbers = set(store_numbers)
    return _first_by_key(_default_customer_addresses("number", numbers)) if numbers else {}


def legal_entity_countries(legal_entity_ids: Iterable[int]) -> dict[int, str]:
    """Legal entity id -> the fallback country of its first store (by number), for a
    customer that has neither a store nor an address."""
    ids = set(legal_entity_ids)
    return _first_by_key(_default_customer_addresses("legal_entity_id", ids)) if ids else {}
