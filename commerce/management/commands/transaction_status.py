from commerce.management.status_command import StatusCommand
from commerce.selectors import transaction_status_rows


class Command(StatusCommand):
    help = (
        "One row per sales transaction with its status. A channel "
        "database that cannot be read is named in one warning line on standard error; "
        "the others are still listed and the exit code stays 0."
    )
    columns = [
        "transaction_id",
        "store",
        "type",
        "status",
        "customer_account",
        "sales_order",
        "statement",
        "last_error",
    ]

    def status_rows(self, *, store, unreachable, **options):
        return transaction_status_rows(store=store, unreachable=unreachable)
