"""Admin for job runs (R10) and the sessions that move data between HQ and the channel
databases. Everything here is written by the jobs, so every page is read-only.

Scopes and parameters are shown in words ("channel database HOUSTON", "3 selected
staged async customers", each named on the run's page) and the GUIDs in a run's errors
by the name of their staged record; the scope key stays under the words, as the
commands and the search know it.

The job runs list and a run's page refresh themselves every few seconds while a run
they show is queued or running (``templates/admin/jobs/jobrun/``). The actions that
request jobs live on the pages of what they act on (channel databases, stores,
transactions, staged customers); see ``jobs.admin_actions``; those of the commerce
pages are registered by ``jobs.admin_commerce``, imported here.
"""

import re
import uuid

from django.contrib import admin
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from commerce.admin import async_records_named
from commerce.admin_channel import ChannelModelAdmin
from commerce.models import SalesTransaction
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagedChannelRequest
from jobs import admin_commerce  # noqa: F401  (the job actions of the commerce pages)
from jobs.admin_actions import SELECTION_NOUNS, scope_words
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadSession,
    JobDemand,
    JobRun,
    JobScopeCheck,
    JobStatus,
    UploadSession,
)

REFRESH_SECONDS = 3

STATUS_COLOURS = {
    JobStatus.QUEUED: "#5a6570",
    JobStatus.RUNNING: "#1f6fb2",
    JobStatus.SUCCEEDED: "#2b7a3d",
    JobStatus.COMPLETED_WITH_ERRORS: "#a35400",
    JobStatus.FAILED: "#b3261e",
}

# How much of a download session's payload its page shows.
PAYLOAD_CUSTOMERS_SHOWN = 50
# Lists in a run's parameters (ids picked in the admin) longer than this are cut.
PARAMETER_LIST_SHOWN = 20


class ReadOnlyAdmin(admin.ModelAdmin):
    """The jobs write these rows; people look at them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _duration_text(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}\u00a0s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}\u00a0h {minutes}\u00a0min"
    return f"{minutes}\u00a0min {seconds}\u00a0s" if minutes else f"{seconds}\u00a0s"


def _clock(moment, day) -> str:
    """The time of ``moment``, with its date only when it is not ``day``."""
    local = timezone.localtime(moment)
    return local.strftime("%H:%M:%S" if local.date() == day else "%Y-%m-%d %H:%M:%S")


def counts_text(counts: dict) -> str:
    """``{"customers": 3, "applied": {"linked_customers": 3}}`` -> "customers 3, applied:
    linked_customers 3"."""
    parts = []
    for key, value in (counts or {}).items():
        words = key.replace("_", " ")
        if isinstance(value, dict):
            parts.append(f"{words}: {counts_text(value)}")
        else:
            parts.append(f"{words} {value}")
    return ", ".join(parts) or "-"


# A selection parameter -> the model its ids are, and how one is named.
SELECTED_RECORDS = {
    "staged_customer_ids": (StagedAsyncCustomer, lambda r: r.name or "(no name)"),
    "staged_address_ids": (StagedAsyncAddress, lambda r: f"{r.street}, {r.city}"),
    "staged_request_ids": (StagedChannelRequest, lambda r: str(r)),
    "transaction_ids": (SalesTransaction, lambda r: r.transaction_id),
}


def selection_text(key: str, ids: list):
    """ "3 selected staged async customers: Ayşe Yılmaz, …", each linking its page."""
    model, name = SELECTED_RECORDS[key]
    one, several = SELECTION_NOUNS[key]
    shown = model.objects.filter(pk__in=ids[:PARAMETER_LIST_SHOWN]).order_by("pk")
    opts = model._meta
    links = format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        (
            (reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[r.pk]), name(r))
            for r in shown
        ),
    )
    more = f" and {len(ids) - PARAMETER_LIST_SHOWN} more" if len(ids) > PARAMETER_LIST_SHOWN else ""
    noun = one if len(ids) == 1 else several
    return format_html("{} selected {}: {}{}", len(ids), noun, links, more)


# "async customer <GUID>" / "async address <GUID>" in the errors the jobs write.
ERROR_GUID = re.compile(r"async (?:customer|address) (?P<guid>[0-9a-fA-F-]{36})")


def error_with_names(error: str, names: dict[uuid.UUID, tuple[str, str]]):
    """The error with each GUID HQ has a staged record for shown by name, linked to the
    record (the GUID on hover)."""
    parts, end = [], 0
    for match in ERROR_GUID.finditer(error):
        guid = uuid.UUID(match["guid"])
        if guid not in names:
            continue
        name, url = names[guid]
        parts.append(conditional_escape(error[end : match.start("guid")]))
        parts.append(format_html('<a href="{}" title="{}">{}</a>', url, guid, name))
        end = match.end("guid")
    parts.append(conditional_escape(error[end:]))
    return mark_safe("".join(parts))


def _changelist_link(model, label: str, **filters):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


class OutcomeFilter(admin.SimpleListFilter):
    """Failed runs and runs with failed records, which nothing-to-do runs no longer bury
    (they are not kept: Freshness)."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("problems", "Failures and errors"), ("worked", "Did work")]

    def queryset(self, request, queryset):
        if self.value() == "problems":
            return queryset.filter(
                Q(status__in=[JobStatus.FAILED, JobStatus.COMPLETED_WITH_ERRORS]) | Q(failed__gt=0)
            )
        if self.value() == "worked":
            return queryset.filter(selected__gt=0)
        return queryset


def run_title(run: JobRun) -> str:
    """ "#11 Post statements for store S0002, business date 2026-11-24: Completed with
    errors" (the model's ``__str__`` keeps the scope key, for logs)."""
    scope = scope_words(job=run.job, scope=run.scope)
    return f"#{run.pk} {run.get_job_display()} for {scope}: {run.get_status_display()}"


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "job_label",
        "scope_label",
        "status_badge",
        "progress",
        "requested",
        "timing",
        "last_checked",
    ]
    list_display_links = ["id", "job_label"]
    # Counters go under the progress bar, started/finished/duration under the creation
    # time, so the list fits beside the filters.
    list_filter = [OutcomeFilter, "job", "status", "requested_via"]
    search_fields = ["scope", "message"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["job", "scope_text", "status_badge", "message_text"]}),
        (
            "Progress",
            {"fields": ["progress", "selected", "succeeded", "failed", "skipped", "sessions"]},
        ),
        ("Errors", {"fields": ["error_lines"]}),
        (
            "Request and execution",
            {
                "fields": [
                    "parameters_text",
                    "requested_by",
                    "requested_via",
                    "created_at",
                    "enqueued_at",
                    "started_at",
                    "heartbeat_at",
                    "finished_at",
                    "duration",
                    "worker",
                    "task_id",
                ]
            },
        ),
    ]
    readonly_fields = [
        "job",
        "scope_text",
        "status_badge",
        "message_text",
        "progress",
        "selected",
        "succeeded",
        "failed",
        "skipped",
        "sessions",
        "error_lines",
        "parameters_text",
        "requested_by",
        "requested_via",
        "created_at",
        "enqueued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration",
        "worker",
        "task_id",
    ]

    def get_queryset(self, request):
        # When the run's job last checked its scope (JobScopeCheck): one indexed subquery
        # per page row, so the page stays flat in the number of runs.
        checks = JobScopeCheck.objects.filter(job=OuterRef("job"), scope=OuterRef("scope"))
        return (
            super()
            .get_queryset(request)
            .annotate(last_checked_at=Subquery(checks.values("checked_at")[:1]))
        )

    @admin.display(description="last checked", ordering="last_checked_at")
    def last_checked(self, obj):
        """When this job last looked at this scope, runs that found nothing included."""
        checked = getattr(obj, "last_checked_at", None)
        return timezone.localtime(checked).strftime("%Y-%m-%d %H:%M:%S") if checked else "-"

    @admin.display(description="job", ordering="job")
    def job_label(self, obj):
        return obj.get_job_display()

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="job-status" style="background:{};color:#fff;padding:1px 7px;'
            'border-radius:9px;white-space:nowrap">{}</span>',
            STATUS_COLOURS.get(obj.status, "#5a6570"),
            obj.get_status_display(),
        )

    @admin.display(description="progress")
    def progress(self, obj):
        """Processed (succeeded + failed + skipped) of selected as a bar, then the counters."""
        if not obj.selected:
            if obj.is_active:
                return "waiting to start" if obj.status == JobStatus.QUEUED else "selecting…"
            return "nothing to do" if obj.status == JobStatus.SUCCEEDED else "-"
        counters = format_html(
            '<div style="font-size:0.85em">{} succeeded · '
            '<span style="{}">{} failed</span> · {} skipped</div>',
            obj.succeeded,
            f"color:{STATUS_COLOURS[JobStatus.FAILED]};font-weight:bold" if obj.failed else "",
            obj.failed,
            obj.skipped,
        )
        processed = obj.processed
        percent = min(100, round(100 * processed / obj.selected))
        colour = STATUS_COLOURS[
            JobStatus.COMPLETED_WITH_ERRORS if obj.failed else JobStatus.SUCCEEDED
        ]
        return format_html(
            '<div title="{} of {} selected processed" style="display:flex;align-items:center;'
            'gap:6px;white-space:nowrap"><span style="display:inline-block;width:80px;height:8px;'
            'background:#dde1e5;border-radius:4px;overflow:hidden"><span style="display:block;'
            'width:{}%;height:8px;background:{}"></span></span><span>{} / {}</span></div>{}',
            processed,
            obj.selected,
            percent,
            colour,
            processed,
            obj.selected,
            counters,
        )

    @admin.display(description="scope", ordering="scope")
    def scope_label(self, obj):
        return format_html(
            '<span title="{}">{}</span>', obj.scope, scope_words(job=obj.job, scope=obj.scope)
        )

    @admin.display(description="scope")
    def scope_text(self, obj):
        """In words ("channel database HOUSTON"), the key the commands and the search
        use under it."""
        return format_html(
            '{}<div class="scope-key" style="font-size:0.8em;color:var(--body-quiet-color)">'
            "{}</div>",
            scope_words(job=obj.job, scope=obj.scope),
            obj.scope,
        )

    @admin.display(description="requested", ordering="requested_by__username")
    def requested(self, obj):
        if obj.requested_by is None:
            return f"via {obj.requested_via}"
        return format_html("{}<br>via {}", obj.requested_by, obj.requested_via)

    @admin.display(description="created / ran", ordering="created_at")
    def timing(self, obj):
        """Created at; then started – finished (duration), or how long it has run."""
        created = timezone.localtime(obj.created_at)
        if obj.started_at is None:
            ran = "not started"
        elif obj.finished_at is None:
            ran = f"running since {_clock(obj.started_at, created.date())} ({self.duration(obj)})"
        else:
            started = _clock(obj.started_at, created.date())
            finished = _clock(obj.finished_at, created.date())
            ran = f"{started} – {finished} ({self.duration(obj)})"
        return format_html(
            '<div style="white-space:nowrap">{}</div><div style="font-size:0.85em">{}</div>',
            created.strftime("%Y-%m-%d %H:%M:%S"),
            ran,
        )

    @admin.display(description="duration")
    def duration(self, obj):
        if obj.started_at is None:
            return "-"
        end = obj.finished_at or timezone.now()
        return _duration_text((end - obj.started_at).total_seconds())

    @admin.display(description="message")
    def message_text(self, obj):
        if not obj.message:
            return "-"
        return format_html('<div style="white-space:pre-wrap">{}</div>', obj.message)

    @admin.display(description="errors")
    def error_lines(self, obj):
        """One error per line (a failed run's last one is a short traceback)."""
        if not obj.errors:
            return "-"
        errors = [str(error) for error in obj.errors]
        guids = set()
        for error in errors:
            for match in ERROR_GUID.finditer(error):
                guids.add(uuid.UUID(match["guid"]))
        names = async_records_named(guids)
        return format_html_join(
            "",
            '<div style="white-space:pre-wrap;font-family:monospace;padding:3px 0;'
            'border-bottom:1px solid var(--hairline-color, #e8e8e8)">{}</div>',
            ((error_with_names(error, names),) for error in errors),
        )

    @admin.display(description="parameters")
    def parameters_text(self, obj):
        """The run's parameters in words; the records a selection holds by name, linked."""
        plain, lines = [], []
        for key, value in sorted((obj.parameters or {}).items()):
            if key in SELECTED_RECORDS and isinstance(value, list):
                lines.append(selection_text(key, value))
            elif key not in SELECTION_NOUNS:
                plain.append(f"{key}={value}")
        if plain or not lines:
            lines.insert(0, scope_words(job=obj.job, scope=",".join(plain) or "all"))
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @admin.display(description="sessions")
    def sessions(self, obj):
        links = []
        for model, label in (
            (UploadSession, "upload sessions"),
            (DownloadSession, "download sessions"),
        ):
            count = model.objects.filter(job_run=obj).count()
            if count:
                links.append(_changelist_link(model, f"{count} {label}", job_run__id__exact=obj.pk))
        return format_html_join(" | ", "{}", ((link,) for link in links)) or "-"

    # --- Refreshing while a shown run is active ---

    def changelist_view(self, request, extra_context=None):
        # A wide monitoring table: it gets the room of the navigation sidebar.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # result_list is the page's queryset: evaluated here once, reused by the template.
            context["refresh_seconds"] = (
                REFRESH_SECONDS if any(run.is_active for run in context["cl"].result_list) else 0
            )
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["refresh_seconds"] = REFRESH_SECONDS if obj is not None and obj.is_active else 0
        if obj is not None:
            context["run_title"] = run_title(obj)
            context["subtitle"] = context["run_title"]
        return super().render_change_form(request, context, add, change, form_url, obj)


class SessionAdmin(ReadOnlyAdmin):
    list_filter = ["status", "channel_database"]
    search_fields = ["channel_database", "=job_run__id"]
    date_hierarchy = "created_at"

    @admin.display(description="job run", ordering="job_run_id")
    def job_run_link(self, obj):
        if obj.job_run_id is None:
            return "-"
        return format_html(
            '<a href="{}">job run #{}</a>',
            reverse("admin:jobs_jobrun_change", args=[obj.job_run_id]),
            obj.job_run_id,
        )

    @admin.display(description="checksum")
    def short_checksum(self, obj):
        return format_html('<span title="{}">{}…</span>', obj.checksum, obj.checksum[:12])

    @admin.display(description="counts")
    def counts_summary(self, obj):
        return counts_text(obj.counts)


@admin.register(UploadSession)
class UploadSessionAdmin(SessionAdmin):
    list_display = [
        "id",
        "channel_database",
        "kind",
        "status",
        "counts_summary",
        "job_run_link",
        "timing",
    ]
    fields = [
        "channel_database",
        "status",
        "counts",
        "job_run_link",
        "created_at",
        "applied_at",
        "acknowledged_at",
    ]
    readonly_fields = fields

    @admin.display(description="kind")
    def kind(self, obj):
        return (obj.counts or {}).get("kind", "-")

    @admin.display(description="created / applied / acknowledged", ordering="created_at")
    def timing(self, obj):
        """Created at; then when HQ applied it and the channel acknowledged it."""
        created = timezone.localtime(obj.created_at)
        steps = [
            f"{label} {_clock(moment, created.date())}"
            for label, moment in (
                ("applied", obj.applied_at),
                ("acknowledged", obj.acknowledged_at),
            )
            if moment
        ]
        return format_html(
            '<div style="white-space:nowrap">{}</div><div style="font-size:0.85em">{}</div>',
            created.strftime("%Y-%m-%d %H:%M:%S"),
            ", ".join(steps) or "not applied",
        )

    @admin.display(description="counts")
    def counts_summary(self, obj):
        return counts_text({k: v for k, v in (obj.counts or {}).items() if k != "kind"})


@admin.register(DownloadSession)
class DownloadSessionAdmin(SessionAdmin):
    search_fields = ["channel_database", "checksum", "=job_run__id"]
    list_display = [
        "id",
        "channel_database",
        "status",
        "customer_count",
        "counts_summary",
        "short_checksum",
        "job_run_link",
        "short_error",
        "created_at",
        "applied_at",
    ]
    fields = [
        "channel_database",
        "status",
        "counts",
        "checksum",
        "job_run_link",
        "error",
        "created_at",
        "applied_at",
        "payload_summary",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The payload holds up to a batch of whole customers: the list never reads it.
        return super().get_queryset(request).defer("payload")

    @admin.display(description="customers")
    def customer_count(self, obj):
        return (obj.counts or {}).get("customers", "-")

    @admin.display(description="error", ordering="error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="payload")
    def payload_summary(self, obj):
        customers = (obj.payload or {}).get("customers", [])
        rows = [
            (
                customer.get("account", ""),
                customer.get("name", ""),
                customer.get("legal_entity", ""),
                customer.get("version", ""),
                len(customer.get("addresses", [])),
                customer.get("async_customer_id") or "-",
            )
            for customer in customers[:PAYLOAD_CUSTOMERS_SHOWN]
        ]
        if not rows:
            return "-"
        more = len(customers) - len(rows)
        return format_html(
            "<table><thead><tr><th>account</th><th>name</th><th>legal entity</th>"
            "<th>version</th><th>addresses</th><th>async customer id</th></tr></thead>"
            "<tbody>{}</tbody></table>{}",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                rows,
            ),
            format_html("<p>… and {} more customers.</p>", more) if more > 0 else "",
        )


@admin.register(CustomerDistribution)
class CustomerDistributionAdmin(ReadOnlyAdmin):
    list_display = ["customer", "channel_database", "version", "download_session_link"]
    list_filter = ["channel_database"]
    search_fields = ["customer__account", "channel_database"]
    list_select_related = ["customer"]
    fields = ["customer", "channel_database", "version", "download_session_link"]
    readonly_fields = fields

    @admin.display(description="download session", ordering="download_session_id")
    def download_session_link(self, obj):
        if obj.download_session_id is None:
            return "-"
        url = reverse("admin:jobs_downloadsession_change", args=[obj.download_session_id])
        return format_html('<a href="{}">#{}</a>', url, obj.download_session_id)


@admin.register(AppliedDownloadSession)
class AppliedDownloadSessionAdmin(ChannelModelAdmin):
    """The channel's record of the download sessions it applied (what makes applying
    idempotent), read from the channel database the list filter chooses."""

    list_display = ["session_id", "download_session_link", "applied_at", "counts_summary"]
    search_fields = ["=session_id"]
    fields = ["session_id", "download_session_link", "applied_at", "counts"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="HQ download session")
    def download_session_link(self, obj):
        url = reverse("admin:jobs_downloadsession_change", args=[obj.session_id])
        return format_html('<a href="{}">download session #{}</a>', url, obj.session_id)

    @admin.display(description="counts")
    def counts_summary(self, obj):
        return counts_text(obj.counts)


@admin.register(JobScopeCheck)
class JobScopeCheckAdmin(ReadOnlyAdmin):
    """When each job last checked each scope, whether it found work or not: a scheduled
    or triggered run that found nothing is not kept as a job run (Freshness)."""

    list_display = ["job_label", "scope_label", "checked_at_text", "last_run_link"]
    list_filter = ["job"]
    search_fields = ["scope"]
    list_select_related = ["last_run"]
    fields = ["job", "scope", "checked_at_text", "last_run_link"]
    readonly_fields = fields

    @admin.display(description="job", ordering="job")
    def job_label(self, obj):
        return obj.get_job_display()

    @admin.display(description="scope", ordering="scope")
    def scope_label(self, obj):
        return format_html(
            '<span title="{}">{}</span>', obj.scope, scope_words(job=obj.job, scope=obj.scope)
        )

    @admin.display(description="last checked", ordering="checked_at")
    def checked_at_text(self, obj):
        return timezone.localtime(obj.checked_at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="last run that did work or failed", ordering="last_run_id")
    def last_run_link(self, obj):
        if obj.last_run is None:
            return "-"
        return format_html(
            '<a href="{}">job run #{}</a> {}',
            reverse("admin:jobs_jobrun_change", args=[obj.last_run_id]),
            obj.last_run_id,
            obj.last_run.get_status_display(),
        )


@admin.register(JobDemand)
class JobDemandAdmin(ReadOnlyAdmin):
    """What stores asked for that no run has started to cover yet (Freshness): a row
    lives from a store's write until the chain that converts it starts."""

    list_display = ["job_label", "channel_database", "requested_at_text"]
    list_filter = ["job"]
    search_fields = ["channel_database"]
    fields = ["job", "channel_database", "requested_at_text"]
    readonly_fields = fields

    @admin.display(description="owed", ordering="job")
    def job_label(self, obj):
        return "Conversion (upload first)" if obj.job == "upload" else obj.get_job_display()

    @admin.display(description="asked at", ordering="requested_at")
    def requested_at_text(self, obj):
        return timezone.localtime(obj.requested_at).strftime("%Y-%m-%d %H:%M:%S")
