"""The real-time call of R1 at HQ, with duplicate detection (R12) as a staged record gets
it: under the legal entity's sequence lock the input is matched (the same keys, the
store's country for a phone number without a country code) against the legal entity's
customers, then

- policy ``create``: the account is created and listed under "Possible duplicates"
  next to each customer it resembles, as account creation does for staged records;
- policy ``review``: nothing is created at HQ; the caller creates the customer async
  instead (``customers.services.store``), so the upload brings it to HQ, where account
  creation holds it as ``needs_review`` for a person to link or create (README "Store
  customers").

One HQ transaction: the account and its possible-duplicate rows, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from commerce.db import HQ
from commerce.events import EventAction, EventKind, event_record
from commerce.models import Store
from customers.models import Customer
from customers.selectors.stores import store_countries
from customers.services.accounts import customers_create
from customers.services.duplicates import (
    Match,
    duplicates_message,
    duplicates_screen,
    input_match_keys,
    needs_fallback_country,
    possible_duplicates_record,
    sequence_lock,
)
from customers.services.validation import CustomerInput, ReferenceData


@dataclass(frozen=True)
class RealTimeCreation:
    """What the real-time call did: ``customer`` created (None when held), and the
    customers it resembles (``matches``; said in ``duplicates``, "" when none)."""

    customer: Customer | None
    matches: tuple[Match, ...] = ()

    @property
    def held(self) -> bool:
        return self.customer is None

    @property
    def duplicates(self) -> str:
        return duplicates_message(self.matches) if self.matches else ""


def customer_create_real_time(
    *, store: Store, data: CustomerInput, refs: ReferenceData
) -> RealTimeCreation:
    """R1 real time with R12: match validated ``data`` (``customer_input_errors`` found
    nothing) against the store's legal entity's customers; create the account unless
    the policy holds it (``review``), listing possible duplicates (``create``). Writes
    the HQ account only, not the store's copy. Not idempotent: each call that is not
    held creates an account (as a store's creation does)."""
    legal_entity = store.legal_entity
    fallback = (
        store_countries([store.number]).get(store.number) if needs_fallback_country(data) else None
    )
    keys = input_match_keys(data, fallback_country=fallback)
    with transaction.atomic(using=HQ):
        sequence_lock(legal_entity_id=legal_entity.pk)
        screening = duplicates_screen(legal_entity=legal_entity, keys=[keys])
        matches = tuple(screening.existing[0])
        if screening.held[0]:
            return RealTimeCreation(customer=None, matches=matches)
        (created,) = customers_create(
            legal_entity=legal_entity, inputs=[data], refs=refs, keys=[keys]
        )
        possible_duplicates_record(
            legal_entity=legal_entity,
            pairs=[(created.pk, m.customer_id, m.reasons) for m in matches],
        )
        event_record(
            kind=EventKind.ACCOUNT,
            key=created.account,
            account=created.account,
            action=EventAction.CREATED_AT_HQ,
            detail=f"at store {store.number}, in real time",
        )
    return RealTimeCreation(customer=Customer.objects.get(pk=created.pk), matches=matches)
