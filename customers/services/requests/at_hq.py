"""R11 at HQ: "Synchronize customers and channel requests" applies staged requests in
the order the store made them (``staged_requests_apply``): to the HQ customer, per field
the latest change winning (a field HQ changed after the store's edit keeps the HQ value
and the request records what it skipped), or, while the customer's staged record is not
created yet, to that staged record, which is then tried again in the same run.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from commerce.db import HQ
from commerce.events import EventAction, EventKind, NewEvent, events_record
from commerce.models import Store
from customers.models import (
    AsyncCustomerLink,
    Customer,
    CustomerGroup,
    Party,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
    display_name,
)
from customers.selectors.stores import stores_by_number
from customers.services.aliases import survivors_map
from customers.services.changes import (
    PARTY_FIELDS,
    CustomerChanges,
    CustomerChangesError,
    customer_changes_errors,
)
from customers.services.duplicates import (
    customer_match_keys_refresh,
)
from customers.services.erasure import erased_refusal
from customers.services.requests.parts import HqParts, StagedParts, changed_later
from customers.services.staging import (
    StagedOutcome,
    origin_matches,
)
from customers.services.validation import EDITABLE_FIELDS, ReferenceData, edit_time_at_hq

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


@dataclass
class RequestOutcome(StagedOutcome):
    applied_version: int | None = None
    applied_to_staged: bool = False
    staged_customer_id: int | None = None
    skipped: list[str] | None = None
    unresolved: bool = False


def staged_requests_apply(
    *, staged_rows: Sequence[StagedChannelRequest], final: bool, refs: ReferenceData | None = None
) -> list[RequestOutcome]:
    """R11: apply staged channel requests (locked by the caller, oldest edit first).

    A request whose customer exists at HQ changes it (its version goes up, so 1010
    sends it to every channel database of its legal entity); one whose customer is
    only staged changes the staged record, and a failed staged record goes back to
    pending. With ``final`` False a request whose customer is not known yet is left
    pending (the run creates customers next); with ``final`` True it fails, named.
    Records each outcome on its row. Re-run safe: only pending rows are passed in.
    """
    if not staged_rows:
        return []
    refs = refs or ReferenceData.load()
    outcomes, hq_items, staged_items = _requests_sort(staged_rows, final=final, refs=refs)
    with transaction.atomic(using=HQ):
        applied = hq_customers_apply(
            items=[(c, ch, at, origin) for c, ch, at, origin, _ in hq_items], refs=refs
        )
        for (customer, _ch, _at, _origin, pk), skipped in zip(hq_items, applied, strict=True):
            outcomes[pk] = RequestOutcome(
                pk, account=customer.account, applied_version=customer.version, skipped=skipped
            )
        _staged_records_apply(items=[(s, ch) for s, ch, _ in staged_items])
        for staged, _ch, pk in staged_items:
            outcomes[pk] = RequestOutcome(
                pk, account=staged.account, applied_to_staged=True, staged_customer_id=staged.pk
            )
        _requests_mark(rows=staged_rows, outcomes=outcomes)
    return [outcomes[r.pk] for r in staged_rows]


def _requests_sort(
    staged_rows: Sequence[StagedChannelRequest], *, final: bool, refs: ReferenceData
) -> tuple[
    dict[int, RequestOutcome],
    list[tuple[Customer, CustomerChanges, datetime.datetime, str, int]],
    list[tuple[StagedAsyncCustomer, CustomerChanges, int]],
]:
    """Each request's target and check: the outcomes of those that fail or wait (see
    ``staged_requests_apply``), and the requests to apply to an HQ customer and to a
    staged record."""
    by_account, by_guid, staged_targets = _request_targets(staged_rows)
    stores = stores_by_number(
        [r.store_number for r in staged_rows] + [s.store_number for s in staged_targets.values()]
    )
    outcomes: dict[int, RequestOutcome] = {}
    hq_items: list[tuple[Customer, CustomerChanges, datetime.datetime, str, int]] = []
    staged_items: list[tuple[StagedAsyncCustomer, CustomerChanges, int]] = []
    for row in staged_rows:
        store = stores.get(row.store_number)
        if store is None:
            outcomes[row.pk] = RequestOutcome(
                row.pk, error=f'store_number: unknown store "{row.store_number}"'
            )
            continue
        try:
            changes = CustomerChanges.from_json(row.changes)
        except (CustomerChangesError, TypeError, ValueError, KeyError) as error:
            outcomes[row.pk] = RequestOutcome(row.pk, error=f"changes: {error}")
            continue
        if row.target_account:
            customer = by_account.get((store.legal_entity_id, row.target_account))
            staged = None
        else:
            customer = by_guid.get((row.channel_database, row.target_async_customer_id))
            staged = staged_targets.get((row.channel_database, row.target_async_customer_id))
        if customer is None and staged is None:
            if final:
                target = row.target_account or row.target_async_customer_id
                outcomes[row.pk] = RequestOutcome(
                    row.pk,
                    error=f'customer: unknown customer "{target}" in legal entity '
                    f"{store.legal_entity.code} (not created at HQ, not uploaded)",
                )
            else:
                outcomes[row.pk] = RequestOutcome(row.pk, unresolved=True)
            continue
        problem = _legal_entity_error(
            row=row, store=store, stores=stores, customer=customer, staged=staged
        ) or (erased_refusal(customer) if customer is not None else None)
        if problem:
            outcomes[row.pk] = RequestOutcome(row.pk, error=problem)
            continue
        customer_type = customer.party.type if customer is not None else staged.type
        errors = customer_changes_errors(
            changes=changes, legal_entity=store.legal_entity, refs=refs, customer_type=customer_type
        )
        if errors:
            outcomes[row.pk] = RequestOutcome(row.pk, error="; ".join(errors))
            continue
        if customer is not None:
            # R11: the edit counts as made at most when HQ received it.
            at = edit_time_at_hq(row.edited_at, row.staged_at)
            hq_items.append((customer, changes, at, row.channel_database, row.pk))
        else:
            staged_items.append((staged, changes, row.pk))
    return outcomes, hq_items, staged_items


def _legal_entity_error(*, row, store: Store, stores, customer, staged) -> str | None:
    """R1 at HQ: a store changes only customers of its own legal entity. A channel
    database may serve stores of two legal entities; a request naming a GUID of the
    other one's customer fails, never applied."""
    if customer is not None:
        if customer.legal_entity_id == store.legal_entity_id:
            return None
        entity = customer.legal_entity.code
    else:
        owner = stores.get(staged.store_number)
        if owner is None or owner.legal_entity_id == store.legal_entity_id:
            return None  # an unknown store fails the staged record by itself
        entity = owner.legal_entity.code
    target = row.target_account or row.target_async_customer_id
    return (
        f'customer: "{target}" is a customer of legal entity {entity}; store '
        f"{store.number} of legal entity {store.legal_entity.code} changes only customers "
        "of its own legal entity"
    )


def _request_targets(rows):
    """The HQ customers and not-yet-created staged records the requests point at,
    in three queries for the whole batch."""
    accounts = {r.target_account for r in rows if r.target_account}
    locked = Customer.objects.select_for_update(of=("self",)).select_related("party")
    # R13: a request naming a merged account, or its GUID, lands on the survivor.
    by_account = survivors_map(
        {
            (c.legal_entity_id, c.account): c
            for c in locked.filter(account__in=accounts).order_by("pk")
        },
        queryset=locked,
    )
    guids = {r.target_async_customer_id for r in rows if r.target_async_customer_id}
    channels_by_guid: dict[uuid.UUID, set[str]] = defaultdict(set)
    for r in rows:
        if r.target_async_customer_id:
            channels_by_guid[r.target_async_customer_id].add(r.channel_database)
    by_guid = {}
    for c in (
        Customer.objects.select_for_update(of=("self",))
        .select_related("party", "legal_entity")
        .filter(async_customer_id__in=guids)
        .order_by("pk")
    ):
        for channel_database in channels_by_guid[c.async_customer_id]:
            if origin_matches(c.async_origin, channel_database):
                by_guid[(channel_database, c.async_customer_id)] = c
    # R12: a GUID a person linked to an existing account resolves to that account.
    for link in (
        AsyncCustomerLink.objects.select_related("customer__party", "customer__legal_entity")
        .filter(async_customer_id__in=guids)
        .order_by()
    ):
        by_guid.setdefault((link.channel_database, link.async_customer_id), link.customer)
    by_guid = survivors_map(by_guid, queryset=locked.select_related("legal_entity", "party"))
    # One instance per customer, however the requests name it (an account, a GUID, a
    # merged account, R13): a batch's changes to it accumulate on that one instance.
    instances: dict[int, Customer] = {}
    for targets in (by_account, by_guid):
        for key, customer in targets.items():
            targets[key] = instances.setdefault(customer.pk, customer)
    staged_targets = {
        (s.channel_database, s.async_customer_id): s
        for s in StagedAsyncCustomer.objects.filter(async_customer_id__in=guids)
        .exclude(status=StagingStatus.COMPLETED)
        .order_by()
    }
    # An account resolved by its GUID wins over the staged record (it was created).
    for key in by_guid:
        staged_targets.pop(key, None)
    return by_account, by_guid, staged_targets


def hq_customers_apply(
    *, items: Sequence[tuple[Customer, CustomerChanges, datetime.datetime, str]], refs
) -> list[list[str]]:
    """Apply changes to locked HQ customers, oldest edit first; per field the latest
    change wins. Returns, per item, what was skipped because HQ changed it later.
    One bulk write per table for the whole batch (``parts.HqParts``); each customer's
    version goes up once per change."""
    order = sorted(range(len(items)), key=lambda i: items[i][2])
    skipped: list[list[str]] = [[] for _ in items]
    if not items:
        return skipped
    groups = {g.pk: g for g in CustomerGroup.objects.all()}
    group_by_code = {(g.legal_entity_id, g.code): g for g in groups.values()}
    now = timezone.now()
    parts = HqParts(customers=[c for c, *_ in items], changes=[ch for _, ch, *_ in items])
    for index in order:
        skipped[index] = _customer_change(
            *items[index], refs=refs, group_by_code=group_by_code, now=now, parts=parts
        )
    customers = list({c.pk: c for c, *_ in items}.values())
    Party.objects.bulk_update(
        [c.party for c in customers], ["first_name", "last_name", "organization_name", "name"]
    )
    Customer.objects.bulk_update(
        customers,
        ["email", "phone", "customer_group", "language", "field_changed_at", "modified_at"],
    )
    _versions_raise(items=items, customers=customers)
    parts.write()
    # R12: email, phone, names and the primary address are the customers' match keys.
    customer_match_keys_refresh(customer_ids=[c.pk for c in customers])
    return skipped


def _customer_change(
    customer: Customer,
    changes: CustomerChanges,
    edited_at: datetime.datetime,
    origin: str,
    *,
    refs,
    group_by_code: dict,
    now: datetime.datetime,
    parts: HqParts,
) -> list[str]:
    """One change on one locked HQ customer, in memory: its fields, stamps and version;
    attribute values, affiliations, contacts and addresses go to the batch's ``parts``.
    Returns what was skipped because HQ changed it later."""
    skipped: list[str] = []
    stamps = dict(customer.field_changed_at or {})
    for name, value in changes.fields.items():
        if changed_later(stamps.get(name), edited_at):
            skipped.append(f"{name}: kept the HQ value changed at {stamps[name]}")
            continue
        if name in PARTY_FIELDS:
            setattr(customer.party, name, value)
        elif name == "customer_group":
            customer.customer_group = group_by_code[(customer.legal_entity_id, value)]
        else:
            setattr(customer, name, value)
        stamps[name] = edited_at.isoformat()
    parts.change(customer, changes, edited_at, origin, refs=refs, stamps=stamps, skipped=skipped)
    customer.party.name = display_name(
        type=customer.party.type,
        first_name=customer.party.first_name,
        last_name=customer.party.last_name,
        organization_name=customer.party.organization_name,
    )
    customer.field_changed_at = stamps
    customer.version += 1
    customer.modified_at = now
    return skipped


def _versions_raise(*, items, customers: list[Customer]) -> None:
    """Each customer's version up once per change of the batch, with F() so a concurrent
    raise (an admin edit) is never lost; then the versions now in the database, for the
    whole batch in one query."""
    raises: dict[int, int] = defaultdict(int)
    for customer, *_ in items:
        raises[customer.pk] += 1
    for count in set(raises.values()):
        Customer.objects.filter(pk__in=[pk for pk, n in raises.items() if n == count]).update(
            version=F("version") + count
        )
    versions = dict(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("pk", "version")
    )
    for customer in customers:
        customer.version = versions[customer.pk]


def _staged_records_apply(*, items: Sequence[tuple[StagedAsyncCustomer, CustomerChanges]]) -> None:
    """Apply changes to staged records not created yet; a failed one goes back to
    pending so this run tries it again."""
    if not items:
        return
    records = list({s.pk: s for s, _ in items}.values())
    parts = StagedParts(staged_ids=[s.pk for s in records])
    for staged, changes in items:
        for name, value in changes.fields.items():
            setattr(staged, name, value)
        parts.change(staged, changes)
        if staged.status == StagingStatus.FAILED:
            staged.status = StagingStatus.PENDING
    StagedAsyncCustomer.objects.bulk_update(
        records,
        [*EDITABLE_FIELDS, "status"],
    )
    parts.write()


def _requests_mark(*, rows, outcomes: dict[int, RequestOutcome]) -> None:
    """Record outcomes: applied rows completed (with account and version), failed rows
    with their message; unresolved rows stay pending, untouched."""
    now = timezone.now()
    changed = []
    for row in rows:
        outcome = outcomes[row.pk]
        if outcome.unresolved:
            continue
        row.attempts += 1
        row.processed_at = now
        if outcome.ok:
            row.status = StagingStatus.COMPLETED
            row.last_error = ""
            row.account = outcome.account
            row.applied_version = outcome.applied_version
            row.applied_to_staged = outcome.applied_to_staged
            row.skipped = outcome.skipped or []
        else:
            row.status = StagingStatus.FAILED
            row.last_error = outcome.error
        changed.append(row)
    StagedChannelRequest.objects.bulk_update(
        changed,
        [
            "status",
            "last_error",
            "attempts",
            "processed_at",
            "account",
            "applied_version",
            "applied_to_staged",
            "skipped",
        ],
        batch_size=BULK_BATCH,
    )
    events_record(_request_event(row, now) for row in changed)


def _request_event(row, now) -> NewEvent:
    """README "Event log": a request applied at HQ (to the account, with the version it
    made, or to the staged customer) or failed with its reason."""
    if row.status == StagingStatus.FAILED:
        action, detail = EventAction.FAILED, row.last_error
    elif row.applied_to_staged:
        action, detail = EventAction.APPLIED, "to the staged customer before creation"
    else:
        action = EventAction.APPLIED
        detail = f"to account {row.account} (version {row.applied_version})"
        if row.skipped:
            detail += f"; kept the HQ value of: {', '.join(str(s) for s in row.skipped)}"
    return NewEvent(
        kind=EventKind.EDIT,
        key=row.request_id,
        channel_database=row.channel_database,
        account=row.account or row.target_account,
        action=action,
        detail=detail,
        version=row.applied_version,
        at=now,
    )
