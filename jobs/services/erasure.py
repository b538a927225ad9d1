"""R14 erasure of what the jobs keep (README, Erasure and access): the download
sessions' payloads of every channel database, and job runs' errors and messages.

``customer_erase_everywhere`` runs the customer domain's steps
(``customers.services.erasure.ERASURE_STEPS``) and these in one HQ transaction.
"""

from __future__ import annotations

import hashlib

from django.db.models import TextField
from django.db.models.functions import Cast

from commerce.bulk import JSONText
from commerce.db import CHUNK
from customers.models import Customer
from customers.services.erasure import (
    ERASED,
    ERASED_ADDRESS,
    ERASED_FIRST_NAME,
    ERASED_LAST_NAME,
    ERASED_NAME,
    Erasure,
    customer_erase,
    free_text_scrub,
)
from jobs.models import DownloadSession, JobRun


def _payload_erased(entry: dict) -> dict:
    organization = entry.get("type") == "organization"
    return {
        **entry,
        "name": ERASED_NAME,
        "first_name": "" if organization else ERASED_FIRST_NAME,
        "last_name": "" if organization else ERASED_LAST_NAME,
        "organization_name": ERASED_NAME if organization else "",
        "email": "",
        "phone": "",
        "addresses": [{**a, **ERASED_ADDRESS} for a in entry.get("addresses", ())],
    }


def download_payloads_erase(erasure: Erasure) -> int:
    """Every download session whose payload carries the customer: its entry rewritten
    with the anonymous values (and any mention of the person scrubbed), the checksum
    taken again. Sessions are found by a substring search for the account, then checked
    entry by entry."""
    account, legal_entity = erasure.account, erasure.customer.legal_entity.code
    sessions = (
        DownloadSession.objects.annotate(_text=Cast("payload", TextField()))
        .filter(_text__contains=f'"{account}"')
        .only("pk", "payload")
    )
    changed = []
    for session in sessions.iterator(chunk_size=CHUNK):
        payload = session.payload or {}
        entries = [
            _payload_erased(e)
            if e.get("account") == account and e.get("legal_entity") == legal_entity
            else e
            for e in payload.get("customers", ())
        ]
        session.payload = erasure.scrub({**payload, "customers": entries})
        session.checksum = hashlib.sha256(JSONText.dumps(session.payload).text.encode()).hexdigest()
        changed.append(session)
    DownloadSession.objects.bulk_update(changed, ["payload", "checksum"], batch_size=CHUNK)
    return len(changed) + free_text_scrub(erasure, model=DownloadSession, fields=["error"])


def job_runs_erase(erasure: Erasure) -> int:
    """Job runs whose errors or message quote the person."""
    return free_text_scrub(erasure, model=JobRun, fields=["errors", "message"])


JOB_ERASURE_STEPS = [
    ("download sessions", download_payloads_erase),
    ("job runs", job_runs_erase),
]


def customer_erase_everywhere(
    *, account: str, legal_entity: str | None = None, user=None
) -> tuple[Customer, dict[str, int]]:
    """R14: ``customer_erase`` with the jobs' stores too. The channel databases follow
    with the next distribution (1010), which the version raised makes send the
    customer again."""
    return customer_erase(
        account=account, legal_entity=legal_entity, user=user, steps=JOB_ERASURE_STEPS
    )


__all__ = ["ERASED", "JOB_ERASURE_STEPS", "customer_erase_everywhere"]
