"""Receivers of the commerce signals: resolve the async customers and addresses that
orders and statements reference, with the same services the account-creation job uses."""

from commerce.signals import ResolutionError
from customers.services.resolution import TransactionResolutionError, transaction_customer_resolve


def resolve_order_transaction(sender, transaction, **kwargs):
    try:
        transaction_customer_resolve(transaction=transaction, delivery=True)
    except TransactionResolutionError as error:
        raise ResolutionError({transaction.transaction_id: str(error)}) from error


def resolve_statement_transactions(sender, statement, transactions, **kwargs):
    reasons = {}
    for transaction in transactions:
        try:
            transaction_customer_resolve(transaction=transaction, delivery=False)
        except TransactionResolutionError as error:
            reasons[transaction.transaction_id] = str(error)
    if reasons:
        raise ResolutionError(reasons)
