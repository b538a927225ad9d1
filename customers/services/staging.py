"""HQ staging: what the upload (P-0001, R3) brings from a channel database, async
addresses for existing customers (R6), and the outcome of each staged record.

Staging writes are keyed by GUID: a row HQ already staged is never staged again, so
an upload that crashed after HQ committed and before the channel stamped its rows
is repaired by the next run sending them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from commerce.db import HQ
from commerce.db.bulk import ids_reserve, rows_insert
from commerce.events import EventAction, EventKind, NewEvent, events_record
from customers.models import (
    Address,
    AsyncAddress,
    AsyncCustomer,
    Customer,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
    address_values,
    location_id_for,
)
from customers.selectors.stores import stores_by_number
from customers.services.aliases import survivors_map
from customers.services.children import (
    CUSTOMER_FIELDS,
    STAGED_CHILDREN,
    children_insert,
    children_read,
)
from customers.services.duplicates import (
    customer_match_keys_refresh,
)
from customers.services.labels import operator_text
from customers.services.staging_events import (
    STAGED_SUBJECTS,
    account_field,
    outcome_events_record,
    uploaded_events_record,
)
from customers.services.validation import AddressInput, address_input_errors

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


@dataclass
class StagedOutcome:
    staged_id: int
    account: str = ""
    location_id: str = ""
    error: str = ""
    held: bool = False  # R12: held for review, neither created nor failed

    def __post_init__(self):
        # What the record keeps and the job run shows names fields as an operator does.
        self.error = operator_text(self.error)

    @property
    def ok(self) -> bool:
        return not self.error


# --- Upload (P-0001, R3): channel rows into staging ------------------------------------

STAGED_CUSTOMER_COLUMNS = (
    "id",
    "async_customer_id",
    "channel_database",
    "store_number",
    "upload_session_id",
    *CUSTOMER_FIELDS,
    "created_at_store",
)


def async_customers_stage(
    *, rows: Sequence[AsyncCustomer], channel_database: str, upload_session_id: int
) -> dict[str, int]:
    """R3: stage channel async customers (children prefetched) with their children; a GUID
    HQ already staged from this channel database is skipped, so sending the same rows
    again stages nothing twice. A GUID staged from another channel database is staged
    as its own record (account creation fails it by name: never a merge).
    A GUID a staged record was created away from (``replaced_async_customer_id``,
    guid_collisions) counts as staged. Call inside the upload session's HQ transaction."""
    guids = [row.async_customer_id for row in rows]
    staged = StagedAsyncCustomer.objects.filter(channel_database=channel_database).order_by()
    already = set(
        staged.filter(async_customer_id__in_values=guids).values_list(
            "async_customer_id", flat=True
        )
    )
    # Two queries, not one with OR: each stays on its own index.
    already.update(
        staged.filter(replaced_async_customer_id__in_values=guids).values_list(
            "replaced_async_customer_id", flat=True
        )
    )
    new_rows = [row for row in rows if row.async_customer_id not in already]
    # Keys reserved first: the children are written with their parent's id, nothing is
    # read back. Rows and children go through the bulk writer (commerce.db.bulk).
    staged_ids = ids_reserve(model=StagedAsyncCustomer, count=len(new_rows), using=HQ)
    rows_insert(
        model=StagedAsyncCustomer,
        columns=STAGED_CUSTOMER_COLUMNS,
        rows=[
            (
                staged_id,
                row.async_customer_id,
                channel_database,
                row.store_number,
                upload_session_id,
                *(getattr(row, name) for name in CUSTOMER_FIELDS),
                row.created_at,
            )
            for staged_id, row in zip(staged_ids, new_rows, strict=True)
        ],
        using=HQ,
    )
    children = children_insert(
        side=STAGED_CHILDREN,
        families=[
            (staged_id, children_read(row))
            for staged_id, row in zip(staged_ids, new_rows, strict=True)
        ],
        using=HQ,
    )
    uploaded_events_record(
        kind=EventKind.CUSTOMER,
        guids=[row.async_customer_id for row in new_rows],
        channel_database=channel_database,
        upload_session_id=upload_session_id,
    )
    return {
        "customers": len(rows),
        "customers_staged": len(new_rows),
        "addresses": children["addresses"],
        "contacts": children["contacts"],
        "attributes": children["attribute_values"],
        "affiliations": children["affiliations"],
    }


def rows_not_staged(*, model, key: str, channel_database: str, rows: Sequence) -> list:
    """The channel ``rows`` whose GUID ``key`` HQ has not staged from ``channel_database``
    yet (staged ``model`` rows), in their order: what an upload sends again after a
    crash is staged once. One query."""
    already = set(
        model.objects.filter(
            channel_database=channel_database,
            **{f"{key}__in_values": [getattr(row, key) for row in rows]},
        )
        .order_by()
        .values_list(key, flat=True)
    )
    return [row for row in rows if getattr(row, key) not in already]


def rows_stage(
    *,
    model,
    key: str,
    kind: str,
    rows: Sequence,
    channel_database: str,
    upload_session_id: int,
    values: Callable[[Any], dict],
    account: Callable[[Any], str],
) -> list:
    """Stage the channel ``rows`` not staged from ``channel_database`` yet as ``model``
    rows (GUID ``key``, store, session and ``values(row)``), each with its "uploaded"
    event of ``kind`` for ``account(row)``; returns the rows staged."""
    new_rows = rows_not_staged(model=model, key=key, channel_database=channel_database, rows=rows)
    model.objects.bulk_create(
        [
            model(
                **{key: getattr(row, key)},
                channel_database=channel_database,
                store_number=row.store_number,
                upload_session_id=upload_session_id,
                **values(row),
            )
            for row in new_rows
        ],
        batch_size=BULK_BATCH,
    )
    uploaded_events_record(
        kind=kind,
        guids=[getattr(row, key) for row in new_rows],
        channel_database=channel_database,
        upload_session_id=upload_session_id,
        accounts=[account(row) for row in new_rows],
    )
    return new_rows


def async_addresses_stage(
    *, rows: Sequence[AsyncAddress], channel_database: str, upload_session_id: int
) -> dict[str, int]:
    """R3/R6: stage channel async addresses of existing customers; a GUID HQ already
    staged is skipped. Call inside the upload session's HQ transaction."""
    new_rows = rows_stage(
        model=StagedAsyncAddress,
        key="async_address_id",
        kind=EventKind.ADDRESS,
        rows=rows,
        channel_database=channel_database,
        upload_session_id=upload_session_id,
        values=lambda row: {
            "customer_account": row.customer_account,
            **address_values(row),
            "created_at_store": row.created_at,
        },
        account=attrgetter("customer_account"),
    )
    return {"async_addresses": len(rows), "async_addresses_staged": len(new_rows)}


# --- Outcomes of staged records (R4, R5, R6) --------------------------------------------


def origin_matches(origin: str, channel_database: str) -> bool:
    """Whether an HQ record made from an async GUID came from this channel database
    (records from before origins were kept have none, and are trusted)."""
    return not origin or origin == channel_database


def guid_collision_error(*, field: str, guid, origin: str, held_by: str | None) -> str:
    """R5-style message for an async GUID that HQ already holds (``held_by``), or is
    creating in this run, from another channel database: a GUID is unique only within
    the channel database that made it, so the record is never merged into the other."""
    where = (
        f"already {held_by}, created from channel database {origin}"
        if held_by
        else f"also used by channel database {origin}, whose record is created first"
    )
    return (
        f'{field}: GUID "{guid}" is {where}; a GUID must not repeat another channel '
        "database's, so this record is not merged (the store must create it again)"
    )


def existing_outcome(staged, origin: str, *, held_by: str, **made) -> StagedOutcome:
    """A GUID HQ already made a record from (``held_by`` it, from ``origin``): the same
    record again completes with ``made`` (its account or location id); the same GUID
    from another channel database fails by name, never merged."""
    if origin_matches(origin, staged.channel_database):
        return StagedOutcome(staged.pk, **made)
    guid_field = STAGED_SUBJECTS[type(staged)][1]
    return StagedOutcome(
        staged.pk,
        error=guid_collision_error(
            field=guid_field, guid=getattr(staged, guid_field), held_by=held_by, origin=origin
        ),
    )


def address_by_guid_location_id() -> Subquery:
    """The location id of the HQ address with the outer row's ``async_address_id``.

    ``.order_by()``: the default ordering would add a join and a sort to every
    correlated lookup; the GUID is unique, so there is nothing to order.
    """
    address = Address.objects.filter(async_address_id=OuterRef("async_address_id"))
    return Subquery(address.order_by().values("location_id")[:1])


def staged_rows_mark(
    *,
    model: type[StagedAsyncCustomer] | type[StagedAsyncAddress],
    rows: Sequence,
    outcomes: dict[int, StagedOutcome],
    result_field: str,
    result_source: Subquery,
) -> list[int]:
    """Record each staged row's outcome and count the attempt; returns the completed ids.

    Completed rows take ``result_field`` (account or location id) from the HQ record just
    created, in one set-based UPDATE matched on the GUID's unique index; failed rows,
    each with its own message, go in one bulk UPDATE. Re-run safe. The in-memory rows
    are updated to match.
    """
    now = timezone.now()
    completed = [row.pk for row in rows if outcomes[row.pk].ok]
    failed = [row for row in rows if not outcomes[row.pk].ok]
    if completed:
        model.objects.filter(pk__in_values=completed).update(
            status=StagingStatus.COMPLETED,
            last_error="",
            attempts=F("attempts") + 1,
            processed_at=now,
            **{result_field: result_source},
        )
    for row in failed:
        row.status = StagingStatus.FAILED
        row.last_error = outcomes[row.pk].error
        row.attempts += 1
        row.processed_at = now
    model.objects.bulk_update(
        failed, ["status", "last_error", "attempts", "processed_at"], batch_size=BULK_BATCH
    )
    for row in rows:
        outcome = outcomes[row.pk]
        if outcome.ok:
            row.status = StagingStatus.COMPLETED
            row.last_error = ""
            row.attempts += 1
            row.processed_at = now
            setattr(row, result_field, getattr(outcome, result_field))
    outcome_events_record(rows, now=now)
    return completed


def staged_addresses_create(*, staged_rows: Sequence[StagedAsyncAddress]) -> list[StagedOutcome]:
    """R6: each staged async address becomes an HQ address of its existing customer
    (primary if the store asked so); the customer's version rises so 1010 sends it.

    Call inside an HQ transaction holding the rows' locks. Safe to re-run: an address
    whose GUID HQ already has is completed with its location id.
    """
    if not staged_rows:
        return []
    stores, customers, existing = _address_targets(staged_rows)
    outcomes: dict[int, StagedOutcome] = {}
    new_addresses: list[Address] = []
    primary_for_party: dict[int, Address] = {}
    touched_customers: set[int] = set()
    for staged in staged_rows:
        if staged.async_address_id in existing:
            location_id, origin = existing[staged.async_address_id]
            outcomes[staged.pk] = existing_outcome(
                staged, origin, held_by=f"HQ address {location_id}", location_id=location_id
            )
            continue
        store = stores.get(staged.store_number)
        if store is None:
            outcomes[staged.pk] = StagedOutcome(
                staged.pk, error=f'store_number: unknown store "{staged.store_number}"'
            )
            continue
        customer = customers.get((store.legal_entity_id, staged.customer_account))
        errors = []
        if customer is None:
            errors.append(
                f'customer_account: unknown customer "{staged.customer_account}" '
                f"in legal entity {store.legal_entity.code}"
            )
        errors += address_input_errors(address=AddressInput(**address_values(staged)))
        if errors:
            outcomes[staged.pk] = StagedOutcome(staged.pk, error="; ".join(errors))
            continue
        address = Address(
            party_id=customer.party_id,
            location_id=location_id_for(staged.async_address_id),
            async_address_id=staged.async_address_id,
            async_origin=staged.channel_database,
            **{**address_values(staged), "is_primary": False},  # set below, one per party
        )
        if staged.is_primary:
            primary_for_party[customer.party_id] = address  # the latest request wins
        new_addresses.append(address)
        touched_customers.add(customer.pk)
        outcomes[staged.pk] = StagedOutcome(staged.pk, location_id=address.location_id)
    with transaction.atomic(using=HQ):
        if primary_for_party:
            Address.objects.filter(party_id__in=list(primary_for_party), is_primary=True).update(
                is_primary=False
            )
            for address in primary_for_party.values():
                address.is_primary = True
        Address.objects.bulk_create(new_addresses, batch_size=BULK_BATCH)
        if touched_customers:
            Customer.objects.filter(pk__in=list(touched_customers)).update(
                version=F("version") + 1, modified_at=timezone.now()
            )
            # R12: the name-and-zip key follows the primary (else first) address.
            customer_match_keys_refresh(customer_ids=touched_customers)
        staged_rows_mark(
            model=StagedAsyncAddress,
            rows=staged_rows,
            outcomes=outcomes,
            result_field="location_id",
            result_source=address_by_guid_location_id(),
        )
    return [outcomes[s.pk] for s in staged_rows]


def _address_targets(staged_rows: Sequence[StagedAsyncAddress]) -> tuple[dict, dict, dict]:
    """The stores of the staged addresses, the HQ customers they name (by legal entity
    and account) and the HQ addresses already made from their GUIDs (GUID -> location
    id, origin)."""
    stores = stores_by_number(s.store_number for s in staged_rows)
    accounts = {s.customer_account for s in staged_rows}
    columns = ("pk", "legal_entity_id", "account", "party_id", "merged_into_id")
    # R13: an address for a merged account goes to its survivor.
    customers = survivors_map(
        {
            (c.legal_entity_id, c.account): c
            for c in Customer.objects.filter(account__in=accounts).order_by().only(*columns)
        },
        queryset=Customer.objects.only(*columns),
    )
    existing = {
        guid: (location_id, origin)
        for guid, location_id, origin in Address.objects.filter(
            async_address_id__in=[s.async_address_id for s in staged_rows]
        )
        .order_by()
        .values_list("async_address_id", "location_id", "async_origin")
    }
    return stores, customers, existing


def staged_record_fail(*, model, pk: int, reason: str) -> int:
    """A staged record that raised while it was processed fails alone with ``reason``
    (README "Record isolation"); the attempt is counted, the failure logged. Re-run
    safe."""
    now = timezone.now()
    count = model.objects.filter(pk=pk).update(
        status=StagingStatus.FAILED,
        last_error=reason[:2000],
        attempts=F("attempts") + 1,
        processed_at=now,
    )
    kind, guid_field = STAGED_SUBJECTS[model]
    for guid, channel_database in model.objects.filter(pk=pk).values_list(
        guid_field, "channel_database"
    ):
        events_record(
            [
                NewEvent(
                    kind=kind,
                    key=guid,
                    channel_database=channel_database,
                    action=EventAction.FAILED,
                    detail=reason[:2000],
                    at=now,
                )
            ]
        )
    return count


def staged_records_retry(*, model, ids: Sequence[int], actor=None) -> int:
    """Put failed staged records back to pending so the next job run tries them again;
    each one's log says who sent it again (README "Event log")."""
    failed = model.objects.filter(pk__in=list(ids), status=StagingStatus.FAILED)
    kind, guid_field = STAGED_SUBJECTS[model]
    retried = list(failed.values_list(guid_field, "channel_database", *account_field(model)))
    count = failed.update(status=StagingStatus.PENDING)
    events_record(
        NewEvent(
            kind=kind,
            key=guid,
            channel_database=channel_database,
            account=account[0] if account else "",
            action=EventAction.RETRIED,
            actor=actor,
        )
        for guid, channel_database, *account in retried
    )
    return count
