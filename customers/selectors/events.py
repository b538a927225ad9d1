"""Reading the event log (README "Event log") of one record or of one HQ customer: the
HQ events and the events of the store's channel database, merged oldest first.

A record's log holds its own events (by kind and GUID), those of the HQ account it
became (distributed, edited, merged), and those of the statements of its transactions.
An HQ customer's log holds the events of the account, of every async customer that
became it (its own GUID and those linked to it by a review), of its async addresses and
of the channel requests applied to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from commerce.db import ChannelDatabaseUnreachable, channel_database_errors
from commerce.events import EventFields, EventKind, events_read
from commerce.models import ChannelDatabase, SalesTransaction
from customers.models import Address, Customer, StagedChannelRequest


def _merged(*logs: Iterable[EventFields]) -> list[EventFields]:
    """Oldest first; a stable sort keeps each database's own order within a second."""
    return sorted((event for log in logs for event in log), key=lambda event: event.at)


def _alias(channel_database: str) -> str:
    return (
        ChannelDatabase.objects.filter(name=channel_database)
        .values_list("alias", flat=True)
        .first()
        or channel_database
    )


def _channel_events(
    *, channel_database: str, subjects: Sequence[tuple[str, object]]
) -> tuple[list[EventFields], ChannelDatabaseUnreachable | None]:
    alias = _alias(channel_database)
    try:
        with channel_database_errors(alias, name=channel_database):
            return events_read(subjects=subjects, using=alias), None
    except ChannelDatabaseUnreachable as error:
        return [], error


def record_events(
    *, channel_database: str, kind: str, guid: uuid.UUID, account: str = ""
) -> tuple[list[EventFields], ChannelDatabaseUnreachable | None]:
    """The log of one async customer, async address or channel request (``kind``
    "customer", "address" or "edit") of ``channel_database``, with the events of the
    ``account`` it became and of the statements of its transactions; and the channel
    database's error when its part could not be read. Three queries and one per
    channel database."""
    subjects: list[tuple[str, object]] = [(kind, guid)]
    if account and kind == EventKind.CUSTOMER:
        subjects.append((EventKind.ACCOUNT, account))
    if kind == EventKind.CUSTOMER:
        statements = (
            SalesTransaction.objects.filter(async_customer_id=guid, statement__isnull=False)
            .order_by()
            .values_list("statement_id", flat=True)
            .distinct()
        )
        subjects += [(EventKind.STATEMENT, pk) for pk in statements]
    hq = events_read(subjects=subjects, channel_database=channel_database)
    channel, unreachable = _channel_events(
        channel_database=channel_database, subjects=[(kind, guid)]
    )
    return _merged(hq, channel), unreachable


def customer_events(customer: Customer) -> list[EventFields]:
    """The log of HQ customer ``customer`` and of every record that became it: its
    account's events, the async customers it was made from or linked to, its async
    addresses, the channel requests applied to it (HQ's events and the store's). A
    fixed number of queries, and one per channel database its records came from."""
    account = customer.account
    by_database: dict[str, list[tuple[str, object]]] = {}

    def add(channel_database: str, kind: str, guid) -> None:
        by_database.setdefault(channel_database or "", []).append((kind, guid))

    if customer.async_customer_id:
        add(customer.async_origin, EventKind.CUSTOMER, customer.async_customer_id)
    for guid, channel_database in customer.async_links.values_list(
        "async_customer_id", "channel_database"
    ):
        add(channel_database, EventKind.CUSTOMER, guid)
    for guid, channel_database in Address.objects.filter(
        party_id=customer.party_id, async_address_id__isnull=False
    ).values_list("async_address_id", "async_origin"):
        add(channel_database, EventKind.ADDRESS, guid)
    for guid, channel_database in StagedChannelRequest.objects.filter(account=account).values_list(
        "request_id", "channel_database"
    ):
        add(channel_database, EventKind.EDIT, guid)
    subjects = [subject for subjects in by_database.values() for subject in subjects]
    logs = [events_read(subjects=subjects, accounts=[account])]
    for channel_database, channel_subjects in by_database.items():
        if channel_database:
            logs.append(
                _channel_events(channel_database=channel_database, subjects=channel_subjects)[0]
            )
    return _merged(*logs)
