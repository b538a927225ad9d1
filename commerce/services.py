"""Organization-level writes: database set-up, the upload's staging of sales
transactions (R3), order synchronization (R8) and statement posting (R9).

Order sync and posting reach the customer domain only through the signals in
``commerce.signals``: this app never imports from ``customers``. Every function here
is safe to re-run.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.db import transaction as db_transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from commerce.db import HQ, ChannelDatabaseUnreachable, channel_aliases, channel_database_errors
from commerce.events import EventAction, EventKind, NewEvent, events_record
from commerce.isolation import record_checkpoint
from commerce.models import (
    ChannelSalesTransaction,
    SalesLine,
    SalesOrder,
    SalesOrderLine,
    SalesTransaction,
    Statement,
    StatementStatus,
    Store,
    TransactionStatus,
    TransactionType,
)
from commerce.signals import ResolutionError, order_sync_requested, statement_posting_requested

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


def line_copied(line) -> dict:
    """What a sales line carries on from the store's line (upload) or the transaction's
    (its sales order): number, item, quantity and unit price."""
    return {
        "line_number": line.line_number,
        "item": line.item,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
    }


def databases_migrate(
    *,
    verbosity: int = 1,
    stdout=None,
    unreachable: list[ChannelDatabaseUnreachable] | None = None,
) -> list[str]:
    """Migrate HQ and every configured channel database; returns the aliases migrated.
    Idempotent. Given an ``unreachable`` list, a channel database that fails goes there
    and the others are still migrated; HQ failing always raises."""
    call_command("migrate", database=HQ, interactive=False, verbosity=verbosity, stdout=stdout)
    migrated = [HQ]
    for alias in channel_aliases():
        try:
            with channel_database_errors(alias):
                call_command(
                    "migrate", database=alias, interactive=False, verbosity=verbosity, stdout=stdout
                )
        except ChannelDatabaseUnreachable as unreachable_database:
            if unreachable is None:
                raise
            unreachable.append(unreachable_database)
        else:
            migrated.append(alias)
    return migrated


# --- Upload (P-0001, R3): sales transactions into HQ --------------------------------


def sales_transactions_stage(
    *, rows: Sequence[ChannelSalesTransaction], channel_database: str, upload_session_id: int
) -> tuple[dict[str, int], dict[int, str]]:
    """R3: stage a channel database's sales transactions (lines prefetched) at HQ; a
    transaction HQ already holds, identified by (store, transaction id), is skipped.
    Returns counts and the channel rows that must stay in the channel (unknown store),
    each with its reason. Call inside the upload session's HQ transaction."""
    stores = {s.number: s for s in Store.objects.filter(number__in={r.store_number for r in rows})}
    already = set(
        SalesTransaction.objects.filter(transaction_id__in=[row.transaction_id for row in rows])
        .order_by()
        .values_list("store__number", "transaction_id")
    )
    unknown_store = {
        row.pk: f"transaction {row.transaction_id} (store {row.store_number}): unknown store "
        f'"{row.store_number}"; it stays in the channel'
        for row in rows
        if row.store_number not in stores
    }
    new_rows = [
        row
        for row in rows
        if (row.store_number, row.transaction_id) not in already and row.pk not in unknown_store
    ]
    created = SalesTransaction.objects.bulk_create(
        [
            SalesTransaction(
                transaction_id=row.transaction_id,
                store=stores[row.store_number],
                channel_database=channel_database,
                type=row.type,
                business_date=row.business_date,
                customer_account=row.customer_account or "",
                async_customer_id=row.async_customer_id,
                delivery_address=row.delivery_address,
                upload_session_id=upload_session_id,
            )
            for row in new_rows
        ],
        batch_size=BULK_BATCH,
    )
    lines = [
        SalesLine(transaction=parent, **line_copied(line))
        for row, parent in zip(new_rows, created, strict=True)
        for line in row.lines.all()
    ]
    SalesLine.objects.bulk_create(lines, batch_size=BULK_BATCH)
    return (
        {
            "transactions": len(rows) - len(unknown_store),
            "transactions_staged": len(new_rows),
            "lines": len(lines),
        },
        unknown_store,
    )


# --- Order synchronization (R8) and statement posting (R9) ---------------------------


def failure_reason(error: Exception) -> str:
    """Why an order or a statement failed, as transactions and job runs record it: the
    receivers' reasons for a ResolutionError, else the exception's type and message."""
    if isinstance(error, ResolutionError):
        return "; ".join(error.reasons.values())
    return f"{type(error).__name__}: {error}"


def sales_order_create(*, transaction_id: int) -> SalesOrder | None:
    """R8 for one transaction: send the order-sync signal (receivers create any async
    customer or address it references), then create the sales order for the real
    account and delivery address. All in one HQ transaction; on failure nothing of it
    stays and the transaction is marked ``order_failed`` with the reason.
    Re-run safe: a transaction that has its order is left alone (returns None).
    """
    try:
        with db_transaction.atomic(using=HQ):
            txn = (
                SalesTransaction.objects.select_for_update(of=("self",))
                .select_related("store__legal_entity")
                .filter(pk=transaction_id, sales_order__isnull=True)
                .first()
            )
            if txn is None or txn.type != TransactionType.CUSTOMER_ORDER:
                return None
            record_checkpoint("order_sync", txn.transaction_id)
            order_sync_requested.send(sender=SalesTransaction, transaction=txn)
            if not txn.customer_account:
                raise ResolutionError({txn.transaction_id: "the order has no customer"})
            lines = list(txn.lines.all())
            order = SalesOrder.objects.create(
                order_number=f"SO-{txn.transaction_id}",
                transaction=txn,
                store=txn.store,
                customer_account=txn.customer_account,
                delivery_location_id=txn.delivery_location_id,
                total=sum((line.amount for line in lines), start=Decimal("0")),
            )
            SalesOrderLine.objects.bulk_create(
                [SalesOrderLine(order=order, **line_copied(line)) for line in lines]
            )
            SalesTransaction.objects.filter(pk=txn.pk).update(
                status=TransactionStatus.ORDER_CREATED,
                last_error="",
                attempts=txn.attempts + 1,
                processed_at=timezone.now(),
            )
            return order
    except Exception as error:
        SalesTransaction.objects.filter(pk=transaction_id, sales_order__isnull=True).update(
            status=TransactionStatus.ORDER_FAILED,
            last_error=failure_reason(error)[:2000],
            attempts=F("attempts") + 1,
            processed_at=timezone.now(),
        )
        raise


class StatementError(Exception):
    """A statement that cannot be calculated (a business date in the future)."""


def statement_calculate(*, store: Store, business_date: datetime.date) -> Statement | None:
    """Gather the store's unposted cash-and-carry sales of the date into its open
    statement and total them (R9). Returns None, and makes no statement, when the date
    has nothing to post.

    A sale uploaded after the date's statement was posted goes into a new statement of
    the same date (the next ``sequence``), never into the posted one. A date in the
    future is refused (StatementError): its statement would swallow sales still to come.
    Re-run safe; a posted statement is never changed.
    """
    if business_date > timezone.localdate():
        raise StatementError(
            f"business date {business_date} of store {store.number} is in the future; "
            "a statement is posted for a day that has begun"
        )
    with db_transaction.atomic(using=HQ):
        statements = Statement.objects.filter(store=store, business_date=business_date)
        statement = (
            statements.select_for_update()
            .exclude(status=StatementStatus.POSTED)
            .order_by("-sequence")
            .first()
        )
        unposted = SalesTransaction.objects.filter(
            store=store, business_date=business_date, type=TransactionType.CASH_AND_CARRY
        ).exclude(status=TransactionStatus.POSTED)
        if statement is None:
            if not unposted.exists():
                return None
            last = statements.aggregate(last=Max("sequence"))["last"] or 0
            statement = Statement.objects.create(
                store=store, business_date=business_date, sequence=last + 1
            )
        unposted.filter(Q(statement__isnull=True) | Q(statement=statement)).update(
            statement=statement
        )
        transactions = list(statement.transactions.prefetch_related("lines"))
        if not transactions:
            statement.delete()  # an open statement left with nothing to post
            return None
        statement.transaction_count = len(transactions)
        statement.total = sum((t.total for t in transactions), start=Decimal("0"))
        statement.status = StatementStatus.CALCULATED
        statement.calculated_at = timezone.now()
        statement.save()
    return statement


def statement_post(*, statement: Statement) -> Statement:
    """R9: resolve every async customer and address the statement's transactions
    reference (statement signal), then post all of them, or nothing.

    Transactions with a customer post against it, the others against the store's
    default customer. On failure the statement is ``failed`` with the list of
    transactions and reasons, and every transaction of it is ``posting_failed``: one
    that cannot be resolved with its own reason, the others naming the statement and
    the transactions that block it. Posting again after the cause is fixed is safe and
    posts them all. A posted statement is not posted twice.
    """
    try:
        with db_transaction.atomic(using=HQ):
            statement = (
                Statement.objects.select_for_update(of=("self",))
                .select_related("store__default_customer", "store__legal_entity")
                .get(pk=statement.pk)
            )
            if statement.status == StatementStatus.POSTED:
                return statement
            transactions = list(
                statement.transactions.select_related("store").exclude(
                    status=TransactionStatus.POSTED
                )
            )
            for txn in transactions:
                record_checkpoint("posting", txn.transaction_id)
            statement_posting_requested.send(
                sender=Statement, statement=statement, transactions=transactions
            )
            default_account = statement.store.default_customer.account
            now = timezone.now()
            for txn in transactions:
                txn.status = TransactionStatus.POSTED
                txn.posted_customer_account = txn.customer_account or default_account
                txn.last_error = ""
                txn.processed_at = now
            SalesTransaction.objects.bulk_update(
                transactions,
                [
                    "status",
                    "posted_customer_account",
                    "last_error",
                    "processed_at",
                    "customer_account",
                ],
            )
            statement.status = StatementStatus.POSTED
            statement.posted_at = now
            statement.errors = []
            statement.save()
            _statement_events_record(
                statement=statement,
                action=EventAction.POSTED,
                detail=f"{len(transactions)} transactions",
                transactions=[
                    (txn.pk, txn.posted_customer_account, f"statement {statement}")
                    for txn in transactions
                ],
                at=now,
            )
            return statement
    except Exception as error:
        _statement_failure_record(statement=statement, error=error)
        raise


def _statement_failure_record(*, statement: Statement, error: Exception) -> None:
    """R9 all or nothing: the statement is failed and so is every unposted transaction of
    it, so none looks ready to post while its statement is blocked."""
    reasons = error.reasons if isinstance(error, ResolutionError) else {}
    not_posted = f"statement {statement.store.number} {statement.business_date} not posted"
    if reasons:
        blockers = "; ".join(f"{txn} ({why})" for txn, why in reasons.items())
        others_error = f"{not_posted}: blocked by {blockers}"
        errors = [f"{txn}: {why}" for txn, why in reasons.items()]
    else:
        others_error = f"{not_posted}: {failure_reason(error)}"
        errors = [f"statement: {failure_reason(error)}"]
    with db_transaction.atomic(using=HQ):
        Statement.objects.filter(pk=statement.pk).update(
            status=StatementStatus.FAILED, errors=errors
        )
        unposted = SalesTransaction.objects.filter(statement_id=statement.pk).exclude(
            status=TransactionStatus.POSTED
        )
        _statement_events_record(
            statement=statement,
            action=EventAction.POSTING_FAILED,
            detail="; ".join(errors),
            transactions=[
                (pk, account, reasons.get(txn_id, others_error))
                for pk, txn_id, account in unposted.values_list(
                    "pk", "transaction_id", "customer_account"
                )
            ],
        )
        for txn_id, why in reasons.items():
            unposted.filter(transaction_id=txn_id).update(
                status=TransactionStatus.POSTING_FAILED, last_error=why[:2000]
            )
        unposted.exclude(transaction_id__in=list(reasons)).update(
            status=TransactionStatus.POSTING_FAILED, last_error=others_error[:2000]
        )


def _statement_events_record(
    *, statement: Statement, action: str, detail: str, transactions, at=None
) -> None:
    """README "Event log": the statement's event and one per transaction
    (``(pk, customer account, detail)``), each transaction's under its customer's
    account, so a posted or failed statement shows on its customers' pages. One insert."""
    events_record(
        [
            NewEvent(
                kind=EventKind.STATEMENT,
                key=statement.pk,
                action=action,
                detail=f"statement {statement}: {detail}",
                at=at,
            ),
            *(
                NewEvent(
                    kind=EventKind.TRANSACTION,
                    key=pk,
                    account=account or "",
                    action=action,
                    detail=why,
                    at=at,
                )
                for pk, account, why in transactions
            ),
        ]
    )
