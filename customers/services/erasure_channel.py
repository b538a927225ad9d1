"""R14 erasure at the store (README, Erasure and access): what distribution (1010)
applies in a channel database when a customer it sends is erased at HQ
(``customers.services.erasure.customer_erase``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from commerce.db import CHUNK
from commerce.events import EventKind, events_erase_subject
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelRequest,
)
from customers.services.erasure import (
    ERASED_ADDRESS,
    ERASED_FIRST_NAME,
    ERASED_LAST_NAME,
    changes_erased,
)


def channel_erased_scrub(*, alias: str, channel_database: str, payloads: Sequence[dict]) -> int:
    """R14 through distribution: for the erased customers among ``payloads``, the
    channel's own async customers (and their addresses; contacts and attribute values
    deleted), async addresses and channel requests are made anonymous. The store's copy
    itself is the payload's (anonymous) values. Re-run safe."""
    erased = [p for p in payloads if p.get("erased")]
    if not erased:
        return 0
    guids: list[str] = []
    accounts: list[str] = []
    address_guids: list[str] = []
    for payload in erased:
        accounts.append(payload["account"])
        origin = payload.get("async_origin")
        if payload.get("async_customer_id") and (not origin or origin == channel_database):
            guids.append(payload["async_customer_id"])
        guids += (payload.get("linked_async_ids") or {}).get(channel_database, [])
        address_guids += [
            a["async_address_id"] for a in payload["addresses"] if a.get("async_address_id")
        ]
    customers = AsyncCustomer.objects.using(alias).filter(async_customer_id__in=guids)
    ids = list(customers.values_list("pk", flat=True))
    changed = customers.update(
        first_name=ERASED_FIRST_NAME,
        last_name=ERASED_LAST_NAME,
        organization_name="",
        email="",
        phone="",
    )
    rows = AsyncCustomerAddress.objects.using(alias)
    changed += rows.filter(async_customer_id__in=ids).update(**ERASED_ADDRESS)
    changed += (
        AsyncCustomerContact.objects.using(alias).filter(async_customer_id__in=ids).delete()[0]
    )
    changed += (
        AsyncCustomerAttributeValue.objects.using(alias)
        .filter(async_customer_id__in=ids)
        .delete()[0]
    )
    changed += (
        AsyncAddress.objects.using(alias)
        .filter(Q(customer_account__in=accounts) | Q(async_address_id__in=address_guids))
        .update(**ERASED_ADDRESS)
    )
    requests = list(
        ChannelRequest.objects.using(alias).filter(
            Q(target_account__in=accounts) | Q(target_async_customer_id__in=guids)
        )
    )
    for request in requests:
        request.changes = changes_erased(request.changes)
    ChannelRequest.objects.using(alias).bulk_update(requests, ["changes"], batch_size=CHUNK)
    # The store's own event log of these records (README "Event log").
    changed += events_erase_subject(
        subjects=[
            *((EventKind.CUSTOMER, guid) for guid in guids),
            *((EventKind.ADDRESS, guid) for guid in address_guids),
            *((EventKind.EDIT, request.request_id) for request in requests),
        ],
        accounts=accounts,
        using=alias,
    )
    return changed + len(requests)
