"""Distribute customers (1010, R7): HQ customers -> channel databases, in download sessions.

A channel database needs a customer of a legal entity it serves when it has no
``CustomerDistribution`` row for it, or an older version. Each batch:
1. HQ: the payload of the customer versions it needs (``jobs.download_payloads``: built
   once per set and shared by every channel database that needs the same set, stored
   as text, its checksum the SHA-256 of that text), and a download session pointing to it;
2. channel, one transaction: apply the payload (``channel_customers_apply``: upsert
   copies, link async customers/addresses and transactions) and record the session in
   ``AppliedDownloadSession`` — unless it is recorded already (idempotent);
3. HQ: mark the session applied and record the versions the channel now has.
A customer the channel cannot take, whatever it raises, fails alone
(``commerce.isolation``): the batch is split and sent again in smaller sessions down to
the one customer, which is named in the job run and selected again by the next run.
A crash between 2 and 3 is repaired by the next run (the channel's record says the
session was applied); a crash before 2 commits leaves
nothing applied, and the customers are selected again. A customer created while a run
goes on has no row, so a later batch or run takes it. Runs for different channel
databases run side by side on the cluster's workers (``jobs.freshness``); each applies
to its own channel database only.

Before the customers, a run brings the channel database its reference data (R16:
``customers.services.reference.reference_data_apply``), versioned and idempotent.

Which customers a run looks at (README "Freshness"): a run looks at every customer of
the legal entities the channel database serves, and records when it began
(``JobScopeCheck.complete_from``) and for which legal entities. A triggered run (a store
write's chain, ``jobs.freshness``) looks only at the customers changed since that
moment, less ``DISTRIBUTION_CHANGE_MARGIN_SECONDS`` (a change committed late by a long
transaction, clocks that differ), through ``modified_at``'s index: its cost follows the
changes, not the million customers already sent. It looks at every customer instead when
no run has, when the channel database now serves a legal entity that run did not cover,
when that run began more than ``DISTRIBUTION_COMPLETE_SECONDS`` ago (what a window can
miss — a customer that failed, a session a crash superseded — waits that long at most),
or when a refused edit made HQ forget what the channel database holds
(``refused_edits_resend``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from commerce.db import HQ
from commerce.db.bulk import rows_upsert
from commerce.events import EventAction, EventKind, NewEvent, events_record
from commerce.isolation import error_summary, record_checkpoint, records_isolated
from commerce.models import ChannelDatabase
from customers.models import Customer, StagedChannelRequest
from customers.selectors import (
    distribution_windows,
    legal_entities_served,
    versions_to_distribute,
)
from customers.selectors.reference import reference_snapshot
from customers.services.channel import channel_customers_apply
from customers.services.reference import reference_data_apply
from jobs.download_payloads import (
    Entries,
    SharedPayload,
    download_payload_for,
    download_payload_of,
    payload_entries,
)
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadSession,
    Job,
    JobScopeCheck,
    SessionStatus,
)
from jobs.services import TRIGGER
from jobs.services.specs import scope_string

DISTRIBUTION_BATCH = settings.CONVERSION_BATCH_SIZE

# Test seam: called with a stage name; tests raise from it to simulate a crash.
fault_hook: Callable[[str], None] = lambda stage: None  # noqa: E731


def _finish(*, session: DownloadSession, entries: Entries, applied: dict) -> None:
    """Step 3: record the session applied and the versions the channel now holds
    (``entries``: what the session's payload carried)."""
    session.counts = {**session.counts, "applied": applied}
    with transaction.atomic(using=HQ):
        DownloadSession.objects.filter(pk=session.pk).update(
            status=SessionStatus.APPLIED, applied_at=timezone.now(), counts=session.counts
        )
        # One upsert; a version recorded never goes down (a repaired older session
        # leaves a newer one as it is).
        rows_upsert(
            model=CustomerDistribution,
            columns=["channel_database", "customer_id", "version", "download_session_id"],
            rows=[
                (session.channel_database, customer_id, entry["version"], session.pk)
                for customer_id, entry in entries
            ],
            unique=["channel_database", "customer_id"],
            only_rising="version",
            using=HQ,
        )
        # README "Event log": one "distributed" event per account the session carried.
        events_record(
            NewEvent(
                kind=EventKind.ACCOUNT,
                key=entry["account"],
                channel_database=session.channel_database,
                account=entry["account"],
                action=EventAction.DISTRIBUTED,
                session=session.pk,
                version=entry["version"],
                at=session.created_at,  # sent before the store linked it
            )
            for _, entry in entries
        )


def download_session_apply(*, session: DownloadSession, entries: Entries, alias: str) -> dict:
    """Step 2: apply a session's payload (``entries``) to its channel database, once.

    Re-run safe without a read first: the session's marker (``AppliedDownloadSession``,
    unique on the session) is written last, in the same channel transaction, so applying
    a session the channel database holds already fails on that INSERT, which rolls the
    second apply back whole, and the first apply's counts are returned. Only a crash
    repair meets an applied session, and it looks at the marker before
    (``download_sessions_repair``)."""
    try:
        with transaction.atomic(using=alias):
            payloads = [entry for _, entry in entries]
            for payload in payloads:
                record_checkpoint("distribution", payload["account"])
            counts = channel_customers_apply(
                alias=alias, channel_database=session.channel_database, payloads=payloads
            )
            fault_hook("after_channel_apply")
            AppliedDownloadSession.objects.using(alias).create(session_id=session.pk, counts=counts)
    except IntegrityError:
        marker = AppliedDownloadSession.objects.using(alias).filter(session_id=session.pk).first()
        if marker is None:
            raise  # the payload's own conflict: the caller fails it alone
        return marker.counts
    return counts


def download_sessions_repair(*, channel_database: ChannelDatabase) -> int:
    """Finish sessions a crash left unfinished: applied at the channel -> record at HQ;
    never applied -> superseded (their customers are selected again)."""
    alias = channel_database.alias
    repaired = 0
    for session in DownloadSession.objects.filter(
        channel_database=channel_database.name, status=SessionStatus.CREATED
    ).select_related("payload"):
        marker = AppliedDownloadSession.objects.using(alias).filter(session_id=session.pk).first()
        if marker is not None:
            entries = payload_entries(session.payload.value()) if session.payload else []
            _finish(session=session, entries=entries, applied=marker.counts)
        else:
            DownloadSession.objects.filter(pk=session.pk).update(status=SessionStatus.SUPERSEDED)
        repaired += 1
    return repaired


def _session_create(*, channel_database: str, job_run, payload: SharedPayload) -> DownloadSession:
    """Step 1: the download session at HQ, pointing to its (shared) payload."""
    entries = payload.entries
    values = {
        "channel_database": channel_database,
        "status": SessionStatus.CREATED,
        "checksum": payload.checksum,
        "counts": {
            "customers": len(entries),
            "addresses": sum(len(entry["addresses"]) for _, entry in entries),
        },
        "created_at": timezone.now(),
    }
    # One INSERT ... RETURNING: a single row needs no bulk writer.
    session = DownloadSession.objects.create(job_run=job_run, payload_id=payload.pk, **values)
    return session


def _session_send(
    *, channel_database: ChannelDatabase, payload: SharedPayload, job_run
) -> DownloadSession:
    """Steps 1-3 for one payload: one download session, applied at the channel once."""
    session = _session_create(
        channel_database=channel_database.name, job_run=job_run, payload=payload
    )
    fault_hook("after_session_created")
    try:
        applied = download_session_apply(
            session=session, entries=payload.entries, alias=channel_database.alias
        )
    except Exception:
        # Nothing of it was applied (one channel transaction): close it, the customers
        # are sent again (alone, by the caller) or selected again by the next run.
        DownloadSession.objects.filter(pk=session.pk).update(status=SessionStatus.SUPERSEDED)
        raise
    fault_hook("after_channel_commit")
    _finish(session=session, entries=payload.entries, applied=applied)
    return session


def distribution_batch(
    *,
    channel_database: ChannelDatabase,
    after_pk: int,
    job_run=None,
    batch_size: int = DISTRIBUTION_BATCH,
    legal_entities: Sequence[int] | None = None,
    changed_since: datetime | None = None,
    window_end: int | None = None,
) -> tuple[list[DownloadSession], int | None, list[str]]:
    """Send the customers that need it among the next ``batch_size`` (a window, see
    ``versions_to_distribute``); returns (sessions, the cursor for the next batch,
    errors); the cursor is None once the window reached the last customer. A customer
    the channel database cannot take (a value it cannot store, a conflicting row, any
    exception) fails alone, named, and is selected again by the next run; the rest of
    the batch goes on, in smaller sessions. Its payload is built once for every channel
    database that needs the same set (``download_payload_for``). ``changed_since``: only
    the customers changed since then (a triggered run, see the module's doc).
    ``window_end``: the window's last pk when the run knows it (``distribution_windows``)."""
    versions, last_pk = versions_to_distribute(
        channel_database=channel_database,
        after_pk=after_pk,
        limit=batch_size,
        legal_entities=legal_entities,
        changed_since=changed_since,
        window_end=window_end,
    )
    if not versions:
        return [], last_pk, []
    shared = download_payload_for(versions)
    errors: list[str] = []

    def not_distributed(customer: tuple[int, dict], error: Exception) -> None:
        errors.append(
            f"customer {customer[1]['account']}: not distributed to "
            f"{channel_database.name} ({error_summary(error)}); it is sent again by the "
            "next run"
        )

    def send(chunk: Entries) -> DownloadSession:
        # The whole batch as built; a part of it (after a failure) as a payload of its own.
        payload = shared if len(chunk) == len(shared.entries) else download_payload_of(chunk)
        return _session_send(channel_database=channel_database, payload=payload, job_run=job_run)

    # No savepoint: each call is its own sessions (HQ, then one channel transaction),
    # and a call that raised left its session superseded and nothing applied.
    sessions = records_isolated(shared.entries, send, on_failure=not_distributed)
    return sessions, last_pk, errors


def refused_edits_resend(*, requests: Sequence[StagedChannelRequest]) -> int:
    """R11: a channel request HQ refused leaves the store's copy as HQ has it after the
    next distribution. The store changed its copy when it made the edit; forgetting
    what its channel database was sent of that customer makes 1010 send HQ's values
    again (to that channel database only). Returns the rows forgotten. Re-run safe."""
    forgotten = 0
    targets: dict[str, Q] = {}
    for request in requests:
        target = (
            Q(account=request.target_account, legal_entity__stores__number=request.store_number)
            if request.target_account
            else Q(async_customer_id=request.target_async_customer_id)
        )
        targets[request.channel_database] = targets.get(request.channel_database, Q()) | target
    for channel_database, target in targets.items():
        customers = Customer.objects.filter(target).values("pk")
        deleted, _ = CustomerDistribution.objects.filter(
            channel_database=channel_database, customer_id__in=customers
        ).delete()
        forgotten += deleted
        # The customer has not changed at HQ: the channel database's next run, even a
        # triggered one, looks at every customer.
        _distribution_checks(channel_database).update(complete_from=None)
    return forgotten


def _distribution_scope(channel_database: str) -> str:
    """The scope of the distribution runs (and their ``JobScopeCheck``) of a channel
    database."""
    return scope_string({"channel_database": channel_database})


def _distribution_checks(channel_database: str):
    return JobScopeCheck.objects.filter(
        job=Job.DISTRIBUTE, scope=_distribution_scope(channel_database)
    )


def _changed_since(*, run, channel_database: str, legal_entities: Sequence[int], now):
    """Where a run beginning ``now`` starts looking (the module's doc): None for every
    customer, else the time of the last run that looked at every one, less the margin."""
    if run is None or run.requested_via != TRIGGER:
        return None
    mark = (
        _distribution_checks(channel_database)
        .values_list("complete_from", "complete_legal_entities")
        .first()
    )
    if mark is None or mark[0] is None or not set(legal_entities) <= set(mark[1]):
        return None
    if mark[0] < now - timedelta(seconds=settings.DISTRIBUTION_COMPLETE_SECONDS):
        return None
    return mark[0] - timedelta(seconds=settings.DISTRIBUTION_CHANGE_MARGIN_SECONDS)


def _complete_mark(*, channel_database: str, began: datetime, legal_entities) -> None:
    """A run that looked at every customer of ``legal_entities`` since ``began``."""
    rows_upsert(
        model=JobScopeCheck,
        columns=["job", "scope", "checked_at", "complete_from", "complete_legal_entities"],
        rows=[
            (
                Job.DISTRIBUTE,
                _distribution_scope(channel_database),
                began,
                began,
                sorted(legal_entities),
            )
        ],
        unique=["job", "scope"],
        update=["complete_from", "complete_legal_entities"],
        using=HQ,
    )


def distribution_run(*, run, progress, channel_database: str, **_ignored) -> None:
    """Job function: send every new or changed customer to one channel database."""
    channel = ChannelDatabase.objects.get(name=channel_database)
    download_sessions_repair(channel_database=channel)
    # R16: the reference data first, so the store checks what it captures against HQ's
    # current groups, attributes, affiliations and default customers.
    reference = reference_data_apply(
        alias=channel.alias, snapshot=reference_snapshot(channel_database=channel)
    )
    if reference.errors:
        progress.add(
            selected=len(reference.errors), failed=len(reference.errors), errors=reference.errors
        )
    legal_entities = legal_entities_served(channel)
    began = timezone.now()
    changed_since = _changed_since(
        run=run, channel_database=channel.name, legal_entities=legal_entities, now=began
    )
    # A look at every customer reads its full windows' ends at once; a triggered look
    # (one window, as a rule) and the customers after the last full window, one by one.
    window_ends = iter(
        distribution_windows(legal_entities=legal_entities, limit=DISTRIBUTION_BATCH)
        if changed_since is None
        else ()
    )
    after_pk = 0
    while True:
        sessions, last_pk, errors = distribution_batch(
            channel_database=channel,
            after_pk=after_pk,
            job_run=run,
            batch_size=DISTRIBUTION_BATCH,
            legal_entities=legal_entities,
            changed_since=changed_since,
            window_end=next(window_ends, None),
        )
        sent = sum(session.counts["customers"] for session in sessions)
        if sent or errors or last_pk is not None:  # counters and heartbeat, once a batch
            progress.add(
                selected=sent + len(errors), succeeded=sent, failed=len(errors), errors=errors
            )
        if last_pk is None:
            if changed_since is None:
                _complete_mark(
                    channel_database=channel.name, began=began, legal_entities=legal_entities
                )
            return
        after_pk = last_pk
