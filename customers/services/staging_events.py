"""The event log of staged records (README "Event log"): what the upload, account
creation, a person's fix and a retry write about each staged customer, address and
channel request, one insert per batch, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from commerce.events import EventAction, EventKind, NewEvent, events_record
from customers.models import (
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
)


def uploaded_events_record(
    *,
    kind: str,
    guids: Sequence[uuid.UUID],
    channel_database: str,
    upload_session_id: int,
    accounts: Sequence[str] | None = None,
) -> None:
    """README "Event log": an "uploaded" event per record just staged, one insert."""
    events_record(
        NewEvent(
            kind=kind,
            key=guid,
            channel_database=channel_database,
            account=accounts[index] if accounts else "",
            action=EventAction.UPLOADED,
            session=upload_session_id,
        )
        for index, guid in enumerate(guids)
    )


# The subject of a staged record's events: its kind and its GUID field.
STAGED_SUBJECTS = {
    StagedAsyncCustomer: (EventKind.CUSTOMER, "async_customer_id"),
    StagedAsyncAddress: (EventKind.ADDRESS, "async_address_id"),
    StagedChannelRequest: (EventKind.EDIT, "request_id"),
}


def outcome_events_record(rows: Sequence, *, now) -> None:
    """README "Event log": the outcome of each staged customer or address just marked
    (created at HQ with its account or location id, failed with its reason, held for
    review), one insert for the batch."""
    events = []
    for row in rows:
        address = isinstance(row, StagedAsyncAddress)
        account = row.customer_account if address else row.account
        if row.status == StagingStatus.COMPLETED:
            action = EventAction.CREATED_AT_HQ
            detail = (
                f"as address {row.location_id} of account {account}"
                if address
                else f"as account {account}"
            )
        elif row.status == StagingStatus.NEEDS_REVIEW:
            action, detail = EventAction.HELD, row.last_error
        else:
            action, detail = EventAction.FAILED, row.last_error
        events.append(
            NewEvent(
                kind=EventKind.ADDRESS if address else EventKind.CUSTOMER,
                key=row.async_address_id if address else row.async_customer_id,
                channel_database=row.channel_database,
                account=account,
                action=action,
                detail=detail,
                at=now,
            )
        )
    events_record(events)


def staged_fix_record(*, staged, actor, changes, at=None) -> None:
    """README "Event log": a person fixed failed staged record ``staged`` (a staged
    customer, address or request): who, and each field's old and new value
    (``changes``: [[label, old, new], ...]). Call in the fix's transaction."""
    kind, guid_field = STAGED_SUBJECTS[type(staged)]
    events_record(
        [
            NewEvent(
                kind=kind,
                key=getattr(staged, guid_field),
                channel_database=staged.channel_database,
                account=getattr(staged, account_field(type(staged))[0], ""),
                action=EventAction.FIXED,
                actor=actor,
                changes=changes,
                at=at,
            )
        ]
    )


def account_field(model) -> list[str]:
    return {StagedAsyncCustomer: ["account"], StagedAsyncAddress: ["customer_account"]}.get(
        model, ["target_account"]
    )
