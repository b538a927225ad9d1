"""Synchronize customers and channel requests, account creation (R4): HQ customers
from validated input, with account numbers from the legal entity's sequence.

``customers_create`` writes a batch of customers (party, customer, addresses, contact
info, attribute values, affiliations) with a fixed number of queries; the unique
async GUID on Customer makes a second creation of the same async customer fail, so
re-runs never create twice. ``staged_customers_create`` is the job's (and the order
and statement receivers') way in: it validates staged records (R5), looks for
duplicates of the valid ones (R12, ``customers.services.duplicates``) under the legal
entity's sequence lock, creates those it may and records each outcome on its staged
row: completed, failed, or needs review.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from commerce.bulk import ids_reserve, rows_insert
from commerce.db import HQ
from commerce.isolation import is_run_fault
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
    ReviewDecision,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagingStatus,
)
from customers.services.children import CHILD_RELATIONS, children_read, staged_customer_input
from customers.services.duplicates import (
    Match,
    duplicates_message,
    duplicates_screen,
    input_match_keys,
    legal_entity_countries,
    needs_fallback_country,
    possible_duplicates_record,
    sequence_lock,
    store_countries,
)
from customers.services.staging import (
    StagedOutcome,
    address_by_guid_location_id,
    guid_collision_error,
    location_id_for,
    origin_matches,
    staged_rows_mark,
    stores_by_number,
)
from customers.services.validation import CustomerInput, ReferenceData, customer_input_errors

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


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
    with transaction.atomic(using=HQ):
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
    first, then one write per table through the bulk writer (``commerce.bulk``). The
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
    with transaction.atomic(using=HQ):
        if accounts is None:
            accounts = account_numbers_allocate(legal_entity_id=legal_entity.pk, count=len(inputs))
        party_ids = ids_reserve(model=Party, count=len(inputs), using=HQ)
        customer_ids = ids_reserve(model=Customer, count=len(inputs), using=HQ)
        parties, customers = [], []
        addresses, contacts, values, affiliations = [], [], [], []
        for data, party_id, customer_id, account, record_keys in zip(
            inputs, party_ids, customer_ids, accounts, keys, strict=True
        ):
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


STAGED_CUSTOMER_PREFETCH = CHILD_RELATIONS


def _customers_by_guid(guids) -> dict[uuid.UUID, tuple[str, str]]:
    """GUID -> (account, origin) of the HQ customers already made from these GUIDs."""
    return {
        guid: (account, origin)
        for guid, account, origin in Customer.objects.filter(async_customer_id__in_values=guids)
        .order_by()
        .values_list("async_customer_id", "account", "async_origin")
    }


def _addresses_by_guid(guids) -> dict[uuid.UUID, tuple[str, str]]:
    """GUID -> (location id, origin) of the HQ addresses already made from these GUIDs."""
    if not guids:
        return {}
    return {
        guid: (location_id, origin)
        for guid, location_id, origin in Address.objects.filter(async_address_id__in_values=guids)
        .order_by()
        .values_list("async_address_id", "location_id", "async_origin")
    }


def _address_collisions(
    staged: StagedAsyncCustomer, taken: dict[uuid.UUID, tuple[str, str]]
) -> list[str]:
    """Addresses of the record whose GUID HQ already holds (or this batch just took)."""
    errors = []
    for index, address in enumerate(children_read(staged)["addresses"]):
        guid = address["async_address_id"]
        if guid in taken:
            held_by, origin = taken[guid]
            errors.append(
                guid_collision_error(
                    field=f"addresses[{index}].async_address_id",
                    guid=guid,
                    held_by=f"HQ address {held_by}" if held_by else None,
                    origin=origin or "unknown",
                )
            )
    return errors


def _existing_outcome(staged: StagedAsyncCustomer, account: str, origin: str) -> StagedOutcome:
    """A GUID HQ already made a customer from: the same record again (a re-run, or the
    order and statement receivers got there first) completes with that account; the
    same GUID from another channel database fails by name, never merged."""
    if origin_matches(origin, staged.channel_database):
        return StagedOutcome(staged.pk, account=account)
    return StagedOutcome(
        staged.pk,
        error=guid_collision_error(
            field="async_customer_id",
            guid=staged.async_customer_id,
            held_by=f"account {account}",
            origin=origin,
        ),
    )


Pending = tuple[StagedAsyncCustomer, CustomerInput, MatchKeys]


def _create_or_fall_back(
    *,
    legal_entity: LegalEntity,
    pending: list[Pending],
    refs: ReferenceData,
    outcomes: dict[int, StagedOutcome],
    created: dict[int, CreatedCustomer],
) -> None:
    """Create a legal entity's valid records in one savepoint; if the batch fails (a
    GUID created meanwhile, an unexpected row), retry record by record so one bad
    record never stops the others. ``created`` gets staged id -> new customer."""
    if not pending:
        return
    try:
        with transaction.atomic(using=HQ):
            customers = customers_create(
                legal_entity=legal_entity,
                inputs=[data for _, data, _ in pending],
                refs=refs,
                keys=[keys for _, _, keys in pending],
            )
        for (staged, _, _), customer in zip(pending, customers, strict=True):
            outcomes[staged.pk] = StagedOutcome(staged.pk, account=customer.account)
            created[staged.pk] = customer
        return
    except Exception as error:
        if is_run_fault(error):
            raise
        if len(pending) > 1:
            for item in pending:
                _create_or_fall_back(
                    legal_entity=legal_entity,
                    pending=[item],
                    refs=refs,
                    outcomes=outcomes,
                    created=created,
                )
            return
    staged, _data, _keys = pending[0]
    existing = _customers_by_guid([staged.async_customer_id])
    if existing:
        outcomes[staged.pk] = _existing_outcome(staged, *existing[staged.async_customer_id])
        return
    outcomes[staged.pk] = StagedOutcome(
        staged.pk,
        error=f"unexpected error: {traceback.format_exc(limit=1).strip().splitlines()[-1]}",
    )


def _create_screened(
    *,
    legal_entity: LegalEntity,
    pending: list[tuple[StagedAsyncCustomer, CustomerInput]],
    countries: dict[str, str],
    refs: ReferenceData,
    outcomes: dict[int, StagedOutcome],
    held: dict[int, str],
) -> None:
    """R12 then R4 for one legal entity's valid records: under the sequence lock, match
    them, create those the policy lets through, list possible duplicates (policy
    "create") or hold the matched records (policy "review": ``held`` gets staged id ->
    message)."""
    with transaction.atomic(using=HQ):
        sequence_lock(legal_entity_id=legal_entity.pk)
        keys = [
            input_match_keys(data, fallback_country=countries.get(staged.store_number))
            for staged, data in pending
        ]
        decided = [staged.review_decision == ReviewDecision.CREATED for staged, _ in pending]
        screening = duplicates_screen(legal_entity=legal_entity, keys=keys, decided=decided)
        created: dict[int, CreatedCustomer] = {}
        _create_or_fall_back(
            legal_entity=legal_entity,
            pending=[
                (staged, data, keys[index])
                for index, (staged, data) in enumerate(pending)
                if not screening.held[index]
            ],
            refs=refs,
            outcomes=outcomes,
            created=created,
        )
        pairs = []
        for index, (staged, _) in enumerate(pending):
            matches = list(screening.existing[index])
            for earlier, reasons in screening.earlier[index].items():
                other = pending[earlier][0]
                customer = created.get(other.pk)
                matches.append(
                    Match(
                        account=customer.account
                        if customer
                        else f"async customer {other.async_customer_id}",
                        customer_id=customer.pk if customer else None,
                        reasons=reasons,
                    )
                )
            if screening.held[index]:
                held[staged.pk] = duplicates_message(sorted(matches, key=lambda m: m.account))
                outcomes[staged.pk] = StagedOutcome(
                    staged.pk, error=f"needs review: {held[staged.pk]}"
                )
            elif staged.pk in created and not decided[index]:
                pairs += [
                    (created[staged.pk].pk, m.customer_id, m.reasons)
                    for m in matches
                    if m.customer_id is not None
                ]
        possible_duplicates_record(legal_entity=legal_entity, pairs=pairs)


def _held_mark(rows: Sequence[StagedAsyncCustomer], held: dict[int, str]) -> None:
    """R12: the held rows become needs_review, naming their matches; attempts counted."""
    now = timezone.now()
    for row in rows:
        row.status = StagingStatus.NEEDS_REVIEW
        row.last_error = held[row.pk]
        row.attempts += 1
        row.processed_at = now
    StagedAsyncCustomer.objects.bulk_update(
        rows, ["status", "last_error", "attempts", "processed_at"], batch_size=BULK_BATCH
    )


def staged_customers_create(
    *, staged_rows: Sequence[StagedAsyncCustomer], refs: ReferenceData | None = None
) -> list[StagedOutcome]:
    """R4/R5/R12: create the HQ customer of each staged async customer and mark the
    staged row completed (with the account), failed (with the reason) or, a possible
    duplicate under the "review" policy, needs_review (naming the matching accounts);
    attempts counted. A possible duplicate under the "create" policy is created and
    listed (PossibleDuplicate).

    Call inside an HQ transaction that holds the staged rows' locks, with the children
    prefetched (``STAGED_CUSTOMER_PREFETCH``). Safe to re-run: a GUID that already has
    an HQ customer is completed with that account, never created twice.
    """
    if not staged_rows:
        return []
    refs = refs or ReferenceData.load()
    stores = stores_by_number(s.store_number for s in staged_rows)
    existing = _customers_by_guid([s.async_customer_id for s in staged_rows])
    taken_addresses = _addresses_by_guid(
        [a["async_address_id"] for s in staged_rows for a in children_read(s)["addresses"]]
    )
    outcomes: dict[int, StagedOutcome] = {}
    by_legal_entity: dict[int, tuple[LegalEntity, list]] = {}
    first_in_batch: dict[uuid.UUID, StagedAsyncCustomer] = {}
    collisions: list[tuple[StagedAsyncCustomer, StagedAsyncCustomer]] = []
    for staged in staged_rows:
        guid = staged.async_customer_id
        if guid in existing:
            outcomes[staged.pk] = _existing_outcome(staged, *existing[guid])
            continue
        if guid in first_in_batch:
            # The same GUID from two channel databases in one batch: the first one
            # staged is created, this one fails by name once the first has its account.
            collisions.append((staged, first_in_batch[guid]))
            continue
        first_in_batch[guid] = staged
        address_errors = _address_collisions(staged, taken_addresses)
        if address_errors:
            outcomes[staged.pk] = StagedOutcome(staged.pk, error="; ".join(address_errors))
            continue
        for address in children_read(staged)["addresses"]:  # later records collide with it
            taken_addresses[address["async_address_id"]] = ("", staged.channel_database)
        store = stores.get(staged.store_number)
        if store is None:
            outcomes[staged.pk] = StagedOutcome(
                staged.pk, error=f'store_number: unknown store "{staged.store_number}"'
            )
            continue
        data = staged_customer_input(staged=staged, store=store)
        errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=refs)
        if errors:
            outcomes[staged.pk] = StagedOutcome(staged.pk, error="; ".join(errors))
            continue
        by_legal_entity.setdefault(store.legal_entity_id, (store.legal_entity, []))[1].append(
            (staged, data)
        )
    needing_country = {
        staged.store_number
        for _, pending in by_legal_entity.values()
        for staged, data in pending
        if needs_fallback_country(data)
    }
    countries = store_countries(needing_country)
    held: dict[int, str] = {}
    # In legal entity order: every worker takes the sequence locks in the same order.
    for legal_entity_id in sorted(by_legal_entity):
        legal_entity, pending = by_legal_entity[legal_entity_id]
        _create_screened(
            legal_entity=legal_entity,
            pending=pending,
            countries=countries,
            refs=refs,
            outcomes=outcomes,
            held=held,
        )
    for staged, first in collisions:
        first_outcome = outcomes[first.pk]
        outcomes[staged.pk] = StagedOutcome(
            staged.pk,
            error=guid_collision_error(
                field="async_customer_id",
                guid=staged.async_customer_id,
                held_by=f"account {first_outcome.account}" if first_outcome.ok else None,
                origin=first.channel_database,
            ),
        )
    # .order_by(): the default ordering would add a join and a sort to every correlated
    # lookup; the GUID is unique, so there is nothing to order.
    account = Customer.objects.filter(async_customer_id=OuterRef("async_customer_id"))
    completed = staged_rows_mark(
        model=StagedAsyncCustomer,
        rows=[row for row in staged_rows if row.pk not in held],
        outcomes=outcomes,
        result_field="account",
        result_source=Subquery(account.order_by().values("account")[:1]),
    )
    if completed:
        StagedAsyncCustomerAddress.objects.filter(staged_customer_id__in_values=completed).update(
            location_id=address_by_guid_location_id()
        )
    if held:
        _held_mark([row for row in staged_rows if row.pk in held], held)
    return [outcomes[s.pk] for s in staged_rows]
