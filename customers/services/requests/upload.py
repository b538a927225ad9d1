"""R11/R3 in the upload (P-0001): the stores' channel requests staged at HQ, once each."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from commerce.events import EventKind
from customers.models import ChannelRequest, StagedChannelRequest
from customers.services.staging import rows_not_staged
from customers.services.staging_events import uploaded_events_record

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


def channel_requests_stage(
    *, rows: Sequence[ChannelRequest], channel_database: str, upload_session_id: int
) -> dict[str, int]:
    """R11/R3: stage channel requests; a request HQ already staged from this channel
    database is skipped, so sending the same rows again stages nothing twice."""
    new_rows = rows_not_staged(
        model=StagedChannelRequest, key="request_id", channel_database=channel_database, rows=rows
    )
    StagedChannelRequest.objects.bulk_create(
        [
            StagedChannelRequest(
                request_id=row.request_id,
                channel_database=channel_database,
                store_number=row.store_number,
                upload_session_id=upload_session_id,
                target_async_customer_id=row.target_async_customer_id,
                target_account=row.target_account,
                edited_at=row.edited_at,
                changes=row.changes,
            )
            for row in new_rows
        ],
        batch_size=BULK_BATCH,
    )
    uploaded_events_record(
        kind=EventKind.EDIT,
        guids=[row.request_id for row in new_rows],
        channel_database=channel_database,
        upload_session_id=upload_session_id,
        accounts=[row.target_account for row in new_rows],
    )
    return {"requests": len(rows), "requests_staged": len(new_rows)}
