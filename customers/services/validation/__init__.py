"""Customer input, R2 defaults and R5 business validation: one validator per kind of
record, for every path that takes one in.

The shapes every creation path shares (a customer typed at a store, a staged record,
an import) and the rules checked before anything is written: ``customer_input_errors``
(a customer), ``address_input_errors`` (an address), ``customer_changes_errors`` (a
store's change, the body of a channel request) and ``edited_at_error`` (its time).
The store (fed with its own channel database's reference data, R16: ``StoreReferenceData``),
the import checks and HQ (creation, channel requests, the admin fix forms: ``ReferenceData``
from HQ's tables) call the same functions. Lengths
come from the columns the value is stored in, at HQ, in HQ staging and in every
channel database (the shortest wins), so what passes fits every engine: SQLite does
not enforce a length, PostgreSQL refuses the row. Reads only: nothing here writes.

One module per concern: ``limits`` (codes and column lengths), ``inputs`` (the shapes
validated and the errors raised), ``reference_data`` (HQ's or a store's), ``values``
(how a value is named, text that fits), ``input_rules`` (R5 of a customer and its
parts), ``change_rules`` (R5 of a store's change, R11) and ``defaults`` (R2, and R1 at
the store). The names below are the package's public surface, so callers import them
from ``customers.services.validation``.
"""

from customers.services.validation.change_rules import (
    address_change_errors,
    change_parts_errors,
    customer_changes_errors,
)
from customers.services.validation.defaults import (
    customer_changes_at_store_errors,
    customer_input_at_store,
    customer_input_trimmed,
    customer_input_with_defaults,
    customer_input_with_store_defaults,
)
from customers.services.validation.input_rules import (
    address_input_errors,
    attribute_value_error,
    contact_input_errors,
    customer_input_errors,
    edit_time_at_hq,
    edited_at_error,
    phone_error,
    references_errors,
)
from customers.services.validation.inputs import (
    AddressChange,
    AddressInput,
    ContactInput,
    ContactLocator,
    CustomerInput,
    CustomerValidationError,
    StoreInputError,
)
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
    EDITABLE_FIELDS,
    LOCATION_ID_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PARTY_FIELDS,
    SHOWN_VALUE_CHARACTERS,
    TEXT_ATTRIBUTE_MAX_LENGTH,
)
from customers.services.validation.reference_data import (
    AttributeSetup,
    CustomerDefaults,
    ReferenceData,
    StoreReferenceData,
)

__all__ = [
    "ADDRESS_MAX_LENGTHS",
    "ADDRESS_PURPOSES",
    "AFFILIATION_NAME_MAX_LENGTH",
    "ATTRIBUTE_NAME_MAX_LENGTH",
    "AddressChange",
    "AddressInput",
    "AttributeSetup",
    "CONTACT_TYPES",
    "CONTACT_VALUE_MAX_LENGTH",
    "CUSTOMER_MAX_LENGTHS",
    "CUSTOMER_TYPES",
    "ContactInput",
    "ContactLocator",
    "CustomerDefaults",
    "CustomerInput",
    "CustomerValidationError",
    "EDITABLE_FIELDS",
    "EDIT_CLOCK_SKEW",
    "LOCATION_ID_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "PARTY_FIELDS",
    "ReferenceData",
    "SHOWN_VALUE_CHARACTERS",
    "StoreInputError",
    "StoreReferenceData",
    "TEXT_ATTRIBUTE_MAX_LENGTH",
    "address_change_errors",
    "address_input_errors",
    "attribute_value_error",
    "change_parts_errors",
    "contact_input_errors",
    "customer_changes_at_store_errors",
    "customer_changes_errors",
    "customer_input_at_store",
    "customer_input_errors",
    "customer_input_trimmed",
    "customer_input_with_defaults",
    "customer_input_with_store_defaults",
    "edit_time_at_hq",
    "edited_at_error",
    "phone_error",
    "references_errors",
]
