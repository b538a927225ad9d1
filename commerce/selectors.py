"""Commerce reads: transaction status across channel databases and HQ, and what order
synchronization (R8) and statement posting (R9) have left to do."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from commerce.db import CHUNK, ChannelDatabaseUnreachable, channel_aliases, channel_database_errors
from commerce.models import (
    ChannelDatabase,
    ChannelSalesTransaction,
    SalesTransaction,
    Statement,
    StatementStatus,
    Store,
    TransactionStatus,
    TransactionType,
)


def orders_to_sync(
    *,
    store: str | None = None,
    channel_database: str | None = None,
    transaction_ids: Iterable[int] | None = None,
) -> QuerySet[SalesTransaction]:
    """Uploaded customer orders without a sales order (new, or failed before), R8."""
    queryset = SalesTransaction.objects.filter(
        type=TransactionType.CUSTOMER_ORDER,
        status__in=[TransactionStatus.UPLOADED, TransactionStatus.ORDER_FAILED],
        sales_order__isnull=True,
    )
    if store:
        queryset = queryset.filter(store__number=store)
    if channel_database:
        queryset = queryset.filter(channel_database=channel_database)
    if transaction_ids:
        queryset = queryset.filter(pk__in=list(transaction_ids))
    return queryset.order_by("pk")


def statement_dates_to_post(*, store: Store) -> list[datetime.date]:
    """The store's business dates with unposted cash-and-carry sales or an unposted
    statement, oldest first (R9)."""
    unposted = SalesTransaction.objects.filter(
        store=store, type=TransactionType.CASH_AND_CARRY
    ).exclude(status=TransactionStatus.POSTED)
    dates = set(unposted.values_list("business_date", flat=True).order_by().distinct())
    dates |= set(
        Statement.objects.filter(store=store)
        .exclude(status=StatementStatus.POSTED)
        .values_list("business_date", flat=True)
    )
    return sorted(dates)


def channel_aliases_for_store(store: str | None) -> list[str]:
    """The channel database aliases to read: the store's own, or every configured one."""
    if not store:
        return channel_aliases()
    alias = (
        Store.objects.filter(number=store).values_list("channel_database__alias", flat=True).first()
    )
    return [alias] if alias else []


def transaction_status_rows(
    *, store: str | None = None, unreachable: list[ChannelDatabaseUnreachable] | None = None
) -> Iterator[dict]:
    """One row per sales transaction of every channel database (README "Statuses").

    A channel database that cannot be read raises ChannelDatabaseUnreachable; given an
    ``unreachable`` list, it goes there instead and the other databases' rows follow.
    """
    names = dict(ChannelDatabase.objects.values_list("alias", "name"))
    for alias in channel_aliases_for_store(store):
        try:
            yield from _channel_transaction_rows(alias=alias, name=names.get(alias), store=store)
        except ChannelDatabaseUnreachable as unreachable_database:
            if unreachable is None:
                raise
            unreachable.append(unreachable_database)


def _channel_transaction_rows(*, alias: str, name: str | None, store: str | None) -> Iterator[dict]:
    queryset = ChannelSalesTransaction.objects.using(alias).order_by("pk")
    if store:
        queryset = queryset.filter(store_number=store)
    last_pk = 0
    while True:
        with channel_database_errors(alias, name=name):
            rows = list(queryset.filter(pk__gt=last_pk)[:CHUNK])
        if not rows:
            break
        last_pk = rows[-1].pk
        # A transaction id is unique per store only: match HQ rows on both.
        at_hq = {
            (t.store.number, t.transaction_id): t
            for t in SalesTransaction.objects.filter(
                transaction_id__in={r.transaction_id for r in rows},
                store__number__in={r.store_number for r in rows},
            ).select_related("sales_order", "statement", "store")
        }
        for row in rows:
            yield _status_row(row, at_hq.get((row.store_number, row.transaction_id)))


def _statement_label(store: str, statement: Statement) -> str:
    """``S0001/2026-11-24``, with ``#2`` for a date's later statement (late sales)."""
    label = f"{store}/{statement.business_date}"
    return label if statement.sequence == 1 else f"{label}#{statement.sequence}"


def _status_row(row: ChannelSalesTransaction, hq: SalesTransaction | None) -> dict:
    if hq is None:
        return {
            "transaction_id": row.transaction_id,
            "store": row.store_number,
            "type": row.type,
            "status": "pending_upload",
            "customer_account": row.customer_account or None,
            "sales_order": None,
            "statement": None,
            "last_error": None,
        }
    order = getattr(hq, "sales_order", None)
    statement = hq.statement
    return {
        "transaction_id": hq.transaction_id,
        "store": hq.store.number,
        "type": hq.type,
        "status": hq.status,
        # HQ learns the account at order sync or posting; the store may know it sooner (1010).
        "customer_account": hq.posted_customer_account
        or hq.customer_account
        or row.customer_account
        or None,
        "sales_order": order.order_number if order else None,
        "statement": _statement_label(hq.store.number, statement) if statement else None,
        "last_error": hq.last_error or None,
    }
