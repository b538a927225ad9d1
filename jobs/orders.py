"""Job functions for Synchronize orders (R8) and statement posting (R9).

Each transaction (orders) and each statement (posting: all or nothing per statement,
R9) is processed on its own: whatever one raises fails it alone, with the reason, and
the others go on (README "Record isolation"); a fault of the run (the database down)
fails the run.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from commerce.isolation import error_summary, is_run_fault
from commerce.models import Store
from commerce.selectors import orders_to_sync, statement_dates_to_post
from commerce.services import (
    StatementError,
    failure_reason,
    sales_order_create,
    statement_calculate,
    statement_post,
)


def orders_sync_run(
    *,
    run=None,
    progress,
    store: str | None = None,
    channel_database: str | None = None,
    transaction_ids: Sequence[int] | None = None,
    **_ignored,
) -> None:
    """Create the sales order of every uploaded customer order that has none; each
    transaction on its own, so one that fails never stops the others."""
    pending = list(
        orders_to_sync(
            store=store, channel_database=channel_database, transaction_ids=transaction_ids
        ).values_list("pk", "transaction_id")
    )
    for pk, transaction_id in pending:
        try:
            order = sales_order_create(transaction_id=pk)
        except Exception as error:
            if is_run_fault(error):
                raise
            progress.add(
                selected=1,
                failed=1,
                errors=[f"transaction {transaction_id}: {failure_reason(error)}"],
            )
        else:
            progress.add(selected=1, succeeded=1 if order else 0, skipped=0 if order else 1)


def statements_post_run(
    *, run=None, progress, store: str, business_date: str | None = None, **_ignored
) -> None:
    """Calculate and post the statement of the store for the business date (or for
    every date that has unposted sales)."""
    store_obj = Store.objects.get(number=store)
    dates = (
        [datetime.date.fromisoformat(business_date)]
        if business_date
        else statement_dates_to_post(store=store_obj)
    )
    for date in dates:
        try:
            statement = statement_calculate(store=store_obj, business_date=date)
        except Exception as error:
            if is_run_fault(error):
                raise
            reason = str(error) if isinstance(error, StatementError) else error_summary(error)
            progress.add(selected=1, failed=1, errors=[f"statement {store} {date}: {reason}"])
            continue
        if statement is None:  # nothing to post that day: no empty statement
            progress.add(selected=1, skipped=1)
            continue
        try:
            statement_post(statement=statement)
        except Exception as error:
            if is_run_fault(error):
                raise
            statement.refresh_from_db()
            progress.add(
                selected=1,
                failed=1,
                errors=[f"statement {store} {date}: {e}" for e in statement.errors],
            )
        else:
            progress.add(selected=1, succeeded=1)
