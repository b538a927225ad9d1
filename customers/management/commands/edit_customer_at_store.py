import json

from django.core.management.base import BaseCommand, CommandError

from commerce.db import ChannelDatabaseUnreachable
from customers.management.commands.create_customer_at_store import store_for
from customers.models import ADDRESS_FIELDS
from customers.services.changes import EDITABLE_FIELDS, CustomerChanges, CustomerChangesError
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import (
    AddressInput,
    CustomerValidationError,
    StoreInputError,
)

ADDRESS_KEYS = {"purpose", "street", "city", "state", "zip", "country", "primary", "is_primary"}


def address_from_json(text: str) -> AddressInput:
    """--add-address '{"purpose": "invoice", "street": ..., "city": ..., "zip": ...,
    "country": "USA", "primary": false}' (the import file's address shape)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"Option --add-address is not valid JSON ({error.msg}).") from error
    if not isinstance(data, dict):
        raise CommandError("Option --add-address takes a JSON object.")
    unknown = sorted(set(data) - ADDRESS_KEYS)
    if unknown:
        names = ", ".join(f'"{name}"' for name in unknown)
        raise CommandError(f"Option --add-address has unknown fields: {names}.")
    missing = [
        name for name in ("purpose", "street", "city", "zip", "country") if not data.get(name)
    ]
    if missing:
        raise CommandError(f"Option --add-address is missing {', '.join(missing)}.")
    values = {name: data.get(name, "") for name in ADDRESS_FIELDS if name != "is_primary"}
    if not all(isinstance(value, str) for value in values.values()):
        raise CommandError(
            "Option --add-address: purpose, street, city, state, zip and country are text."
        )
    primary = data.get("primary", data.get("is_primary", False))
    if not isinstance(primary, bool):
        raise CommandError("Option --add-address: primary must be true or false.")
    return AddressInput(**values, is_primary=primary)


class Command(BaseCommand):
    help = (
        "Change a customer the way the store does (R11): in place for an async customer not "
        "uploaded yet, as a channel request otherwise (at HQ at once at a real-time store). "
        'Prints one JSON object: {"customer": GUID or account, "request": GUID or null}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="store number, e.g. S0001")
        parser.add_argument(
            "--customer", required=True, help="the async customer's GUID or the account number"
        )
        for name in EDITABLE_FIELDS:
            if name != "language":
                parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
        parser.add_argument(
            "--add-address",
            action="append",
            default=[],
            metavar="JSON",
            help='an address to add, e.g. \'{"purpose": "invoice", "street": "1 Main St", '
            '"city": "Houston", "zip": "77001", "country": "USA", "primary": false}\'',
        )

    def handle(self, *args, **options):
        store = store_for(options["store"])
        fields = {
            name: options[name]
            for name in EDITABLE_FIELDS
            if name != "language" and options.get(name) is not None
        }
        try:
            changes = CustomerChanges(
                fields=fields,
                addresses=tuple(address_from_json(text) for text in options["add_address"]),
            )
            result = customer_edit_at_store(
                store=store, customer=options["customer"], changes=changes
            )
        except (CustomerEditError, CustomerChangesError) as error:
            raise CommandError(str(error)) from error
        except StoreInputError as error:
            raise CommandError(f"Store {store.number} refused the change: {error}") from error
        except CustomerValidationError as error:
            raise CommandError(f"HQ refused the change: {error}") from error
        except ChannelDatabaseUnreachable as error:
            raise CommandError(error.cannot_be_reached) from error
        if result.fallback_reason:
            self.stderr.write(f"Store {store.number}: {result.fallback_reason}.")
        self.stdout.write(
            json.dumps(
                {
                    "customer": result.customer,
                    "request": str(result.request_id) if result.request_id else None,
                }
            )
        )
