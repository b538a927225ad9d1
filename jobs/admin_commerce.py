"""The job actions of the commerce pages (README "Admin"), registered from jobs so that
commerce imports nothing of the jobs that move its data.

Each admin here is commerce's own with the actions that request jobs, the permissions
they need (``JobPermissionsMixin``) and what the jobs know of the record: when upload
and distribution last checked a channel database, "Post again" on a statement. It is
registered in place of commerce's, once both apps' admin modules are loaded.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from commerce import admin as commerce_admin
from commerce.admin_urls import admin_view_paths
from commerce.models import ChannelDatabase, SalesTransaction, Statement, StatementStatus, Store
from jobs.admin.shared import moment_text
from jobs.admin_actions import (
    JobPermissionsMixin,
    post_again,
    post_statement,
    run_conversion,
    run_distribution,
    run_upload,
    statements_post_again,
    synchronize_order,
)
from jobs.models import Job, JobScopeCheck


class ChannelDatabaseAdmin(JobPermissionsMixin, commerce_admin.ChannelDatabaseAdmin):
    list_display = [*commerce_admin.ChannelDatabaseAdmin.list_display, "last_checked"]
    actions = [run_upload, run_distribution, run_conversion]

    def get_queryset(self, request):
        # When the upload and the distribution last checked this channel database, work
        # found or not (JobScopeCheck; Freshness keeps no row for a run that found none).
        scope = Concat(Value("channel_database="), OuterRef("name"), output_field=CharField())
        checks = JobScopeCheck.objects.filter(scope=scope)
        return (
            super()
            .get_queryset(request)
            .annotate(
                upload_checked_at=Subquery(checks.filter(job=Job.UPLOAD).values("checked_at")[:1]),
                distribute_checked_at=Subquery(
                    checks.filter(job=Job.DISTRIBUTE).values("checked_at")[:1]
                ),
            )
        )

    @admin.display(description="last checked")
    def last_checked(self, obj):
        """When upload and distribution last looked at this channel database."""
        moments = [
            (label, moment)
            for label, moment in (
                ("upload", obj.upload_checked_at),
                ("distribution", obj.distribute_checked_at),
            )
            if moment
        ]
        if not moments:
            return "-"
        return format_html(
            '<a href="{}?q={}">{}</a>',
            reverse("admin:jobs_jobscopecheck_changelist"),
            obj.name,
            format_html_join(
                " · ",
                '{}&nbsp;<span style="white-space:nowrap">{}</span>',
                ((label, moment_text(moment)) for label, moment in moments),
            ),
        )


class StoreAdmin(JobPermissionsMixin, commerce_admin.StoreAdmin):
    actions = [post_statement]


class SalesTransactionAdmin(JobPermissionsMixin, commerce_admin.SalesTransactionAdmin):
    actions = [synchronize_order]


class StatementAdmin(JobPermissionsMixin, commerce_admin.StatementAdmin):
    actions = [post_again]

    # --- Post again (R9) ---

    def get_urls(self):
        return [
            *admin_view_paths(
                self,
                (
                    "<path:object_id>/post-again/",
                    self.post_again_view,
                    "commerce_statement_post_again",
                ),
            ),
            *super().get_urls(),
        ]

    def post_again_view(self, request, object_id):
        """The "Post again" button of a statement's page (POST): queue post-statements for
        its store and business date, then back to the page with what was queued."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_run_post_statements_permission(request):
            raise PermissionDenied
        statement = get_object_or_404(self.get_queryset(request), pk=object_id)
        statements_post_again(self, request, [statement])
        url = reverse("admin:commerce_statement_change", args=[statement.pk])
        # Back to the page as it was opened (with the list filters it preserves).
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{url}?{query}" if query else url)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_post_again"] = (
            obj is not None
            and obj.status != StatementStatus.POSTED
            and self.has_run_post_statements_permission(request)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


for model, model_admin in [
    (ChannelDatabase, ChannelDatabaseAdmin),
    (Store, StoreAdmin),
    (SalesTransaction, SalesTransactionAdmin),
    (Statement, StatementAdmin),
]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
