"""R5 for a store's change (R11): ``customer_changes_errors`` judges a
``CustomerChanges`` (a channel request's body) by the rules a new customer takes, and
``change_parts_errors`` the parts only a change has (affiliations removed, addresses
changed or retired, contact info removed)."""

from __future__ import annotations

from commerce.models import LegalEntity
from customers.countries import ISO3166_ALPHA3
from customers.services.validation.input_rules import (
    address_input_errors,
    contact_input_errors,
    group_error,
    phone_error,
    references_errors,
)
from customers.services.validation.inputs import AddressChange
from customers.services.validation.limits import (
    ADDRESS_MAX_LENGTHS,
    ADDRESS_PURPOSES,
    AFFILIATION_NAME_MAX_LENGTH,
    CONTACT_TYPES,
    CONTACT_VALUE_MAX_LENGTH,
    CUSTOMER_MAX_LENGTHS,
    LOCATION_ID_MAX_LENGTH,
    PARTY_FIELDS,
)
from customers.services.validation.reference_data import ReferenceData
from customers.services.validation.values import email_is_valid, lengths_errors, quoted, too_long


def customer_changes_errors(
    *,
    changes,
    legal_entity: LegalEntity,
    refs: ReferenceData | None,
    customer_type: str | None = None,
) -> list[str]:
    """R5 for a store's change (``CustomerChanges``, a channel request's body): every
    rule it breaks, each naming the field and the value. ``legal_entity`` is the
    customer's; with ``refs`` None (at the store) references are not looked up."""
    errors: list[str] = []
    for name, value in changes.fields.items():
        problem = too_long(name, value, CUSTOMER_MAX_LENGTHS[name])
        if problem:
            errors.append(problem)
            continue
        if name in PARTY_FIELDS and not value.strip():
            needed = (
                customer_type is None
                or (customer_type == "person" and name != "organization_name")
                or (customer_type == "organization" and name == "organization_name")
            )
            if needed:
                errors.append(f"{name}: empty name {quoted(value)}")
        elif name == "email" and value and not email_is_valid(value):
            errors.append(f"email: malformed email {quoted(value)}")
        elif name == "customer_group" and (problem := group_error(value, legal_entity, refs)):
            errors.append(problem)
        elif name == "phone" and (problem := phone_error(value, refs)):
            errors.append(problem)
    errors += references_errors(
        attributes=changes.attributes, affiliations=changes.affiliations, refs=refs
    )
    for index, address in enumerate(changes.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    return errors + change_parts_errors(changes=changes)


def address_change_errors(*, change: AddressChange, prefix: str) -> list[str]:
    """R5 for the fields an address change sets: each as ``address_input_errors``
    checks it on a whole address."""
    values = change.values
    if not values:
        return [f"{prefix}address: nothing to change on address {quoted(change.address)}"]
    errors = []
    if problem := too_long(f"{prefix}address", change.address, LOCATION_ID_MAX_LENGTH):
        return [problem]
    texts = {n: v for n, v in values.items() if n in ADDRESS_MAX_LENGTHS}
    errors += lengths_errors(texts, ADDRESS_MAX_LENGTHS, prefix)
    if "purpose" in values and values["purpose"] not in ADDRESS_PURPOSES:
        errors.append(f"{prefix}purpose: unknown address purpose {quoted(values['purpose'])}")
    if errors:
        return errors
    for name in ("street", "city", "zip"):
        if name in values and not values[name].strip():
            errors.append(f"{prefix}{name}: empty {name} {quoted(values[name])}")
    if "country" in values and values["country"] not in ISO3166_ALPHA3:
        errors.append(f"{prefix}country: invalid country code {quoted(values['country'])}")
    if "is_primary" in values and not isinstance(values["is_primary"], bool):
        errors.append(f"{prefix}is_primary: {quoted(values['is_primary'])} is not true or false")
    return errors


def change_parts_errors(*, changes) -> list[str]:
    """R5 for a change's affiliations removed, address changes and retirements, and
    contact info added or removed (``customer_changes_errors`` calls it)."""
    errors: list[str] = []
    for name in changes.affiliations_removed:
        if problem := too_long("affiliations", name, AFFILIATION_NAME_MAX_LENGTH):
            errors.append(problem)
    for index, change in enumerate(changes.address_changes):
        errors += address_change_errors(change=change, prefix=f"address_changes[{index}].")
    for ref in changes.addresses_retired:
        if problem := too_long("addresses_retired", ref, LOCATION_ID_MAX_LENGTH):
            errors.append(problem)
    for index, contact in enumerate(changes.contacts):
        errors += contact_input_errors(contact=contact, where=f"contacts[{index}]")
    for index, locator in enumerate(changes.contacts_removed):
        where = f"contacts_removed[{index}]"
        if locator.type and locator.type not in CONTACT_TYPES:
            errors.append(f"{where}.type: unknown contact type {quoted(locator.type)}")
        elif problem := too_long(f"{where}.value", locator.value, CONTACT_VALUE_MAX_LENGTH):
            errors.append(problem)
    return errors
