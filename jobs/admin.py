"""Admin for job runs (R10) and the sessions that move data between HQ and the channel
databases. Everything here is written by the jobs, so every page is read-only.

The job runs list and a run's page refresh themselves every few seconds while a run
they show is queued or running (``templates/admin/jobs/jobrun/``). The actions that
request jobs live on the pages of what they act on (channel databases, stores,
transactions, staged customers); see ``jobs.admin_actions``.
"""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from commerce.admin_channel import ChannelModelAdmin
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadSession,
    JobRun,
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
        if isinstance(value, dict):
            parts.append(f"{key}: {counts_text(value)}")
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts) or "-"


def _changelist_link(model, label: str, **filters):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "job_label",
        "scope_text",
        "status_badge",
        "progress",
        "requested",
        "timing",
    ]
    list_display_links = ["id", "job_label"]
    # Counters go under the progress bar, started/finished/duration under the creation
    # time, so the list fits beside the filters.
    list_filter = ["job", "status", "requested_via"]
    search_fields = ["scope", "message"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["job", "scope", "status_badge", "message_text"]}),
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
        "scope",
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
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration",
        "worker",
        "task_id",
    ]

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
    def scope_text(self, obj):
        # Lets "channel_database=HOUSTON" wrap after "=" and "," in a narrow column.
        parts = obj.scope.replace(",", ",\0").replace("=", "=\0").split("\0")
        return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in parts))

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
        return format_html_join(
            "",
            '<div style="white-space:pre-wrap;font-family:monospace;padding:3px 0;'
            'border-bottom:1px solid var(--hairline-color, #e8e8e8)">{}</div>',
            ((str(error),) for error in obj.errors),
        )

    @admin.display(description="parameters")
    def parameters_text(self, obj):
        shown = {}
        for key, value in (obj.parameters or {}).items():
            if isinstance(value, list) and len(value) > PARAMETER_LIST_SHOWN:
                value = [*value[:PARAMETER_LIST_SHOWN], f"… {len(value)} in all"]
            shown[key] = value
        return format_html(
            '<pre style="margin:0">{}</pre>', json.dumps(shown, indent=2, ensure_ascii=False)
        )

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
        "created_at",
        "applied_at",
        "acknowledged_at",
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
