"""R14 erasure of what the jobs keep (README, Erasure and access): the download
payloads sent to the channel databases, and job runs' errors and messages.

``customer_erase_everywhere`` runs the customer domain's steps
(``customers.services.erasure.ERASURE_STEPS``) and these in one HQ transaction.
"""

from __future__ import annotations

from commerce.db import CHUNK
from commerce.db.bulk import JSONText
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
from jobs.download_payloads import payload_checksum
from jobs.models import DownloadPayload, DownloadSession, JobRun


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
    """Every download payload that carries the customer: its entry rewritten with the
    anonymous values (and any mention of the person scrubbed), the checksum taken again,
    on the payload and on the sessions that sent it. Payloads are found by a substring
    search for the account, then checked entry by entry."""
    account, legal_entity = erasure.account, erasure.customer.legal_entity.code
    payloads = DownloadPayload.objects.filter(text__contains=f'"{account}"').only("pk", "text")
    changed = []
    for payload in payloads.iterator(chunk_size=CHUNK):
        value = payload.value()
        entries = [
            _payload_erased(e)
            if e.get("account") == account and e.get("legal_entity") == legal_entity
            else e
            for e in value.get("customers", ())
        ]
        payload.text = JSONText.dumps(erasure.scrub({**value, "customers": entries})).text
        payload.checksum = payload_checksum(payload.text)
        changed.append(payload)
    DownloadPayload.objects.bulk_update(changed, ["text", "checksum"], batch_size=CHUNK)
    for payload in changed:
        DownloadSession.objects.filter(payload=payload).update(checksum=payload.checksum)
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
