import json

from django.contrib.admin.utils import quote
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from customers.services.labels import operator_text
from customers.services.store import customer_create_at_store
from customers.services.validation import (
    CustomerInput,
    CustomerValidationError,
    StoreInputError,
)


def store_for(number: str) -> Store:
    store = Store.objects.filter(number=number).first()
    if store is None:
        raise CommandError(f'Unknown store "{number}".')
    return store


class Command(BaseCommand):
    help = (
        "Create a customer the way the store does (R1): async with a GUID at an async or "
        "offline store, at HQ at once otherwise (async when HQ cannot be reached). Prints one "
        'JSON object: {"async_customer_id": GUID or null, "account": ACCOUNT or null, '
        '"possible_duplicates": [ACCOUNT, ...], "store_customer_page": PATH}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="store number, e.g. S0001")
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
        try:
            result = customer_create_at_store(store=store, data=data)
        except StoreInputError as error:
            raise CommandError(
                f"Store {store.number} refused the customer: {operator_text(str(error))}"
            ) from error
        except CustomerValidationError as error:
            raise CommandError(f"HQ refused the customer: {operator_text(str(error))}") from error
        except ChannelDatabaseUnreachable as error:
            raise CommandError(error.cannot_be_reached) from error
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
