"""R1: creating a customer at a store, asynchronously or with a real-time call to HQ."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.db import channel_database_check
from commerce.models import Store
from customers.models import AsyncCustomer, ChannelCustomer, Customer
from customers.selectors import customer_payloads
from customers.selectors.reference import store_loaded, store_reference_data_or_hq
from customers.services.channel import (
    async_customer_create,
    channel_customers_apply,
    store_write_announce,
)
from customers.services.real_time import RealTimeCreation, customer_create_real_time
from customers.services.requests import HQ_UNREACHABLE
from customers.services.validation import (
    CustomerInput,
    CustomerValidationError,
    ReferenceData,
    customer_input_at_store,
    customer_input_errors,
)


@dataclass(frozen=True)
class StoreCustomerResult:
    mode: str  # "async" or "real_time"
    async_customer: AsyncCustomer | None = None
    customer: Customer | None = None
    fallback_reason: str = ""  # why a real-time store created the customer async
    # R12, policy "create": the accounts a real-time creation resembles, and why.
    duplicate_of: tuple[str, ...] = ()
    duplicates: str = ""

    @property
    def account(self) -> str | None:
        return self.customer.account if self.customer else None


def _created_async(*, alias: str, store, data, reason: str = "") -> StoreCustomerResult:
    """The customer created async in the store's channel database; a real-time store
    says why (``reason``)."""
    customer = async_customer_create(alias=alias, store_number=store.number, data=data)
    return StoreCustomerResult(
        mode="async",
        async_customer=customer,
        fallback_reason=f"{reason}; created as an async customer" if reason else "",
    )


def customer_create_at_store(*, store: Store, data: CustomerInput) -> StoreCustomerResult:
    """R1: create a customer the way the store's profile and connectivity say.

    Async (profile flag, or the store is offline): an async customer with a GUID in
    the store's channel database. Otherwise a real-time call: the HQ account is
    created at once (R5 validation applies; CustomerValidationError on failure) and
    written to the store's channel database. The store first checks what it can
    without HQ (R1: names, email, addresses, lengths...; StoreInputError, nothing
    written; checked against the store's own channel database, R16, so it works with
    HQ down). When HQ cannot be reached (a database or
    connection error on the real-time call) the store falls back to async creation
    and the result says why (``fallback_reason``). R2 defaults apply on every path.
    A store whose channel database cannot be reached creates nothing, at HQ either:
    ChannelDatabaseUnreachable.
    The real-time call looks for duplicates as account creation does for staged records
    (R12, ``customers.services.real_time``): policy ``create`` creates the account and
    says which it resembles (``duplicates``); policy ``review`` creates it async instead,
    so HQ holds it for review, and says so (``fallback_reason``).
    Every path announces the store's write (Freshness), so the conversion of its channel
    database follows within seconds with a cluster running.
    """

    store = store_loaded(store)
    alias = store.channel_database.alias
    channel_database_check(alias, name=store.channel_database.name)
    # R1, R2: trimmed, defaults filled and checked against the store's own reference
    # data (R16), before anything is written; nothing here asks HQ.
    data = customer_input_at_store(
        data=data,
        legal_entity=store.legal_entity,
        refs=store_reference_data_or_hq(store=store),
    )
    if store.creates_customers_async:
        return _created_async(alias=alias, store=store, data=data)
    try:
        created = _create_at_hq_now(store=store, data=data)
    except HQ_UNREACHABLE as error:
        # R1: HQ cannot be reached, so the store works as an async store for this one.
        return _created_async(
            alias=alias,
            store=store,
            data=data,
            reason=f"HQ could not be reached ({type(error).__name__})",
        )
    if created.held:
        # R12, policy "review": HQ does not create a possible duplicate; created async,
        # the upload brings it to HQ, which holds it for review (README "Store customers").
        return _created_async(
            alias=alias,
            store=store,
            data=data,
            reason=f"HQ holds it for review as a {created.duplicates}",
        )
    customer = created.customer
    channel_customers_apply(
        alias=alias,
        channel_database=store.channel_database.name,
        payloads=customer_payloads(customer_ids=[customer.pk]),
    )
    # The other channel databases of the legal entity learn the account from 1010 (R7).
    store_write_announce(alias=alias, sender=ChannelCustomer)
    return StoreCustomerResult(
        mode="real_time",
        customer=customer,
        duplicate_of=tuple(m.account for m in created.matches),
        duplicates=created.duplicates,
    )


def _create_at_hq_now(*, store: Store, data: CustomerInput) -> RealTimeCreation:
    """The real-time call: validate (R5), look for duplicates (R12) and create the HQ
    account unless the legal entity's policy holds it."""
    refs = ReferenceData.load()
    errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=refs)
    if errors:
        raise CustomerValidationError(errors)
    return customer_create_real_time(store=store, data=data, refs=refs)
