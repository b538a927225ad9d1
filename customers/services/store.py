"""R1: creating a customer at a store, asynchronously or with a real-time call to HQ."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from commerce.db import HQ, channel_database_check
from commerce.events import EventAction, EventKind, event_record
from commerce.models import Store
from customers.models import AsyncCustomer, ChannelCustomer, Customer
from customers.selectors import customer_payloads
from customers.services.accounts import customers_create
from customers.services.channel import (
    async_customer_create,
    channel_customers_apply,
    store_write_announce,
)
from customers.services.requests import HQ_UNREACHABLE
from customers.services.validation import (
    CustomerInput,
    CustomerValidationError,
    ReferenceData,
    StoreInputError,
    customer_input_errors,
    customer_input_with_store_defaults,
)


@dataclass(frozen=True)
class StoreCustomerResult:
    mode: str  # "async" or "real_time"
    async_customer: AsyncCustomer | None = None
    customer: Customer | None = None
    fallback_reason: str = ""  # why a real-time store created the customer async

    @property
    def account(self) -> str | None:
        return self.customer.account if self.customer else None


def customer_create_at_store(*, store: Store, data: CustomerInput) -> StoreCustomerResult:
    """R1: create a customer the way the store's profile and connectivity say.

    Async (profile flag, or the store is offline): an async customer with a GUID in
    the store's channel database. Otherwise a real-time call: the HQ account is
    created at once (R5 validation applies; CustomerValidationError on failure) and
    written to the store's channel database. The store first checks what it can
    without HQ (R1: names, email, addresses, lengths...; StoreInputError, nothing
    written). When HQ cannot be reached (a database or
    connection error on the real-time call) the store falls back to async creation
    and the result says why (``fallback_reason``). R2 defaults apply on every path.
    A store whose channel database cannot be reached creates nothing, at HQ either:
    ChannelDatabaseUnreachable.
    Every path announces the store's write (Freshness), so the conversion of its channel
    database follows within seconds with a cluster running.
    """

    store = Store.objects.select_related(
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "default_customer__customer_group",
    ).get(pk=store.pk)
    alias = store.channel_database.alias
    channel_database_check(alias, name=store.channel_database.name)
    data = customer_input_with_store_defaults(store=store, data=data)
    # R1: what the store can check without HQ, before anything is written.
    errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=None)
    if errors:
        raise StoreInputError(errors)
    if store.creates_customers_async:
        customer = async_customer_create(alias=alias, store_number=store.number, data=data)
        return StoreCustomerResult(mode="async", async_customer=customer)
    try:
        customer = _create_at_hq_now(store=store, data=data)
    except HQ_UNREACHABLE as error:
        # R1: HQ cannot be reached, so the store works as an async store for this one.
        customer = async_customer_create(alias=alias, store_number=store.number, data=data)
        return StoreCustomerResult(
            mode="async",
            async_customer=customer,
            fallback_reason=f"HQ could not be reached ({type(error).__name__}); "
            "created as an async customer",
        )
    channel_customers_apply(
        alias=alias,
        channel_database=store.channel_database.name,
        payloads=customer_payloads(customer_ids=[customer.pk]),
    )
    # The other channel databases of the legal entity learn the account from 1010 (R7).
    store_write_announce(alias=alias, sender=ChannelCustomer)
    return StoreCustomerResult(mode="real_time", customer=customer)


def _create_at_hq_now(*, store: Store, data: CustomerInput) -> Customer:
    """The real-time call: validate (R5) and create the HQ account."""
    refs = ReferenceData.load()
    errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=refs)
    if errors:
        raise CustomerValidationError(errors)
    with transaction.atomic(using=HQ):
        (created,) = customers_create(legal_entity=store.legal_entity, inputs=[data], refs=refs)
        event_record(
            kind=EventKind.ACCOUNT,
            key=created.account,
            account=created.account,
            action=EventAction.CREATED_AT_HQ,
            detail=f"at store {store.number}, in real time",
        )
    return Customer.objects.get(pk=created.pk)
