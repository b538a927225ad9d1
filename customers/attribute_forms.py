"""Attribute values and attribute choices at HQ in an operator's words (README "Admin"):
an HQ customer's attribute value gets the input of its attribute's type (a date picker,
a number, yes/no, a select of the choices, text), the same inputs as the staged
customer's fix form (``customers.fix_forms``); an attribute's choices are one per line.
Nobody types or reads JSON. What is stored stays as it is: an untouched value is kept
exactly, a changed one is stored as the fix form stores it, judged by the validator
(``references_errors``) first.
"""

from __future__ import annotations

from django import forms

from customers.fix_forms import (
    StagedAttributeValueForm,
    attribute_value_field,
    attribute_value_parse,
    attribute_value_shown,
)
from customers.models import (
    AsyncCustomerAttributeValue,
    AttributeType,
    CustomerAttribute,
    CustomerAttributeValue,
)
from customers.services.labels import operator_text
from customers.services.validation import ReferenceData, references_errors


class CustomerAttributeValueForm(forms.ModelForm):
    """One attribute value of an HQ customer. ``attributes`` (id -> CustomerAttribute)
    is set per request on the class the admin builds (``with_attributes``)."""

    attributes: dict[int, CustomerAttribute] = {}

    class Meta:
        model = CustomerAttributeValue
        fields = ["attribute", "value"]

    @classmethod
    def with_attributes(cls, form_class: type[CustomerAttributeValueForm]):
        form_class.attributes = {a.pk: a for a in CustomerAttribute.objects.all()}
        return form_class

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        attribute = self.attributes.get(self.instance.attribute_id)
        if "attribute" in self.fields:
            self.fields["attribute"].label_from_instance = lambda a: (
                f"{a.name} ({a.get_type_display().lower()})"
            )
            if self.is_bound:  # the value's input follows the attribute chosen
                posted = self.data.get(self.add_prefix("attribute"))
                if posted and str(posted).isdigit():
                    attribute = self.attributes.get(int(posted), attribute)
        self.attribute = attribute
        stored = self.attributes.get(self.instance.attribute_id)
        current = self.instance.value if self.instance.pk else None
        self.initial["value"] = attribute_value_shown(stored, current)
        field = attribute_value_field(attribute, current)
        field.required = attribute is None or attribute.type != AttributeType.TEXT
        self.fields["value"] = field

    def clean_value(self):
        if self.instance.pk and not ({"value", "attribute"} & set(self.changed_data)):
            return self.instance.value  # untouched: exactly what is stored
        value = attribute_value_parse(self.attribute, self.cleaned_data["value"] or "")
        if self.attribute is not None:
            refs = ReferenceData(
                groups={}, attributes={self.attribute.name: self.attribute}, affiliations={}
            )
            errors = references_errors(
                attributes={self.attribute.name: value}, affiliations=(), refs=refs
            )
            if errors:
                raise forms.ValidationError([operator_text(e) for e in errors])
        if value is None:
            raise forms.ValidationError("This field is required.")
        return value


class CustomerAttributeForm(forms.ModelForm):
    """An HQ customer attribute: its choices one per line (for the choice type)."""

    class Meta:
        model = CustomerAttribute
        fields = ["name", "type", "choices"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.choices or []
        self.fields["choices"] = forms.CharField(
            required=False,
            widget=forms.Textarea(attrs={"rows": 6, "cols": 30}),
            help_text="The allowed values of a choice attribute, one per line.",
        )
        self.initial["choices"] = "\n".join(str(c) for c in stored)

    def clean_choices(self):
        stored = {str(c): c for c in self.instance.choices or []}
        lines = [line.strip() for line in (self.cleaned_data["choices"] or "").splitlines()]
        # A choice kept as it was keeps its stored value (a number stays a number).
        return [stored.get(line, line) for line in lines if line]


def attributes_by_name() -> dict[str, CustomerAttribute]:
    """HQ's attributes by name, read once per request (a store's value names one)."""
    return {a.name: a for a in CustomerAttribute.objects.all()}


class AsyncAttributeValueForm(StagedAttributeValueForm):
    """An attribute value of an async customer in its channel database: the same typed
    input as the staged record's (the attribute is HQ's, by name)."""

    class Meta:
        model = AsyncCustomerAttributeValue
        fields = ["name", "value"]
