"""Resolving what an HQ sales transaction references (R8 order sync, R9 statement
posting): the async customers and async addresses that HQ has not created yet are
created now, through the account-creation job's own services, under row locks.

An async customer held as a possible duplicate (R12, needs review) does not resolve
until a person links it (then it resolves to the linked account) or creates it. An
account that was merged (R13) resolves to its survivor (``customers.services.aliases``).
"""

from __future__ import annotations

import uuid

from django.db import transaction

from commerce.db import HQ
from customers.models import (
    Address,
    AsyncCustomerLink,
    Customer,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagingStatus,
)
from customers.services.accounts_staged import STAGED_CUSTOMER_PREFETCH, staged_customers_create
from customers.services.aliases import account_survivor, customer_survivor
from customers.services.staging import origin_matches, staged_addresses_create


class TransactionResolutionError(Exception):
    pass


def async_customer_resolve(*, async_customer_id: uuid.UUID, channel_database: str) -> str:
    """The account of a channel database's async customer, creating it now from staging
    if HQ has not.

    Locks the staged row (waiting for a job that holds it), so the customer is created
    exactly once whoever gets there first. Uses ``staged_customers_create``, the job's
    own service. A GUID is looked up only as the channel database that made it sent it.
    Raises TransactionResolutionError with the reason (for a record under review, R12,
    "async customer X needs review: possible duplicate of ...").
    """
    with transaction.atomic(using=HQ):
        staged = (
            StagedAsyncCustomer.objects.select_for_update()
            .prefetch_related(*STAGED_CUSTOMER_PREFETCH)
            .filter(async_customer_id=async_customer_id, channel_database=channel_database)
            .first()
        )
        if staged is None:
            existing = (
                Customer.objects.select_related("merged_into")
                .filter(async_customer_id=async_customer_id)
                .first()
            )
            if existing is not None and origin_matches(existing.async_origin, channel_database):
                return customer_survivor(existing).account
            link = (
                AsyncCustomerLink.objects.filter(
                    async_customer_id=async_customer_id, channel_database=channel_database
                )
                .select_related("customer__merged_into")
                .first()
            )
            if link is not None:
                return customer_survivor(link.customer).account
            raise TransactionResolutionError(
                f"async customer {async_customer_id} has not been uploaded to HQ yet"
            )
        if staged.status == StagingStatus.COMPLETED:
            # R13: a merge rewrites the staged records' account to its survivor.
            return staged.account
        if staged.status != StagingStatus.NEEDS_REVIEW:
            (outcome,) = staged_customers_create(staged_rows=[staged])
    # A record held now, or before: only a person's review lets it resolve.
    if staged.status == StagingStatus.NEEDS_REVIEW:
        raise TransactionResolutionError(
            f"async customer {async_customer_id} needs review: {staged.last_error}"
        )
    if not outcome.ok:
        raise TransactionResolutionError(f"async customer {async_customer_id}: {outcome.error}")
    return outcome.account


def async_address_resolve(*, async_address_id: uuid.UUID, channel_database: str) -> str:
    """The location id of a channel database's async address, creating it now from
    staging if needed."""
    existing = Address.objects.filter(async_address_id=async_address_id).first()
    if existing is not None and origin_matches(existing.async_origin, channel_database):
        return existing.location_id
    with transaction.atomic(using=HQ):
        staged = (
            StagedAsyncAddress.objects.select_for_update()
            .filter(async_address_id=async_address_id, channel_database=channel_database)
            .first()
        )
        if staged is not None:
            if staged.status == StagingStatus.COMPLETED:
                return staged.location_id
            (outcome,) = staged_addresses_create(staged_rows=[staged])
            if not outcome.ok:
                raise TransactionResolutionError(
                    f"async address {async_address_id}: {outcome.error}"
                )
            return outcome.location_id
    owner = (
        StagedAsyncCustomerAddress.objects.filter(
            async_address_id=async_address_id,
            staged_customer__channel_database=channel_database,
        )
        .values_list("staged_customer__async_customer_id", flat=True)
        .first()
    )
    if owner is None:
        raise TransactionResolutionError(
            f"async address {async_address_id} has not been uploaded to HQ yet"
        )
    async_customer_resolve(async_customer_id=owner, channel_database=channel_database)
    return Address.objects.get(async_address_id=async_address_id).location_id


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def transaction_customer_resolve(*, transaction, delivery: bool) -> None:
    """Give an HQ sales transaction real HQ references: the account of its (async)
    customer and, with ``delivery``, the location id of its delivery address. Saves
    the transaction. Raises TransactionResolutionError naming what is missing."""
    txn = transaction
    if txn.async_customer_id and not txn.customer_account:
        txn.customer_account = async_customer_resolve(
            async_customer_id=txn.async_customer_id, channel_database=txn.channel_database
        )
    elif txn.customer_account:
        # R13: an account merged since the sale was made posts against its survivor.
        customer = account_survivor(
            legal_entity_id=txn.store.legal_entity_id, account=txn.customer_account
        )
        if customer is None:
            raise TransactionResolutionError(
                f'customer_account: unknown customer "{txn.customer_account}"'
            )
        txn.customer_account = customer.account
    if delivery and txn.delivery_address and not txn.delivery_location_id:
        guid = _as_uuid(txn.delivery_address)
        if guid is not None:
            txn.delivery_location_id = async_address_resolve(
                async_address_id=guid, channel_database=txn.channel_database
            )
        elif Address.objects.filter(location_id=txn.delivery_address).exists():
            txn.delivery_location_id = txn.delivery_address
        else:
            raise TransactionResolutionError(
                f'delivery_address: unknown address "{txn.delivery_address}"'
            )
    txn.save(update_fields=["customer_account", "delivery_location_id"])
