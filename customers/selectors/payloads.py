"""What a channel database receives for HQ customers (R1 real time, distribution 1010):
payloads read as tuples, and the customers each batch of 1010 sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import (
    CharField,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import Cast, RowNumber

from commerce.db import CHUNK
from commerce.models import ChannelDatabase, LegalEntity
from customers.models import (
    HQ_ADDRESS_FIELDS,
    Address,
    AsyncCustomerLink,
    Customer,
)

_PAYLOAD_CUSTOMER = (
    "legal_entity__code",
    "account",
    "version",
    "party__type",
    "party__name",
    "party__first_name",
    "party__last_name",
    "party__organization_name",
    "email",
    "phone",
    "customer_group__code",
    "currency",
    "language",
    "async_customer_id",
    "async_origin",
    "erased_at",
)
_PAYLOAD_ADDRESS = HQ_ADDRESS_FIELDS


def _guid_text(value: uuid.UUID | str | None) -> str | None:
    """A GUID as a payload carries it (``str(uuid)``), from a UUID or from its column
    read as text (``_as_text``: SQLite stores 32 hex digits, PostgreSQL gives the
    dashed form) - reading thousands as text skips building a UUID for each."""
    if not value:
        return None
    if isinstance(value, str):
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        if len(value) == 36:
            return value
    return str(uuid.UUID(str(value)))


def _as_text(paths: Sequence[str]) -> list:
    """``values_list`` arguments: the GUID columns read as text (see ``_guid_text``)."""
    guids = ("async_customer_id", "async_address_id")
    return [Cast(path, CharField()) if path in guids else path for path in paths]


def _address_payload(values: Sequence) -> dict:
    (location_id, purpose, street, city, state, zip_, country, is_primary, guid, origin) = values
    return {
        "location_id": location_id,
        "purpose": purpose,
        "street": street,
        "city": city,
        "state": state,
        "zip": zip_,
        "country": country,
        "is_primary": is_primary,
        "async_address_id": _guid_text(guid),
        "async_origin": origin,
    }


def _payload(
    values: Sequence,
    *,
    addresses: list[dict],
    links: Iterable[tuple[str, uuid.UUID]],
    merged: Sequence[str] = (),
) -> dict:
    (
        legal_entity,
        account,
        version,
        type_,
        name,
        first_name,
        last_name,
        organization_name,
        email,
        phone,
        customer_group,
        currency,
        language,
        guid,
        origin,
        erased_at,
    ) = values
    payload = {
        "legal_entity": legal_entity,
        "account": account,
        "version": version,
        "type": type_,
        "name": name,
        "first_name": first_name,
        "last_name": last_name,
        "organization_name": organization_name,
        "email": email,
        "phone": phone,
        "customer_group": customer_group,
        "currency": currency,
        "language": language,
        "async_customer_id": _guid_text(guid),
        "async_origin": origin,
        "addresses": addresses,
        "linked_async_ids": _linked_async_ids(links),
    }
    if merged:
        # R13: the accounts merged into this one; a channel database replaces its copies
        # of them with this customer (``customers.services.merge_channel``).
        payload["merged_accounts"] = sorted(merged)
    if erased_at is not None:
        # R14: the channel scrubs its async rows and requests of an erased customer.
        payload["erased"] = True
    return payload


def _linked_async_ids(links: Iterable[tuple[str, uuid.UUID]]) -> dict[str, list[str]]:
    """R12: channel database -> the async GUIDs it made that HQ linked to this account
    (``(channel database, GUID)`` pairs); each channel links only its own (R7)."""
    if not links:
        return {}  # most customers: no link
    linked: dict[str, list[str]] = {}
    for channel_database, guid in links:
        linked.setdefault(channel_database, []).append(str(guid))
    return {name: sorted(guids) for name, guids in sorted(linked.items())}


def _instance_values(instance, paths: Sequence[str]) -> tuple:
    values = []
    for path in paths:
        value = instance
        for name in path.split("__"):
            value = getattr(value, name)
        values.append(value)
    return tuple(values)


def customer_payload(customer: Customer) -> dict:
    """What a channel database receives for one HQ customer (R1 real time and 1010),
    from an instance read with ``with_payload_relations``. Many customers at once:
    ``customer_payloads`` (no instances)."""
    return _payload(
        _instance_values(customer, _PAYLOAD_CUSTOMER),
        addresses=[
            _address_payload(_instance_values(a, _PAYLOAD_ADDRESS))
            for a in customer.party.addresses.all()
        ],
        links=[
            (link.channel_database, link.async_customer_id) for link in customer.async_links.all()
        ],
    )


def with_payload_relations(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """What ``customer_payload`` reads, joined or prefetched (no per-customer queries)."""
    return queryset.select_related("legal_entity", "party", "customer_group").prefetch_related(
        "party__addresses", "async_links"
    )


def payloads_read(queryset: QuerySet[Customer]) -> list[tuple[int, dict]]:
    """``(customer pk, payload)`` of every customer of ``queryset`` (sliced or not), in its
    order: four queries whatever the count (the customers with their party, legal
    entity and group; their addresses; their R12 links; the accounts merged into them,
    R13), rows read as tuples and grouped here, no model instances."""
    rows = list(queryset.values_list("pk", "party_id", *_as_text(_PAYLOAD_CUSTOMER)))
    if not rows:
        return []
    addresses: dict[int, list[dict]] = {}
    for party_id, *values in (
        Address.objects.filter(party_id__in_values=[row[1] for row in rows])
        .order_by("location_id")
        .values_list("party_id", *_as_text(_PAYLOAD_ADDRESS))
    ):
        addresses.setdefault(party_id, []).append(_address_payload(values))
    links: dict[int, list[tuple[str, uuid.UUID]]] = {}
    for customer_id, channel_database, guid in AsyncCustomerLink.objects.filter(
        customer_id__in_values=[row[0] for row in rows]
    ).values_list("customer_id", "channel_database", "async_customer_id"):
        links.setdefault(customer_id, []).append((channel_database, guid))
    merged: dict[int, list[str]] = {}
    for survivor_id, account in Customer.objects.filter(
        merged_into_id__in_values=[row[0] for row in rows]
    ).values_list("merged_into_id", "account"):
        merged.setdefault(survivor_id, []).append(account)
    return [
        (
            pk,
            _payload(
                values,
                addresses=addresses.get(party_id, []),
                links=links.get(pk, ()),
                merged=merged.get(pk, ()),
            ),
        )
        for pk, party_id, *values in rows
    ]


def legal_entities_served(channel_database: ChannelDatabase) -> list[int]:
    return list(
        LegalEntity.objects.filter(stores__channel_database=channel_database)
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )


def _of_legal_entities(legal_entities: Sequence[int], changed_since: datetime | None):
    customers = Customer.objects.filter(legal_entity_id__in=legal_entities)
    if changed_since is not None:
        customers = customers.filter(modified_at__gte=changed_since)
    return customers


def customers_to_distribute(
    *,
    channel_database: ChannelDatabase,
    legal_entities: Sequence[int] | None = None,
    changed_since: datetime | None = None,
) -> QuerySet[Customer]:
    """HQ customers of the legal entities a channel database serves (``legal_entities``,
    read here if not given) that it does not have in their current version
    (distribution 1010, R7); with ``changed_since``, only those changed since then
    (a customer's ``modified_at`` rises with its version)."""
    if legal_entities is None:
        legal_entities = legal_entities_served(channel_database)
    return (
        # R13: a merged account is not a live customer; its survivor's payload names it.
        _of_legal_entities(legal_entities, changed_since)
        .filter(merged_into=None)
        .annotate(
            sent=FilteredRelation(
                "distributions",
                condition=Q(distributions__channel_database=channel_database.name),
            )
        )
        .filter(Q(sent__isnull=True) | Q(sent__version__lt=F("version")))
        .order_by("pk")
    )


def distribution_windows(*, legal_entities: Sequence[int], limit: int) -> list[int]:
    """The last pk of every full window of ``limit`` customers of ``legal_entities``, in
    order (``versions_to_distribute``'s windows for a run that looks at every customer):
    one query numbering the customers by pk, instead of one per window. Customers
    created later have higher pks: they fall after the last of these windows, which the
    caller then reads one at a time as before, so a window never grows past ``limit``
    by more than the customers committed late inside it."""
    numbered = (
        _of_legal_entities(legal_entities, None)
        .annotate(position=Window(RowNumber(), order_by=F("pk").asc()))
        .annotate(rest=F("position") % limit)
        .filter(rest=0)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(numbered)


def versions_to_distribute(
    *,
    channel_database: ChannelDatabase,
    after_pk: int,
    limit: int,
    legal_entities: Sequence[int] | None = None,
    changed_since: datetime | None = None,
    window_end: int | None = None,
) -> tuple[list[tuple[int, int]], int | None]:
    """The customers ``channel_database`` needs (``customers_to_distribute``) among the
    next ``limit`` customers of its legal entities after ``after_pk`` (the window), as
    ``(customer pk, version)`` in pk order; and the cursor for the next call (the
    window's last pk), or None when the window reached the last customer: no call is
    needed after it (so a run with one window of work reads once). Two queries,
    no payload: 1010 reads the payloads of a set once for every channel database that
    needs it (``jobs.download_payloads``).

    A window of customers, not "the first ``limit`` that need it": asked for those,
    PostgreSQL read every customer after the cursor and sorted the ones that need it
    to keep the first batch, so each batch cost more the more customers there were
    (quadratic over a run); a window is a range of the primary key, the same cost
    whatever the number of customers. A window may hold none that need sending. Every
    channel database serving the same legal entities sees the same windows, so they
    need the same sets. ``legal_entities``: those it serves (``legal_entities_served``),
    read here if not given.

    ``changed_since``: the windows hold only the customers changed since then, read
    through ``modified_at``'s index (a triggered run, ``jobs.distribution``): its cost
    follows the customers changed, not the customers there are.

    ``window_end``: the window's last pk, known already (``distribution_windows``): one
    query, the customers needed in it.
    """
    if legal_entities is None:
        legal_entities = legal_entities_served(channel_database)
    if window_end is None:
        following = (
            _of_legal_entities(legal_entities, changed_since)
            .filter(pk__gt=after_pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        window_end = next(iter(following[limit - 1 : limit]), None)
    needed = customers_to_distribute(
        channel_database=channel_database,
        legal_entities=legal_entities,
        changed_since=changed_since,
    ).filter(pk__gt=after_pk)
    if window_end is not None:
        needed = needed.filter(pk__lte=window_end)
    return list(needed.values_list("pk", "version")), window_end


def customer_payloads(*, customer_ids: Sequence[int]) -> list[dict]:
    """The payloads (``customer_payload``) of these customers, by legal entity and
    account; three queries per chunk of ``CHUNK``."""
    payloads = []
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        queryset = Customer.objects.filter(pk__in=chunk).order_by("legal_entity__code", "account")
        payloads.extend(payload for _, payload in payloads_read(queryset))
    return payloads
