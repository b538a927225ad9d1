"""The form that fixes a staged channel request HQ rejected (R5, R11), on its admin page.

The request's changes are shown as typed inputs, never as JSON: the customer fields it
sets (a "Change" box each; ticked with an empty value clears the field), the attributes
it sets or clears (an input of each attribute's type), the affiliations it adds or
removes, the addresses it adds (purpose and country from their lists), changes (only
the inputs filled change) or retires (named by street and city), and the contact info
it adds or removes. What the operator saves is
rebuilt from those inputs, so a stored value of the wrong type (``"street": 5``, a list,
``Infinity``) is shown as text and saved as text, or not at all: the form cannot store
a change HQ cannot read.

On save the change is judged by the rule HQ applies to it (``customer_changes_errors``),
and each problem is shown on the input it names. As on the staged customer's page, a
problem the operator did not touch does not stop a plain "Save" (the page says what is
left), but "Save and synchronize again" sends only a change HQ will accept.

The inputs of the parts beyond fields, attributes, affiliations added and addresses
added are in ``customers.request_fix_parts``; a request's changes in words, in
``customers.request_changes_text``.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django import forms

from customers.fix_forms import (
    BLANK_CHOICE,
    SYNC_AGAIN,
    attribute_value_field,
    attribute_value_parse,
    attribute_value_shown,
)
from customers.forms import country_options
from customers.models import (
    AddressPurpose,
    Affiliation,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.request_changes_text import (
    FIELD_LABELS,
    as_text,
    changes_text,
    is_scalar,
    part_of,
)
from customers.request_fix_parts import (
    ADDRESS_INPUTS,
    ADDRESS_MAX_LENGTHS,
    add_more_inputs,
    code_choice_field,
    more_changes,
    more_layout,
)
from customers.selectors.stores import stores_by_number
from customers.services.changes import (
    EDITABLE_FIELDS,
    CustomerChanges,
    customer_changes_errors,
)
from customers.services.labels import operator_text
from customers.services.validation import AddressInput, ReferenceData
from customers.shown_version import ShownVersionForm, digest

FIELD_MAX_LENGTHS = {"first_name": 100, "last_name": 100, "organization_name": 200}
SET, CLEAR = "set", "clear"

# "addresses[0].street: ...", "attributes.Tier: ...", "affiliations: ...", "email: ..."
ADDRESS_ERROR = re.compile(r"^addresses\[(?P<index>\d+)\]\.(?P<field>\w+)$")
CHANGE_ERROR = re.compile(r"^address_changes\[(?P<index>\d+)\]\.(?P<field>\w+)$")
CONTACT_ERROR = re.compile(r"^contacts\[(?P<index>\d+)\]\.(?P<field>\w+)$")


def _customer_type(row: StagedChannelRequest, store) -> str | None:
    """The type of the customer the request changes, for the empty-name rule."""
    if row.target_account:
        customer = (
            Customer.objects.select_related("party")
            .filter(legal_entity=store.legal_entity, account=row.target_account)
            .first()
        )
        return customer.party.type if customer else None
    customer = (
        Customer.objects.select_related("party")
        .filter(async_customer_id=row.target_async_customer_id)
        .first()
    )
    if customer is not None:
        return customer.party.type
    staged = StagedAsyncCustomer.objects.filter(
        channel_database=row.channel_database, async_customer_id=row.target_async_customer_id
    ).first()
    return staged.type if staged else None


class StagedChannelRequestFixForm(ShownVersionForm, forms.ModelForm):
    """A staged channel request's changes in typed inputs (see the module docstring).
    ``layout()`` gives the admin its fieldsets; after ``is_valid`` ``remaining_errors``
    lists the problems left for a later fix."""

    record_label = "channel request"
    remaining_errors: list[str]

    class Meta:
        model = StagedChannelRequest
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        row = self.instance
        raw = row.changes
        self.store = stores_by_number([row.store_number]).get(row.store_number)
        self.attributes = {a.name: a for a in CustomerAttribute.objects.all()}
        self._field_inputs(part_of(raw, "fields", dict))
        self._attribute_inputs(part_of(raw, "attributes", dict))
        self._affiliation_input(part_of(raw, "affiliations", list))
        self._address_inputs(part_of(raw, "addresses", list))
        add_more_inputs(self, raw)

    # --- The inputs ---

    def _field_inputs(self, stored: dict) -> None:
        for name in EDITABLE_FIELDS:
            label = FIELD_LABELS[name]
            self.fields[f"change_{name}"] = forms.BooleanField(
                required=False,
                label=f"Change {label.lower()}",
                initial=name in stored,
                help_text="Ticked: the request sets this field (left empty, it clears it).",
            )
            current = as_text(stored.get(name))
            if name == "customer_group":
                field = forms.ChoiceField(
                    required=False, choices=self._group_choices(current), label=label
                )
            else:
                field = forms.CharField(
                    required=False,
                    strip=False,
                    label=label,
                    max_length=FIELD_MAX_LENGTHS.get(name),
                    widget=forms.TextInput(attrs={"style": "width: 20em"}),
                )
            field.initial = current
            self.fields[name] = field

    def _group_choices(self, current: str) -> list[tuple[str, str]]:
        legal_entity = self.store.legal_entity if self.store else None
        groups = list(
            CustomerGroup.objects.filter(legal_entity=legal_entity).order_by("code")
            if legal_entity
            else []
        )
        options = [BLANK_CHOICE]
        if current and current not in {g.code for g in groups}:
            where = legal_entity.code if legal_entity else "the store's legal entity"
            options.append((current, f"{current} (not a group of {where})"))
        options += [(g.code, f"{g.code} – {g.name}" if g.name else g.code) for g in groups]
        return options

    def _attribute_inputs(self, stored: dict) -> None:
        """Two inputs per attribute (what the request does with it, and the value): every
        HQ attribute, and the names the request holds that HQ does not know."""
        self.stored_attributes = stored
        self.attribute_names = sorted({*self.attributes, *(str(n) for n in stored)})
        for index, name in enumerate(self.attribute_names):
            attribute = self.attributes.get(name)
            value = stored.get(name)
            if attribute is None:
                label = f"{name} (not an attribute at HQ)"
                actions = [(SET, "Set to"), ("", "Drop from the request")]
            else:
                label = f"{name} ({attribute.get_type_display().lower()})"
                actions = [("", "Not changed"), (SET, "Set to"), (CLEAR, "Clear")]
            initial = "" if name not in stored else CLEAR if value is None else SET
            self.fields[f"attribute_{index}_action"] = forms.ChoiceField(
                required=False, choices=actions, initial=initial, label=label
            )
            field = attribute_value_field(attribute, value)
            field.label = f"{name} value"
            field.initial = attribute_value_shown(attribute, value)
            self.fields[f"attribute_{index}_value"] = field

    def _affiliation_input(self, stored: list) -> None:
        known = list(Affiliation.objects.order_by("name").values_list("name", flat=True))
        names = [as_text(n) for n in stored]
        choices = [(n, f"{n} (not an affiliation at HQ)") for n in names if n not in known]
        self.fields["affiliations"] = forms.MultipleChoiceField(
            required=False,
            label="Affiliations added",
            choices=[*choices, *((n, n) for n in known)],
            initial=names,
            widget=forms.CheckboxSelectMultiple,
        )

    def _address_inputs(self, stored: list) -> None:
        self.address_guids: list[uuid.UUID | None] = []
        for index, address in enumerate(stored):
            a = address if isinstance(address, dict) else {}
            try:
                guid = uuid.UUID(a["async_address_id"]) if a.get("async_address_id") else None
            except (TypeError, ValueError, AttributeError):
                guid = None  # not the store's GUID: the address cannot be linked by it
            self.address_guids.append(guid)
            prefix = f"address_{index}_"
            self.fields[prefix + "purpose"] = code_choice_field(
                as_text(a.get("purpose")),
                AddressPurpose,
                kind="purpose",
                label=f"Address {index + 1}: purpose",
            )
            for name, length in ADDRESS_MAX_LENGTHS.items():
                self.fields[prefix + name] = forms.CharField(
                    required=False,  # R5 names an empty street, city or ZIP
                    strip=True,
                    max_length=length,
                    initial=as_text(a.get(name)),
                    label=name.capitalize() if name != "zip" else "ZIP/postal code",
                )
            country = as_text(a.get("country"))
            self.fields[prefix + "country"] = forms.ChoiceField(
                required=False, choices=country_options(country), initial=country
            )
            self.fields[prefix + "is_primary"] = forms.BooleanField(
                required=False, label="Primary", initial=a.get("is_primary") is True
            )

    def layout(self) -> list[tuple[str | None, dict]]:
        """The admin's fieldsets for these inputs."""
        sets = [
            (
                "Customer fields the request sets",
                {"fields": [(f"change_{n}", n) for n in EDITABLE_FIELDS]},
            ),
            (
                "Attributes the request sets or clears",
                {
                    "fields": [
                        (f"attribute_{i}_action", f"attribute_{i}_value")
                        for i in range(len(self.attribute_names))
                    ]
                },
            ),
            ("Affiliations the request adds", {"fields": ["affiliations"]}),
        ]
        for index in range(len(self.address_guids)):
            names = [f"address_{index}_{n}" for n in ADDRESS_INPUTS]
            sets.append((f"Address {index + 1} the request adds", {"fields": [tuple(names)]}))
        sets += more_layout(self)
        sets.append((None, {"fields": ["shown_version", "shown_values"]}))
        return sets

    # --- The change, as it would be saved, judged by R5 ---

    def clean(self):
        data = super().clean()
        self.remaining_errors = []
        if self.stale_check() or self.errors:
            return data
        changes = self._changes(data)
        self.cleaned_changes = changes
        if changes.is_empty:
            self.add_error(None, "Nothing left to change: a request changes at least one thing.")
            return data
        strict = SYNC_AGAIN in self.data
        if self.store is None:
            message = f'Store: unknown store "{self.instance.store_number}"'
            if strict:
                self.add_error(None, message)
            else:
                self.remaining_errors.append(message)
            return data
        errors = customer_changes_errors(
            changes=changes,
            legal_entity=self.store.legal_entity,
            refs=ReferenceData.load(),
            customer_type=_customer_type(self.instance, self.store),
        )
        for message in errors:
            field = self._error_field(message)
            if strict or (field and self._touched(field)):
                self.add_error(field, operator_text(message))
            else:
                self.remaining_errors.append(operator_text(message))
        return data

    def _included(self, data: dict, name: str) -> bool:
        return bool(data.get(f"change_{name}")) or (
            name in self.changed_data and bool((data.get(name) or "").strip())
        )

    def _changes(self, data: dict) -> CustomerChanges:
        fields = {
            name: (data.get(name) or "").strip()
            for name in EDITABLE_FIELDS
            if self._included(data, name)
        }
        attributes = {}
        for index, name in enumerate(self.attribute_names):
            action = data.get(f"attribute_{index}_action")
            if action == CLEAR:
                attributes[name] = None
            elif action == SET:
                attributes[name] = self._attribute_value(index, name, data)
        addresses = []
        for index, guid in enumerate(self.address_guids):
            p = f"address_{index}_"
            addresses.append(
                AddressInput(
                    purpose=data.get(p + "purpose") or "",
                    street=data.get(p + "street") or "",
                    city=data.get(p + "city") or "",
                    state=data.get(p + "state") or "",
                    zip=data.get(p + "zip") or "",
                    country=data.get(p + "country") or "",
                    is_primary=bool(data.get(p + "is_primary")),
                    async_address_id=guid,
                )
            )
        return CustomerChanges(
            fields=fields,
            attributes=attributes,
            affiliations=tuple(data.get("affiliations") or ()),
            addresses=tuple(addresses),
            **more_changes(self, data),
        )

    def _attribute_value(self, index: int, name: str, data: dict) -> Any:
        """The value typed; or, left untouched, the stored one when it is a single JSON
        value (a decimal stays the number the store sent)."""
        stored = self.stored_attributes.get(name)
        untouched = not {f"attribute_{index}_action", f"attribute_{index}_value"} & set(
            self.changed_data
        )
        if untouched and is_scalar(stored):
            return stored
        text = data.get(f"attribute_{index}_value") or ""
        return attribute_value_parse(self.attributes.get(name), text)

    def _error_field(self, message: str) -> str | None:
        """The input an R5 message names ("email: ...", "attributes.Tier: ...")."""
        name, _, problem = message.partition(":")
        match = ADDRESS_ERROR.match(name)
        change = CHANGE_ERROR.match(name)
        contact = CONTACT_ERROR.match(name)
        if match:
            field = f"address_{match['index']}_{match['field']}"
        elif change:
            field = f"address_change_{change['index']}_{change['field']}"
        elif contact:
            field = f"contact_{contact['index']}_{contact['field']}"
        elif name.startswith("attributes."):
            attribute = name.removeprefix("attributes.")
            if attribute not in self.attribute_names:
                return None
            index = self.attribute_names.index(attribute)
            part = "action" if "unknown attribute" in problem else "value"
            field = f"attribute_{index}_{part}"
        else:
            field = name
        return field if field in self.fields else None

    def _touched(self, field: str) -> bool:
        if field in self.changed_data:
            return True
        for paired in (field.replace("_value", "_action"), f"change_{field}"):
            if paired != field and paired in self.changed_data:
                return True
        return False

    def save(self, commit=True):
        self.instance.changes = self.cleaned_changes.as_json()
        return super().save(commit)

    # --- The version it showed (R11) ---

    def values_of(self, record) -> dict[str, str]:
        return {"Changes": changes_text(record.changes), "Status": record.get_status_display()}

    def version_of(self, record) -> str:
        stored = json.dumps(record.changes, sort_keys=True, default=str)
        return digest({"changes": stored, "status": record.status})
