"""The seams between HQ transactions, the customer domain and the jobs.

Order synchronization and statement posting send these signals inside their database
transaction; the customers app receives them and resolves async customers and async
addresses (creating them at HQ if needed). Receivers raise ``ResolutionError`` (or any
exception) to fail the order or statement; the sender rolls back and records why.

``store_data_written`` is the seam Freshness asks for: the customer services write at a
store and the jobs app must convert what they wrote within seconds, but ``customers``
never imports ``jobs`` (the jobs move the customer domain, not the reverse). So the
services announce the write and the jobs app listens.
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

# Sent with sender=<the channel model written>, alias=<channel database alias> by the
# customer services when a store writes to its channel database: a customer created
# (R1, async or real time), edited (R11), an async address. Sent inside or after the
# write's transaction; receivers act only once the alias's transaction commits
# (``transaction.on_commit(using=alias)``) and must never fail the write.
store_data_written = Signal()


class ResolutionError(Exception):
    """One or more transactions reference customers or addresses that cannot be resolved.

    ``reasons`` maps transaction id -> reason.
    """

    def __init__(self, reasons: dict[str, str]):
        self.reasons = dict(reasons)
        super().__init__("; ".join(f"{txn}: {why}" for txn, why in self.reasons.items()))
