"""A staged channel request's changes in words (README "Admin"; R11): the list of
failed requests and the fix form's stored version show them so, whatever the stored JSON
holds (a value of the wrong type is shown as text, never spelled out as an error)."""

from __future__ import annotations

import json
import math
from typing import Any

from customers.services.labels import field_label
from customers.services.validation import EDITABLE_FIELDS

FIELD_LABELS = {name: field_label(name) for name in EDITABLE_FIELDS}
ADDRESS_LABELS = {
    "purpose": "purpose",
    "street": "street",
    "city": "city",
    "state": "state",
    "zip": "ZIP/postal code",
    "country": "country",
    "is_primary": "primary",
}


def as_text(value: Any) -> str:
    """A stored value as an input shows it: text as it is, anything else as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return repr(type(value).__name__)


def is_scalar(value: Any) -> bool:
    """A single JSON value an input can show and give back (a finite number, text, a
    boolean)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | bool | int)


def part_of(raw: Any, name: str, kind: type) -> Any:
    """A part of the stored changes as far as it can be shown (empty if it cannot)."""
    value = raw.get(name) if isinstance(raw, dict) else None
    return value if isinstance(value, kind) else kind()


def changes_text(changes: Any) -> str:
    """A request's changes in words: ``Email → ona@new.example; Tier → Silver; …``,
    whatever the stored JSON holds."""
    parts = [
        f"{FIELD_LABELS.get(name, name)} → {as_text(value) or '(empty)'}"
        for name, value in part_of(changes, "fields", dict).items()
    ]
    parts += [
        f"{name} → {'(cleared)' if value is None else as_text(value)}"
        for name, value in part_of(changes, "attributes", dict).items()
    ]
    parts += [f"affiliation + {as_text(name)}" for name in part_of(changes, "affiliations", list)]
    for address in part_of(changes, "addresses", list):
        a = address if isinstance(address, dict) else {}
        place = ", ".join(as_text(a.get(n)) for n in ("street", "city", "state", "zip") if a.get(n))
        primary = ", primary" if a.get("is_primary") is True else ""
        parts.append(
            f"address + {as_text(a.get('purpose'))}: {place} ({as_text(a.get('country'))}{primary})"
        )
    parts += [f"affiliation − {as_text(n)}" for n in part_of(changes, "affiliations_removed", list)]
    for change in part_of(changes, "address_changes", list):
        c = change if isinstance(change, dict) else {}
        values = c.get("values") if isinstance(c.get("values"), dict) else {}
        what = ", ".join(f"{ADDRESS_LABELS.get(n, n)} {as_text(v)}" for n, v in values.items())
        parts.append(f"address {as_text(c.get('address'))} → {what}")
    parts += [f"address retired: {as_text(r)}" for r in part_of(changes, "addresses_retired", list)]
    for contact in part_of(changes, "contacts", list):
        c = contact if isinstance(contact, dict) else {}
        primary = " (primary)" if c.get("is_primary") is True else ""
        parts.append(f"contact + {as_text(c.get('type'))} {as_text(c.get('value'))}{primary}")
    for contact in part_of(changes, "contacts_removed", list):
        c = contact if isinstance(contact, dict) else {}
        parts.append(f"contact − {as_text(c.get('type')) or 'any'} {as_text(c.get('value'))}")
    return "; ".join(parts) or "(nothing)"
