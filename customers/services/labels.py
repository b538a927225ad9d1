"""The words an operator reads for the fields a validation message names (README
"Admin"): ``addresses[0].country`` is "Address 1: Country", ``attributes.Loyalty tier``
is "Loyalty tier", ``customer_group`` is "Customer group".

The validator (``customers.services.validation``) names each field by its path, which
the forms use to put a message on the field or inline row it is about, and the import's
one-line error keeps (it names the section, index and field of the file). What a record
keeps as its last error, a job run's errors and what a page shows go through
``operator_text``: the same message, field named by its label, value unchanged.
"""

from __future__ import annotations

import re

FIELD_LABELS = {
    "async_address_id": "Async address ID",
    "async_customer_id": "Async customer ID",
    "customer_account": "Customer account",
    "customer_group": "Customer group",
    "edited_at": "Edited at",
    "first_name": "First name",
    "is_primary": "Primary",
    "last_name": "Last name",
    "organization_name": "Organization name",
    "store_number": "Store",
    "zip": "ZIP/postal code",
}
RELATION_LABELS = {"addresses": "Address", "contacts": "Contact"}
# "addresses[0].country", "contacts[1].value", "attributes.Loyalty tier", "email"
PATH = re.compile(
    r"(?P<relation>addresses|contacts)\[(?P<index>\d+)\]\.(?P<field>[a-z_]+)"
    r"|attributes\.(?P<attribute>[^:;]+)"
    r"|(?P<name>[a-z]+(?:_[a-z]+)*)"
)
# A path at the start of a message, or of one of several joined with "; ", or a
# path (not a bare name) inside one ("changes: addresses[0].street: …").
MESSAGE_PATH = re.compile(
    rf"(?P<lead>^|; )(?P<path>{PATH.pattern})(?=: )"
    r"|(?P<inner>(?<=: )(?:(?:addresses|contacts)\[\d+\]\.[a-z_]+|attributes\.[^:;]+))(?=: )"
)


def field_label(name: str) -> str:
    """The label of one field name: ``customer_group`` -> "Customer group"."""
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def path_label(path: str) -> str:
    """The label of a field path the validator names; a path it does not know as is."""
    match = PATH.fullmatch(path)
    if match is None:
        return path
    if match["relation"]:
        number = int(match["index"]) + 1
        return f"{RELATION_LABELS[match['relation']]} {number}: {field_label(match['field'])}"
    if match["attribute"]:
        return match["attribute"]
    if match["name"] == "attributes":  # an attribute's name that is itself wrong
        return "Attribute name"
    return field_label(match["name"])


def operator_text(text: str) -> str:
    """A validation message (or several joined with "; ") with each field path at the
    start of a message said as its label: ``addresses[0].country: invalid country code
    "XXL"`` -> ``Address 1: Country: invalid country code "XXL"``. Idempotent."""
    if not text:
        return text
    return MESSAGE_PATH.sub(
        lambda m: path_label(m["inner"]) if m["inner"] else m["lead"] + path_label(m["path"]),
        text,
    )


def operator_messages(messages: list[str]) -> list[str]:
    return [operator_text(message) for message in messages]
