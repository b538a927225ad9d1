"""The store customer page's forms for the changes beyond names, contact fields and
added addresses (README "Admin", R11): change or retire an existing address; set or
clear an attribute, add or remove an affiliation, add or remove contact info. Each
builds a ``CustomerChanges``; what the store refuses comes back on the input it names.
"""

from __future__ import annotations

from django import forms

from customers.forms import country_options
from customers.models import AddressPurpose, ContactType
from customers.services.changes import (
    AddressChange,
    ContactInput,
    ContactLocator,
    CustomerChanges,
    attribute_value_typed,
)

NOT_CHANGED = ("", "Not changed")
ADDRESS_TEXTS = ("street", "city", "state", "zip")


def _errors_on_fields(form: forms.Form, errors: list[str], fields: dict[str, str]) -> None:
    """Store refusals ("address_changes[0].street: ...") on the input they name:
    ``fields`` maps a message's leading name (its last part) to an input."""
    for message in errors:
        name = message.partition(":")[0].strip()
        field = fields.get(name) or fields.get(name.rpartition(".")[2])
        _error_on(form, field, message)


def _error_on(form: forms.Form, field: str | None, message: str) -> None:
    """On its input a message says only what is wrong (the input names the field)."""
    if field in form.fields:
        form.add_error(field, message.partition(":")[2].strip() or message)
    else:
        form.add_error(None, message)


class StoreAddressChangeForm(forms.Form):
    """Change some fields of one of the customer's addresses, or retire it."""

    address = forms.ChoiceField(label="Address")
    purpose = forms.ChoiceField(required=False, choices=[NOT_CHANGED, *AddressPurpose.choices])
    street = forms.CharField(max_length=250, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=60, required=False)
    zip = forms.CharField(label="ZIP/postal code", max_length=20, required=False)
    country = forms.ChoiceField(required=False)
    primary = forms.ChoiceField(
        required=False,
        choices=[NOT_CHANGED, ("yes", "Make primary"), ("no", "Not primary")],
    )
    retire = forms.BooleanField(
        required=False,
        label="Retire this address",
        help_text="The address is removed from the customer (at HQ and every store).",
    )

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "address",
                    "purpose",
                    "street",
                    "city",
                    "state",
                    "zip",
                    "country",
                    "primary",
                    "retire",
                ],
                "description": "Fill only what changes; empty inputs keep their value.",
            },
        )
    ]

    def __init__(self, *args, addresses: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].choices = addresses
        self.fields["country"].choices = [NOT_CHANGED, *country_options()[1:]]

    def changes(self) -> CustomerChanges:
        data = self.cleaned_data
        if data["retire"]:
            return CustomerChanges(addresses_retired=(data["address"],))
        values = {name: data[name].strip() for name in ADDRESS_TEXTS if data[name].strip()}
        for name in ("purpose", "country"):
            if data[name]:
                values[name] = data[name]
        if data["primary"]:
            values["is_primary"] = data["primary"] == "yes"
        if not values:
            return CustomerChanges()
        return CustomerChanges(address_changes=(AddressChange(data["address"], values),))

    def add_service_errors(self, errors: list[str]) -> None:
        _errors_on_fields(
            self,
            errors,
            {
                **{name: name for name in (*ADDRESS_TEXTS, "purpose", "country")},
                "is_primary": "primary",
                "address": "address",
                "retire_address": "address",
                "addresses_retired": "address",
            },
        )


class StoreMoreChangesForm(forms.Form):
    """Set or clear an attribute, add or remove an affiliation, add or remove contact
    info: each filled input is one part of the same change."""

    attribute = forms.ChoiceField(required=False, label="Attribute")
    attribute_action = forms.ChoiceField(
        required=False,
        label="Do",
        choices=[NOT_CHANGED, ("set", "Set to the value"), ("clear", "Clear")],
    )
    attribute_value = forms.CharField(
        required=False,
        label="Value",
        help_text="true or false for a yes/no attribute; a date as YYYY-MM-DD.",
    )
    add_affiliation = forms.ChoiceField(required=False, label="Add affiliation")
    remove_affiliation = forms.ChoiceField(required=False, label="Remove affiliation")
    contact_type = forms.ChoiceField(
        required=False, label="Add contact info", choices=[NOT_CHANGED, *ContactType.choices]
    )
    contact_value = forms.CharField(required=False, label="Contact value", max_length=254)
    contact_primary = forms.BooleanField(required=False, label="Primary contact of its type")
    remove_contact = forms.CharField(
        required=False,
        label="Remove contact info",
        help_text="Its value (any type), or type:value, e.g. email:ona@example.com.",
    )

    fieldsets = [
        ("Attribute", {"fields": ["attribute", "attribute_action", "attribute_value"]}),
        ("Affiliations", {"fields": ["add_affiliation", "remove_affiliation"]}),
        (
            "Contact info",
            {"fields": ["contact_type", "contact_value", "contact_primary", "remove_contact"]},
        ),
    ]

    def __init__(self, *args, attributes: list[str], affiliations: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute"].choices = [("", "-"), *((n, n) for n in attributes)]
        for name in ("add_affiliation", "remove_affiliation"):
            self.fields[name].choices = [("", "-"), *((n, n) for n in affiliations)]

    def clean(self):
        data = super().clean()
        if data.get("attribute_action") and not data.get("attribute"):
            self.add_error("attribute", "Choose the attribute to set or clear.")
        if data.get("attribute") and not data.get("attribute_action"):
            self.add_error("attribute_action", "Choose whether to set or clear it.")
        if data.get("contact_value") and not data.get("contact_type"):
            self.add_error("contact_type", "Choose the type of the contact info.")
        return data

    def changes(self) -> CustomerChanges:
        data = self.cleaned_data
        attributes = {}
        if data["attribute_action"] == "set":
            attributes[data["attribute"]] = attribute_value_typed(data["attribute_value"])
        elif data["attribute_action"] == "clear":
            attributes[data["attribute"]] = None
        contacts = ()
        if data["contact_type"]:
            contacts = (
                ContactInput(
                    type=data["contact_type"],
                    value=data["contact_value"].strip(),
                    is_primary=data["contact_primary"],
                ),
            )
        removed = ()
        if data["remove_contact"].strip():
            removed = (contact_locator(data["remove_contact"]),)
        return CustomerChanges(
            attributes=attributes,
            affiliations=(data["add_affiliation"],) if data["add_affiliation"] else (),
            affiliations_removed=(
                (data["remove_affiliation"],) if data["remove_affiliation"] else ()
            ),
            contacts=contacts,
            contacts_removed=removed,
        )

    def add_service_errors(self, errors: list[str]) -> None:
        fields = {"affiliations": "add_affiliation", "type": "contact_type"}
        for message in errors:
            name = message.partition(":")[0].strip()
            if name.startswith("attributes"):
                field = "attribute_value"
            elif name.startswith("contacts_removed"):
                field = "remove_contact"
            elif name.startswith("contacts"):
                field = "contact_type" if name.endswith(".type") else "contact_value"
            else:
                field = fields.get(name)
            _error_on(self, field, message)


def contact_locator(text: str) -> ContactLocator:
    """Contact info to remove, as typed: "TYPE:VALUE" (email:a@example.com) removes that
    contact; a bare VALUE removes the contacts of any type with that value."""
    kind, sep, value = text.partition(":")
    if sep and kind.strip().lower() in ContactType.values:
        return ContactLocator(type=kind.strip().lower(), value=value.strip())
    return ContactLocator(type="", value=text.strip())
