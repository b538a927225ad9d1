"""The limits validation checks (R5): the codes allowed, the fields a store may
change, and the longest value of each field, taken from the columns the value is
stored in at HQ, in HQ staging and in every channel database (the shortest wins)."""

from __future__ import annotations

import datetime

from customers.models import (
    Address,
    AddressPurpose,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelStoreDefaults,
    ContactInfo,
    ContactType,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
    Party,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
)

# The longest text attribute value (R5). The value column is JSON, unbounded in every
# engine, so the limit is a business one: a free-text attribute is a note, and 1,000
# characters also bound what every store receives with each customer (1010).
TEXT_ATTRIBUTE_MAX_LENGTH = 1000
SHOWN_VALUE_CHARACTERS = 80
# The allowed codes, built once (a choices enum's ``values`` builds a list per call).
CUSTOMER_TYPES = frozenset(CustomerType.values)
CONTACT_TYPES = frozenset(ContactType.values)
ADDRESS_PURPOSES = frozenset(AddressPurpose.values)
# R11: an edit may be dated this far ahead of the clock that checks it (clocks of a
# store and HQ differ a little); beyond it, an edit is dated in the future and refused.
EDIT_CLOCK_SKEW = datetime.timedelta(minutes=5)

# The customer fields a store may change; names and contact on the party and customer.
EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "customer_group",
    "language",
)
PARTY_FIELDS = ("first_name", "last_name", "organization_name")


def shortest(name: str, *models_: type) -> int:
    """The longest value every one of these columns holds."""
    return min(model._meta.get_field(name).max_length for model in models_)


_CUSTOMER_TABLES = (AsyncCustomer, StagedAsyncCustomer, ChannelCustomer)
# The longest value of each customer field, wherever it is stored (HQ, staging, channel).
CUSTOMER_MAX_LENGTHS = {
    **{name: shortest(name, Party, *_CUSTOMER_TABLES) for name in PARTY_FIELDS},
    **{
        name: shortest(name, Customer, *_CUSTOMER_TABLES)
        for name in ("email", "phone", "currency", "language")
    },
    "customer_group": min(
        shortest("code", CustomerGroup), shortest("customer_group", *_CUSTOMER_TABLES)
    ),
    # R2: the title a store copies from its default customer (not on the store's copies).
    "title": shortest("title", Customer, AsyncCustomer, StagedAsyncCustomer, ChannelStoreDefaults),
}
# The party's display name (first and last name with a space, or the organization's).
NAME_MAX_LENGTH = shortest("name", Party, ChannelCustomer)
ADDRESS_MAX_LENGTHS = {
    name: shortest(
        name,
        Address,
        AsyncCustomerAddress,
        AsyncAddress,
        ChannelCustomerAddress,
        StagedAsyncCustomerAddress,
        StagedAsyncAddress,
    )
    for name in ("street", "city", "state", "zip", "country")
}
CONTACT_VALUE_MAX_LENGTH = shortest(
    "value", ContactInfo, AsyncCustomerContact, StagedAsyncCustomerContact
)
ATTRIBUTE_NAME_MAX_LENGTH = min(
    shortest("name", CustomerAttribute),
    shortest("name", AsyncCustomerAttributeValue, StagedAsyncCustomerAttributeValue),
)
AFFILIATION_NAME_MAX_LENGTH = min(
    shortest("name", Affiliation),
    shortest("name", AsyncCustomerAffiliation, StagedAsyncCustomerAffiliation),
)

# An address a change names: its location id (HQ, a channel copy) or its async GUID.
LOCATION_ID_MAX_LENGTH = shortest("location_id", Address, ChannelCustomerAddress)
