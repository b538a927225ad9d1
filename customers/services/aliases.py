"""R13: a merged account is an alias of its survivor (README, Rule map: R13).

Every place that resolves an account number or an async GUID to an HQ customer (order
sync and statement posting through ``customers.services.resolution``, channel requests
at HQ, async addresses for existing customers, a real-time store's edit) passes what it
found through here, so an order, a statement line or a store edit that still names a
merged account lands on the survivor, now and later.

An alias points straight at its survivor (one hop): a merge repoints the aliases of the
accounts it merges, and a merged account is never a survivor, so no chain is followed.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from django.db.models import QuerySet

from customers.models import Customer

K = TypeVar("K", bound=Hashable)


def customer_survivor(customer: Customer | None) -> Customer | None:
    """The account that answers for ``customer``: itself, or the survivor it was merged
    into (one query, only for an alias)."""
    if customer is None or customer.merged_into_id is None:
        return customer
    return customer.merged_into


def account_survivor(*, legal_entity_id: int, account: str) -> Customer | None:
    """The customer that answers for ``account`` of a legal entity (its survivor if the
    account was merged), or None for an unknown account. One query."""
    customer = (
        Customer.objects.select_related("merged_into")
        .filter(legal_entity_id=legal_entity_id, account=account)
        .first()
    )
    return customer_survivor(customer)


def survivors_map(
    found: Mapping[K, Customer], *, queryset: QuerySet[Customer] | None = None
) -> dict[K, Customer]:
    """``found`` with each merged account replaced by its survivor, read with
    ``queryset`` (the caller's joins and row locks; ``Customer.objects`` by default) in
    one query for all of them, and none when nothing found is an alias."""
    aliases = {key: c.merged_into_id for key, c in found.items() if c.merged_into_id}
    if not aliases:
        return dict(found)
    queryset = Customer.objects.all() if queryset is None else queryset
    survivors = {c.pk: c for c in queryset.filter(pk__in=set(aliases.values())).order_by("pk")}
    return {key: survivors[aliases[key]] if key in aliases else c for key, c in found.items()}
