"""R5 business validation of what is created: a customer (``customer_input_errors``),
its addresses, contacts, attribute values and affiliations, and the time of a store's
edit (R11, ``edited_at_error``)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from commerce.models import LegalEntity
from customers.countries import ISO3166_ALPHA3
from customers.match_keys import phone_key
from customers.models import (
    AttributeType,
    ContactType,
    CustomerAttribute,
    CustomerType,
    display_name,
)
from customers.services.validation.inputs import AddressInput, ContactInput, CustomerInput
from customers.services.validation.limits import (
    ADDRESS_MAX_LENGTHS,
    ADDRESS_PURPOSES,
    AFFILIATION_NAME_MAX_LENGTH,
    ATTRIBUTE_NAME_MAX_LENGTH,
    CONTACT_TYPES,
    CONTACT_VALUE_MAX_LENGTH,
    CUSTOMER_MAX_LENGTHS,
    CUSTOMER_TYPES,
    EDIT_CLOCK_SKEW,
    NAME_MAX_LENGTH,
    TEXT_ATTRIBUTE_MAX_LENGTH,
)
from customers.services.validation.reference_data import ReferenceData
from customers.services.validation.values import email_is_valid, lengths_errors, quoted, too_long


def _attribute_error(attribute: CustomerAttribute, value: Any) -> str | None:
    kind = attribute.type
    if value is None:
        return None
    if kind == AttributeType.BOOLEAN:
        return None if isinstance(value, bool) else "is not a boolean"
    if kind == AttributeType.TEXT:
        if not isinstance(value, str):
            return "is not text"
        if len(value) > TEXT_ATTRIBUTE_MAX_LENGTH:
            return f"is longer than {TEXT_ATTRIBUTE_MAX_LENGTH} characters ({len(value)})"
        return None
    if kind == AttributeType.INTEGER:
        if isinstance(value, bool):
            return "is not an integer"
        if isinstance(value, int):
            return None
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return None
        return "is not an integer"
    if kind == AttributeType.DECIMAL:
        if isinstance(value, bool):
            return "is not a decimal"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return "is not a decimal"
        # Decimal() reads "NaN" and "Infinity"; neither is an amount.
        return None if number.is_finite() else "is not a finite decimal"
    if kind == AttributeType.DATE:
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            return "is not a date (YYYY-MM-DD)"
        return None
    if kind == AttributeType.CHOICE:
        if value in (attribute.choices or []):
            return None
        return "is not one of " + ", ".join(str(c) for c in attribute.choices or [])
    return f"has unknown attribute type {kind}"


def attribute_value_error(attribute, value: Any) -> str | None:
    """R5 for one attribute value: what is wrong with ``value`` for ``attribute`` (its
    ``type`` and ``choices``: an HQ attribute, a store's copy or an import's record), or
    None when it is a value of the attribute."""
    return _attribute_error(attribute, value)


def _name_length_error(
    *, type: str, first_name: str, last_name: str, organization_name: str
) -> str | None:
    name = display_name(
        type=type, first_name=first_name, last_name=last_name, organization_name=organization_name
    )
    if len(name) <= NAME_MAX_LENGTH:
        return None
    return f"name: {quoted(name)} is longer than {NAME_MAX_LENGTH} characters ({len(name)})"


def references_errors(
    *, attributes: dict[str, Any], affiliations: Sequence[str], refs: ReferenceData | None
) -> list[str]:
    """R5 for attribute values and affiliations: known names, values of the attribute's
    type and choices. Without ``refs`` (at a store, HQ not asked) only what the names
    themselves decide: text that fits the columns."""
    errors: list[str] = []
    for name, value in attributes.items():
        problem = too_long("attributes", name, ATTRIBUTE_NAME_MAX_LENGTH)
        if problem:
            errors.append(problem)
            continue
        if refs is None:
            continue
        attribute = refs.attribute(name)
        if attribute is None:
            errors.append(f"attributes.{name}: unknown attribute {quoted(name)}")
            continue
        problem = _attribute_error(attribute, value)
        if problem:
            errors.append(f"attributes.{name}: {quoted(value)} {problem}")
    for name in affiliations:
        problem = too_long("affiliations", name, AFFILIATION_NAME_MAX_LENGTH)
        if problem:
            errors.append(problem)
        elif refs is not None and not refs.affiliation_known(name):
            errors.append(f"affiliations: unknown affiliation {quoted(name)}")
    return errors


def group_error(group: Any, legal_entity: LegalEntity, refs: ReferenceData | None) -> str | None:
    """R5: a customer group the legal entity does not have (not looked up without
    ``refs``)."""
    if refs is None or refs.group_known(legal_entity, group):
        return None
    return (
        f"customer_group: unknown customer group {quoted(group)} "
        f"in legal entity {legal_entity.code}"
    )


def customer_input_errors(
    *, data: CustomerInput, legal_entity: LegalEntity, refs: ReferenceData | None
) -> list[str]:
    """R5: every business rule the input breaks, each naming the field and the value.

    With ``refs`` None (a store checking what it can without HQ, R1) the references
    (customer group, attributes, affiliations) are not looked up; everything else is
    checked."""
    errors = lengths_errors(
        {name: getattr(data, name) for name in CUSTOMER_MAX_LENGTHS}, CUSTOMER_MAX_LENGTHS
    )
    if errors:  # a value that is not text or does not fit: the other checks would mislead
        return errors + _children_errors(data, refs)
    if data.type not in CUSTOMER_TYPES:
        errors.append(f"type: {quoted(data.type)} is not person or organization")
    elif data.type == CustomerType.PERSON:
        if not data.first_name.strip():
            errors.append(f"first_name: empty name {quoted(data.first_name)}")
        if not data.last_name.strip():
            errors.append(f"last_name: empty name {quoted(data.last_name)}")
    elif not data.organization_name.strip():
        errors.append(f"organization_name: empty name {quoted(data.organization_name)}")
    if data.type in CUSTOMER_TYPES:
        problem = _name_length_error(
            type=data.type,
            first_name=data.first_name,
            last_name=data.last_name,
            organization_name=data.organization_name,
        )
        if problem:
            errors.append(problem)
    problem = group_error(data.customer_group, legal_entity, refs)
    if problem:
        errors.append(problem)
    if len(data.currency) != 3 or not data.currency.isalpha():
        errors.append(f"currency: invalid currency code {quoted(data.currency)}")
    if data.email and not email_is_valid(data.email):
        errors.append(f"email: malformed email {quoted(data.email)}")
    problem = phone_error(data.phone, refs)
    if problem:
        errors.append(problem)
    return errors + _children_errors(data, refs)


def phone_error(phone: str, refs) -> str | None:
    """R1: a phone number the store's country reads (``phonenumbers``; a number with its
    own country code is read in that country). Only where the reference data knows the
    country the number was typed in (the store's): HQ does not read phone numbers."""
    country = getattr(refs, "phone_country", None)
    if not phone or country is None or phone_key(phone, country=country):
        return None
    return f"phone: {quoted(phone)} is not a phone number"


def _children_errors(data: CustomerInput, refs: ReferenceData | None) -> list[str]:
    errors: list[str] = []
    for index, address in enumerate(data.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    for index, contact in enumerate(data.contacts):
        errors.extend(contact_input_errors(contact=contact, where=f"contacts[{index}]"))
    errors += references_errors(
        attributes=data.attributes, affiliations=data.affiliations, refs=refs
    )
    return errors


def address_input_errors(*, address: AddressInput, prefix: str = "") -> list[str]:
    """R5 for one address: a known purpose, street, city and zip given, an ISO 3166-1
    alpha-3 country, every value fitting its columns."""
    values = {name: getattr(address, name) or "" for name in ADDRESS_MAX_LENGTHS}
    errors = lengths_errors(values, ADDRESS_MAX_LENGTHS, prefix)
    if not isinstance(address.purpose, str) or address.purpose not in ADDRESS_PURPOSES:
        errors.append(f"{prefix}purpose: unknown address purpose {quoted(address.purpose)}")
    if errors:
        return errors
    for name in ("street", "city", "zip"):
        value = getattr(address, name)
        if not (value or "").strip():
            errors.append(f"{prefix}{name}: empty {name} {quoted(value)}")
    if address.country not in ISO3166_ALPHA3:
        errors.append(f"{prefix}country: invalid country code {quoted(address.country)}")
    return errors


def edited_at_error(
    edited_at: datetime.datetime, *, now: datetime.datetime | None = None
) -> str | None:
    """R11: an edit dated in the future (beyond ``EDIT_CLOCK_SKEW``) is refused: its time
    would beat every later change of the same field."""
    now = now or datetime.datetime.now(datetime.UTC)
    if edited_at <= now + EDIT_CLOCK_SKEW:
        return None
    return f"edited_at: {edited_at.isoformat()} is in the future (now {now.isoformat()})"


def edit_time_at_hq(edited_at: datetime.datetime, received_at: datetime.datetime | None):
    """R11: the time HQ gives a store's edit: at most when HQ received it, so no edit
    dated ahead (a wrong clock, a row written past the store) can freeze a field."""
    if received_at is None:
        return edited_at
    return min(edited_at, received_at)


def contact_input_errors(*, contact: ContactInput, where: str) -> list[str]:
    """R5 for one contact: a known type, a value that fits, an email that is one."""
    if contact.type not in CONTACT_TYPES:
        return [f"{where}.type: unknown contact type {quoted(contact.type)}"]
    if problem := too_long(f"{where}.value", contact.value, CONTACT_VALUE_MAX_LENGTH):
        return [problem]
    if contact.type == ContactType.EMAIL and not email_is_valid(contact.value):
        return [f"{where}.value: malformed email {quoted(contact.value)}"]
    if not contact.value.strip():
        return [f"{where}.value: empty contact {quoted(contact.value)}"]
    return []
