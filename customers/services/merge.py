"""R13: merge duplicate customers into a survivor (README, Rule map: R13).

``customers_merge`` does it in one HQ transaction, under row locks taken on every
account involved in a stable order (by id), so two operators merging overlapping
accounts at once are serialized: the second sees what the first did and is refused
(an account already merged) or merges what is left; no child is lost and no alias
ever points at an alias (no cycle).

The survivor takes the others' addresses, contact info (their email and phone too), the
attribute values it lacks, affiliations (no duplicates), sales transactions and sales
orders (and the account transactions were posted to), the store default customers they
were, the links of their async GUIDs (R12 links, and their own GUID, which now links to
the survivor in the channel database that made it) and the account of their staged
records. Each merged account stays as an alias (``Customer.merged_into``, with who and
when): it keeps its number, is no longer distributed as a live customer, and everything
that names it resolves to the survivor (``customers.services.aliases``). The survivor's
version rises, so 1010 sends it to every channel database, with ``merged_accounts``: each
store's copy of a merged account is replaced (``customers.services.merge_channel``).
Possible duplicates between the merged accounts are marked reviewed; those with other
accounts follow to the survivor.

A fixed number of queries whatever the number of children (no query per child row).
Not re-runnable by design: a second merge of the same account is refused (already
merged), which is what makes two operators at once safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from commerce.db import HQ
from commerce.events import EventAction, EventKind, NewEvent, events_record
from commerce.models import SalesOrder, SalesTransaction, Store, TransactionStatus
from customers.match_keys import email_key, phone_key
from customers.models import (
    Address,
    AsyncCustomerLink,
    ContactInfo,
    ContactType,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    PossibleDuplicate,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.services.duplicates import customer_match_keys_refresh


class MergeError(Exception):
    """The merge was refused; the message is one line naming why. Nothing was written."""


@dataclass(frozen=True)
class MergeResult:
    survivor: Customer
    merged: list[str]


def merge_targets_find(
    *, survivor: str, accounts: Sequence[str], legal_entity: str | None = None
) -> tuple[int, list[int]]:
    """The customer ids of ``survivor`` and ``accounts`` (account numbers, of
    ``legal_entity`` when given). MergeError for an unknown account, an account number
    several legal entities use when none is named, or accounts of two legal entities."""
    wanted = [survivor.strip(), *(a.strip() for a in accounts)]
    rows = Customer.objects.filter(account__in=set(wanted)).select_related("legal_entity")
    if legal_entity:
        rows = rows.filter(legal_entity__code=legal_entity)
    found: dict[str, list[Customer]] = {}
    for customer in rows.order_by("legal_entity__code"):
        found.setdefault(customer.account, []).append(customer)
    where = f" in legal entity {legal_entity}" if legal_entity else ""
    for account in wanted:
        if account not in found:
            raise MergeError(f'unknown account "{account}"{where}')
    head = found[wanted[0]]
    if len(head) > 1:
        codes = ", ".join(c.legal_entity.code for c in head)
        raise MergeError(
            f"account {wanted[0]} exists in legal entities {codes}; name one with --legal-entity"
        )
    target = head[0]
    ids = []
    for account in wanted[1:]:
        same = [c for c in found[account] if c.legal_entity_id == target.legal_entity_id]
        if not same:
            other = found[account][0].legal_entity.code
            raise MergeError(
                f"account {account} is a customer of legal entity {other} and account "
                f"{target.account} of {target.legal_entity.code}: accounts of two legal "
                "entities are never merged"
            )
        ids.append(same[0].pk)
    return target.pk, ids


def customers_merge(
    *,
    survivor_id: int,
    merged_ids: Sequence[int],
    user=None,
    merger: str = "",
    shown_versions: Mapping[int, int] | None = None,
) -> MergeResult:
    """R13: merge the customers ``merged_ids`` into ``survivor_id`` in one HQ
    transaction; who merged is ``user`` (else ``merger``, a name). With
    ``shown_versions`` (customer id -> the version a page showed), an account changed
    since is refused. Raises MergeError (nothing written) for an account merged into
    itself, an account already merged, an unknown account, accounts of two legal
    entities or a changed account. A second call is refused (already merged)."""
    merged_ids = list(dict.fromkeys(merged_ids))
    if not merged_ids:
        raise MergeError("name at least one account to merge into the survivor")
    name = user.get_username() if user is not None else merger
    for _attempt in range(LOCK_ATTEMPTS):
        result = _merge_locked(
            survivor_id=survivor_id,
            merged_ids=merged_ids,
            user=user,
            name=name,
            shown_versions=shown_versions or {},
        )
        if result is not None:
            return result
    raise MergeError("the accounts kept changing while they were being merged; try again")


# A merge that finds, once it holds its locks, an alias it did not lock (an account
# merged into one of its accounts meanwhile) starts again, locking it in order too.
LOCK_ATTEMPTS = 3


def _merge_locked(
    *, survivor_id: int, merged_ids: list[int], user, name: str, shown_versions
) -> MergeResult | None:
    """The merge in one transaction, every account it changes locked first, in id
    order: the survivor, the merged accounts and the aliases of these (repointed to the
    survivor). None, with nothing written, when an alias appeared after the locks."""
    now = timezone.now()
    with transaction.atomic(using=HQ):
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update(of=("self",))
            .select_related("party", "legal_entity")
            .filter(Q(pk__in=[survivor_id, *merged_ids]) | Q(merged_into_id__in=merged_ids))
            .order_by("pk")
        }
        aliases = set(
            Customer.objects.filter(merged_into_id__in=merged_ids).values_list("pk", flat=True)
        )
        if aliases - set(locked):
            return None
        survivor, merged = _merge_check(
            locked=locked,
            survivor_id=survivor_id,
            merged_ids=merged_ids,
            shown_versions=shown_versions,
        )
        _children_move(survivor=survivor, merged=merged, now=now)
        _references_move(survivor=survivor, merged=merged, user=user, now=now)
        Customer.objects.filter(merged_into_id__in=merged_ids).update(merged_into=survivor)
        Customer.objects.filter(pk__in=merged_ids).update(
            merged_into=survivor,
            merged_at=now,
            merged_by=user,
            merger=name,
            version=F("version") + 1,
            modified_at=now,
        )
        # A new version: 1010 sends the survivor, naming the merged accounts, everywhere.
        Customer.objects.filter(pk=survivor.pk).update(
            email=survivor.email,
            phone=survivor.phone,
            field_changed_at=survivor.field_changed_at,
            version=F("version") + 1,
            modified_at=now,
        )
        customer_match_keys_refresh(customer_ids=[survivor.pk])
        # README "Event log": the merge on the log of every account it touched.
        merged_event = partial(
            NewEvent, kind=EventKind.ACCOUNT, action=EventAction.MERGED, actor=user or name, at=now
        )
        events_record(
            [
                *(
                    merged_event(
                        key=c.account,
                        account=c.account,
                        detail=f"merged into account {survivor.account}",
                    )
                    for c in merged
                ),
                merged_event(
                    key=survivor.account,
                    account=survivor.account,
                    detail="took over account(s) " + ", ".join(c.account for c in merged),
                ),
            ]
        )
    survivor.refresh_from_db()
    return MergeResult(survivor=survivor, merged=[c.account for c in merged])


def _merge_check(
    *,
    locked: dict[int, Customer],
    survivor_id: int,
    merged_ids: list[int],
    shown_versions: Mapping[int, int],
) -> tuple[Customer, list[Customer]]:
    """The refusals of R13, on the locked rows (what another operator committed first
    is seen here)."""
    if survivor_id in merged_ids:
        account = locked[survivor_id].account if survivor_id in locked else survivor_id
        raise MergeError(f"account {account} cannot be merged into itself")
    for pk in [survivor_id, *merged_ids]:
        if pk not in locked:
            raise MergeError(f"unknown customer {pk}")
    survivor = locked[survivor_id]
    merged = [locked[pk] for pk in merged_ids]
    for customer in [survivor, *merged]:
        if customer.merged_into_id is not None:
            into = Customer.objects.filter(pk=customer.merged_into_id).values_list(
                "account", flat=True
            )
            raise MergeError(
                f"account {customer.account} is already merged into account {into.first()}"
            )
    for customer in merged:
        if customer.legal_entity_id != survivor.legal_entity_id:
            raise MergeError(
                f"account {customer.account} is a customer of legal entity "
                f"{customer.legal_entity.code} and account {survivor.account} of "
                f"{survivor.legal_entity.code}: accounts of two legal entities are never merged"
            )
    for customer in [survivor, *merged]:
        shown = shown_versions.get(customer.pk)
        if shown is not None and int(shown) != customer.version:
            raise MergeError(
                f"account {customer.account} was changed after the page showed it; reload "
                "to see it as it is now; nothing was merged"
            )
    return survivor, merged


def _children_move(*, survivor: Customer, merged: list[Customer], now) -> None:
    """Addresses, contact info, attribute values and affiliations of the merged accounts
    to the survivor; what it already has stays as it is (its primary address, its
    values). A few queries per kind of child, whatever their number."""
    parties = [c.party_id for c in merged]
    merged_ids = [c.pk for c in merged]
    has_primary = Address.objects.filter(party_id=survivor.party_id, is_primary=True).exists()
    primary = None
    if not has_primary:
        primaries = dict(
            Address.objects.filter(party_id__in=parties, is_primary=True).values_list(
                "party_id", "pk"
            )
        )
        primary = next((primaries[p] for p in parties if p in primaries), None)
    Address.objects.filter(party_id__in=parties).update(
        party_id=survivor.party_id, is_primary=False
    )
    if primary is not None:
        Address.objects.filter(pk=primary).update(is_primary=True)
    _contacts_move(survivor=survivor, merged=merged)
    for model, kind in (
        (CustomerAttributeValue, "attribute_id"),
        (CustomerAffiliation, "affiliation_id"),
    ):
        _children_move_first(model, kind, survivor=survivor, merged_ids=merged_ids)


def _children_move_first(model, kind: str, *, survivor, merged_ids: list[int]) -> None:
    """Attribute values or affiliations (``kind``: the column that names which one) of
    the merged customers: the first of each kind the survivor lacks moves to it (in the
    order of ``merged_ids``); the rest are deleted."""
    have = set(model.objects.filter(customer=survivor).values_list(kind, flat=True))
    move, drop = _firsts(
        model.objects.filter(customer_id__in=merged_ids).values_list("pk", "customer_id", kind),
        have=have,
        order=merged_ids,
    )
    model.objects.filter(pk__in=move).update(customer=survivor)
    model.objects.filter(pk__in=drop).delete()


def _firsts(rows, *, have: set, order: list[int]) -> tuple[list[int], list[int]]:
    """Of ``(pk, owner, key)`` rows, the ones whose key the survivor lacks, the first
    merged account (in ``order``) winning; and the rest, to delete."""
    rank = {pk: index for index, pk in enumerate(order)}
    move, drop, seen = [], [], set(have)
    for pk, _owner, key in sorted(rows, key=lambda row: (rank[row[1]], row[0])):
        (drop if key in seen else move).append(pk)
        seen.add(key)
    return move, drop


def _contacts_move(*, survivor: Customer, merged: list[Customer]) -> None:
    """The merged accounts' contact info, and their email and phone: an email or phone
    the survivor lacks becomes its own, any other one a contact of it."""
    stamps = dict(survivor.field_changed_at or {})
    wanted: list[tuple[str, str]] = []
    for customer in merged:
        for field, kind, same in (
            ("email", ContactType.EMAIL, lambda a, b: email_key(a) == email_key(b)),
            ("phone", ContactType.PHONE, _same_phone),
        ):
            value = getattr(customer, field).strip()
            current = getattr(survivor, field)
            if not value:
                continue
            if not current.strip():
                setattr(survivor, field, value)
                stamps[field] = timezone.now().isoformat()
            elif not same(value, current):
                wanted.append((kind, value))
    survivor.field_changed_at = stamps
    rows = list(
        ContactInfo.objects.filter(
            party_id__in=[survivor.party_id, *(c.party_id for c in merged)]
        ).values_list("pk", "party_id", "type", "value")
    )
    seen = {(kind, value) for _, party, kind, value in rows if party == survivor.party_id}
    move, drop = [], []
    rank = {c.party_id: index for index, c in enumerate(merged)}
    for pk, _party, kind, value in sorted(
        (r for r in rows if r[1] != survivor.party_id), key=lambda r: (rank[r[1]], r[0])
    ):
        (drop if (kind, value) in seen else move).append(pk)
        seen.add((kind, value))
    ContactInfo.objects.filter(pk__in=move).update(party_id=survivor.party_id, is_primary=False)
    ContactInfo.objects.filter(pk__in=drop).delete()
    new = []
    for kind, value in wanted:
        if (kind, value) not in seen:
            seen.add((kind, value))
            new.append(ContactInfo(party_id=survivor.party_id, type=kind, value=value))
    ContactInfo.objects.bulk_create(new)


def _same_phone(one: str, other: str) -> bool:
    key = phone_key(one)
    return bool(key and key == phone_key(other)) or one.strip() == other.strip()


def _references_move(*, survivor: Customer, merged: list[Customer], user, now) -> None:
    """Everything that names a merged account by number or id, to the survivor."""
    merged_ids = [c.pk for c in merged]
    accounts = [c.account for c in merged]
    entity = survivor.legal_entity_id
    stores = Store.objects.filter(legal_entity_id=entity).values("number")
    # R12 links follow; a merged account's own GUID now links to the survivor in the
    # channel database that made it, so 1010 links the store's async customer to it.
    AsyncCustomerLink.objects.filter(customer_id__in=merged_ids).update(customer=survivor)
    AsyncCustomerLink.objects.bulk_create(
        [
            AsyncCustomerLink(
                async_customer_id=c.async_customer_id,
                channel_database=origin,
                customer=survivor,
                linked_by=user,
                linker=user.get_username() if user is not None else "",
                linked_at=now,
            )
            for c, origin in _origins(merged).items()
        ],
        ignore_conflicts=True,
    )
    StagedAsyncCustomer.objects.filter(account__in=accounts, store_number__in=stores).update(
        account=survivor.account
    )
    StagedAsyncAddress.objects.filter(
        customer_account__in=accounts, store_number__in=stores
    ).exclude(status=StagingStatus.COMPLETED).update(customer_account=survivor.account)
    sales = SalesTransaction.objects.filter(store__legal_entity_id=entity)
    sales.filter(customer_account__in=accounts).update(customer_account=survivor.account)
    sales.filter(status=TransactionStatus.POSTED, posted_customer_account__in=accounts).update(
        posted_customer_account=survivor.account
    )
    SalesOrder.objects.filter(store__legal_entity_id=entity, customer_account__in=accounts).update(
        customer_account=survivor.account
    )
    Store.objects.filter(default_customer_id__in=merged_ids).update(default_customer=survivor)
    _possible_duplicates_resolve(survivor=survivor, merged_ids=merged_ids, user=user, now=now)


def _origins(merged: list[Customer]) -> dict[Customer, str]:
    """The channel database that made each merged account's own async GUID (a record
    from before origins were kept: the one that staged it)."""
    origins = {c: c.async_origin for c in merged if c.async_customer_id}
    unknown = {c.async_customer_id: c for c, origin in origins.items() if not origin}
    if unknown:
        for guid, channel_database in StagedAsyncCustomer.objects.filter(
            async_customer_id__in=list(unknown)
        ).values_list("async_customer_id", "channel_database"):
            origins[unknown[guid]] = channel_database
    return {c: origin for c, origin in origins.items() if origin}


def _possible_duplicates_resolve(*, survivor: Customer, merged_ids: list[int], user, now) -> None:
    """Pairs among the merged accounts and the survivor are reviewed (merged); a pair
    with another account follows to the survivor, unless it has that pair already."""
    group = {survivor.pk, *merged_ids}
    PossibleDuplicate.objects.filter(
        customer_id__in=group, duplicate_of_id__in=group, reviewed_at=None
    ).update(reviewed_by=user, reviewed_at=now)
    touching = PossibleDuplicate.objects.filter(
        Q(customer_id__in=merged_ids) | Q(duplicate_of_id__in=merged_ids)
    ).exclude(customer_id__in=group, duplicate_of_id__in=group)
    follow = []
    for row in touching:
        row.customer_id = survivor.pk if row.customer_id in group else row.customer_id
        row.duplicate_of_id = survivor.pk if row.duplicate_of_id in group else row.duplicate_of_id
        row.pk = None
        follow.append(row)
    if follow:
        touching.delete()
        PossibleDuplicate.objects.bulk_create(follow, ignore_conflicts=True)
