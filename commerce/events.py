"""The event log (README "Event log"): an append-only record of what happened to each
record on its way, written by the services in the same transaction as the change.

Two tables, one shape (``EventFields``): ``Event`` in HQ (``default``) for HQ changes
(upload, account creation, fixes, retries, reviews, distribution, statements, HQ
edits) and ``ChannelEvent`` in each channel database for the store's own changes
(created and edited at the store, linked at the store). ``event_record`` /
``events_record`` choose the table from the database they write to, so a store-side
event commits or rolls back with the store's change, an HQ event with HQ's.

An event names its subject: ``kind`` and ``key`` (the async GUID, the request GUID, the
account, the transaction or statement id) and, once known, the HQ ``account`` it
became, so a customer's page shows the log of the customer and of every record that
became it. Nothing is updated or deleted (the query sets refuse it), but for
``events_erase_subject``, the one seam of the erasure of a customer: it blanks the
personal text of the events of erased subjects.

Personal data stays out where it can: a fix keeps the field names and their old and new
values (the old value is what was wrong, which the operator needs to see), other
events keep account numbers, session ids, versions and reasons.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from commerce.db import CHUNK, HQ, ChannelModel, is_channel_alias
from commerce.db.bulk import JSONText, rows_insert

# commerce.models imports this module last, once ACCOUNT_MAX_LENGTH is defined.
from commerce.models import ACCOUNT_MAX_LENGTH


class EventKind(models.TextChoices):
    """What an event is about."""

    CUSTOMER = "customer", "async customer"
    ADDRESS = "address", "async address"
    EDIT = "edit", "store edit"
    ACCOUNT = "account", "HQ customer"
    TRANSACTION = "transaction", "sales transaction"
    STATEMENT = "statement", "statement"


class EventAction(models.TextChoices):
    CREATED = "created", "Created at the store"
    EDITED = "edited", "Edited"
    UPLOADED = "uploaded", "Uploaded to HQ staging"
    FAILED = "failed", "Failed at HQ"
    FIXED = "fixed", "Fixed"
    RETRIED = "retried", "Sent again"
    HELD = "held", "Held for review"
    REVIEWED = "reviewed", "Reviewed"
    CREATED_AT_HQ = "created_at_hq", "Created at HQ"
    APPLIED = "applied", "Applied at HQ"
    DISTRIBUTED = "distributed", "Distributed"
    LINKED = "linked", "Linked at the store"
    MERGED = "merged", "Merged"
    ERASED = "erased", "Erased"
    POSTED = "posted", "Posted"
    POSTING_FAILED = "posting_failed", "Posting failed"


class AppendOnlyError(RuntimeError):
    """An event was to be changed or deleted: the log is append-only."""


class EventQuerySet(models.QuerySet):
    """Reads and inserts; ``update`` and ``delete`` refuse (README "Event log")."""

    def update(self, **kwargs):
        raise AppendOnlyError("the event log is append-only: events are never updated")

    def delete(self):
        raise AppendOnlyError("the event log is append-only: events are never deleted")

    def _erase(self, **values) -> int:
        """events_erase_subject's write, the one update the log allows."""
        return super().update(**values)

    def _expire(self) -> int:
        """events_expire's delete, the one delete the log allows (README "Retention")."""
        return super().delete()[0]


class EventFields(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    key = models.CharField(max_length=64)
    channel_database = models.CharField(max_length=50, blank=True, default="")
    account = models.CharField(max_length=ACCOUNT_MAX_LENGTH, blank=True, default="", db_index=True)
    action = models.CharField(max_length=20, choices=EventAction.choices)
    actor = models.CharField(
        max_length=150, blank=True, default="", help_text="Who did it; empty for the jobs."
    )
    detail = models.TextField(blank=True, default="")
    # A fix or an edit: [[field label, old, new], ...].
    changes = models.JSONField(default=list, blank=True)
    session = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveBigIntegerField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.kind} {self.key}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("the event log is append-only: events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the event log is append-only: events are never deleted")


class Event(EventFields):
    """An event of an HQ change."""

    class Meta(EventFields.Meta):
        db_table = "commerce_event"
        indexes = [models.Index(fields=["kind", "key"], name="event_subject_idx")]


class ChannelEvent(ChannelModel, EventFields):
    """An event of a store's change, in the store's channel database."""

    class Meta(EventFields.Meta):
        db_table = "channel_event"
        indexes = [models.Index(fields=["kind", "key"], name="channel_event_subject_idx")]


# --- Writing -----------------------------------------------------------------------------


@dataclass
class NewEvent:
    """One event to write (``events_record``)."""

    kind: str
    key: object
    action: str
    channel_database: str = ""
    account: str | None = ""
    actor: object = ""
    detail: str = ""
    changes: Sequence = field(default_factory=list)
    session: int | None = None
    version: int | None = None
    at: datetime.datetime | None = None


def actor_name(actor) -> str:
    """A user's name, a name as given, or "" (the jobs)."""
    if actor is None:
        return ""
    if hasattr(actor, "get_username"):
        return actor.get_username()
    return str(actor)


def _model_for(using: str) -> type[EventFields]:
    return ChannelEvent if is_channel_alias(using) else Event


_EVENT_COLUMNS = (
    "at",
    "kind",
    "key",
    "channel_database",
    "account",
    "action",
    "actor",
    "detail",
    "changes",
    "session",
    "version",
)
_NO_CHANGES = JSONText.dumps([])


def events_record(events: Iterable[NewEvent], *, using: str = HQ) -> int:
    """Write ``events`` to the log of database ``using`` (HQ or a channel alias) in one
    bulk insert per batch; call inside the transaction of the change they record.
    Returns how many were written. A job path calls it once per batch, never per record.
    """
    model = _model_for(using)
    now = timezone.now()
    rows = [
        (
            event.at or now,
            event.kind,
            str(event.key),
            event.channel_database or "",
            event.account or "",
            event.action,
            actor_name(event.actor),
            event.detail or "",
            JSONText.dumps([list(change) for change in event.changes])
            if event.changes
            else _NO_CHANGES,
            event.session,
            event.version,
        )
        for event in events
    ]
    # The bulk writer: a job path writes an event per record, tens of thousands a run.
    rows_insert(model=model, columns=_EVENT_COLUMNS, rows=rows, using=using)
    return len(rows)


def event_record(*, using: str = HQ, **values) -> None:
    """One event (``NewEvent``'s fields as keywords) in the log of ``using``: e.g. the
    merge of two customers, ``event_record(kind=EventKind.ACCOUNT, key="C000012",
    account="C000012", action=EventAction.MERGED, actor=request.user, detail="merged
    into C000007")`` inside the merge's transaction."""
    events_record([NewEvent(**values)], using=using)


# --- Reading -----------------------------------------------------------------------------


def events_read(
    *,
    subjects: Iterable[tuple[str, object]] = (),
    accounts: Iterable[str] = (),
    channel_database: str | None = None,
    using: str = HQ,
) -> list[EventFields]:
    """The events of database ``using`` about any of ``subjects`` ((kind, key) pairs;
    async records only of ``channel_database`` when given, since a GUID is unique within
    the channel database that made it) or about any of ``accounts``, oldest first. One
    query."""
    model = _model_for(using)
    condition = models.Q(pk__in=[])
    for kind, key in subjects:
        one = models.Q(kind=kind, key=str(key))
        if channel_database and kind in (EventKind.CUSTOMER, EventKind.ADDRESS, EventKind.EDIT):
            one &= models.Q(channel_database=channel_database)
        condition |= one
    accounts = [a for a in accounts if a]
    if accounts:
        condition |= models.Q(account__in=accounts)
    return list(model.objects.using(using).filter(condition).order_by("at", "id"))


# --- Erasure -----------------------------------------------------------------------------

ERASED_TEXT = "(erased)"


def events_erase_subject(
    *, subjects: Iterable[tuple[str, object]] = (), accounts: Iterable[str] = (), using: str = HQ
) -> int:
    """The seam of erasure (README "Event log"): blank the personal text (details and
    the old and new values of fixes) of the events of ``subjects`` and ``accounts`` in
    database ``using``; the events themselves stay (what happened, when, by whom).
    Call it in the erasure's transaction, once for HQ and once per channel database,
    then record an ``erased`` event. Returns the number of events blanked."""
    model = _model_for(using)
    condition = models.Q(pk__in=[])
    for kind, key in subjects:
        condition |= models.Q(kind=kind, key=str(key))
    accounts = [a for a in accounts if a]
    if accounts:
        condition |= models.Q(account__in=accounts)
    rows = list(model.objects.using(using).filter(condition).only("pk", "changes"))
    erased = 0
    for row in rows:  # the changes keep their field names, never their values
        changes = [[change[0], ERASED_TEXT, ERASED_TEXT] for change in row.changes or []]
        erased += (
            model.objects.using(using).filter(pk=row.pk)._erase(detail=ERASED_TEXT, changes=changes)
        )
    return erased


def events_expire(*, before, using: str = HQ, dry_run: bool = False) -> int:
    """README "Retention": the events of ``using`` older than ``before`` go, in chunks of
    ids (each its own transaction); with ``dry_run`` only counted. Returns how many."""
    model = _model_for(using)
    old = model.objects.using(using).filter(at__lt=before)
    if dry_run:
        return old.count()
    deleted = 0
    while chunk := list(old.order_by("pk").values_list("pk", flat=True)[:CHUNK]):
        with transaction.atomic(using=using):
            deleted += model.objects.using(using).filter(pk__in=chunk)._expire()
    return deleted
