"""The store pages' words (README "Admin"; R1, R11): how long ago, a store's change in
words, a customer's type, a store and how it creates and edits customers."""

from __future__ import annotations

import datetime

from commerce.models import Store
from customers.countries import country_name
from customers.forms import STORE_EDIT_LABELS
from customers.models import CustomerType


def age_text(since: datetime.datetime, now: datetime.datetime) -> str:
    """How long ago, the way a cashier says it: "45 s", "3 min", "2 h 5 min", "3 d 4 h"."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def edit_text(changes: dict) -> str:
    """A store's change in words: ``Email → ona@new.example; address added: 9 New St, …``."""
    parts = [
        f"{STORE_EDIT_LABELS.get(name, name)} → {value or '(empty)'}"
        for name, value in (changes.get("fields") or {}).items()
    ]
    parts += [f"{name} → {value}" for name, value in (changes.get("attributes") or {}).items()]
    parts += [f"affiliation added: {name}" for name in changes.get("affiliations") or ()]
    parts += [
        "address added: "
        + ", ".join(
            p
            for p in (a.get("street"), a.get("city"), a.get("zip"), country_name(a.get("country")))
            if p
        )
        + (" (primary)" if a.get("is_primary") else "")
        for a in changes.get("addresses") or ()
    ]
    parts += more_edit_text(changes)
    return "; ".join(parts) or "nothing"


def type_label(value: str) -> str:
    """A customer type as the page names it ("Person"), or the stored value."""
    return CustomerType(value).label if value in CustomerType.values else value or "-"


def short_id(request_id) -> str:
    """A channel request's id, shortened as the page shows it."""
    return str(request_id)[:8]


def store_label(store: Store) -> str:
    """A store as the page names it: number and name."""
    return f"{store.number} {store.name}"


def store_mode(store: Store) -> str:
    """How the store creates and edits customers now (R1)."""
    if store.offline:
        return "offline: creates and edits asynchronously"
    if store.functionality_profile.create_customer_in_async_mode:
        return "async mode"
    return "real time"


def more_edit_text(changes: dict) -> list[str]:
    """The parts of a store's change beyond fields, attributes and added addresses, in
    words (an address by its location or async id, as the store named it)."""
    parts = [f"affiliation removed: {name}" for name in changes.get("affiliations_removed") or ()]
    for change in changes.get("address_changes") or ():
        values = change.get("values") or {}
        words = [
            ("primary" if v else "not primary")
            if n == "is_primary"
            else country_name(v)
            if n == "country"
            else v
            for n, v in values.items()
        ]
        parts.append("address changed: " + ", ".join(str(w) for w in words))
    parts += [f"address retired ({ref})" for ref in changes.get("addresses_retired") or ()]
    parts += [
        f"{c.get('type')} added: {c.get('value')}" + (" (primary)" if c.get("is_primary") else "")
        for c in changes.get("contacts") or ()
    ]
    parts += [f"contact removed: {c.get('value')}" for c in changes.get("contacts_removed") or ()]
    return parts
