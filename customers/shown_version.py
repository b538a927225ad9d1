"""HQ forms that carry the version they showed (R11: no save over a newer version).

A form opened on a customer (or a staged record) keeps, in hidden fields, the version
it showed and the values it showed. On save it reads the record again under a row lock
(``select_for_update``, held by the admin's transaction until the save commits) and,
when the record is newer than what the operator saw - a store's edit applied by account
creation, a job, another operator - refuses the save with a form error that says what
changed since ("Email is now ona@new.example"), and writes nothing: neither the fields
the operator changed nor, by accident, the old values of the ones they did not.

A customer's version is its ``version`` column (every writer raises it). A staged record
has no counter that every writer (upload, account creation, review, requests applied to
it) would have to remember to raise; its version is a digest of what the form shows, so
any change to that, by anyone, makes it newer.
"""

from __future__ import annotations

import hashlib
import json

from django import forms
from django.core import signing
from django.db import router, transaction
from django.utils import timezone

SHOWN_SALT = "customers.shown_version"


class CarriedField(forms.CharField):
    """A hidden value the page carries back unchanged; never a change of the record."""

    def __init__(self, **kwargs):
        super().__init__(required=False, widget=forms.HiddenInput, strip=False, **kwargs)

    def has_changed(self, initial, data) -> bool:
        return False


def digest(values: dict[str, str]) -> str:
    """A version made of what a form shows (records without a version counter)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _when(moment) -> str:
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


class ShownVersionMixin:
    """For a ModelForm: ``shown_version`` and ``shown_values`` carried in hidden fields,
    and ``stale_check()`` for its ``clean`` (an error, and True, when the record is
    newer than shown). A subclass says what a version and the shown values are."""

    record_label = "record"

    def version_of(self, record) -> str:
        return digest(self.values_of(record))

    def values_of(self, record) -> dict[str, str]:
        """What the page shows, label -> text, for saying what changed since."""
        raise NotImplementedError

    def changed_at(self, record):
        """When the record last changed, if it says; None to leave the time out."""
        return None

    def current_for_update(self):
        """The record as it is now, its row locked (None if it is gone)."""
        model = type(self.instance)
        return model.objects.select_for_update().filter(pk=self.instance.pk).first()

    def add_carried_fields(self) -> None:
        """Fill the hidden fields. Declare them on the form class
        (``shown_version = CarriedField()``, ``shown_values = CarriedField()``): the admin
        renders only the fields a form class declares or its model has."""
        if self.instance.pk is not None:
            self.fields["shown_version"].initial = self.version_of(self.instance)
            self.fields["shown_values"].initial = signing.dumps(
                self.values_of(self.instance), salt=SHOWN_SALT, compress=True
            )

    def stale_check(self) -> bool:
        """Refuse the save (a form error; returns True) when the record is newer than the
        version the page showed. The row stays locked until the request's transaction
        ends, so nothing changes it between this check and the save."""
        if self.instance.pk is None:
            return False
        model = type(self.instance)
        with transaction.atomic(using=router.db_for_write(model)):
            current = self.current_for_update()
            if current is None:
                self.add_error(None, f"This {self.record_label} no longer exists.")
                return True
            shown_version = self.data.get(self.add_prefix("shown_version"), "")
            if shown_version == self.version_of(current):
                return False
            self.add_error(None, self._stale_message(current))
        return True

    def _stale_message(self, current) -> str:
        try:
            shown = signing.loads(
                self.data.get(self.add_prefix("shown_values"), ""), salt=SHOWN_SALT
            )
        except signing.BadSignature:
            shown = None
        now = self.values_of(current)
        when = self.changed_at(current)
        head = f"This {self.record_label} was changed"
        head += f" at {_when(when)} after you opened it" if when else " after you opened it"
        if isinstance(shown, dict):
            changes = [
                f"{label} is now {value or '(empty)'}"
                for label, value in now.items()
                if shown.get(label) != value
            ]
        else:  # a page without what it showed: the current values say enough
            changes = []
        what = ": " + "; ".join(changes) + "." if changes else "."
        return f"{head}{what} Reload to see the current values; nothing was saved."


class ShownVersionForm(ShownVersionMixin, forms.Form):
    """``ShownVersionMixin`` with its two hidden fields declared and filled when the form
    is made; a model form lists it first: ``class F(ShownVersionForm, forms.ModelForm)``."""

    shown_version = CarriedField()
    shown_values = CarriedField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_carried_fields()
