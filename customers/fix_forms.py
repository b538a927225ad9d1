"""Forms that fix a staged async customer HQ rejected (R5), on its admin change page.

What the operator types is judged on save by the job's own rules
(``customer_input_errors`` on ``staged_customer_input``, R2 defaults applied), and
each problem is shown on the field or inline row it names, so a value the job would
reject one minute later is refused in the form. A problem the operator did not touch
(say a second field still to fix) does not stop a plain "Save" — the record stays
failed and the page says what is left — but "Save and synchronize again" sends only
a record the job will accept.

Attribute values get an input of their attribute's type (a select of the choices,
yes/no, a date, a number, text): nobody types JSON.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from customers.forms import AddressCountryForm
from customers.models import (
    AttributeType,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    StagedAsyncCustomer,
    StagedAsyncCustomerAttributeValue,
    address_values,
)
from customers.selectors.stores import stores_by_number
from customers.services.children import (
    CHILD_RELATIONS,
    CUSTOMER_FIELDS,
    STAGED_CHILDREN,
    staged_customer_input,
)
from customers.services.labels import operator_text
from customers.services.validation import (
    AddressInput,
    ReferenceData,
    address_input_errors,
    customer_input_errors,
)
from customers.shown_version import ShownVersionForm

BLANK_CHOICE = ("", "---------")
# The header fields a person fixes, first on the staged customer's page: an async
# customer's header fields (one list, ``customers.services.children``).
CUSTOMER_FIX_FIELDS = list(CUSTOMER_FIELDS)
SYNC_AGAIN = "_sync_again"  # the "Save and synchronize again" button's name

# "addresses[0].country: ...", "contacts[1].value: ...", "attributes.Tier: ...", "email: ..."
ROW_ERROR = re.compile(r"^(?P<relation>addresses|contacts)\[(?P<index>\d+)\]\.(?P<field>\w+)$")
UNKNOWN_AFFILIATION = re.compile(r'unknown affiliation "(?P<name>.*)"$')


# --- Attribute values of their type ------------------------------------------------------


def _json_key(value: Any) -> str:
    """How a select offers a JSON value (the option's value; never shown)."""
    return json.dumps(value, ensure_ascii=False)


def _is_valid(kind: str, value: Any) -> bool:
    """Whether the stored value can be shown in its type's input unchanged."""
    if value is None:
        return True
    if kind == AttributeType.DATE:
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            return False
        return True
    if kind == AttributeType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == AttributeType.DECIMAL:
        try:
            return Decimal(str(value)).is_finite() and not isinstance(value, bool)
        except InvalidOperation:
            return False
    return True


def attribute_value_field(attribute: CustomerAttribute | None, value: Any) -> forms.Field:
    """The input for an attribute's value: a select for choices and yes/no, a date or a
    number input, text otherwise. A stored value its type cannot show stays visible (a
    select option marked as such, or text) until the operator changes it.

    Always a CharField: what was picked or typed is turned into the attribute's value
    by ``attribute_value_parse`` and judged by R5, like the job judges it."""
    kind = attribute.type if attribute else None
    if kind in (AttributeType.CHOICE, AttributeType.BOOLEAN):
        if kind == AttributeType.CHOICE:
            options = [(_json_key(c), str(c)) for c in attribute.choices or []]
            problem = "not one of the choices"
        else:
            options = [(_json_key(True), "Yes"), (_json_key(False), "No")]
            problem = "not yes or no"
        keys = {key for key, _label in options}
        if value is not None and _json_key(value) not in keys:
            options.insert(0, (_json_key(value), f"{value} ({problem})"))
        return forms.CharField(
            required=False, widget=forms.Select(choices=[("", "(no value)"), *options])
        )
    if kind == AttributeType.DATE and _is_valid(kind, value):
        widget = forms.DateInput(attrs={"type": "date"})
    elif kind in (AttributeType.INTEGER, AttributeType.DECIMAL) and _is_valid(kind, value):
        step = "1" if kind == AttributeType.INTEGER else "any"
        widget = forms.NumberInput(attrs={"step": step, "style": "width: 10em"})
    else:
        widget = forms.TextInput(attrs={"style": "width: 20em"})
    return forms.CharField(required=False, widget=widget)


def attribute_value_shown(attribute: CustomerAttribute | None, value: Any) -> str:
    """The value as its input shows it (and as ``has_changed`` compares it)."""
    if attribute and attribute.type in (AttributeType.CHOICE, AttributeType.BOOLEAN):
        return "" if value is None else _json_key(value)
    if value is None:
        return ""
    return value if isinstance(value, str) else _json_key(value)


YES = {"yes", "true", "y", "1", "on"}
NO = {"no", "false", "n", "0", "off"}


def attribute_value_parse(attribute: CustomerAttribute | None, text: str) -> Any:
    """What the operator picked or typed as the attribute's JSON value: ``Gold`` for a
    choice, a boolean for yes/no, a whole number for an integer; dates and decimals stay
    text as typed (a JSON float would round a decimal). A value that is not of the type
    is kept as typed, and R5 refuses it by name."""
    kind = attribute.type if attribute else None
    text = text.strip()
    if text == "":
        return "" if kind == AttributeType.TEXT else None
    if kind == AttributeType.CHOICE:
        choices = attribute.choices or []
        # A select's option is one of the choices as JSON: matched as text, never parsed
        # (a posted value may be anything, JSON nested thousands deep included).
        for choice in choices:
            if _json_key(choice) == text:
                return choice
        typed = next((c for c in choices if str(c).casefold() == text.casefold()), None)
        if typed is not None:
            return typed
        if text.startswith('"'):  # the stored value's own option ("Diamond"): text again
            try:
                return str(json.loads(text))
            except ValueError:
                pass
        return text
    if kind == AttributeType.BOOLEAN:
        if text.lower() in YES:
            return True
        if text.lower() in NO:
            return False
        return text
    if kind == AttributeType.INTEGER:
        return int(text) if text.lstrip("+-").isdigit() else text
    return text


class StagedAttributeValueForm(forms.ModelForm):
    """One attribute value of a staged customer: the attribute from HQ's list, its value
    in an input of the attribute's type. ``attributes`` (name -> CustomerAttribute) is
    set per request on the class the inline builds."""

    attributes: dict[str, CustomerAttribute] = {}

    class Meta:
        model = StagedAsyncCustomerAttributeValue
        fields = ["name", "value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored_name = self.initial.get("name") or ""
        options = [
            (name, f"{name} ({a.get_type_display().lower()})")
            for name, a in sorted(self.attributes.items())
        ]
        if stored_name and stored_name not in self.attributes:
            options.insert(0, (stored_name, f"{stored_name} (not an attribute at HQ)"))
        self.fields["name"] = forms.ChoiceField(choices=[BLANK_CHOICE, *options], label="Attribute")
        # The value's input follows the attribute chosen: the posted one when the
        # operator changed it, else the stored one.
        name = stored_name
        if self.is_bound:
            name = self.data.get(self.add_prefix("name"), stored_name)
        stored = self.attributes.get(stored_name)
        self.attribute = self.attributes.get(name)
        self.initial["value"] = attribute_value_shown(stored, self.initial.get("value"))
        self.fields["value"] = attribute_value_field(self.attribute, self.instance.value)

    def clean_value(self):
        if "value" not in self.changed_data and "name" not in self.changed_data:
            return self.instance.value  # untouched: exactly what the store sent
        return attribute_value_parse(self.attribute, self.cleaned_data["value"] or "")


# --- The staged customer, judged by R5 as it would be saved -------------------------------


def customer_group_options(
    *, groups: list[CustomerGroup], current: str, default: str | None, legal_entity: str
) -> list[tuple[str, str]]:
    """The customer group select: the store's default, the legal entity's groups, and the
    stored code when it is not one of them (R5 names it; shown until changed)."""
    empty = f"(store default: {default})" if default else "(store default)"
    options = [("", empty)]
    if current and current not in {g.code for g in groups}:
        options.append((current, f"{current} (not a group of {legal_entity})"))
    options += [(g.code, f"{g.code} – {g.name}" if g.name else g.code) for g in groups]
    return options


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return type(value).__name__


def _address_shown(a) -> str:
    primary = ", primary" if a.is_primary else ""
    return f"{a.purpose}: {a.street}, {a.city}, {a.state} {a.zip} ({a.country}{primary})"


def staged_customer_shown(record: StagedAsyncCustomer) -> dict[str, str]:
    """What the staged customer's page shows, label -> text (R11: its version)."""
    meta = StagedAsyncCustomer._meta
    values = {
        str(meta.get_field(name).verbose_name).capitalize(): str(getattr(record, name))
        for name in CUSTOMER_FIX_FIELDS
    }
    values["Status"] = record.get_status_display()
    values["Addresses"] = "; ".join(_address_shown(a) for a in record.addresses.all())
    values["Contact info"] = "; ".join(
        f"{c.type}: {c.value}{' (primary)' if c.is_primary else ''}" for c in record.contacts.all()
    )
    values["Attributes"] = "; ".join(
        f"{v.name} = {_shown(v.value)}" for v in record.attribute_values.all()
    )
    values["Affiliations"] = ", ".join(a.name for a in record.affiliations.all())
    return values


class StagedCustomerFixForm(ShownVersionForm, forms.ModelForm):
    """The header of a staged async customer; its ``clean`` judges the whole record, the
    header and the inline rows as they would be saved, by R5.

    The admin hands the inline formsets over as ``instance._fix_formsets`` (they are
    made before the form is validated, ModelAdmin._changeform_view). After
    ``is_valid``, ``remaining_errors`` lists the problems left for a later fix. A save
    over a newer version of the record (a store's edit applied to it, say) is refused.
    """

    remaining_errors: list[str]
    record_label = "staged async customer"

    def values_of(self, record) -> dict[str, str]:
        return staged_customer_shown(record)

    def clean(self):
        data = super().clean()
        self.remaining_errors = []
        if self.stale_check() or self.errors:
            return data
        formsets = getattr(self.instance, "_fix_formsets", ())
        if not all(formset.is_valid() for formset in formsets):
            return data  # their own errors first: the record cannot be judged yet
        strict = SYNC_AGAIN in self.data
        store = stores_by_number([self.instance.store_number]).get(self.instance.store_number)
        if store is None:
            message = (
                f'Store: unknown store "{self.instance.store_number}": HQ cannot '
                "create this record until the store exists"
            )
            if strict:
                self.add_error(None, message)
            else:
                self.remaining_errors.append(message)
            return data
        staged, rows = self._as_saved(data, formsets)
        errors = customer_input_errors(
            data=staged_customer_input(staged=staged, store=store),
            legal_entity=store.legal_entity,
            refs=ReferenceData.load(),
        )
        for path_message in errors:
            form, field = self._error_place(path_message, rows)
            message = operator_text(path_message)  # placed by its path, said in words
            touched = form is self and field in self.changed_data
            touched |= form is not self and form is not None and _row_touched(form, field)
            if not (strict or touched):
                self.remaining_errors.append(message)
            elif form is None:
                self.add_error(None, message)
            else:
                form.add_error(field if field in form.fields else None, message)
        return data

    def _as_saved(self, data: dict, formsets) -> tuple[StagedAsyncCustomer, dict[str, list]]:
        """A copy of the record with the form's values and the inline rows that would be
        saved as its children (the staged record itself is left as it is)."""
        staged = copy.copy(self.instance)
        for name, value in data.items():
            if name in self.fields and hasattr(staged, name):
                setattr(staged, name, value)
        rows: dict[str, list] = {}
        models = {model: relation for relation, model in STAGED_CHILDREN.models.items()}
        for formset in formsets:
            relation = models.get(formset.model)
            if relation is None:
                continue
            rows[relation] = [
                form
                for form in formset.forms
                if (form.instance.pk is not None or form.has_changed())
                and not (formset.can_delete and form.cleaned_data.get("DELETE"))
            ]
        cache = {}
        for relation in CHILD_RELATIONS:
            if relation in rows:
                cache[relation] = [form.instance for form in rows[relation]]
            else:  # an inline not on the page: the stored children
                cache[relation] = list(getattr(self.instance, relation).all())
                rows[relation] = []
        staged._prefetched_objects_cache = cache
        return staged, rows

    def _error_place(self, message: str, rows: dict[str, list]):
        """The form (this one, an inline row's, or None) and field an R5 message names."""
        name, _, problem = message.partition(":")
        match = ROW_ERROR.match(name)
        if match:
            forms_ = rows.get(match["relation"], [])
            index = int(match["index"])
            return (forms_[index] if index < len(forms_) else None), match["field"]
        if name.startswith("attributes."):
            attribute = name.removeprefix("attributes.")
            field = "name" if "unknown attribute" in problem else "value"
            row = next(
                (f for f in rows.get("attribute_values", []) if f.instance.name == attribute),
                None,
            )
            return row, field
        if name == "affiliations":
            unknown = UNKNOWN_AFFILIATION.search(problem)
            row = next(
                (
                    f
                    for f in rows.get("affiliations", [])
                    if unknown and f.instance.name == unknown["name"]
                ),
                None,
            )
            return row, "name"
        return self, name


def _row_touched(form, field: str) -> bool:
    """An inline row the operator added, or whose named field they changed."""
    if form.instance.pk is None:
        return form.has_changed()
    if field == "value" and "name" in form.changed_data:
        return True
    return field in form.changed_data


class StagedAddressFixForm(ShownVersionForm, AddressCountryForm):
    """A staged async address of an existing customer (R6), judged on save by the job's
    rules: R5 for the address, and the customer account it belongs to. A save over a
    newer version of the record is refused."""

    remaining_errors: list[str]
    record_label = "staged async address"

    def values_of(self, record) -> dict[str, str]:
        return {
            "Address": _address_shown(record),
            "Customer account": record.customer_account,
            "Status": record.get_status_display(),
        }

    def clean(self):
        data = super().clean()
        self.remaining_errors = []
        if self.stale_check() or self.errors:
            return data
        address = copy.copy(self.instance)
        for name, value in data.items():
            if name in self.fields:
                setattr(address, name, value)
        errors = address_input_errors(address=AddressInput(**address_values(address)))
        store = stores_by_number([address.store_number]).get(address.store_number)
        if store is None:
            errors.append(f'store_number: unknown store "{address.store_number}"')
        elif not Customer.objects.filter(
            legal_entity_id=store.legal_entity_id, account=address.customer_account
        ).exists():
            errors.append(
                f'customer_account: unknown customer "{address.customer_account}" '
                f"in legal entity {store.legal_entity.code}"
            )
        strict = SYNC_AGAIN in self.data
        for path_message in errors:
            field = path_message.partition(":")[0]
            message = operator_text(path_message)
            if strict or field in self.changed_data:
                self.add_error(field if field in self.fields else None, message)
            else:
                self.remaining_errors.append(message)
        return data
