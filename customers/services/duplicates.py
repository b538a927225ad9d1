"""Duplicate customers (R12): match keys kept current, matching before account creation,
and the record of possible duplicates.

Keys (``customers.match_keys``) live in indexed columns on the HQ customer. Staged
records get theirs at match time: they are matched once per attempt, and computing
them then, from the record as it is (a person may have fixed it), costs less than
keeping columns current on every staging write and admin edit.

``duplicates_screen`` matches a batch of a legal entity's records with one query per
key kind (``IN`` over the batch's keys) against the legal entity's customers, and
against the records of the same batch that are created before them. Callers hold the
legal entity's number-sequence row lock while they screen and create (R4's
``account_numbers_allocate`` takes the same lock), so a second worker waits for the
first to commit and then sees the accounts it created.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from commerce.db import CHUNK
from commerce.models import DuplicatePolicy, LegalEntity, NumberSequence
from customers.match_keys import (
    KIND_COLUMNS,
    KINDS,
    MatchKeys,
    alpha2,
    main_address,
    match_keys,
    reasons_in_words,
)
from customers.models import Customer, PossibleDuplicate
from customers.selectors.stores import legal_entity_countries
from customers.services.validation import CustomerInput

BULK_BATCH = settings.CONVERSION_BATCH_SIZE
# A message names this many matching accounts, then says how many more there are.
MESSAGE_ACCOUNTS = 5


# --- Fallback countries (phone numbers without a country code) ------------------------


# --- Keys of inputs and customers -----------------------------------------------------


def needs_fallback_country(data: CustomerInput) -> bool:
    """Whether the phone needs a country its own text and address do not give (R12)."""
    phone = data.phone.strip()
    if not phone or phone.startswith("+"):
        return False
    address = main_address(data.addresses)
    return address is None or alpha2(address.country) is None


def input_match_keys(data: CustomerInput, *, fallback_country: str | None) -> MatchKeys:
    """R12 keys of a creation input (a staged record's, with its store's country)."""
    return match_keys(
        email=data.email,
        phone=data.phone,
        name=data.name,
        addresses=data.addresses,
        fallback_country=fallback_country,
    )


def customer_keys(customer: Customer, *, fallback_country: str | None) -> MatchKeys:
    """The keys of an HQ customer (party and addresses loaded)."""
    return match_keys(
        email=customer.email,
        phone=customer.phone,
        name=customer.party.name,
        addresses=customer.party.addresses.all(),
        fallback_country=fallback_country,
    )


def customer_match_keys_refresh(
    *, customer_ids: Iterable[int] = (), party_ids: Iterable[int] = ()
) -> int:
    """R12: recompute the match keys of these customers (and of these parties' customers)
    from their email, phone, name and primary address; returns how many changed.

    For every writer of those fields that does not go through ``customers_create``
    (the admin, linking a duplicate, R6 addresses, imports). A fixed number of queries
    per 1,000 customers. Safe to re-run: the keys only follow the data.
    """
    customer_ids, party_ids = list(set(customer_ids)), list(set(party_ids))
    if not customer_ids and not party_ids:
        return 0
    changed = 0
    for start in range(0, max(len(customer_ids), len(party_ids)), CHUNK):
        ids, parties = customer_ids[start : start + CHUNK], party_ids[start : start + CHUNK]
        customers = list(
            Customer.objects.filter(Q(pk__in=ids) | Q(party_id__in=parties))
            .select_related("party")
            .prefetch_related("party__addresses")
        )
        fallback = legal_entity_countries(c.legal_entity_id for c in customers)
        stale = []
        for customer in customers:
            keys = customer_keys(customer, fallback_country=fallback.get(customer.legal_entity_id))
            columns = keys.columns()
            if any(getattr(customer, name) != value for name, value in columns.items()):
                for name, value in columns.items():
                    setattr(customer, name, value)
                stale.append(customer)
        Customer.objects.bulk_update(stale, list(KIND_COLUMNS.values()), batch_size=BULK_BATCH)
        changed += len(stale)
    return changed


# --- Matching -----------------------------------------------------------------------------


@dataclass
class Match:
    """A customer a record matched, and on which keys."""

    account: str
    customer_id: int | None = None  # None: a record of the same batch not created (yet)
    reasons: dict[str, str] = field(default_factory=dict)  # kind -> key


@dataclass
class Screening:
    """What matching found for each record of a batch, in the batch's order."""

    keys: list[MatchKeys]
    existing: list[list[Match]]  # customers of the legal entity
    earlier: list[dict[int, dict[str, str]]]  # batch index of an earlier record -> reasons
    held: list[bool]  # policy "review" and something matched: do not create

    def matched(self, index: int) -> bool:
        return bool(self.existing[index] or self.earlier[index])


def sequence_lock(*, legal_entity_id: int) -> None:
    """Lock the legal entity's customer number-sequence row for the rest of the caller's
    transaction (PostgreSQL: SELECT ... FOR UPDATE; SQLite serializes writers anyway).

    R12 takes it before matching: account creation takes the same lock to number
    accounts, so a worker that matches waits until another worker's new accounts are
    committed, then sees them. Call inside ``transaction.atomic``.
    """
    list(
        NumberSequence.objects.select_for_update()
        .filter(legal_entity_id=legal_entity_id)
        .values_list("pk", flat=True)
    )


def duplicates_find(*, legal_entity_id: int, keys: Sequence[MatchKeys]) -> list[list[Match]]:
    """The legal entity's customers sharing a key with each record: one query per key
    kind that the records have, whatever their number (R12: never a scan per record)."""
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for kind in KINDS:
        values = {getattr(k, kind) for k in keys} - {""}
        if not values:
            continue
        column = KIND_COLUMNS[kind]
        rows = (
            # R13: a merged account is only an alias of its survivor, never a match.
            Customer.objects.filter(
                legal_entity_id=legal_entity_id, merged_into=None, **{f"{column}__in": values}
            )
            .order_by()
            .values_list("pk", "account", column)
        )
        for pk, account, value in rows:
            found.setdefault((kind, value), []).append((pk, account))
    result = []
    for record in keys:
        matches: dict[int, Match] = {}
        for kind, value in record.items():
            for pk, account in found.get((kind, value), ()):
                matches.setdefault(pk, Match(account=account, customer_id=pk)).reasons[kind] = value
        result.append(sorted(matches.values(), key=lambda m: m.account))
    return result


def duplicates_screen(
    *,
    legal_entity: LegalEntity,
    keys: Sequence[MatchKeys],
    decided: Sequence[bool] | None = None,
) -> Screening:
    """R12: match a legal entity's batch (in order) against its customers and against
    the batch's earlier records that will be created; with the "review" policy a record
    that matched is held. ``decided`` marks records a person already chose to create
    (never held). Call under ``sequence_lock``. Reads only."""
    decided = decided or [False] * len(keys)
    existing = duplicates_find(legal_entity_id=legal_entity.pk, keys=keys)
    review = legal_entity.duplicate_policy == DuplicatePolicy.REVIEW
    first_with: dict[tuple[str, str], int] = {}
    earlier: list[dict[int, dict[str, str]]] = []
    held: list[bool] = []
    for index, record in enumerate(keys):
        before: dict[int, dict[str, str]] = {}
        for kind, value in record.items():
            if (kind, value) in first_with:
                before.setdefault(first_with[(kind, value)], {})[kind] = value
        earlier.append(before)
        hold = review and not decided[index] and bool(existing[index] or before)
        held.append(hold)
        if not hold:  # a held record is not created: later ones cannot match it
            for kind, value in record.items():
                first_with.setdefault((kind, value), index)
    return Screening(keys=list(keys), existing=existing, earlier=earlier, held=held)


def duplicates_message(matches: Sequence[Match]) -> str:
    """'possible duplicate of C000101 (same email), C000107 (same name and zip code
    77001)', naming at most MESSAGE_ACCOUNTS accounts."""
    parts = [
        f"{match.account} ({reasons_in_words(match.reasons)})"
        for match in matches[:MESSAGE_ACCOUNTS]
    ]
    more = len(matches) - MESSAGE_ACCOUNTS
    return "possible duplicate of " + ", ".join(parts) + (f", and {more} more" if more > 0 else "")


def possible_duplicates_record(
    *, legal_entity: LegalEntity, pairs: Iterable[tuple[int, int, dict[str, str]]]
) -> int:
    """R12, policy "create": list (new customer id, matched customer id, reasons) for a
    person to compare. One INSERT per batch; a pair listed before is kept as it is."""
    rows = [
        PossibleDuplicate(
            legal_entity=legal_entity, customer_id=new, duplicate_of_id=old, reasons=reasons
        )
        for new, old, reasons in pairs
        if new != old
    ]
    PossibleDuplicate.objects.bulk_create(rows, batch_size=BULK_BATCH, ignore_conflicts=True)
    return len(rows)
