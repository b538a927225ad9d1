"""The seam between HQ transactions and the customer domain.

Order synchronization and statement posting send these signals inside their database
transaction; the customers app receives them and resolves async customers and async
addresses (creating them at HQ if needed). Receivers raise ``ResolutionError`` (or any
exception) to fail the order or statement; the sender rolls back and records why.
"""

from django.dispatch import Signal

# Sent with sender=SalesTransaction, transaction=<SalesTransaction>, before its sales
# order is created. Receivers set transaction.customer_account and
# transaction.delivery_location_id to real HQ values (and save them).
order_sync_requested = Signal()

# Sent with sender=Statement, statement=<Statement>, transactions=[<SalesTransaction>]
# before the statement is posted. Receivers resolve every async customer and address
# the transactions reference, setting transaction.customer_account.
statement_posting_requested = Signal()


class ResolutionError(Exception):
    """One or more transactions reference customers or addresses that cannot be resolved.

    ``reasons`` maps transaction id -> reason.
    """

    def __init__(self, reasons: dict[str, str]):
        self.reasons = dict(reasons)
        super().__init__("; ".join(f"{txn}: {why}" for txn, why in self.reasons.items()))
