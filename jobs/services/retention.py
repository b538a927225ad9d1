"""R15 retention (README, Retention): delete what the product no longer needs once it is
``RETENTION_DAYS`` old.

Each entry of ``PURGES`` names a table, the rows of it that may go (a queryset of a
cutoff) and what must be done first (references set to null, children deleted). Rows
are deleted in chunks of ``CHUNK`` ids, each chunk in one transaction that reads its
condition again, found through indexed or small conditions (no query per record).

Never purged, whatever their age: anything pending, failed or under review (staged
records, channel rows not yet synchronized or whose request HQ has not applied), and
what the crash repair reads:
- download sessions still ``created`` (``download_sessions_repair`` finishes or
  supersedes them from the channel's ``AppliedDownloadSession`` marker), their markers,
  and each channel database's latest applied session and marker; a download payload
  while a session points to it;
- upload sessions not acknowledged (``upload_sessions_supersede_unacknowledged``), each
  channel database's latest one, and those a kept staged record names;
- job runs queued or running (the reaping and the take-over of queued runs read them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django_q.models import Task

from commerce.db import CHUNK, HQ, ChannelDatabaseUnreachable, channel_database_errors
from commerce.events import events_expire
from commerce.models import ChannelDatabase, SalesTransaction
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelRequest,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagedChannelRequest,
    StagingStatus,
)
from jobs.models import (
    ACTIVE_STATUSES,
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadPayload,
    DownloadSession,
    JobRun,
    JobScopeCheck,
    SessionStatus,
    UploadSession,
)

STAGED_MODELS = (StagedAsyncCustomer, StagedAsyncAddress, StagedChannelRequest)


@dataclass(frozen=True)
class Purge:
    """One table's purge: ``label`` names it in the output; ``rows(cutoff)`` the rows
    that may go; ``nulls`` the (model, column) pointing at them, set to null first;
    ``children`` the (model, column) rows deleted with them."""

    label: str
    rows: Callable[..., QuerySet]
    nulls: tuple = ()
    children: tuple = ()
    channel: bool = False


def retention_cutoff(days: int | None = None):
    days = settings.RETENTION_DAYS if days is None else days
    return timezone.now() - timedelta(days=days)


# --- HQ ---------------------------------------------------------------------------


def _download_sessions(cutoff, **_):
    latest = (
        DownloadSession.objects.filter(status=SessionStatus.APPLIED)
        .values("channel_database")
        .annotate(latest=Max("pk"))
        .values_list("latest", flat=True)
    )
    return DownloadSession.objects.filter(
        status__in=[SessionStatus.APPLIED, SessionStatus.SUPERSEDED], created_at__lt=cutoff
    ).exclude(pk__in=list(latest))


def _download_payloads(cutoff, **_):
    """Payloads no download session points to any more (their sessions were purged, or
    a crash came between a payload and its session)."""
    return DownloadPayload.objects.filter(created_at__lt=cutoff).exclude(
        Exists(DownloadSession.objects.filter(payload=OuterRef("pk")))
    )


def _upload_sessions(cutoff, **_):
    latest = list(
        UploadSession.objects.values("channel_database")
        .annotate(latest=Max("pk"))
        .values_list("latest", flat=True)
    )
    named = Q()
    for model in STAGED_MODELS:
        named |= Q(
            pk__in=model.objects.exclude(status=StagingStatus.COMPLETED)
            .filter(upload_session_id__isnull=False)
            .values("upload_session_id")
        )
    return (
        UploadSession.objects.filter(
            status__in=[SessionStatus.ACKNOWLEDGED, SessionStatus.SUPERSEDED],
            created_at__lt=cutoff,
        )
        .exclude(pk__in=latest)
        .exclude(named)
    )


def _completed(model):
    def rows(cutoff, **_):
        return model.objects.filter(status=StagingStatus.COMPLETED, processed_at__lt=cutoff)

    return rows


def _job_runs(cutoff, **_):
    return JobRun.objects.exclude(status__in=ACTIVE_STATUSES).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )


def _scope_checks(cutoff, **_):
    return JobScopeCheck.objects.filter(checked_at__lt=cutoff)


def _task_results(cutoff, **_):
    """The queue's records of tasks that succeeded (django-q2 keeps them, unpruned:
    ``save_limit`` 0); a job run is the record of what its task did."""
    return Task.objects.filter(success=True, stopped__lt=cutoff)


# --- channel databases --------------------------------------------------------------


def _async_customers(cutoff, *, alias, **_):
    return AsyncCustomer.objects.using(alias).filter(
        synchronized_at__lt=cutoff, account__isnull=False, upload_session_id__isnull=False
    )


def _async_addresses(cutoff, *, alias, **_):
    return AsyncAddress.objects.using(alias).filter(
        synchronized_at__lt=cutoff, location_id__isnull=False, upload_session_id__isnull=False
    )


def _channel_requests(cutoff, *, alias, channel_database, **_):
    """Uploaded requests HQ holds no pending, failed or held record of: HQ applied them
    (and 1010 sends the new version to every store) or, past retention, forgot them."""
    waiting = StagedChannelRequest.objects.filter(channel_database=channel_database).exclude(
        status=StagingStatus.COMPLETED
    )
    return (
        ChannelRequest.objects.using(alias)
        .filter(uploaded_at__lt=cutoff, upload_session_id__isnull=False)
        .exclude(request_id__in=list(waiting.values_list("request_id", flat=True)))
    )


def _applied_markers(cutoff, *, alias, channel_database, **_):
    """A channel's records of applied sessions, but for its latest and any a session
    still ``created`` at HQ needs (the repair reads them)."""
    rows = AppliedDownloadSession.objects.using(alias)
    latest = rows.aggregate(latest=Max("session_id"))["latest"]
    unfinished = DownloadSession.objects.filter(
        channel_database=channel_database, status=SessionStatus.CREATED
    ).values_list("pk", flat=True)
    return (
        rows.filter(applied_at__lt=cutoff)
        .exclude(session_id=latest)
        .exclude(session_id__in=list(unfinished))
    )


STAGED_CHILDREN = tuple(
    (model, "staged_customer_id")
    for model in (
        StagedAsyncCustomerAddress,
        StagedAsyncCustomerContact,
        StagedAsyncCustomerAttributeValue,
        StagedAsyncCustomerAffiliation,
    )
)
ASYNC_CHILDREN = tuple(
    (model, "async_customer_id")
    for model in (
        AsyncCustomerAddress,
        AsyncCustomerContact,
        AsyncCustomerAttributeValue,
        AsyncCustomerAffiliation,
    )
)

# README, Retention: in this order (staged rows before the upload sessions they name).
PURGES = [
    Purge(
        "download sessions",
        _download_sessions,
        nulls=((CustomerDistribution, "download_session_id"),),
    ),
    Purge("download payloads", _download_payloads),
    Purge("staged async customers", _completed(StagedAsyncCustomer), children=STAGED_CHILDREN),
    Purge("staged async addresses", _completed(StagedAsyncAddress)),
    Purge("staged channel requests", _completed(StagedChannelRequest)),
    Purge(
        "upload sessions",
        _upload_sessions,
        nulls=(
            *((model, "upload_session_id") for model in STAGED_MODELS),
            (SalesTransaction, "upload_session_id"),
        ),
    ),
    Purge(
        "job runs",
        _job_runs,
        nulls=(
            (UploadSession, "job_run_id"),
            (DownloadSession, "job_run_id"),
            (JobScopeCheck, "last_run_id"),
        ),
    ),
    Purge("job scope checks", _scope_checks),
    Purge("queue task results", _task_results),
    Purge("async customers", _async_customers, children=ASYNC_CHILDREN, channel=True),
    Purge("async addresses", _async_addresses, channel=True),
    Purge("channel requests", _channel_requests, channel=True),
    Purge("applied download session records", _applied_markers, channel=True),
]


def _purge_rows(purge: Purge, queryset: QuerySet, *, using: str, dry_run: bool) -> int:
    """Delete ``queryset``'s rows in chunks of ids (each chunk reads the condition again
    in its own transaction); with ``dry_run`` only count them."""
    if dry_run:
        return queryset.count()
    deleted = 0
    after = 0
    while True:
        chunk = list(
            queryset.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not chunk:
            return deleted
        after = chunk[-1]
        with transaction.atomic(using=using):
            ids = list(queryset.filter(pk__in=chunk).values_list("pk", flat=True))
            for model, column in purge.nulls:
                model.objects.using(using).filter(**{f"{column}__in": ids}).update(**{column: None})
            for model, column in purge.children:
                model.objects.using(using).filter(**{f"{column}__in": ids}).delete()
            _, counts = queryset.model.objects.using(using).filter(pk__in=ids).only("pk").delete()
            deleted += counts.get(queryset.model._meta.label, 0)


def purge_run(
    *, days: int | None = None, dry_run: bool = False, event_log_days: int | None = None
) -> list[tuple[str, str, int]]:
    """R15: purge every table of ``PURGES`` (HQ, then each channel database), then the
    event log's entries older than ``event_log_days`` (``EVENT_LOG_RETENTION_DAYS``,
    default 365: the audit trail is kept longer than what the jobs need); returns
    ``(database, table label, rows deleted or, with dry_run, that would be)``; for a
    channel database that cannot be reached, the reason instead of a count."""
    cutoff = retention_cutoff(days)
    event_cutoff = retention_cutoff(
        settings.EVENT_LOG_RETENTION_DAYS if event_log_days is None else event_log_days
    )
    results = []
    channels = list(ChannelDatabase.objects.order_by("name"))
    for purge in PURGES:
        if not purge.channel:
            rows = purge.rows(cutoff)
            results.append(("HQ", purge.label, _purge_rows(purge, rows, using=HQ, dry_run=dry_run)))
            continue
        for channel in channels:
            try:
                with channel_database_errors(channel.alias, name=channel.name):
                    rows = purge.rows(cutoff, alias=channel.alias, channel_database=channel.name)
                    count = _purge_rows(purge, rows, using=channel.alias, dry_run=dry_run)
            except ChannelDatabaseUnreachable as error:
                # The others are purged; this one keeps its rows until it answers.
                results.append((channel.name, purge.label, error.cannot_be_reached))
                continue
            results.append((channel.name, purge.label, count))
    results.append(
        ("HQ", "event log", events_expire(before=event_cutoff, using=HQ, dry_run=dry_run))
    )
    for channel in channels:
        try:
            with channel_database_errors(channel.alias, name=channel.name):
                count = events_expire(before=event_cutoff, using=channel.alias, dry_run=dry_run)
        except ChannelDatabaseUnreachable as error:
            results.append((channel.name, "event log", error.cannot_be_reached))
            continue
        results.append((channel.name, "event log", count))
    return results
