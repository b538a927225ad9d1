"""Account creation (R4): HQ customers from validated input, with account numbers
from the legal entity's sequence.

``customers_create`` writes a batch of customers (party, customer, addresses, contact
info, attribute values, affiliations) with a fixed number of queries; the unique
async GUID on Customer makes a second creation of the same async customer fail, so
re-runs never create twice. Staged records reach it through
``customers.services.accounts_staged``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from commerce.db import HQ
from commerce.db.bulk import ids_reserve, rows_insert
from commerce.models import LegalEntity, NumberSequence
from customers.match_keys import MATCH_KEY_COLUMNS, MatchKeys
from customers.models import (
    HQ_ADDRESS_FIELDS,
    Address,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    Party,
    location_id_for,
)
from customers.selectors.stores import legal_entity_countries
from customers.services.duplicates import (
    input_match_keys,
    needs_fallback_country,
)
from customers.services.validation import CustomerInput, ReferenceData


class NumberSequenceExhausted(Exception):
    pass


# --- Account numbers (R4) ---------------------------------------------------------


def account_numbers_allocate(*, legal_entity_id: int, count: int) -> list[str]:
    """Take ``count`` account numbers from the legal entity's sequence.

    Locks the sequence row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE
    write lock), skips numbers an existing account already uses (one imported with
    the same prefix), and advances the sequence. Numbers not used by the caller are
    simply lost: the sequence is non-continuous. Safe under concurrency.
    """
    if count <= 0:
        return []
    # No savepoint of its own: a failure here fails the caller's block (nothing catches
    # in between), and a savepoint is two round trips per batch.
    with transaction.atomic(using=HQ, savepoint=False):
        sequence = NumberSequence.objects.select_for_update().get(legal_entity_id=legal_entity_id)
        limit = 10**sequence.digits
        numbers: list[str] = []
        next_number = sequence.next_number
        while len(numbers) < count:
            wanted = count - len(numbers)
            if next_number + wanted > limit:
                raise NumberSequenceExhausted(
                    f"customer number sequence of legal entity {sequence.legal_entity.code} "
                    "is exhausted "
                    f"({sequence.format(limit - 1)})"
                )
            candidates = [sequence.format(n) for n in range(next_number, next_number + wanted)]
            taken = set(
                Customer.objects.filter(legal_entity_id=legal_entity_id, account__in=candidates)
                .order_by()
                .values_list("account", flat=True)
            )
            numbers.extend(c for c in candidates if c not in taken)
            next_number += wanted
        sequence.next_number = next_number
        sequence.save(update_fields=["next_number"])
    return numbers


# --- HQ creation (R1 real time, R4) -------------------------------------------------


@dataclass(frozen=True)
class CreatedCustomer:
    """A customer ``customers_create`` wrote: its key, account and party."""

    pk: int
    account: str
    party_id: int


PARTY_COLUMNS = ("id", "type", "name", "first_name", "last_name", "organization_name")
CUSTOMER_COLUMNS = (
    "id",
    "legal_entity_id",
    "account",
    "party_id",
    "customer_group_id",
    "currency",
    "language",
    "title",
    "email",
    "phone",
    "async_customer_id",
    "async_origin",
    *MATCH_KEY_COLUMNS,
)
ADDRESS_COLUMNS = ("party_id", *HQ_ADDRESS_FIELDS)


def customers_create(
    *,
    legal_entity: LegalEntity,
    inputs: Sequence[CustomerInput],
    refs: ReferenceData,
    accounts: Sequence[str] | None = None,
    keys: Sequence[MatchKeys] | None = None,
) -> list[CreatedCustomer]:
    """Create party, customer, addresses, contacts, attributes and affiliations for
    already-validated inputs, with a fixed number of queries per batch: keys reserved
    first, then one write per table through the bulk writer (``commerce.db.bulk``). The
    customers get their R12 match keys (``keys``, or computed here with the legal
    entity's fallback country).

    Runs in one HQ transaction: all of the batch or nothing. Not idempotent by itself:
    the unique async GUID makes a second creation of the same async customer fail
    with IntegrityError, which callers treat as "already created".
    """
    if not inputs:
        return []
    if keys is None:
        fallback = (
            legal_entity_countries([legal_entity.pk]).get(legal_entity.pk)
            if any(needs_fallback_country(data) for data in inputs)
            else None
        )
        keys = [input_match_keys(data, fallback_country=fallback) for data in inputs]
    with transaction.atomic(using=HQ, savepoint=False):  # as account_numbers_allocate
        if accounts is None:
            accounts = account_numbers_allocate(legal_entity_id=legal_entity.pk, count=len(inputs))
        party_ids = ids_reserve(model=Party, count=len(inputs), using=HQ)
        customer_ids = ids_reserve(model=Customer, count=len(inputs), using=HQ)
        parties, customers, addresses, contacts, values, affiliations = _customer_rows(
            legal_entity=legal_entity,
            inputs=inputs,
            refs=refs,
            ids=zip(party_ids, customer_ids, accounts, keys, strict=True),
        )
        rows_insert(model=Party, columns=PARTY_COLUMNS, rows=parties, using=HQ)
        rows_insert(model=Customer, columns=CUSTOMER_COLUMNS, rows=customers, using=HQ)
        rows_insert(model=Address, columns=ADDRESS_COLUMNS, rows=addresses, using=HQ)
        rows_insert(
            model=ContactInfo,
            columns=("party_id", "type", "value", "is_primary"),
            rows=contacts,
            using=HQ,
        )
        rows_insert(
            model=CustomerAttributeValue,
            columns=("customer_id", "attribute_id", "value"),
            rows=values,
            using=HQ,
        )
        rows_insert(
            model=CustomerAffiliation,
            columns=("customer_id", "affiliation_id"),
            rows=affiliations,
            using=HQ,
        )
    return [CreatedCustomer(pk=row[0], account=row[2], party_id=row[3]) for row in customers]


def _customer_rows(*, legal_entity: LegalEntity, inputs: Sequence[CustomerInput], refs, ids):
    """The rows ``customers_create`` writes, per table, for the inputs and their reserved
    (party id, customer id, account, match keys)."""
    parties, customers = [], []
    addresses, contacts, values, affiliations = [], [], [], []
    for data, (party_id, customer_id, account, record_keys) in zip(inputs, ids, strict=True):
        parties.append(
            (
                party_id,
                data.type,
                data.name,
                data.first_name,
                data.last_name,
                data.organization_name,
            )
        )
        customers.append(
            (
                customer_id,
                legal_entity.pk,
                account,
                party_id,
                refs.groups[(legal_entity.pk, data.customer_group)].pk,
                data.currency,
                data.language,
                data.title,
                data.email,
                data.phone,
                data.async_customer_id,
                data.async_origin if data.async_customer_id else "",
                *record_keys.values(),
            )
        )
        primary_index = next(
            (i for i, a in enumerate(data.addresses) if a.is_primary),
            0 if data.addresses else None,
        )
        for index, address in enumerate(data.addresses):
            addresses.append(
                (
                    party_id,
                    location_id_for(address.async_address_id),
                    address.purpose,
                    address.street,
                    address.city,
                    address.state or "",
                    address.zip,
                    address.country,
                    index == primary_index,
                    address.async_address_id,
                    data.async_origin if address.async_address_id else "",
                )
            )
        seen_contacts = set()
        for contact in data.contacts:
            key = (contact.type, contact.value)
            if key not in seen_contacts:
                seen_contacts.add(key)
                contacts.append((party_id, contact.type, contact.value, contact.is_primary))
        for name, value in data.attributes.items():
            values.append((customer_id, refs.attributes[name].pk, value))
        for name in dict.fromkeys(data.affiliations):
            affiliations.append((customer_id, refs.affiliations[name].pk))
    return parties, customers, addresses, contacts, values, affiliations
