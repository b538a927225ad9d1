from django.core.management.base import BaseCommand, CommandError

from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from commerce.output import format_table, stdout_closed_quietly, write_json_array
from customers.selectors import store_customer_search, store_customer_search_all
from customers.selectors.store_all import SEARCH_COLUMNS, AllStoresResult, store_search_rows

SEARCH_LIMIT = 50


class Command(BaseCommand):
    help = (
        "Search a store's customers the way the store does: name, email, phone, account or "
        "async customer id over its channel database (copies of accounts and async "
        "customers). --all-stores also asks HQ for the legal entity's customers and the "
        "records of its other stores not yet accounts; each row says where it came from "
        "(source local or hq). When HQ cannot be reached the store searches locally and "
        "says so in one line on standard error (exit 0)."
    )

    def add_arguments(self, parser):
        parser.add_argument("query", metavar="QUERY", help="name, email, phone, account or GUID")
        parser.add_argument("--store", required=True, metavar="NUMBER", help="e.g. S0001")
        parser.add_argument(
            "--all-stores",
            action="store_true",
            help="also ask HQ (the legal entity's customers and other stores' records)",
        )
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, query, store, all_stores=False, format="table", **options):
        query = " ".join(query.split())
        if not query:
            raise CommandError("QUERY is empty: give a name, email, phone, account or GUID")
        number = store
        store = (
            Store.objects.select_related("legal_entity", "channel_database")
            .filter(number=number)
            .first()
        )
        if store is None:
            raise CommandError(f'unknown store "{number}"')
        try:
            if all_stores:
                result = store_customer_search_all(store=store, query=query, limit=SEARCH_LIMIT)
            else:
                result = AllStoresResult(
                    local=store_customer_search(store=store, query=query, limit=SEARCH_LIMIT)
                )
        except ChannelDatabaseUnreachable as error:
            raise CommandError(error.cannot_be_reached) from error
        if result.hq_unreachable:
            self.stderr.write(
                f"Store {store.number}: {result.hq_unreachable}; "
                "searched its channel database only."
            )
        rows = store_search_rows(result)
        with stdout_closed_quietly():
            if format == "json":
                write_json_array(self.stdout, rows)
                return
            for line in format_table(rows, SEARCH_COLUMNS):
                self.stdout.write(line)
            shown = len(result.local.rows)
            more = (
                f" (the store holds {result.local.count} matching; the first {shown} shown)"
                if result.local.count > shown
                else ""
            )
            self.stdout.write(f"{len(rows)} row{'' if len(rows) == 1 else 's'}{more}")
