import json

from django.core.management.base import BaseCommand, CommandError

from customers.management.arguments import store_argument_add, store_for, store_refusals
from customers.models import ADDRESS_FIELDS, ContactType
from customers.services.changes import (
    EDITABLE_FIELDS,
    AddressChange,
    ContactInput,
    ContactLocator,
    CustomerChanges,
    CustomerChangesError,
    attribute_value_typed,
)
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import AddressInput

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


CHANGE_ADDRESS_KEYS = ADDRESS_KEYS


def _json_object(option: str, text: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{option}: not valid JSON ({error.msg})") from error
    if not isinstance(data, dict):
        raise CommandError(f"{option}: expected a JSON object")
    return data


def address_change_from_json(ref: str, text: str) -> AddressChange:
    """--change-address LOCATION-OR-GUID '{"street": ..., "primary": true}': only the
    fields given change."""
    data = _json_object("--change-address", text)
    unknown = sorted(set(data) - CHANGE_ADDRESS_KEYS)
    if unknown:
        raise CommandError(f"--change-address: unknown field {', '.join(unknown)}")
    values = {}
    for key, value in data.items():
        name = "is_primary" if key == "primary" else key
        wanted = bool if name == "is_primary" else str
        if not isinstance(value, wanted):
            kind = "true or false" if wanted is bool else "text"
            raise CommandError(f"--change-address: {key} {json.dumps(value)} is not {kind}")
        values[name] = value
    if not values:
        raise CommandError(f'--change-address: nothing to change on address "{ref}"')
    return AddressChange(address=ref, values=values)


def contact_from_json(text: str) -> ContactInput:
    """--add-contact '{"type": "email", "value": "a@example.com", "primary": false}'; a
    contact of the same type and value changes (its primary flag)."""
    data = _json_object("--add-contact", text)
    unknown = sorted(set(data) - {"type", "value", "primary", "is_primary"})
    if unknown:
        raise CommandError(f"--add-contact: unknown field {', '.join(unknown)}")
    kind, value = data.get("type"), data.get("value")
    if not isinstance(kind, str) or not isinstance(value, str):
        raise CommandError("--add-contact: type and value are text")
    primary = data.get("primary", data.get("is_primary", False))
    if not isinstance(primary, bool):
        raise CommandError(f"--add-contact: primary {json.dumps(primary)} is not true or false")
    return ContactInput(type=kind, value=value.strip(), is_primary=primary)


def contact_locator(text: str) -> ContactLocator:
    """--remove-contact LOCATOR: "TYPE:VALUE" (email:a@example.com, phone:+1 555 0100,
    url:https://example.com) removes that contact; a bare VALUE removes the contacts of
    any type with that value."""
    kind, sep, value = text.partition(":")
    if sep and kind.strip().lower() in ContactType.values:
        return ContactLocator(type=kind.strip().lower(), value=value.strip())
    return ContactLocator(type="", value=text.strip())


def attribute_setting(text: str) -> tuple[str, object]:
    """--set-attribute NAME=VALUE: true and false are a yes/no attribute's values, any
    other VALUE is text (HQ reads numbers and dates from text)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(f'--set-attribute: "{text}" is not NAME=VALUE')
    return name.strip(), attribute_value_typed(value)


def changes_from(options: dict) -> CustomerChanges:
    """The command's options as the store's changes to one customer."""
    fields = {
        name: options[name]
        for name in EDITABLE_FIELDS
        if name != "language" and options.get(name) is not None
    }
    attributes = dict(attribute_setting(text) for text in options["set_attribute"])
    attributes.update(dict.fromkeys(options["clear_attribute"]))
    return CustomerChanges(
        fields=fields,
        addresses=tuple(address_from_json(text) for text in options["add_address"]),
        attributes=attributes,
        affiliations=tuple(options["add_affiliation"]),
        affiliations_removed=tuple(options["remove_affiliation"]),
        address_changes=tuple(
            address_change_from_json(ref, text) for ref, text in options["change_address"]
        ),
        addresses_retired=tuple(options["retire_address"]),
        contacts=tuple(contact_from_json(text) for text in options["add_contact"]),
        contacts_removed=tuple(contact_locator(text) for text in options["remove_contact"]),
    )


class Command(BaseCommand):
    help = (
        "Change a customer the way the store does (R11): in place for an async customer not "
        "uploaded yet, as a channel request otherwise (at HQ at once at a real-time store). "
        'Prints one JSON object: {"customer": GUID or account, "request": GUID or null}.'
    )

    def add_arguments(self, parser):
        store_argument_add(parser)
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

        parser.add_argument(
            "--change-address",
            action="append",
            default=[],
            nargs=2,
            metavar=("LOCATION-OR-GUID", "JSON"),
            help="change an address (its location id or async address GUID): only the "
            'fields given, e.g. \'{"street": "2 Main St", "primary": true}\'',
        )
        parser.add_argument(
            "--retire-address",
            action="append",
            default=[],
            metavar="LOCATION-OR-GUID",
            help="retire an address: it is removed from the customer's addresses",
        )
        parser.add_argument("--set-attribute", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--clear-attribute", action="append", default=[], metavar="NAME")
        parser.add_argument("--add-affiliation", action="append", default=[], metavar="NAME")
        parser.add_argument("--remove-affiliation", action="append", default=[], metavar="NAME")
        parser.add_argument(
            "--add-contact",
            action="append",
            default=[],
            metavar="JSON",
            help='contact info to add (or change), e.g. \'{"type": "email", "value": '
            '"a@example.com", "primary": false}\'',
        )
        parser.add_argument(
            "--remove-contact",
            action="append",
            default=[],
            metavar="LOCATOR",
            help="contact info to remove: TYPE:VALUE (email:a@example.com) or VALUE (any type)",
        )

    def handle(self, *args, **options):
        store = store_for(options["store"])
        with store_refusals(store, "the change"):
            try:
                result = customer_edit_at_store(
                    store=store, customer=options["customer"], changes=changes_from(options)
                )
            except (CustomerEditError, CustomerChangesError) as error:
                raise CommandError(str(error)) from error
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
