"""R13 at the store: a channel database replaces its copy of a merged account with the
survivor (README, Rule map: R13), when distribution (1010) or a real-time apply brings
the survivor's payload naming the accounts merged into it (``merged_accounts``).

Runs inside ``channel_customers_apply``'s channel transaction, after the survivor's
copy, its addresses (which take over the merged copies' location ids) and its async
links (which take over the merged accounts' GUIDs, R12 links and their own) are
written. Idempotent: once a merged copy is gone, applying the payload again finds
nothing to change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from commerce.models import ChannelSalesTransaction
from customers.models import AsyncCustomer, ChannelCustomer


def channel_merged_replace(
    *, alias: str, channel_database: str, changed: Sequence[tuple[int, dict]]
) -> int:
    """For each survivor payload (``(copy id, payload)``) naming merged accounts: the
    async customers and sales transactions of this channel database that carry a merged
    account take the survivor's, and the merged copies are deleted (their addresses and
    links with them). Returns the copies replaced. Queries per survivor, never per row."""
    survivors = [(p, set(p["merged_accounts"])) for _, p in changed if p.get("merged_accounts")]
    if not survivors:
        return 0
    every = {account for _, merged in survivors for account in merged}
    copies = list(
        ChannelCustomer.objects.using(alias)
        .filter(account__in=every)
        .values_list("pk", "legal_entity", "account")
    )
    replaced: list[int] = []
    for payload, merged in survivors:
        entity, survivor = payload["legal_entity"], payload["account"]
        replaced += [pk for pk, le, account in copies if le == entity and account in merged]
        # An account number another legal entity of this channel database also uses is
        # ambiguous on a transaction (it names no legal entity): only GUIDs decide there.
        ambiguous = {account for _, le, account in copies if le != entity and account in merged}
        guids = [
            uuid.UUID(guid)
            for guid in (payload.get("linked_async_ids") or {}).get(channel_database, ())
        ]
        if payload.get("async_customer_id"):
            guids.append(uuid.UUID(payload["async_customer_id"]))
        if guids:
            AsyncCustomer.objects.using(alias).filter(
                async_customer_id__in=guids, account__in=merged
            ).update(account=survivor)
            ChannelSalesTransaction.objects.using(alias).filter(
                async_customer_id__in=guids, customer_account__in=merged
            ).update(customer_account=survivor)
        if merged - ambiguous:
            ChannelSalesTransaction.objects.using(alias).filter(
                async_customer_id=None, customer_account__in=merged - ambiguous
            ).update(customer_account=survivor)
    if replaced:
        ChannelCustomer.objects.using(alias).filter(pk__in=replaced).delete()
    return len(replaced)
