"""The demo organization in the import format (README "Import files")."""

from __future__ import annotations

import copy

from commerce.db import channel_aliases
from devtools.demo.async_records import ASYNC_ADDRESSES, ASYNC_CUSTOMERS, async_customer_record
from devtools.demo.organization import (
    AFFILIATIONS,
    CUSTOMER_ATTRIBUTES,
    CUSTOMER_GROUPS,
    FUNCTIONALITY_PROFILES,
    HQ_CUSTOMERS,
    LEGAL_ENTITIES,
    STORES,
    channel_database_name,
)
from devtools.demo.transactions import demo_transactions


def demo_payload() -> dict:
    """The demo organization in the import format (README "Import files"). Deterministic."""
    aliases = channel_aliases()
    channel_databases = [
        {"name": channel_database_name(index), "alias": alias}
        for index, alias in enumerate(aliases)
    ]
    stores = [
        {
            "number": store.number,
            "name": store.name,
            "legal_entity": "USRT",
            "channel_database": channel_databases[store.channel_index % len(aliases)]["name"],
            "functionality_profile": store.profile,
            "default_customer": store.default_customer,
            "offline": False,
        }
        for store in STORES
    ]
    channel = []
    transactions = demo_transactions()
    for store in STORES:
        customers = [
            async_customer_record(customer, index)
            for index, customer in enumerate(ASYNC_CUSTOMERS)
            if customer.store == store.number
        ]
        addresses = [
            {key: value for key, value in address.items() if key != "store"}
            for address in ASYNC_ADDRESSES
            if address["store"] == store.number
        ]
        channel.append(
            {
                "store": store.number,
                "async_customers": customers,
                "async_addresses": addresses,
                "transactions": [
                    {key: value for key, value in t.items() if key != "store"}
                    for t in transactions
                    if t["store"] == store.number
                ],
            }
        )
    return copy.deepcopy(
        {
            "legal_entities": LEGAL_ENTITIES,
            "customer_groups": CUSTOMER_GROUPS,
            "customer_attributes": CUSTOMER_ATTRIBUTES,
            "affiliations": AFFILIATIONS,
            "functionality_profiles": FUNCTIONALITY_PROFILES,
            "channel_databases": channel_databases,
            "customers": HQ_CUSTOMERS,
            "stores": stores,
            "channel": channel,
        }
    )
