"""R1: creating a customer at a store, asynchronously or with a real-time call to HQ."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.models import Store
from customers.models import AsyncCustomer, Customer
from customers.selectors import customer_payloads
from customers.services.accounts import customers_create
from customers.services.channel import async_customer_create, channel_customers_apply
from customers.services.validation import (
    CustomerInput,
    CustomerValidationError,
    ReferenceData,
    customer_input_errors,
    customer_input_with_store_defaults,
)


@dataclass(frozen=True)
class StoreCustomerResult:
    mode: str  # "async" or "real_time"
    async_customer: AsyncCustomer | None = None
    customer: Customer | None = None

    @property
    def account(self) -> str | None:
        return self.customer.account if self.customer else None


def customer_create_at_store(*, store: Store, data: CustomerInput) -> StoreCustomerResult:
    """R1: create a customer the way the store's profile and connectivity say.

    Async (profile flag, or the store is offline): an async customer with a GUID in
    the store's channel database. Otherwise a real-time call: the HQ account is
    created at once (R5 validation applies; CustomerValidationError on failure) and
    written to the store's channel database. R2 defaults apply on both paths.
    """

    store = Store.objects.select_related(
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "default_customer__customer_group",
    ).get(pk=store.pk)
    data = customer_input_with_store_defaults(store=store, data=data)
    alias = store.channel_database.alias
    if store.creates_customers_async:
        customer = async_customer_create(alias=alias, store_number=store.number, data=data)
        return StoreCustomerResult(mode="async", async_customer=customer)
    refs = ReferenceData.load()
    errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=refs)
    if errors:
        raise CustomerValidationError(errors)
    (customer,) = customers_create(legal_entity=store.legal_entity, inputs=[data], refs=refs)
    channel_customers_apply(
        alias=alias,
        channel_database=store.channel_database.name,
        payloads=customer_payloads(customer_ids=[customer.pk]),
    )
    return StoreCustomerResult(mode="real_time", customer=customer)
