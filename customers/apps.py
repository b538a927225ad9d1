from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self):
        from commerce.signals import order_sync_requested, statement_posting_requested
        from customers import receivers

        order_sync_requested.connect(
            receivers.resolve_order_transaction,
            dispatch_uid="customers.resolve_order_transaction",
        )
        statement_posting_requested.connect(
            receivers.resolve_statement_transactions,
            dispatch_uid="customers.resolve_statement_transactions",
        )
