"""Search all stores (README "Store customers"): a store's own search over its channel
database (``store_customer_search``) and, asked of HQ, the customers of its legal
entity the store does not show and the records its other stores sent that are not
accounts yet. When HQ cannot be reached (the store's ``offline`` switch, or a database
or connection error on HQ, as for the real-time call of R1) the store searches locally
and says so.

HQ is searched by indexed keys: a GUID by the async customer id, an email by the
customer's normalized email key, a phone number by its E.164 key (read with the store's
country, as duplicate detection does, R12), an account by its number; any other text
matches every word within the names of the legal entity's customers. Staged records
are the legal entity's not yet created (uploaded, failed or needing review; their
status index), from the other channel databases, every word in a name, email, phone or
GUID. Each part reads at most ``limit`` rows: a fixed number of queries whatever the
number of rows.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError
from django.db.models import Q

from commerce.db import channel_database_errors
from commerce.models import Store
from customers.match_keys import email_key, phone_key
from customers.models import (
    Address,
    ChannelCustomer,
    Customer,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.selectors.status import STAGING_TO_STATUS
from customers.selectors.store import (
    StoreCustomerPage,
    store_customer_search,
    words_match,
)

# HQ errors that mean "HQ cannot be reached" (as customers.services.requests.HQ_UNREACHABLE,
# the R1 fallback's): the store then searches locally.
HQ_UNREACHABLE = (OperationalError, InterfaceError)
HQ_SEARCH_LIMIT = 50
# Staged records that are not an HQ account yet (a completed one is found as the account).
NOT_YET_ACCOUNTS = (StagingStatus.PENDING, StagingStatus.FAILED, StagingStatus.NEEDS_REVIEW)
STAGED_SEARCH_FIELDS = (
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "async_customer_id",
)


@dataclass(frozen=True)
class HqCustomer:
    """A customer HQ found for a store: ``kind`` ``account`` (an HQ customer of the
    store's legal entity; ``at_store`` when the store's channel database already holds
    its copy) or ``staged`` (a record another store sent, not an account yet: ``status``
    is its AsyncStatus, ``store_number`` the store that created it)."""

    kind: str
    name: str
    type: str
    email: str
    phone: str
    customer_group: str
    account: str = ""
    async_customer_id: uuid.UUID | None = None
    store_number: str = ""
    status: str = ""
    at_store: bool = False


@dataclass(frozen=True)
class AllStoresResult:
    """The store's own page of results and HQ's rows; ``hq_unreachable`` says why HQ
    was not asked or did not answer ("" when it did)."""

    local: StoreCustomerPage
    hq_rows: list[HqCustomer] = field(default_factory=list)
    hq_unreachable: str = ""


def store_customer_search_all(
    *, store: Store, query: str, limit: int = 50, offset: int = 0
) -> AllStoresResult:
    """The store's search (``store_customer_search``, ``limit`` and ``offset`` as
    there), then HQ's rows for the same query (``hq_customer_search``) without the
    customers that page already shows. An empty query asks HQ nothing. A channel
    database error raises ChannelDatabaseUnreachable; HQ's are said in the result."""
    local = store_customer_search(store=store, query=query, limit=limit, offset=offset)
    if not query.strip():
        return AllStoresResult(local=local)
    if store.offline:
        return AllStoresResult(
            local=local, hq_unreachable="HQ cannot be reached (the store is offline)"
        )
    try:
        hq_rows = hq_customer_search(
            store=store,
            query=query,
            shown_accounts={row.account for row in local.rows if row.account},
            shown_guids={row.record.async_customer_id for row in local.rows if row.kind == "async"},
        )
    except HQ_UNREACHABLE as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        return AllStoresResult(local=local, hq_unreachable=f"HQ could not be reached ({reason})")
    return AllStoresResult(local=local, hq_rows=hq_rows)


def hq_customer_search(
    *,
    store: Store,
    query: str,
    shown_accounts: set[str] = frozenset(),
    shown_guids: set[uuid.UUID] = frozenset(),
    limit: int = HQ_SEARCH_LIMIT,
) -> list[HqCustomer]:
    """HQ's answer to a store's search: the legal entity's customers matching ``query``
    by name, in name order, then the other stores' records not yet accounts, newest
    first; at most ``limit`` of each, without those the store already shows. Queries:
    at most one for the store's country (a phone number without a country code), one
    for the customers, one for the staged records, one in the channel database for the
    copies it holds."""
    customers = _hq_customers(store=store, query=query)
    customers = customers.exclude(account__in=shown_accounts).exclude(
        async_customer_id__in=shown_guids
    )
    rows = [
        HqCustomer(
            kind="account",
            name=c.party.name,
            type=c.party.type,
            email=c.email,
            phone=c.phone,
            customer_group=c.customer_group.code,
            account=c.account,
            async_customer_id=c.async_customer_id,
        )
        for c in customers.select_related("party", "customer_group").order_by(
            "party__name", "account"
        )[:limit]
    ]
    if rows:
        alias = store.channel_database.alias
        with channel_database_errors(alias, name=store.channel_database.name):
            held = set(
                ChannelCustomer.objects.using(alias)
                .filter(legal_entity=store.legal_entity.code, account__in=[r.account for r in rows])
                .values_list("account", flat=True)
            )
        rows = [dataclasses.replace(row, at_store=row.account in held) for row in rows]
    staged = _staged_elsewhere(store=store, query=query).exclude(async_customer_id__in=shown_guids)
    rows += [
        HqCustomer(
            kind="staged",
            name=s.name,
            type=s.type,
            email=s.email,
            phone=s.phone,
            customer_group=s.customer_group,
            async_customer_id=s.async_customer_id,
            store_number=s.store_number,
            status=STAGING_TO_STATUS[s.status],
        )
        for s in staged.order_by("-created_at_store", "-id")[:limit]
    ]
    return rows


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _hq_customers(*, store: Store, query: str):
    """The legal entity's customers the query names, through an indexed key when the
    query is one (GUID, email, phone), else by account number or the words of a name."""
    customers = Customer.objects.filter(legal_entity_id=store.legal_entity_id)
    text = query.strip()
    guid = _uuid_or_none(text)
    if guid is not None:
        return customers.filter(async_customer_id=guid)
    if "@" in text:
        return customers.filter(match_email=email_key(text))
    if not any(c.isalpha() for c in text):
        phone = phone_key(text, country=None if text.startswith("+") else _store_country(store))
        return customers.filter(
            Q(account=text) | Q(match_phone=phone) if phone else Q(account=text)
        )
    by_name = Q()
    for word in text.split():
        by_name &= Q(party__name__icontains=word)
    return customers.filter(Q(account__in={text, text.upper()}) | by_name)


def _store_country(store: Store) -> str | None:
    """The country a phone number typed at the store without a country code is from:
    its default customer's primary (else first) address's (as duplicate detection reads
    it, customers.selectors.stores.store_countries)."""
    return (
        Address.objects.filter(party__customer__default_for_stores=store)
        .order_by("-is_primary", "pk")
        .values_list("country", flat=True)
        .first()
    )


def _staged_elsewhere(*, store: Store, query: str):
    """Records the legal entity's stores on other channel databases sent that are not
    accounts yet, matching every word of the query."""
    other_stores = (
        Store.objects.filter(legal_entity_id=store.legal_entity_id)
        .exclude(channel_database_id=store.channel_database_id)
        .values("number")
    )
    return StagedAsyncCustomer.objects.filter(
        words_match(query, STAGED_SEARCH_FIELDS),
        status__in=NOT_YET_ACCOUNTS,
        store_number__in=other_stores,
    ).exclude(channel_database=store.channel_database.name)


SEARCH_COLUMNS = [
    "source",
    "kind",
    "name",
    "account",
    "async_customer_id",
    "email",
    "phone",
    "customer_group",
    "store",
    "status",
]


def store_search_rows(result: AllStoresResult) -> list[dict]:
    """One plain row per customer found (``search_customers``): ``source`` ``local``
    (the store's channel database) or ``hq``; ``kind`` ``account`` (a customer account;
    at the store, its copy), ``async`` (an async customer of the store's channel
    database) or ``staged`` (another store's record at HQ, not an account yet);
    ``status`` the AsyncStatus of an async or staged record; ``at_store`` whether the
    store holds it already."""
    rows = []
    for row in result.local.rows:
        record = row.record
        is_async = row.kind == "async"
        rows.append(
            {
                "source": "local",
                "kind": "async" if is_async else "account",
                "name": record.name,
                "account": row.account,
                "async_customer_id": _guid_text(record.async_customer_id),
                "email": record.email,
                "phone": record.phone,
                "customer_group": record.customer_group,
                "store": record.store_number if is_async else "",
                "status": row.hq_status if is_async else "",
                "at_store": True,
            }
        )
    for row in result.hq_rows:
        rows.append(
            {
                "source": "hq",
                "kind": row.kind,
                "name": row.name,
                "account": row.account or None,
                "async_customer_id": _guid_text(row.async_customer_id),
                "email": row.email,
                "phone": row.phone,
                "customer_group": row.customer_group,
                "store": row.store_number,
                "status": row.status,
                "at_store": row.at_store,
            }
        )
    return rows


def _guid_text(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None
