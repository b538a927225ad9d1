"""Customer writes, one module per rule:

- ``validation``: creation input, R2 store defaults, R5 business validation (reads only);
- ``children``: the one mapping of an async customer's children between its copies;
- ``channel``: async creation at a store (R1) and applying HQ customers to a channel (R7);
- ``store``: creating a customer at a store, async or real time (R1);
- ``staging``: upload into HQ staging (R3), async addresses of existing customers (R6),
  outcomes of staged records;
- ``accounts``: account numbers and HQ customer creation from staging (R4);
- ``resolution``: what order sync (R8) and statement posting (R9) need resolved;
- ``guid_collisions``: creating a record that failed on another channel database's GUID
  under a new GUID;
- ``master``: changes made to the HQ customer master outside the jobs.

Callers import from the module that owns the rule; the names below are the package's
public surface, re-exported for convenience.
"""

from customers.services.accounts import (
    NumberSequenceExhausted,
    account_numbers_allocate,
    customers_create,
)
from customers.services.accounts_staged import STAGED_CUSTOMER_PREFETCH, staged_customers_create
from customers.services.channel import async_customer_create, channel_customers_apply
from customers.services.children import staged_customer_input
from customers.services.resolution import (
    TransactionResolutionError,
    async_address_resolve,
    async_customer_resolve,
    transaction_customer_resolve,
)
from customers.services.staging import (
    StagedOutcome,
    async_addresses_stage,
    async_customers_stage,
    staged_addresses_create,
    staged_records_retry,
)
from customers.services.store import StoreCustomerResult, customer_create_at_store
from customers.services.validation import (
    AddressInput,
    ContactInput,
    CustomerInput,
    CustomerValidationError,
    ReferenceData,
    address_input_errors,
    customer_input_errors,
    customer_input_with_store_defaults,
)

__all__ = [
    "STAGED_CUSTOMER_PREFETCH",
    "AddressInput",
    "ContactInput",
    "CustomerInput",
    "CustomerValidationError",
    "NumberSequenceExhausted",
    "ReferenceData",
    "StagedOutcome",
    "StoreCustomerResult",
    "TransactionResolutionError",
    "account_numbers_allocate",
    "address_input_errors",
    "async_address_resolve",
    "async_addresses_stage",
    "async_customer_create",
    "async_customer_resolve",
    "async_customers_stage",
    "channel_customers_apply",
    "customer_create_at_store",
    "customer_input_errors",
    "customer_input_with_store_defaults",
    "customers_create",
    "staged_addresses_create",
    "staged_customer_input",
    "staged_customers_create",
    "staged_records_retry",
    "transaction_customer_resolve",
]
