import json

from django.contrib.admin.utils import quote
from django.core.management.base import BaseCommand
from django.urls import reverse

from customers.management.arguments import store_argument_add, store_for, store_refusals
from customers.services.store import customer_create_at_store
from customers.services.validation import CustomerInput


class Command(BaseCommand):
    help = (
        "Create a customer the way the store does (R1): async with a GUID at an async or "
        "offline store, at HQ at once otherwise (async when HQ cannot be reached). Prints one "
        'JSON object: {"async_customer_id": GUID or null, "account": ACCOUNT or null, '
        '"possible_duplicates": [ACCOUNT, ...], "store_customer_page": PATH}.'
    )

    def add_arguments(self, parser):
        store_argument_add(parser)
        parser.add_argument(
            "--type",
            choices=["person", "organization"],
            default="",
            help="default: the store's default customer's",
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--organization-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument(
            "--customer-group", default="", help="default: the store's default customer's"
        )

    def handle(self, *args, **options):
        store = store_for(options["store"])
        data = CustomerInput(
            type=options["type"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            organization_name=options["organization_name"],
            email=options["email"],
            phone=options["phone"],
            customer_group=options["customer_group"],
        )
        with store_refusals(store, "the customer"):
            result = customer_create_at_store(store=store, data=data)
        if result.fallback_reason:
            self.stderr.write(f"Store {store.number}: {result.fallback_reason}.")
        if result.duplicates:
            self.stderr.write(
                f"Store {store.number}: {result.duplicates}; "
                "created and listed under possible duplicates."
            )
        guid = str(result.async_customer.async_customer_id) if result.async_customer else None
        self.stdout.write(
            json.dumps(
                {
                    "async_customer_id": guid,
                    "account": result.account,
                    "possible_duplicates": list(result.duplicate_of),
                    # Where the store sees it (README "Store customers").
                    "store_customer_page": reverse(
                        "admin:customers_store_customer",
                        args=[store.pk, quote(result.account or guid)],
                    ),
                }
            )
        )
