"""R11 complete: the parts of a store's change beyond fields, added addresses, set
attributes and added affiliations, applied as one batch (README, Rule map: R11).

``HqParts`` collects, for a batch of channel requests applied to HQ customers in edit
order, what becomes of each attribute value, affiliation, contact and address (one
final state per row, so an add then a remove in the same batch leaves it removed), and
writes it with one query per table and kind of write. ``StagedParts`` does the same on
staged records not created yet. Per field the latest change wins at HQ: each
affiliation, contact and address field has its own time in ``field_changed_at``.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from commerce.db import HQ
from commerce.db.bulk import rows_upsert
from customers.models import (
    Address,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    address_values,
    location_id_for,
)
from customers.services.changes import CustomerChanges


def changed_later(changed_at: str | None, edited_at: datetime.datetime) -> bool:
    return bool(changed_at) and datetime.datetime.fromisoformat(changed_at) > edited_at


def _finds(address, ref: str) -> bool:
    return ref in (address.location_id, str(address.async_address_id or ""))


def has_address_parts(changes: CustomerChanges) -> bool:
    return bool(changes.addresses or changes.address_changes or changes.addresses_retired)


def has_contact_parts(changes: CustomerChanges) -> bool:
    return bool(changes.contacts or changes.contacts_removed)


class HqParts:
    """What a batch of requests does to HQ customers' attribute values, affiliations,
    contacts and addresses; ``write`` stores it."""

    def __init__(self, *, customers: Iterable[Customer], changes: Iterable[CustomerChanges]):
        changes = list(changes)
        customers = list(customers)
        address_parties = {
            c.party_id for c, ch in zip(customers, changes, strict=True) if has_address_parts(ch)
        }
        contact_parties = {
            c.party_id for c, ch in zip(customers, changes, strict=True) if has_contact_parts(ch)
        }
        self.addresses: dict[int, list[Address]] = defaultdict(list)
        if address_parties:
            for a in Address.objects.filter(party_id__in=address_parties).order_by("pk"):
                self.addresses[a.party_id].append(a)
        self.contacts: dict[tuple[int, str, str], ContactInfo | None] = {}
        self.contacts_before: dict[tuple[int, str, str], ContactInfo] = {}
        if contact_parties:
            for c in ContactInfo.objects.filter(party_id__in=contact_parties).order_by("pk"):
                self.contacts[(c.party_id, c.type, c.value)] = c
                self.contacts_before[(c.party_id, c.type, c.value)] = c
        self.attributes: dict[tuple[Customer, int], tuple[object, object]] = {}
        self.affiliations: dict[tuple[Customer, int], bool] = {}
        self.changed_addresses: dict[int, Address] = {}
        self.retired: set[int] = set()
        self.primary_parties: set[int] = set()

    def change(
        self,
        customer: Customer,
        changes: CustomerChanges,
        edited_at: datetime.datetime,
        origin: str,
        *,
        refs,
        stamps: dict,
        skipped: list[str],
    ) -> None:
        """One request's parts on one customer, in memory; ``stamps`` (the customer's
        field times) gain this edit's time for what it changed."""
        at = edited_at.isoformat()
        for name, value in changes.attributes.items():
            key = f"attributes.{name}"
            if changed_later(stamps.get(key), edited_at):
                skipped.append(f"{key}: kept the HQ value changed at {stamps[key]}")
                continue
            attribute = refs.attributes[name]
            self.attributes[(customer, attribute.pk)] = (attribute, value)
            stamps[key] = at
        for names, present in ((changes.affiliations, True), (changes.affiliations_removed, False)):
            for name in names:
                key = f"affiliations.{name}"
                if changed_later(stamps.get(key), edited_at):
                    skipped.append(f"{key}: kept the HQ value changed at {stamps[key]}")
                    continue
                affiliation = refs.affiliations.get(name)
                if affiliation is None:  # removing what HQ does not know: nothing to do
                    continue
                self.affiliations[(customer, affiliation.pk)] = present
                stamps[key] = at
        self._contacts(customer, changes, edited_at, stamps, skipped)
        self._addresses(customer, changes, edited_at, origin, stamps, skipped)

    def _contacts(self, customer, changes, edited_at, stamps, skipped) -> None:
        party = customer.party_id
        for contact in changes.contacts:
            key = f"contacts.{contact.type}:{contact.value}"
            if changed_later(stamps.get(key), edited_at):
                skipped.append(f"{key}: kept the HQ value changed at {stamps[key]}")
                continue
            if contact.is_primary:
                for (p, kind, _), row in self.contacts.items():
                    if p == party and kind == contact.type and row is not None:
                        row.is_primary = False
            key3 = (party, contact.type, contact.value)
            row = (
                self.contacts.get(key3)
                or self.contacts_before.get(key3)  # removed earlier in the batch, back again
                or ContactInfo(party_id=party, type=contact.type, value=contact.value)
            )
            row.is_primary = contact.is_primary
            self.contacts[key3] = row
            stamps[key] = edited_at.isoformat()
        for locator in changes.contacts_removed:
            keys = [
                k
                for k, row in self.contacts.items()
                if k[0] == party
                and k[2] == locator.value
                and (not locator.type or k[1] == locator.type)
                and row is not None
            ]
            for k in keys:
                stamp = f"contacts.{k[1]}:{k[2]}"
                if changed_later(stamps.get(stamp), edited_at):
                    skipped.append(f"{stamp}: kept the HQ value changed at {stamps[stamp]}")
                    continue
                self.contacts[k] = None
                stamps[stamp] = edited_at.isoformat()

    def _addresses(self, customer, changes, edited_at, origin, stamps, skipped) -> None:
        party = customer.party_id
        mine = self.addresses[party]
        for address in changes.addresses:
            row = Address(
                party_id=party,
                location_id=location_id_for(address.async_address_id),
                **address_values(address),
                async_address_id=address.async_address_id,
                async_origin=origin,
            )
            if any(a.async_address_id == row.async_address_id for a in mine):
                continue  # applied before (re-run): the address exists
            mine.append(row)
            if row.is_primary:
                self._primary(party, row)
        for change in changes.address_changes:
            row = next((a for a in mine if _finds(a, change.address)), None)
            if row is None:
                skipped.append(
                    f'address_changes: address "{change.address}" is not an address of '
                    "the customer (retired)"
                )
                continue
            for name, value in change.values.items():
                key = f"addresses.{row.location_id}.{name}"
                if changed_later(stamps.get(key), edited_at):
                    skipped.append(f"{key}: kept the HQ value changed at {stamps[key]}")
                    continue
                stamps[key] = edited_at.isoformat()
                if name == "is_primary":
                    if value:
                        self._primary(party, row)
                    else:
                        row.is_primary = False
                        self._changed(row)
                else:
                    setattr(row, name, value)
                    self._changed(row)
        for ref in changes.addresses_retired:
            row = next((a for a in mine if _finds(a, ref)), None)
            if row is None:
                continue  # retired already: nothing to do
            prefix = f"addresses.{row.location_id}."
            later = [
                k for k, v in stamps.items() if k.startswith(prefix) and changed_later(v, edited_at)
            ]
            if later:
                skipped.append(f"addresses_retired: {row.location_id} kept, changed at HQ later")
                continue
            mine.remove(row)
            if row.pk:
                self.retired.add(row.pk)
                self.changed_addresses.pop(row.pk, None)
            stamps[f"addresses.{row.location_id}"] = edited_at.isoformat()

    def _changed(self, row: Address) -> None:
        if row.pk:
            self.changed_addresses[row.pk] = row

    def _primary(self, party: int, row: Address) -> None:
        self.primary_parties.add(party)
        for a in self.addresses[party]:
            if a.is_primary and a is not row:
                a.is_primary = False
                self._changed(a)
        row.is_primary = True
        self._changed(row)

    def write(self) -> None:
        """Store the batch's final state: one query per table and kind of write."""
        _values_write(
            CustomerAttributeValue,
            ("customer_id", "attribute_id"),
            [(c.pk, pk, value) for (c, pk), (_, value) in self.attributes.items()],
        )
        _members_write(
            CustomerAffiliation,
            ("customer_id", "affiliation_id"),
            [(c.pk, pk, present) for (c, pk), present in self.affiliations.items()],
        )
        self._write_contacts()
        self._write_addresses()

    def _write_contacts(self) -> None:
        removed = [key for key, row in self.contacts.items() if row is None]
        if removed:
            condition = Q()
            for party, kind, value in removed:
                condition |= Q(party_id=party, type=kind, value=value)
            ContactInfo.objects.filter(condition).delete()
        kept = [row for row in self.contacts.values() if row is not None]
        ContactInfo.objects.bulk_update([r for r in kept if r.pk], ["is_primary"])
        ContactInfo.objects.bulk_create([r for r in kept if not r.pk], ignore_conflicts=True)

    def _write_addresses(self) -> None:
        if self.retired:
            Address.objects.filter(pk__in=self.retired).delete()
        if self.primary_parties:
            # The one primary address per party is a unique index: clear, then set.
            Address.objects.filter(party_id__in=self.primary_parties, is_primary=True).update(
                is_primary=False
            )
        Address.objects.bulk_update(
            list(self.changed_addresses.values()),
            [name for name in ("purpose", "street", "city", "state", "zip", "country")]
            + ["is_primary"],
        )
        new = [a for rows in self.addresses.values() for a in rows if not a.pk]
        existing = set(
            Address.objects.filter(async_address_id__in=[a.async_address_id for a in new])
            .order_by()
            .values_list("async_address_id", flat=True)
            if new
            else ()
        )
        Address.objects.bulk_create([a for a in new if a.async_address_id not in existing])


def _values_write(model, key: tuple[str, str], values: list[tuple]) -> None:
    """Upsert the ``(first, second, value)`` rows on their two-column ``key``; a None
    value deletes its row."""
    rows_upsert(
        model=model,
        columns=[*key, "value"],
        rows=[row for row in values if row[2] is not None],
        unique=key,
        using=HQ,
    )
    _delete_pairs(model, *key, [(a, b) for a, b, value in values if value is None])


def _members_write(model, key: tuple[str, str], states: list[tuple]) -> None:
    """Insert the ``(first, second, present)`` rows marked present (one already there
    stays), delete the others. An insert and no update: ``rows_upsert`` needs a column
    to update, so the ORM's ``ignore_conflicts`` does this one."""
    first, second = key
    model.objects.bulk_create(
        [model(**{first: a, second: b}) for a, b, present in states if present],
        ignore_conflicts=True,
    )
    _delete_pairs(model, first, second, [(a, b) for a, b, present in states if not present])


def _delete_pairs(model, first: str, second: str, pairs: list[tuple]) -> None:
    """Delete the rows whose ``(first, second)`` is one of ``pairs``, in one query."""
    if not pairs:
        return
    condition = Q()
    for a, b in pairs:
        condition |= Q(**{first: a, second: b})
    model.objects.filter(condition).delete()


class StagedParts:
    """The same parts on staged records not created yet (no field times: the record is
    the store's own until HQ creates it)."""

    def __init__(self, *, staged_ids: Iterable[int]):
        ids = set(staged_ids)
        self.addresses: dict[int, list[StagedAsyncCustomerAddress]] = defaultdict(list)
        self.contacts: dict[int, list[StagedAsyncCustomerContact]] = defaultdict(list)
        if ids:
            for a in StagedAsyncCustomerAddress.objects.filter(staged_customer_id__in=ids).order_by(
                "pk"
            ):
                self.addresses[a.staged_customer_id].append(a)
            for c in StagedAsyncCustomerContact.objects.filter(staged_customer_id__in=ids).order_by(
                "pk"
            ):
                self.contacts[c.staged_customer_id].append(c)
        self.attributes: dict[tuple[int, str], object] = {}
        self.affiliations: dict[tuple[int, str], bool] = {}
        self.retired: set[int] = set()
        self.removed_contacts: set[int] = set()

    def change(self, staged, changes: CustomerChanges) -> None:
        for name, value in changes.attributes.items():
            self.attributes[(staged.pk, name)] = value
        for name in changes.affiliations:
            self.affiliations[(staged.pk, name)] = True
        for name in changes.affiliations_removed:
            self.affiliations[(staged.pk, name)] = False
        mine = self.addresses[staged.pk]
        for address in changes.addresses:
            row = StagedAsyncCustomerAddress(
                staged_customer=staged,
                async_address_id=address.async_address_id,
                **address_values(address),
            )
            mine.append(row)
            if row.is_primary:
                _only_primary(mine, row)
        for change in changes.address_changes:
            row = next((a for a in mine if _finds(a, change.address)), None)
            if row is None:
                continue
            for name, value in change.values.items():
                setattr(row, name, value)
            if change.values.get("is_primary"):
                _only_primary(mine, row)
        for ref in changes.addresses_retired:
            row = next((a for a in mine if _finds(a, ref)), None)
            if row is not None:
                mine.remove(row)
                if row.pk:
                    self.retired.add(row.pk)
        contacts = self.contacts[staged.pk]
        for contact in changes.contacts:
            row = next(
                (c for c in contacts if (c.type, c.value) == (contact.type, contact.value)), None
            )
            if row is None:
                row = StagedAsyncCustomerContact(
                    staged_customer=staged, type=contact.type, value=contact.value
                )
                contacts.append(row)
            if contact.is_primary:
                for c in contacts:
                    if c.type == contact.type:
                        c.is_primary = False
            row.is_primary = contact.is_primary
        for locator in changes.contacts_removed:
            for row in [
                c
                for c in contacts
                if c.value == locator.value and (not locator.type or c.type == locator.type)
            ]:
                contacts.remove(row)
                if row.pk:
                    self.removed_contacts.add(row.pk)

    def write(self) -> None:
        """Store the batch's final state: one query per table and kind of write."""
        key = ("staged_customer_id", "name")
        _values_write(
            StagedAsyncCustomerAttributeValue,
            key,
            [(pk, name, value) for (pk, name), value in self.attributes.items()],
        )
        _members_write(
            StagedAsyncCustomerAffiliation,
            key,
            [(pk, name, present) for (pk, name), present in self.affiliations.items()],
        )
        if self.retired:
            StagedAsyncCustomerAddress.objects.filter(pk__in=self.retired).delete()
        if self.removed_contacts:
            StagedAsyncCustomerContact.objects.filter(pk__in=self.removed_contacts).delete()
        rows = [a for rows in self.addresses.values() for a in rows]
        StagedAsyncCustomerAddress.objects.bulk_update(
            [a for a in rows if a.pk],
            ["purpose", "street", "city", "state", "zip", "country", "is_primary"],
        )
        StagedAsyncCustomerAddress.objects.bulk_create([a for a in rows if not a.pk])
        contacts = [c for rows in self.contacts.values() for c in rows]
        StagedAsyncCustomerContact.objects.bulk_update(
            [c for c in contacts if c.pk], ["is_primary"]
        )
        StagedAsyncCustomerContact.objects.bulk_create([c for c in contacts if not c.pk])


def _only_primary(rows, row) -> None:
    for a in rows:
        a.is_primary = a is row


def guid_or_text(value: str) -> str:
    """An address reference as stored: a GUID in its canonical form, else as given."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return value.strip()
