"""R14 erasure (README, Erasure and access): the person behind an HQ account made
anonymous in every store of the customer domain.

``customer_erase`` locks the account, gathers what identifies the person (its names,
email, phone, contact values, match keys, and what its staged records and store edits
carried: the *needles*), then runs each step of ``ERASURE_STEPS`` (and the steps a caller
adds, e.g. the jobs' download payloads and job runs, ``jobs.services.erasure``) in one
HQ transaction. Each step erases one store and returns how many rows it changed, so a new
store (the event log) is one more small function. The customer's version rises and it is
marked erased: the next distribution (1010) writes the anonymous copy to every channel
database and scrubs the channel's async rows and requests of it
(``customers.services.erasure_channel.channel_erased_scrub``). Sales transactions and
orders keep their amounts, dates and the account number. Re-run safe: erasing an erased
customer changes nothing more.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from commerce.db import CHUNK, HQ
from commerce.events import EventAction, EventKind, event_record, events_erase_subject
from commerce.models import SalesTransaction, Statement
from customers.models import (
    Address,
    ContactInfo,
    Customer,
    CustomerAttributeValue,
    Party,
    PossibleDuplicate,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagedChannelRequest,
)

ERASED = "[erased]"
ERASED_FIRST_NAME = "Erased"
ERASED_LAST_NAME = "Customer"
ERASED_NAME = f"{ERASED_FIRST_NAME} {ERASED_LAST_NAME}"
# What an erased address keeps: its purpose, country and flags; these become:
ERASED_ADDRESS = {"street": ERASED, "city": ERASED, "state": "", "zip": ""}
# A value shorter than this is not searched for in free text (it would match anything).
MIN_NEEDLE = 3


class ErasureError(Exception):
    """One line: the account is unknown or ambiguous."""


@dataclass
class Erasure:
    """What the steps share: the customer (locked), the person's values to remove from
    free text, and the GUIDs the stores knew the person by."""

    customer: Customer
    needles: list[str]
    guids: list[tuple[str, uuid.UUID]]  # (channel database, async customer GUID)
    address_guids: list[uuid.UUID]
    user: object = None
    now: object = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def account(self) -> str:
        return self.customer.account

    def guid_q(self, *, channel_field: str, guid_field: str) -> Q:
        q = Q(pk__in=[])
        for channel_database, guid in self.guids:
            q |= Q(**{channel_field: channel_database, guid_field: guid})
        return q

    def scrub(self, value):
        """``value`` (text, or JSON: dicts, lists, strings) with every needle replaced."""
        return text_scrub(value, self.needles)


def _needle_pattern(needles: Sequence[str]) -> re.Pattern | None:
    if not needles:
        return None
    ordered = sorted(set(needles), key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in ordered), re.IGNORECASE)


def text_scrub(value, needles: Sequence[str]):
    """``value`` with every occurrence of a needle (case ignored) replaced by
    ``[erased]``: strings, and the strings inside JSON lists and dicts."""
    pattern = _needle_pattern(needles)
    if pattern is None:
        return value

    def walk(item):
        if isinstance(item, str):
            return pattern.sub(ERASED, item)
        if isinstance(item, list):
            return [walk(i) for i in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value)


def _needles(values: Iterable) -> list[str]:
    found = set()
    for value in values:
        text = str(value or "").strip()
        if len(text) >= MIN_NEEDLE and text not in (ERASED, ERASED_NAME):
            found.add(text)
            found.update(p for p in text.split() if len(p) >= MIN_NEEDLE)
    return sorted(found, key=len, reverse=True)


def customer_find(*, account: str, legal_entity: str | None = None) -> Customer:
    """The HQ customer ``account`` (of ``legal_entity`` when given); one line if unknown
    or if two legal entities have that account."""
    customers = Customer.objects.select_related("party", "legal_entity").filter(account=account)
    if legal_entity:
        customers = customers.filter(legal_entity__code=legal_entity)
    found = list(customers[:2])
    if not found:
        raise ErasureError(f"unknown customer account {account!r}")
    if len(found) > 1:
        raise ErasureError(
            f"account {account!r} exists in more than one legal entity; name the legal entity"
        )
    return found[0]


def _person_values(customer: Customer, guids) -> list:
    """Every value that identifies the person, from HQ, staging and its store edits."""
    party = customer.party
    values = [
        party.name,
        party.first_name,
        party.last_name,
        party.organization_name,
        customer.email,
        customer.phone,
        customer.match_email,
        customer.match_phone,
        *ContactInfo.objects.filter(party=party).values_list("value", flat=True),
    ]
    staged = _staged(customer, guids)
    for row in staged.values_list("first_name", "last_name", "organization_name", "email", "phone"):
        values.extend(row)
    values.extend(
        StagedAsyncCustomerContact.objects.filter(staged_customer__in=staged).values_list(
            "value", flat=True
        )
    )
    for changes in _requests(customer, guids).values_list("changes", flat=True):
        fields = (changes or {}).get("fields") or {}
        values.extend(
            fields.get(name)
            for name in ("first_name", "last_name", "organization_name", "email", "phone")
        )
    return values


def _staged(customer: Customer, guids):
    return StagedAsyncCustomer.objects.filter(
        Erasure(customer, [], guids, []).guid_q(
            channel_field="channel_database", guid_field="async_customer_id"
        )
        | Q(account=customer.account, channel_database__in=[g[0] for g in guids])
    )


def _requests(customer: Customer, guids):
    return StagedChannelRequest.objects.filter(
        Q(target_account=customer.account)
        | Q(account=customer.account)
        | Erasure(customer, [], guids, []).guid_q(
            channel_field="channel_database", guid_field="target_async_customer_id"
        )
    )


def erasure_prepare(*, customer: Customer, user=None) -> Erasure:
    guids = []
    if customer.async_customer_id:
        guids.append((customer.async_origin, customer.async_customer_id))
    guids += list(customer.async_links.values_list("channel_database", "async_customer_id"))
    address_guids = [
        g
        for g in Address.objects.filter(party_id=customer.party_id).values_list(
            "async_address_id", flat=True
        )
        if g
    ]
    return Erasure(
        customer=customer,
        needles=_needles(_person_values(customer, guids)),
        guids=guids,
        address_guids=address_guids,
        user=user,
        now=timezone.now(),
    )


# --- the steps (each erases one store, returns the rows it changed) ----------------


def hq_master_erase(erasure: Erasure) -> int:
    """HQ party names, the customer's email, phone and match keys, its addresses; its
    contact info and attribute values are deleted. The version rises (1010 sends it)."""
    customer = erasure.customer
    party = customer.party
    organization = party.type == "organization"
    Party.objects.filter(pk=party.pk).update(
        name=ERASED_NAME,
        first_name="" if organization else ERASED_FIRST_NAME,
        last_name="" if organization else ERASED_LAST_NAME,
        organization_name=ERASED_NAME if organization else "",
    )
    # field_changed_at holds only field names and times: it stays.
    Customer.objects.filter(pk=customer.pk).update(
        email="",
        phone="",
        match_email="",
        match_phone="",
        match_name_zip="",
        version=models.F("version") + 1,
        erased_at=customer.erased_at or erasure.now,
        erased_by=customer.erased_by or erasure.user,
        modified_at=erasure.now,
    )
    changed = 2
    changed += Address.objects.filter(party_id=party.pk).update(**ERASED_ADDRESS)
    changed += ContactInfo.objects.filter(party_id=party.pk).delete()[0]
    changed += CustomerAttributeValue.objects.filter(customer_id=customer.pk).delete()[0]
    return changed


def staging_erase(erasure: Erasure) -> int:
    """Every staged record of the person: its staged async customers (with their
    addresses; contacts and attribute values deleted), staged async addresses and staged
    channel requests (the values of their changes)."""
    ids = list(_staged(erasure.customer, erasure.guids).values_list("pk", flat=True))
    changed = StagedAsyncCustomer.objects.filter(pk__in=ids).update(
        first_name=ERASED_FIRST_NAME,
        last_name=ERASED_LAST_NAME,
        organization_name="",
        email="",
        phone="",
    )
    changed += StagedAsyncCustomerAddress.objects.filter(staged_customer_id__in=ids).update(
        **ERASED_ADDRESS
    )
    changed += StagedAsyncCustomerContact.objects.filter(staged_customer_id__in=ids).delete()[0]
    changed += StagedAsyncCustomerAttributeValue.objects.filter(
        staged_customer_id__in=ids
    ).delete()[0]
    changed += StagedAsyncAddress.objects.filter(
        Q(customer_account=erasure.account, store_number__in=_stores(erasure))
        | Q(async_address_id__in=erasure.address_guids)
    ).update(**ERASED_ADDRESS)
    requests = list(_requests(erasure.customer, erasure.guids))
    for request in requests:
        request.changes = changes_erased(request.changes)
        request.skipped = erasure.scrub(request.skipped)
    StagedChannelRequest.objects.bulk_update(requests, ["changes", "skipped"], batch_size=CHUNK)
    return changed + len(requests)


def _stores(erasure: Erasure) -> list[str]:
    return list(erasure.customer.legal_entity.stores.values_list("number", flat=True))


def changes_erased(changes):
    """A store edit's changes with every value erased: the names of what changed stay
    (the history says a change was made), the values go."""
    if isinstance(changes, dict):
        return {k: changes_erased(v) for k, v in changes.items()}
    if isinstance(changes, list):
        return [changes_erased(v) for v in changes]
    if isinstance(changes, str):
        return ERASED
    return changes


def duplicates_erase(erasure: Erasure) -> int:
    """R12 possible duplicates naming the customer: the shared key values are erased."""
    rows = list(
        PossibleDuplicate.objects.filter(
            Q(customer_id=erasure.customer.pk) | Q(duplicate_of_id=erasure.customer.pk)
        )
    )
    for row in rows:
        row.reasons = {kind: ERASED for kind in (row.reasons or {})}
    PossibleDuplicate.objects.bulk_update(rows, ["reasons"], batch_size=CHUNK)
    return len(rows)


def admin_history_erase(erasure: Erasure) -> int:
    """The admin's own history (``LogEntry``) of the customer and its party: the name
    shown for them; any entry's message that mentions the person is scrubbed too."""
    types = ContentType.objects.get_for_models(Customer, Party)
    own = LogEntry.objects.filter(
        Q(content_type=types[Customer], object_id=str(erasure.customer.pk))
        | Q(content_type=types[Party], object_id=str(erasure.customer.party_id))
    )
    changed = own.update(object_repr=ERASED_NAME)
    return changed + free_text_scrub(
        erasure, model=LogEntry, fields=["object_repr", "change_message"]
    )


def errors_erase(erasure: Erasure) -> int:
    """Free text that may quote the person: the last errors of staged records and
    transactions, statements' errors, other possible duplicates' keys."""
    changed = 0
    for model, fields in (
        (StagedAsyncCustomer, ["last_error"]),
        (StagedAsyncAddress, ["last_error"]),
        (StagedChannelRequest, ["last_error", "changes", "skipped"]),
        (SalesTransaction, ["last_error"]),
        (Statement, ["errors"]),
        (PossibleDuplicate, ["reasons"]),
    ):
        changed += free_text_scrub(erasure, model=model, fields=fields)
    return changed


def _json_forms(needle: str) -> set[str]:
    """How a needle may be written in a JSON column: as is (PostgreSQL) and with
    non-ASCII characters escaped (what SQLite keeps)."""
    return {needle, json.dumps(needle)[1:-1]}


def free_text_scrub(erasure: Erasure, *, model, fields: Sequence[str], using: str = HQ) -> int:
    """Replace the needles in ``fields`` (text or JSON columns) of ``model``'s rows
    that mention one: one filtered query (a substring search, the case ignored), then
    the matching rows rewritten in chunks."""
    if not erasure.needles:
        return 0
    q = Q(pk__in=[])
    annotations = {}
    for name in fields:
        column = model._meta.get_field(name)
        if isinstance(column, models.JSONField):
            alias = f"_erasure_{name}"
            annotations[alias] = Cast(name, TextField())
            forms = {f for n in erasure.needles for f in _json_forms(n)}
        else:
            alias, forms = name, set(erasure.needles)
        for form in forms:
            q |= Q(**{f"{alias}__icontains": form})
    rows = model.objects.using(using).annotate(**annotations).filter(q).only("pk", *fields)
    changed = []
    for row in rows.iterator(chunk_size=CHUNK):
        for name in fields:
            setattr(row, name, erasure.scrub(getattr(row, name)))
        changed.append(row)
    model.objects.using(using).bulk_update(changed, list(fields), batch_size=CHUNK)
    return len(changed)


def events_erase(erasure: Erasure) -> int:
    """The event log (README "Event log") at HQ: the personal text of the events of the
    customer, of the async records that became it and of their requests is blanked (what
    happened, when and by whom stays); an ``erased`` event records the erasure."""
    subjects = [(EventKind.CUSTOMER, guid) for _, guid in erasure.guids]
    subjects += [(EventKind.ADDRESS, guid) for guid in erasure.address_guids]
    subjects += [
        (EventKind.EDIT, request_id)
        for request_id in _requests(erasure.customer, erasure.guids).values_list(
            "request_id", flat=True
        )
    ]
    blanked = events_erase_subject(subjects=subjects, accounts=[erasure.account])
    event_record(
        kind=EventKind.ACCOUNT,
        key=erasure.account,
        account=erasure.account,
        action=EventAction.ERASED,
        actor=getattr(erasure.user, "username", "") or "",
        detail="personal data erased",
    )
    return blanked


ErasureStep = Callable[[Erasure], int]

# README, Erasure and access: one function per store; a new store is one more entry.
ERASURE_STEPS: list[tuple[str, ErasureStep]] = [
    ("customer, party, addresses, contacts, attributes", hq_master_erase),
    ("staging rows", staging_erase),
    ("possible duplicates", duplicates_erase),
    ("errors and free text", errors_erase),
    ("admin history", admin_history_erase),
    ("event log", events_erase),
]


def customer_erase(
    *,
    account: str,
    legal_entity: str | None = None,
    user=None,
    steps: Sequence[tuple[str, ErasureStep]] = (),
) -> tuple[Customer, dict[str, int]]:
    """R14: erase the person of HQ account ``account`` from HQ (``ERASURE_STEPS`` then
    ``steps``), in one HQ transaction under the customer's row lock; returns the erased
    customer and the rows changed per step. The channel databases follow through 1010."""
    found = customer_find(account=account, legal_entity=legal_entity)
    with transaction.atomic(using=HQ):
        customer = (
            Customer.objects.select_for_update()
            .select_related("party", "legal_entity")
            .get(pk=found.pk)
        )
        erasure = erasure_prepare(customer=customer, user=user)
        counts = {}
        for name, step in [*ERASURE_STEPS, *steps]:
            counts[name] = step(erasure)
    customer.refresh_from_db()
    return customer, counts


def erased_refusal(customer: Customer) -> str | None:
    """R14: why a store's edit of an erased customer is refused (None if not erased)."""
    if customer.erased_at is None:
        return None
    return f"customer {customer.account} was erased on {customer.erased_at.date().isoformat()}"
