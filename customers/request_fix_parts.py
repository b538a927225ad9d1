"""The parts of a staged channel request's fix form beyond fields, attributes,
affiliations added and addresses added (README "Admin"; R11 complete): affiliations
removed, addresses changed or retired, contact info added or removed, as typed inputs
(``add_more_inputs``), their fieldsets (``more_layout``) and the change they make
(``more_changes``). Used by ``customers.request_fix_form``."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.db.models import Q

from customers.forms import country_options
from customers.models import Address, AddressPurpose, Affiliation, ContactType
from customers.request_changes_text import ADDRESS_LABELS, as_text, part_of
from customers.services.changes import AddressChange, ContactInput, ContactLocator

ADDRESS_INPUTS = ("purpose", "street", "city", "state", "zip", "country", "is_primary")
ADDRESS_MAX_LENGTHS = {"street": 250, "city": 100, "state": 60, "zip": 20}
PRIMARY_CHOICES = [("", "Not changed"), ("yes", "Make primary"), ("no", "Not primary")]


def _address_names(refs: list[str]) -> dict[str, str]:
    """Each address a request names (location id or async GUID), in words when HQ has it."""
    guids = []
    for ref in refs:
        try:
            guids.append(uuid.UUID(ref))
        except ValueError:
            pass
    found = Address.objects.filter(Q(location_id__in=refs) | Q(async_address_id__in=guids))
    names = {}
    for a in found.order_by():
        words = f"{a.street}, {a.city} ({a.get_purpose_display().lower()})"
        names[a.location_id] = words
        if a.async_address_id:
            names[str(a.async_address_id)] = words
    return {ref: names.get(ref, f"address {ref} (not at HQ)") for ref in refs}


def add_more_inputs(form, raw) -> None:
    """Typed inputs for the parts beyond fields, attributes, affiliations added and
    addresses added (see the module docstring)."""
    _affiliations_removed_input(form, raw)
    changes = [c if isinstance(c, dict) else {} for c in part_of(raw, "address_changes", list)]
    retired = [as_text(r) for r in part_of(raw, "addresses_retired", list)]
    names = _address_names([as_text(c.get("address")) for c in changes] + retired)
    form.address_change_refs = []
    for index, change in enumerate(changes):
        _address_change_inputs(form, index, change, names)
    form.fields["addresses_retired"] = forms.MultipleChoiceField(
        required=False,
        label="Addresses retired",
        choices=[(r, names[r]) for r in retired],
        initial=retired,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick an address to keep it.",
    )
    contacts = [c if isinstance(c, dict) else {} for c in part_of(raw, "contacts", list)]
    form.contact_count = len(contacts)
    for index, contact in enumerate(contacts):
        _contact_inputs(form, index, contact)
    _contacts_removed_input(form, raw)


def _affiliations_removed_input(form, raw) -> None:
    """The affiliations the request removes: every HQ affiliation, ticked if removed."""
    known = list(Affiliation.objects.order_by("name").values_list("name", flat=True))
    removed = [as_text(n) for n in part_of(raw, "affiliations_removed", list)]
    form.fields["affiliations_removed"] = forms.MultipleChoiceField(
        required=False,
        label="Affiliations removed",
        choices=[*((n, n) for n in removed if n not in known), *((n, n) for n in known)],
        initial=removed,
        widget=forms.CheckboxSelectMultiple,
    )


def _address_change_inputs(form, index: int, change: dict, names: dict[str, str]) -> None:
    """The inputs of one address change (only those filled change the address), named
    by the address in words (``names``)."""
    ref = as_text(change.get("address"))
    form.address_change_refs.append(ref)
    values = change.get("values") if isinstance(change.get("values"), dict) else {}
    prefix = f"address_change_{index}_"
    purpose = as_text(values.get("purpose"))
    form.fields[prefix + "purpose"] = forms.ChoiceField(
        required=False,
        choices=[("", "Not changed"), *AddressPurpose.choices],
        initial=purpose,
        label=f"Change {names[ref]}: purpose",
    )
    for name, length in ADDRESS_MAX_LENGTHS.items():
        form.fields[prefix + name] = forms.CharField(
            required=False,
            strip=True,
            max_length=length,
            initial=as_text(values.get(name)),
            label=ADDRESS_LABELS[name].capitalize(),
            help_text="Left empty: not changed." if name == "street" else "",
        )
    country = as_text(values.get("country"))
    form.fields[prefix + "country"] = forms.ChoiceField(
        required=False, choices=country_options(country), initial=country, label="Country"
    )
    primary = values.get("is_primary")
    form.fields[prefix + "is_primary"] = forms.ChoiceField(
        required=False,
        choices=PRIMARY_CHOICES,
        initial="" if primary is None else "yes" if primary is True else "no",
        label="Primary",
    )


def code_choice_field(value: str, codes, *, kind: str, label: str) -> forms.ChoiceField:
    """A select of ``codes`` (a choices enum) set to the stored ``value``; a value not
    among them is listed first, marked as not a ``kind``."""
    choices = list(codes.choices)
    if value not in codes.values:
        choices.insert(0, (value, f"{value or '(none)'} (not a {kind})"))
    return forms.ChoiceField(choices=choices, initial=value, label=label)


def _contact_inputs(form, index: int, contact: dict) -> None:
    """The inputs of one contact the request adds (its type from the list)."""
    prefix = f"contact_{index}_"
    form.fields[prefix + "type"] = code_choice_field(
        as_text(contact.get("type")),
        ContactType,
        kind="contact type",
        label=f"Contact {index + 1}: type",
    )
    form.fields[prefix + "value"] = forms.CharField(
        required=False,
        strip=True,
        initial=as_text(contact.get("value")),
        label="Value",
        help_text="Left empty: dropped from the request.",
    )
    form.fields[prefix + "is_primary"] = forms.BooleanField(
        required=False, label="Primary", initial=contact.get("is_primary") is True
    )


def _contacts_removed_input(form, raw) -> None:
    """The contact info the request removes, each ticked (its type and value as JSON)."""
    removed_contacts = [
        c if isinstance(c, dict) else {} for c in part_of(raw, "contacts_removed", list)
    ]
    form.fields["contacts_removed"] = forms.MultipleChoiceField(
        required=False,
        label="Contact info removed",
        choices=[
            (
                json.dumps([as_text(c.get("type")), as_text(c.get("value"))]),
                f"{as_text(c.get('type')) or 'any type'}: {as_text(c.get('value'))}",
            )
            for c in removed_contacts
        ],
        initial=[
            json.dumps([as_text(c.get("type")), as_text(c.get("value"))]) for c in removed_contacts
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick a contact to keep it.",
    )


def more_layout(form) -> list[tuple[str | None, dict]]:
    """The admin's fieldsets for the inputs ``add_more_inputs`` made."""
    sets = [("Affiliations the request removes", {"fields": ["affiliations_removed"]})]
    for index in range(len(form.address_change_refs)):
        names = [f"address_change_{index}_{n}" for n in ADDRESS_INPUTS]
        sets.append((f"Address change {index + 1}", {"fields": [tuple(names)]}))
    if form.fields["addresses_retired"].choices:
        sets.append(("Addresses the request retires", {"fields": ["addresses_retired"]}))
    for index in range(form.contact_count):
        names = [f"contact_{index}_{n}" for n in ("type", "value", "is_primary")]
        sets.append((f"Contact info {index + 1} the request adds", {"fields": [tuple(names)]}))
    if form.fields["contacts_removed"].choices:
        sets.append(("Contact info the request removes", {"fields": ["contacts_removed"]}))
    return sets


def more_changes(form, data: dict) -> dict:
    """The parts beyond fields, attributes, affiliations added and addresses added, as
    the operator left them."""
    address_changes = []
    for index, ref in enumerate(form.address_change_refs):
        prefix = f"address_change_{index}_"
        values = {
            name: data.get(prefix + name)
            for name in ("purpose", "street", "city", "state", "zip", "country")
            if data.get(prefix + name)
        }
        primary = data.get(prefix + "is_primary")
        if primary:
            values["is_primary"] = primary == "yes"
        if values:
            address_changes.append(AddressChange(address=ref, values=values))
    contacts = [
        ContactInput(
            type=data.get(f"contact_{i}_type") or "",
            value=data.get(f"contact_{i}_value") or "",
            is_primary=bool(data.get(f"contact_{i}_is_primary")),
        )
        for i in range(form.contact_count)
        if data.get(f"contact_{i}_value")
    ]
    return {
        "affiliations_removed": tuple(data.get("affiliations_removed") or ()),
        "address_changes": tuple(address_changes),
        "addresses_retired": tuple(data.get("addresses_retired") or ()),
        "contacts": tuple(contacts),
        "contacts_removed": tuple(
            ContactLocator(*json.loads(text)) for text in data.get("contacts_removed") or ()
        ),
    }
