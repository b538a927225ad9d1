"""A customer found by searching all stores, made available at the store at once (README
"Store customers"): HQ's account is written to the store's channel database as
distribution (1010, R7) writes it, through the same apply (``channel_customers_apply``
with the account's ``customer_payloads``), so the copy carries HQ's current version and
the next 1010 finds it as distribution left it (it sends the customer again at most,
which writes the same rows). A copy the store already holds in that version or a newer
one is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from commerce.db import channel_database_check, channel_database_errors
from commerce.models import Store
from customers.models import ChannelCustomer, Customer
from customers.selectors import customer_payloads
from customers.services.channel import channel_customers_apply


class StoreCopyError(LookupError):
    """An account the store's legal entity does not have."""


@dataclass(frozen=True)
class StoreCopyResult:
    account: str
    version: int
    written: bool  # False: the store already held this version (or a newer one)


def customer_copy_to_store(*, store: Store, account: str) -> StoreCopyResult:
    """Write HQ customer ``account`` of the store's legal entity, with its addresses, to
    the store's channel database as 1010 would. Re-run safe: a copy already in HQ's
    version is not written again. StoreCopyError for an account HQ does not know in
    that legal entity; ChannelDatabaseUnreachable when the store's channel database
    cannot be reached (nothing written); HQ's database errors propagate."""
    store = Store.objects.select_related("legal_entity", "channel_database").get(pk=store.pk)
    alias, name = store.channel_database.alias, store.channel_database.name
    customer = (
        Customer.objects.filter(legal_entity_id=store.legal_entity_id, account=account.strip())
        .values_list("pk", "account", "version")
        .first()
    )
    if customer is None:
        raise StoreCopyError(
            f"legal entity {store.legal_entity.code} has no customer account {account.strip()!r}"
        )
    pk, account, version = customer
    channel_database_check(alias, name=name)
    with channel_database_errors(alias, name=name):
        held = (
            ChannelCustomer.objects.using(alias)
            .filter(legal_entity=store.legal_entity.code, account=account)
            .values_list("hq_version", flat=True)
            .first()
        )
    if held is not None and held >= version:
        return StoreCopyResult(account=account, version=held, written=False)
    (payload,) = customer_payloads(customer_ids=[pk])
    with channel_database_errors(alias, name=name):
        channel_customers_apply(alias=alias, channel_database=name, payloads=[payload])
    return StoreCopyResult(account=account, version=payload["version"], written=True)
