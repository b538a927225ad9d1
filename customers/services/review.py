"""R12 review: a person resolves an async customer held as a possible duplicate.

- Link: the async GUID maps to an existing account of the legal entity
  (``AsyncCustomerLink``; the account keeps its own GUID history), the store's new
  addresses (with their GUIDs, from that channel database) and contact info are added
  to it, and its version rises, so distribution (1010, R7) links the store's async
  customer, its addresses and its transactions to the account. Orders and statements
  (R8, R9) resolve to it from then on.
- Create: the record is created as a new account after all (R4, R5 still apply); the
  decision sticks, so a record that fails validation and is fixed later is not held
  again.

Either way the staged record keeps who decided and when. A record not under review
is refused: a second review changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from commerce.db import HQ
from commerce.events import EventAction, EventKind, event_record
from commerce.models import Store
from customers.match_keys import email_key, phone_key
from customers.models import (
    Address,
    AsyncCustomerLink,
    ContactInfo,
    ContactType,
    Customer,
    PossibleDuplicate,
    ReviewDecision,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagingStatus,
    address_values,
    location_id_for,
)
from customers.selectors.stores import store_countries
from customers.services.accounts_staged import STAGED_CUSTOMER_PREFETCH, staged_customers_create
from customers.services.aliases import customer_survivor
from customers.services.children import staged_customer_input
from customers.services.duplicates import (
    Match,
    customer_match_keys_refresh,
    duplicates_find,
    input_match_keys,
    needs_fallback_country,
)
from customers.services.staging import (
    address_by_guid_location_id,
    origin_matches,
)
from customers.services.validation import AddressInput, address_input_errors


class DuplicateReviewError(Exception):
    """The review was refused; the message is one line naming why."""


@dataclass(frozen=True)
class ReviewResult:
    decision: str  # ReviewDecision
    account: str = ""
    error: str = ""  # "create": why HQ could not create it (the record is failed now)
    addresses_added: int = 0
    contacts_added: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


def staged_status_name(staged: StagedAsyncCustomer) -> str:
    """The record's status as the status commands name it (README "Statuses")."""
    return {
        StagingStatus.PENDING: "uploaded",
        StagingStatus.COMPLETED: "created",
    }.get(staged.status, staged.status)


def staged_customer_for_review(
    *, async_customer_id: str, channel_database: str | None = None
) -> StagedAsyncCustomer:
    """The staged record of an async GUID (of one channel database when several staged
    it); DuplicateReviewError when there is none or the GUID is ambiguous."""
    try:
        guid = uuid.UUID(str(async_customer_id))
    except ValueError:
        raise DuplicateReviewError(f'"{async_customer_id}" is not an async customer GUID') from None
    rows = StagedAsyncCustomer.objects.filter(async_customer_id=guid)
    if channel_database:
        rows = rows.filter(channel_database=channel_database)
    rows = list(rows.order_by("channel_database")[:10])
    if not rows:
        where = f" from channel database {channel_database}" if channel_database else ""
        raise DuplicateReviewError(f"unknown async customer {guid}{where}: not staged at HQ")
    if len(rows) > 1:
        names = ", ".join(row.channel_database for row in rows)
        raise DuplicateReviewError(
            f"async customer {guid} was staged from several channel databases ({names}); "
            "name one with --channel-database"
        )
    return rows[0]


def staged_duplicates_find(*, staged: StagedAsyncCustomer) -> list[Match]:
    """The legal entity's customers the staged record matches now (its children
    prefetched): what the review page compares it with. Reads only."""
    store = (
        Store.objects.select_related("legal_entity", "default_customer__customer_group")
        .filter(number=staged.store_number)
        .first()
    )
    if store is None:
        return []
    data = staged_customer_input(staged=staged, store=store)
    countries = store_countries([store.number]) if needs_fallback_country(data) else {}
    keys = input_match_keys(data, fallback_country=countries.get(store.number))
    (matches,) = duplicates_find(legal_entity_id=store.legal_entity_id, keys=[keys])
    return matches


def staged_customer_review(
    *,
    staged: StagedAsyncCustomer,
    link_account: str | None = None,
    create: bool = False,
    user=None,
    reviewer: str = "",
) -> ReviewResult:
    """R12: resolve a record under review, linking it to ``link_account`` of its legal
    entity or creating a new account (``create``), and record who decided (``user``,
    else ``reviewer``) and when. All in one HQ transaction, under the staged row's lock.

    Raises DuplicateReviewError (nothing written) for a record not under review, an
    unknown account or one of another legal entity, or addresses HQ cannot take. A
    second call is refused: the record is no longer under review.
    """
    if bool(link_account) == bool(create):
        raise DuplicateReviewError("give either an account to link to or create, not both")
    name = user.get_username() if user is not None else reviewer
    now = timezone.now()
    with transaction.atomic(using=HQ):
        staged = (
            StagedAsyncCustomer.objects.select_for_update()
            .prefetch_related(*STAGED_CUSTOMER_PREFETCH)
            .get(pk=staged.pk)
        )
        if staged.status != StagingStatus.NEEDS_REVIEW:
            raise DuplicateReviewError(
                f"async customer {staged.async_customer_id} is not under review "
                f"(status {staged_status_name(staged)})"
            )
        staged.review_decision = ReviewDecision.CREATED if create else ReviewDecision.LINKED
        staged.reviewed_by, staged.reviewer, staged.reviewed_at = user, name, now
        if create:
            staged.save(update_fields=["review_decision", "reviewed_by", "reviewer", "reviewed_at"])
            _reviewed_event(staged, actor=name, detail="a new account", at=now)
            (outcome,) = staged_customers_create(staged_rows=[staged])
            return ReviewResult(
                decision=ReviewDecision.CREATED, account=outcome.account, error=outcome.error
            )
        return _link(staged=staged, account=link_account.strip(), user=user, name=name, now=now)


def _link_target(staged: StagedAsyncCustomer, account: str) -> Customer:
    store = Store.objects.select_related("legal_entity").filter(number=staged.store_number).first()
    if store is None:
        raise DuplicateReviewError(f'store_number: unknown store "{staged.store_number}"')
    customer = (
        Customer.objects.select_related("party", "merged_into__party")
        .filter(legal_entity_id=store.legal_entity_id, account=account)
        .first()
    )
    if customer is not None:
        return customer_survivor(customer)  # R13: a merged account links to its survivor
    elsewhere = Customer.objects.select_related("legal_entity").filter(account=account).first()
    if elsewhere is not None:
        raise DuplicateReviewError(
            f"account {account} belongs to legal entity {elsewhere.legal_entity.code}, "
            f"not {store.legal_entity.code} (store {store.number})"
        )
    raise DuplicateReviewError(
        f'unknown account "{account}" in legal entity {store.legal_entity.code}'
    )


def _new_addresses(staged: StagedAsyncCustomer, customer: Customer) -> list[Address]:
    """The store's addresses as HQ addresses of the account, refusing what HQ cannot take
    (R5) or a GUID HQ already holds for another customer (R7: never merged)."""
    staged_addresses = list(staged.addresses.all())
    errors = []
    for index, address in enumerate(staged_addresses):
        errors += address_input_errors(
            address=AddressInput(**address_values(address)), prefix=f"addresses[{index}]."
        )
    held = {
        guid: (party_id, origin)
        for guid, party_id, origin in Address.objects.filter(
            async_address_id__in=[a.async_address_id for a in staged_addresses]
        ).values_list("async_address_id", "party_id", "async_origin")
    }
    for index, address in enumerate(staged_addresses):
        party_id, origin = held.get(address.async_address_id, (None, ""))
        if party_id is not None and not (
            party_id == customer.party_id and origin_matches(origin, staged.channel_database)
        ):
            errors.append(
                f'addresses[{index}].async_address_id: GUID "{address.async_address_id}" '
                "is already another HQ address"
            )
    if errors:
        raise DuplicateReviewError("; ".join(errors))
    has_addresses = Address.objects.filter(party_id=customer.party_id).exists()
    new = [a for a in staged_addresses if a.async_address_id not in held]
    primary = next((a for a in new if a.is_primary), new[0] if new else None)
    return [
        Address(
            party_id=customer.party_id,
            location_id=location_id_for(a.async_address_id),
            async_address_id=a.async_address_id,
            async_origin=staged.channel_database,
            # The account's own primary address stays; one without any takes the store's.
            **{**address_values(a), "is_primary": not has_addresses and a is primary},
        )
        for a in new
    ]


def _same_phone(one: str, other: str) -> bool:
    key = phone_key(one)
    return bool(key and key == phone_key(other)) or one.strip() == other.strip()


def _new_contacts(staged: StagedAsyncCustomer, customer: Customer) -> list[ContactInfo]:
    """The store's contact info the account does not have yet: its contacts, and its
    email and phone where they differ from the account's own (which stay)."""
    wanted = [(c.type, c.value.strip()) for c in staged.contacts.all() if c.value.strip()]
    if staged.email.strip() and email_key(staged.email) != email_key(customer.email):
        wanted.append((ContactType.EMAIL, staged.email.strip()))
    if staged.phone.strip() and not _same_phone(staged.phone, customer.phone):
        wanted.append((ContactType.PHONE, staged.phone.strip()))
    have = set(ContactInfo.objects.filter(party_id=customer.party_id).values_list("type", "value"))
    new, seen = [], set(have)
    for kind, value in wanted:
        if (kind, value) not in seen:
            seen.add((kind, value))
            new.append(ContactInfo(party_id=customer.party_id, type=kind, value=value))
    return new


def _link(*, staged: StagedAsyncCustomer, account: str, user, name: str, now) -> ReviewResult:
    customer = _link_target(staged, account)
    addresses = _new_addresses(staged, customer)
    contacts = _new_contacts(staged, customer)
    AsyncCustomerLink.objects.create(
        async_customer_id=staged.async_customer_id,
        channel_database=staged.channel_database,
        customer=customer,
        linked_by=user,
        linker=name,
        linked_at=now,
    )
    Address.objects.bulk_create(addresses)
    ContactInfo.objects.bulk_create(contacts)
    # A new version: 1010 sends the account, with the link, to every channel database.
    Customer.objects.filter(pk=customer.pk).update(version=F("version") + 1, modified_at=now)
    customer_match_keys_refresh(customer_ids=[customer.pk])
    StagedAsyncCustomer.objects.filter(pk=staged.pk).update(
        status=StagingStatus.COMPLETED,
        account=customer.account,
        last_error="",
        attempts=F("attempts") + 1,
        processed_at=now,
        review_decision=ReviewDecision.LINKED,
        reviewed_by=user,
        reviewer=name,
        reviewed_at=now,
    )
    StagedAsyncCustomerAddress.objects.filter(staged_customer_id=staged.pk).update(
        location_id=address_by_guid_location_id()
    )
    _reviewed_event(
        staged,
        actor=name,
        detail=f"linked to account {customer.account}",
        account=customer.account,
        at=now,
    )
    return ReviewResult(
        decision=ReviewDecision.LINKED,
        account=customer.account,
        addresses_added=len(addresses),
        contacts_added=len(contacts),
    )


def _reviewed_event(staged: StagedAsyncCustomer, *, actor: str, detail: str, at, account=""):
    """README "Event log": who decided a possible duplicate, and what."""
    event_record(
        kind=EventKind.CUSTOMER,
        key=staged.async_customer_id,
        channel_database=staged.channel_database,
        account=account,
        action=EventAction.REVIEWED,
        actor=actor,
        detail=detail,
        at=at,
    )


def possible_duplicates_mark_reviewed(*, ids, user) -> int:
    """R12, policy "create": a person compared these listed pairs and keeps both accounts;
    who and when are recorded. A pair reviewed before keeps its first review. Returns
    how many were marked now."""
    return PossibleDuplicate.objects.filter(pk__in=list(ids), reviewed_at=None).update(
        reviewed_by=user, reviewed_at=timezone.now()
    )
