"""R2 defaults and R1 at the store: the fields a store did not fill, from its default
customer (``customer_input_with_defaults``), the input trimmed, and every check the store
makes against its own reference data before it writes (``customer_input_at_store``)."""

from __future__ import annotations

from dataclasses import replace

from commerce.models import LegalEntity, Store
from customers.models import AddressPurpose, CustomerType
from customers.services.validation.change_rules import customer_changes_errors
from customers.services.validation.input_rules import customer_input_errors
from customers.services.validation.inputs import CustomerInput, StoreInputError
from customers.services.validation.limits import PARTY_FIELDS
from customers.services.validation.reference_data import CustomerDefaults, StoreReferenceData


def customer_input_with_defaults(
    *, data: CustomerInput, defaults: CustomerDefaults
) -> CustomerInput:
    """R2: the fields the store did not fill, from its default customer: type, customer
    group, currency, language, title and affiliations (D365 10.0.24); an address without
    a purpose is a home address of a person, a business address of an organization."""
    type_ = data.type or defaults.type or CustomerType.PERSON
    purpose = AddressPurpose.BUSINESS if type_ == CustomerType.ORGANIZATION else AddressPurpose.HOME
    return replace(
        data,
        type=type_,
        customer_group=data.customer_group or defaults.customer_group,
        currency=data.currency or defaults.currency,
        language=data.language or defaults.language,
        title=data.title or defaults.title,
        affiliations=data.affiliations or tuple(defaults.affiliations),
        addresses=tuple(
            address if address.purpose else replace(address, purpose=purpose)
            for address in data.addresses
        ),
    )


def customer_input_with_store_defaults(*, store: Store, data: CustomerInput) -> CustomerInput:
    """R2 at HQ (account creation of a staged record): fill type, customer group,
    currency, language, title and address purposes from the store's default customer at
    HQ. Affiliations are the store's to copy when it captures the customer (a staged
    record without any keeps none)."""
    default = store.default_customer
    defaults = CustomerDefaults(
        type=CustomerType.PERSON,
        customer_group=default.customer_group.code,
        currency=default.currency or store.legal_entity.currency,
        language=default.language,
        title=default.title,
    )
    return customer_input_with_defaults(data=data, defaults=defaults)


_TRIMMED_FIELDS = (*PARTY_FIELDS, "email", "phone", "customer_group", "language", "title")


def customer_input_trimmed(data: CustomerInput) -> CustomerInput:
    """R1: what a store captures, without the spaces around each value typed
    (``' JONAS.NEW@example.com '`` is ``JONAS.NEW@example.com``)."""
    values = {name: getattr(data, name) for name in _TRIMMED_FIELDS}
    return replace(
        data,
        **{name: value.strip() for name, value in values.items() if isinstance(value, str)},
        addresses=tuple(
            replace(
                address,
                **{
                    name: getattr(address, name).strip()
                    for name in ("purpose", "street", "city", "state", "zip", "country")
                    if isinstance(getattr(address, name), str)
                },
            )
            for address in data.addresses
        ),
    )


def customer_input_at_store(
    *, data: CustomerInput, legal_entity: LegalEntity, refs: StoreReferenceData
) -> CustomerInput:
    """R1 and R2 at the store, before anything is written: the input trimmed, the
    defaults filled from the store's default customer (``refs.defaults``), then every
    check against the store's own reference data. Returns the input to write; raises
    StoreInputError naming each field and value."""
    data = customer_input_with_defaults(data=customer_input_trimmed(data), defaults=refs.defaults)
    errors = customer_input_errors(data=data, legal_entity=legal_entity, refs=refs)
    if errors:
        raise StoreInputError(errors)
    return data


def customer_changes_at_store_errors(
    *, changes, legal_entity: LegalEntity, refs: StoreReferenceData, customer_type: str | None
) -> list[str]:
    """R1 for a store's change (R11): the rules ``customer_changes_errors`` checks, the
    customer group, attributes and affiliations against the store's own reference data."""
    return customer_changes_errors(
        changes=changes, legal_entity=legal_entity, refs=refs, customer_type=customer_type
    )
