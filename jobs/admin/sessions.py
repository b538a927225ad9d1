"""The pages of what the jobs write besides runs: upload and download sessions (with a
download's payload, cut), the distribution state of each customer, the download sessions
a channel database applied, when each job last checked each scope, and the demands
waiting for a run. All read only.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from commerce.admin import ViewOnlyMixin
from commerce.admin_channel import ChannelModelAdmin
from jobs.admin.shared import (
    JobLabelColumn,
    ReadOnlyAdmin,
    clock_text,
    counts_text,
    moment_text,
)
from jobs.admin_actions import scope_words
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadSession,
    JobDemand,
    JobScopeCheck,
    UploadSession,
)

# How much of a download session's payload its page shows.
PAYLOAD_CUSTOMERS_SHOWN = 50


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
            f"{label} {clock_text(moment, created.date())}"
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
        "payload_shared",
        "payload_summary",
    ]
    readonly_fields = fields

    # The payload (a row of its own) holds up to a batch of whole customers: only the
    # session's page reads it (``payload_summary``), never the list.

    @admin.display(description="customers")
    def customer_count(self, obj):
        return (obj.counts or {}).get("customers", "-")

    @admin.display(description="error", ordering="error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="payload sent to")
    def payload_shared(self, obj):
        """README "Distribution to many channel databases": the channel databases that
        received the same payload (built once)."""
        if not obj.payload_id:
            return "-"
        names = list(
            DownloadSession.objects.filter(payload_id=obj.payload_id)
            .order_by("channel_database")
            .values_list("channel_database", flat=True)
            .distinct()
        )
        return f"payload #{obj.payload_id}, built once and sent to {', '.join(names)}"

    @admin.display(description="payload")
    def payload_summary(self, obj):
        customers = obj.payload.value().get("customers", []) if obj.payload_id else []
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
class AppliedDownloadSessionAdmin(ViewOnlyMixin, ChannelModelAdmin):
    """The channel's record of the download sessions it applied (what makes applying
    idempotent), read from the channel database the list filter chooses."""

    list_display = ["session_id", "download_session_link", "applied_at", "counts_summary"]
    search_fields = ["=session_id"]
    fields = ["session_id", "download_session_link", "applied_at", "counts"]
    readonly_fields = fields

    @admin.display(description="HQ download session")
    def download_session_link(self, obj):
        url = reverse("admin:jobs_downloadsession_change", args=[obj.session_id])
        return format_html('<a href="{}">download session #{}</a>', url, obj.session_id)

    @admin.display(description="counts")
    def counts_summary(self, obj):
        return counts_text(obj.counts)


@admin.register(JobScopeCheck)
class JobScopeCheckAdmin(JobLabelColumn, ReadOnlyAdmin):
    """When each job last checked each scope, whether it found work or not: a scheduled
    or triggered run that found nothing is not kept as a job run (Freshness)."""

    list_display = [
        "job_label",
        "scope_label",
        "checked_at_text",
        "complete_from_text",
        "last_run_link",
    ]
    list_filter = ["job"]
    search_fields = ["scope"]
    list_select_related = ["last_run"]
    fields = ["job", "scope", "checked_at_text", "complete_from_text", "last_run_link"]
    readonly_fields = fields

    @admin.display(description="scope", ordering="scope")
    def scope_label(self, obj):
        return format_html(
            '<span title="{}">{}</span>', obj.scope, scope_words(job=obj.job, scope=obj.scope)
        )

    @admin.display(description="last checked", ordering="checked_at")
    def checked_at_text(self, obj):
        return moment_text(obj.checked_at)

    @admin.display(description="last looked at every customer", ordering="complete_from")
    def complete_from_text(self, obj):
        """Distribution: when the last run that looked at every customer began (a
        triggered one looks at those changed since; README "Freshness")."""
        return moment_text(obj.complete_from)

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
        return moment_text(obj.requested_at)
