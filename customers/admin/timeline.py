"""A timeline per async customer, async address and channel request (beyond the reference system):
the record's event log (README "Event log"), oldest first: created at the store,
uploaded (which upload session), failed (why) or held for review (R12), fixed (by whom,
which fields, old → new), synchronized again, created at HQ (which account),
distributed (which download session carried which version, 1010), linked at the store,
and the statements of its sales transactions; then the orders and statements of the
transactions as they stand, and what is still to come. A record the log knows nothing
of (written before it, or by an import) shows the steps its rows still say.

Served under the staged async customers admin next to the status page
(``SyncStatusPageMixin``), whose view permission it asks for.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse

from commerce.db import HQ, ChannelDatabaseUnreachable, channel_database_errors
from commerce.events import EventAction, EventFields, EventKind
from commerce.models import ChannelDatabase, SalesTransaction
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    ChannelCustomer,
    ChannelRequest,
    Customer,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedChannelRequest,
    StagingStatus,
)
from customers.selectors.events import record_events
from customers.services.labels import operator_text

KIND_LABELS = {"customer": "async customer", "address": "async address", "edit": "store edit"}
CHANNEL_MODELS = {
    "customer": (AsyncCustomer, "async_customer_id"),
    "address": (AsyncAddress, "async_address_id"),
    "edit": (ChannelRequest, "request_id"),
}
STAGED_MODELS = {
    "customer": (StagedAsyncCustomer, "async_customer_id"),
    "address": (StagedAsyncAddress, "async_address_id"),
    "edit": (StagedChannelRequest, "request_id"),
}
STAGED_CHANGE_URL = {
    "customer": "admin:customers_stagedasynccustomer_change",
    "address": "admin:customers_stagedasyncaddress_change",
    "edit": "admin:customers_stagedchannelrequest_change",
}


@dataclass(frozen=True)
class Event:
    """One step of the record's way. ``state`` colours it: done, failed, waiting."""

    at: datetime.datetime | None
    title: str
    detail: str = ""
    url: str | None = None
    link_text: str = ""
    state: str = "done"
    link_first: bool = False  # the link names the thing ("upload session #4 of ...")
    # The log's action this step stands for; a step read from the record's current
    # state is shown only when the log has no event of that action (rows written
    # before the log, or by bulk imports). "" for a state that is not an event.
    action: str = ""


def timeline_url(row: dict) -> str:
    """The timeline of a status page row (or of any record given its channel database,
    kind and GUID)."""
    return reverse(
        "admin:customers_sync_timeline",
        args=[row["channel_database"], row["kind"], row["async_id"]],
    )


def record_timeline(*, channel_database: str, kind: str, guid: uuid.UUID) -> dict:
    """What the timeline page shows: the channel row (None when unknown or its database
    unreachable), the staged row, and the events in the order the record lives them."""
    if kind not in CHANNEL_MODELS:
        raise Http404("Unknown kind of record.")
    alias = (
        ChannelDatabase.objects.filter(name=channel_database)
        .values_list("alias", flat=True)
        .first()
    ) or channel_database
    model, guid_field = CHANNEL_MODELS[kind]
    row, unreachable = None, None
    try:
        with channel_database_errors(alias, name=channel_database):
            row = model.objects.using(alias).filter(**{guid_field: guid}).first()
    except ChannelDatabaseUnreachable as error:
        unreachable = error
    staged_model, staged_guid = STAGED_MODELS[kind]
    staged = (
        staged_model.objects.filter(channel_database=channel_database, **{staged_guid: guid})
        .select_related("upload_session", "fixed_by")
        .first()
    )
    if row is None and staged is None and unreachable is None:
        raise Http404("No such record in this channel database or in HQ staging.")
    derived = [
        *_store_events(kind=kind, row=row, staged=staged),
        *_hq_events(kind=kind, staged=staged),
    ]
    customer = _hq_customer(kind=kind, row=row, staged=staged)
    derived += _distribution_events(
        kind=kind, row=row, customer=customer, channel_database=channel_database
    )
    log, _ = record_events(
        channel_database=channel_database,
        kind=kind,
        guid=guid,
        account=customer.account if customer else "",
    )
    store = row.store_number if row else staged.store_number
    events = _timeline(
        log=[event_line(event, store=store) for event in log],
        derived=derived,
        transactions=_transaction_events(kind=kind, guid=guid),
        staged=staged,
    )
    return {
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "guid": guid,
        "channel_database": channel_database,
        "row": row,
        "staged": staged,
        "staged_url": reverse(STAGED_CHANGE_URL[kind], args=[staged.pk]) if staged else None,
        "customer": customer,
        "customer_url": reverse("admin:customers_customer_change", args=[customer.pk])
        if customer
        else None,
        "name": _name(kind=kind, row=row, staged=staged),
        "store": (row.store_number if row else staged.store_number),
        "events": events,
        "unreachable": unreachable,
    }


def _timeline(
    *, log: list[Event], derived: list[Event], transactions: list[Event], staged
) -> list[Event]:
    """The log's steps, the steps read from the record's state that the log does not
    hold (an action it has no event of; a waiting state), and the record's sales
    transactions as they stand: oldest first, what is still to come last."""
    logged = {event.action for event in log}
    kept = [event for event in derived if not event.action or event.action not in logged]
    if "fixed" in logged and staged is not None and staged.fixed_not_sent:
        kept.append(Event(None, "Not sent again yet", "synchronize it again", state="waiting"))
    dated = sorted([*log, *(e for e in kept if e.at), *transactions], key=lambda event: event.at)
    return [*dated, *(event for event in kept if not event.at)]


def _changes_text(changes) -> str:
    return "; ".join(f"{label}: {old} → {new}" for label, old, new in changes)


def event_line(event: EventFields, *, store: str = "") -> Event:
    """One event of the log as a step of a timeline: a title with who and what, the
    detail, and a link to the session or record it names."""
    action, who, detail = event.action, event.actor or "someone", event.detail
    title, url, link_text, state, link_first = event.get_action_display(), None, "", "done", False
    if action == EventAction.CREATED:
        said = detail.split(",")[0] if detail.startswith("at store ") else "at the store"
        title, detail = f"Created at store {store}" if store else f"Created {said}", ""
    elif action == EventAction.EDITED:
        title = f"Edited at HQ by {who}" if event._state.db == HQ else f"Edited at store {store}"
    elif action == EventAction.UPLOADED:
        title, link_first = "Uploaded to HQ staging", event.session is not None
        detail = f"of channel database {event.channel_database}"
        if event.session is not None:
            url = reverse("admin:jobs_uploadsession_change", args=[event.session])
            link_text = f"upload session #{event.session}"
    elif action == EventAction.FAILED:
        title, detail, state = "Failed at HQ", operator_text(detail), "failed"
    elif action == EventAction.HELD:
        title, detail, state = (
            "Held for review as a possible duplicate",
            operator_text(detail),
            "waiting",
        )
    elif action == EventAction.FIXED:
        title, detail = f"Fixed by {who}", _changes_text(event.changes)
    elif action == EventAction.RETRIED:
        title = f"Synchronized again by {who}" if event.actor else "Synchronized again"
    elif action == EventAction.REVIEWED:
        title = f"Reviewed by {who}"
    elif action == EventAction.CREATED_AT_HQ:
        if event.kind == EventKind.ACCOUNT:
            title = f"Created at HQ as account {event.account}"
        else:
            title, detail = f"Created at HQ {detail}", ""
    elif action == EventAction.APPLIED:
        title = "Applied at HQ"
    elif action == EventAction.DISTRIBUTED:
        title = f"Distributed to channel database {event.channel_database}"
        detail = f"carried version {event.version} of account {event.account}"
        if event.session is not None:
            url = reverse("admin:jobs_downloadsession_change", args=[event.session])
            link_text, link_first = f"download session #{event.session}", True
    elif action == EventAction.LINKED:
        title, detail = f"Linked at the store {detail}", ""
    elif action in (EventAction.POSTED, EventAction.POSTING_FAILED):
        noun = "Statement" if event.kind == EventKind.STATEMENT else "Sales transaction"
        title = f"{noun} posted" if action == EventAction.POSTED else f"{noun} not posted"
        state = "done" if action == EventAction.POSTED else "failed"
        detail = operator_text(detail)
    elif action in (EventAction.MERGED, EventAction.ERASED):
        title = f"{event.get_action_display()} by {who}"
    return Event(
        event.at,
        title,
        detail,
        url,
        link_text,
        state=state,
        link_first=link_first,
        action=action,
    )


def _name(*, kind: str, row, staged) -> str:
    record = row or staged
    if kind == "customer":
        return record.name or "(no name)"
    if kind == "address":
        return f"{record.street}, {record.city}"
    target = record.target_account or record.target_async_customer_id
    return f"edit of customer {target}"


def _store_events(*, kind: str, row, staged) -> list[Event]:
    store = row.store_number if row else staged.store_number
    if kind == "edit":
        at = row.edited_at if row else staged.edited_at
        changed = sorted((row or staged).changes.get("fields", {}))
        detail = f"changed: {', '.join(changed)}" if changed else ""
        events = [Event(at, f"Edited at store {store}", detail, action="edited")]
    else:
        at = row.created_at if row else staged.created_at_store
        events = [Event(at, f"Created at store {store}", action="created")]
    session = staged.upload_session if staged else None
    if staged is not None:
        events.append(
            Event(
                (row.uploaded_at if row and row.uploaded_at else staged.staged_at),
                "Uploaded to HQ staging",
                f"of channel database {session.channel_database}" if session else "",
                reverse("admin:jobs_uploadsession_change", args=[session.pk]) if session else None,
                f"upload session #{session.pk}" if session else "",
                link_first=True,
                action="uploaded",
            )
        )
    elif row is not None and row.upload_session_id is None:
        events.append(
            Event(None, "Not uploaded yet", "waits for the next upload (P-0001)", state="waiting")
        )
    return events


def _hq_events(*, kind: str, staged) -> list[Event]:
    if staged is None:
        return []
    events = []
    if staged.fixed_at and (staged.processed_at is None or staged.fixed_at <= staged.processed_at):
        # A fix HQ has processed since: it comes before the outcome it led to.
        events.append(_fixed(staged))
    if staged.status == StagingStatus.COMPLETED:
        events.append(_completed(kind=kind, staged=staged))
    elif staged.status == StagingStatus.FAILED:
        events.append(
            Event(
                staged.processed_at,
                "Failed at HQ",
                staged.last_error,
                reverse(STAGED_CHANGE_URL[kind], args=[staged.pk]),
                "fix it",
                state="failed",
                action="failed",
            )
        )
    elif staged.status == StagingStatus.NEEDS_REVIEW:
        events.append(
            Event(
                staged.processed_at,
                "Held for review as a possible duplicate",
                staged.last_error,
                reverse("admin:customers_stagedasynccustomer_review", args=[staged.pk]),
                "review",
                state="waiting",
                action="held",
            )
        )
    else:
        events.append(Event(None, "Waiting for account creation at HQ", "", state="waiting"))
    if staged.fixed_not_sent:
        events.append(_fixed(staged))
    return events


def _fixed(staged) -> Event:
    who = staged.fixed_by.get_username() if staged.fixed_by else "someone"
    detail = "not sent again yet: synchronize it again" if staged.fixed_not_sent else ""
    return Event(
        staged.fixed_at,
        f"Fixed by {who}",
        detail,
        state="waiting" if detail else "done",
        action="fixed",
    )


def _completed(*, kind: str, staged) -> Event:
    if kind == "customer":
        decision = getattr(staged, "review_decision", "")
        detail = ""
        if decision:
            detail = (
                f"{staged.get_review_decision_display().lower()} by "
                f"{staged.reviewer or 'someone'} at {staged.reviewed_at:%Y-%m-%d %H:%M:%S}"
                if staged.reviewed_at
                else staged.get_review_decision_display()
            )
        return Event(
            staged.processed_at,
            f"Created at HQ as account {staged.account}",
            detail,
            action="created_at_hq",
        )
    if kind == "address":
        return Event(
            staged.processed_at,
            f"Created at HQ as address {staged.location_id} of account {staged.customer_account}",
            action="created_at_hq",
        )
    if staged.applied_to_staged:
        return Event(
            staged.processed_at,
            "Applied at HQ to the staged customer before creation",
            action="applied",
        )
    skipped = ", ".join(str(s) for s in staged.skipped) if staged.skipped else ""
    return Event(
        staged.processed_at,
        f"Applied at HQ to account {staged.account} (version {staged.applied_version})",
        f"kept the HQ value of: {skipped}" if skipped else "",
        action="applied",
    )


def _hq_customer(*, kind: str, row, staged) -> Customer | None:
    if kind == "customer":
        guid = (row or staged).async_customer_id
        account = (row.account if row else "") or (staged.account if staged else "")
        found = Customer.objects.filter(async_customer_id=guid).first()
        if found is None and account:
            found = Customer.objects.filter(account=account).first()
        return found
    if kind == "address":
        account = (row or staged).customer_account
    else:
        account = (staged.account if staged else "") or (row or staged).target_account
    return Customer.objects.filter(account=account).first() if account else None


def _distribution_events(
    *, kind: str, row, customer: Customer | None, channel_database: str
) -> list[Event]:
    events = []
    if customer is not None:
        sent = (
            customer.distributions.filter(channel_database=channel_database)
            .select_related("download_session")
            .first()
        )
        if sent is not None:
            session = sent.download_session
            events.append(
                Event(
                    session.created_at if session else None,
                    f"Distributed to channel database {channel_database}",
                    f"carried version {sent.version} of account {customer.account}",
                    reverse("admin:jobs_downloadsession_change", args=[session.pk])
                    if session
                    else None,
                    f"download session #{session.pk}" if session else "",
                    link_first=True,
                    action="distributed",
                )
            )
    if kind == "edit" and row is not None and customer is not None:
        with_version = (
            ChannelCustomer.objects.using(row._state.db)
            .filter(account=customer.account)
            .values_list("hq_version", flat=True)
            .first()
        )
        if with_version:
            events.append(
                Event(None, f"The store holds version {with_version} of account {customer.account}")
            )
    elif row is not None and kind != "edit":
        linked = row.account if kind == "customer" else row.location_id
        if linked:
            what = f"account {linked}" if kind == "customer" else f"address {linked}"
            events.append(
                Event(row.synchronized_at, f"Linked at the store to {what}", action="linked")
            )
        else:
            events.append(Event(None, "Not linked at the store yet", state="waiting"))
    return events


def _transaction_events(*, kind: str, guid: uuid.UUID) -> list[Event]:
    if kind != "customer":
        return []
    events = []
    for transaction in (
        SalesTransaction.objects.filter(async_customer_id=guid)
        .select_related("store", "statement")
        .order_by("uploaded_at", "transaction_id")
    ):
        statement = transaction.statement
        detail = f"{transaction.get_status_display().lower()}"
        if transaction.last_error:
            detail += f": {transaction.last_error}"
        if statement is not None:
            detail += (
                f"; statement of {statement.business_date:%Y-%m-%d} "
                f"({statement.get_status_display().lower()})"
            )
        events.append(
            Event(
                transaction.uploaded_at,
                f"{transaction.get_type_display()} {transaction.transaction_id} at store "
                f"{transaction.store.number} for {transaction.business_date:%Y-%m-%d}",
                f"status: {detail}",
                reverse("admin:commerce_salestransaction_change", args=[transaction.pk]),
                "open the transaction",
                state="failed" if transaction.status.endswith("_failed") else "done",
            )
        )
    return events


def timeline_view(request, *, admin_site, opts, channel_database, kind, guid):
    context = {
        **admin_site.each_context(request),
        **record_timeline(channel_database=channel_database, kind=kind, guid=guid),
        "opts": opts,
    }
    context["title"] = f"Timeline of {context['kind_label']} {context['name']}"
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/customers/timeline.html", context)
