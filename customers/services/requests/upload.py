"""R11/R3 in the upload (P-0001): the stores' channel requests staged at HQ, once each."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from commerce.events import EventKind
from customers.models import ChannelRequest, StagedChannelRequest
from customers.services.staging import rows_stage


def channel_requests_stage(
    *, rows: Sequence[ChannelRequest], channel_database: str, upload_session_id: int
) -> dict[str, int]:
    """R11/R3: stage channel requests; a request HQ already staged from this channel
    database is skipped, so sending the same rows again stages nothing twice."""
    new_rows = rows_stage(
        model=StagedChannelRequest,
        key="request_id",
        kind=EventKind.EDIT,
        rows=rows,
        channel_database=channel_database,
        upload_session_id=upload_session_id,
        values=lambda row: {
            "target_async_customer_id": row.target_async_customer_id,
            "target_account": row.target_account,
            "edited_at": row.edited_at,
            "changes": row.changes,
        },
        account=attrgetter("target_account"),
    )
    return {"requests": len(rows), "requests_staged": len(new_rows)}
