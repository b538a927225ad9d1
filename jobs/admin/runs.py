"""The job runs list and a run's page (R10): status in colour, scope and parameters in
words (a selection names its records), the GUIDs in its errors by the name of their staged
record, links to the sessions the run wrote, and a refresh every few seconds while a run
it shows is active.
"""

import re
import uuid

from django.contrib import admin
from django.db.models import OuterRef, Q, Subquery
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from commerce.admin import async_records_named
from commerce.admin_display import ChoicesFilter
from commerce.models import SalesTransaction
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagedChannelRequest
from jobs.admin.shared import JobLabelColumn, ReadOnlyAdmin, clock_text, moment_text
from jobs.admin_actions import SELECTION_NOUNS, scope_words
from jobs.models import DownloadSession, JobRun, JobScopeCheck, JobStatus, UploadSession

REFRESH_SECONDS = 3

STATUS_COLOURS = {
    JobStatus.QUEUED: "#5a6570",
    JobStatus.RUNNING: "#1f6fb2",
    JobStatus.SUCCEEDED: "#2b7a3d",
    JobStatus.COMPLETED_WITH_ERRORS: "#a35400",
    JobStatus.FAILED: "#b3261e",
}

# Lists in a run's parameters (ids picked in the admin) longer than this are cut.
PARAMETER_LIST_SHOWN = 20


def _duration_text(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}\u00a0s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}\u00a0h {minutes}\u00a0min"
    return f"{minutes}\u00a0min {seconds}\u00a0s" if minutes else f"{seconds}\u00a0s"


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


class OutcomeFilter(ChoicesFilter):
    """Failed runs and runs with failed records, which nothing-to-do runs no longer bury
    (they are not kept: Freshness)."""

    title = "outcome"
    parameter_name = "outcome"
    options = {
        "problems": (
            "Failures and errors",
            Q(status__in=[JobStatus.FAILED, JobStatus.COMPLETED_WITH_ERRORS]) | Q(failed__gt=0),
        ),
        "worked": ("Did work", Q(selected__gt=0)),
    }


def run_title(run: JobRun) -> str:
    """ "#11 Post statements for store S0002, business date 2026-11-24: Completed with
    errors" (the model's ``__str__`` keeps the scope key, for logs)."""
    scope = scope_words(job=run.job, scope=run.scope)
    return f"#{run.pk} {run.get_job_display()} for {scope}: {run.get_status_display()}"


@admin.register(JobRun)
class JobRunAdmin(JobLabelColumn, ReadOnlyAdmin):
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
            {
                "fields": [
                    "progress",
                    "selected",
                    "succeeded",
                    "failed",
                    "held",
                    "skipped",
                    "sessions",
                ]
            },
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
    # Every field the page shows, read-only (a run's page records; it changes nothing).
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

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
        return moment_text(getattr(obj, "last_checked_at", None))

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
        """Processed (succeeded + failed + held + skipped) of selected as a bar, then the
        counters; a record held for review (R12) is counted as held, not failed."""
        if not obj.selected:
            if obj.is_active:
                return "waiting to start" if obj.status == JobStatus.QUEUED else "selecting…"
            return "nothing to do" if obj.status == JobStatus.SUCCEEDED else "-"
        counters = format_html(
            '<div style="font-size:0.85em">{} succeeded · '
            '<span style="{}">{} failed</span>{} · {} skipped</div>',
            obj.succeeded,
            f"color:{STATUS_COLOURS[JobStatus.FAILED]};font-weight:bold" if obj.failed else "",
            obj.failed,
            format_html(" · {} held for review", obj.held) if obj.held else "",
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
            ran = (
                f"running since {clock_text(obj.started_at, created.date())} ({self.duration(obj)})"
            )
        else:
            started = clock_text(obj.started_at, created.date())
            finished = clock_text(obj.finished_at, created.date())
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
            (UploadSession, "upload session"),
            (DownloadSession, "download session"),
        ):
            count = model.objects.filter(job_run=obj).count()
            if count:
                text = f"{count} {label}{pluralize(count)}"
                links.append(_changelist_link(model, text, job_run__id__exact=obj.pk))
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
