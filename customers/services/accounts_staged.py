"""Synchronize customers and channel requests, account creation of staged records
(R4, R5, R12): ``staged_customers_create`` is the job's (and the order and statement
receivers') way in: it validates staged records (R5), looks for duplicates of the valid
ones (R12, ``customers.services.duplicates``) under the legal entity's sequence lock,
creates those it may (``customers.services.accounts.customers_create``) and records each
outcome on its staged row: completed, failed, or needs review.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from commerce.db import HQ
from commerce.isolation import is_run_fault
from commerce.models import LegalEntity
from customers.match_keys import MatchKeys
from customers.models import (
    Address,
    Customer,
    ReviewDecision,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagingStatus,
)
from customers.selectors.stores import store_countries, stores_by_number
from customers.services.accounts import CreatedCustomer, customers_create
from customers.services.children import CHILD_RELATIONS, children_read, staged_customer_input
from customers.services.duplicates import (
    Match,
    duplicates_message,
    duplicates_screen,
    input_match_keys,
    needs_fallback_country,
    possible_duplicates_record,
    sequence_lock,
)
from customers.services.staging import (
    StagedOutcome,
    address_by_guid_location_id,
    existing_outcome,
    guid_collision_error,
    staged_rows_mark,
)
from customers.services.staging_events import outcome_events_record
from customers.services.validation import CustomerInput, ReferenceData, customer_input_errors

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


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
    return existing_outcome(staged, origin, held_by=f"account {account}", account=account)


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
    # No savepoint: a failure fails the caller's chunk (``records_isolated``), which has
    # one; the batch's own retry savepoint is in ``_create_or_fall_back``.
    with transaction.atomic(using=HQ, savepoint=False):
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
                    staged.pk, error=f"needs review: {held[staged.pk]}", held=True
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
    outcome_events_record(rows, now=now)


def _staged_sort(
    staged_rows: Sequence[StagedAsyncCustomer], *, refs: ReferenceData
) -> tuple[
    dict[int, StagedOutcome],
    dict[int, tuple[LegalEntity, list]],
    list[tuple[StagedAsyncCustomer, StagedAsyncCustomer]],
]:
    """The staged rows sorted out before any creation: the outcomes of those already
    created, colliding or invalid, the valid ones by legal entity, and the second of a
    GUID two channel databases sent in one batch (with the first one)."""
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
    return outcomes, by_legal_entity, collisions


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
    outcomes, by_legal_entity, collisions = _staged_sort(staged_rows, refs=refs)
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
