"""Admin for channel requests (R11): the store's changes as recorded in its channel
database, and as staged at HQ, where a request HQ rejected (R5) is fixed and
synchronized again like any staged record."""

from django.contrib import admin
from django.utils.html import format_html_join

from commerce.admin_channel import ChannelModelAdmin, UploadedFilter
from customers.admin.staging import STAGING_READONLY, StagingAdmin, shortened
from customers.models import ChannelRequest, StagedChannelRequest
from customers.request_changes_text import changes_text
from customers.request_fix_form import StagedChannelRequestFixForm


@admin.register(ChannelRequest)
class ChannelRequestAdmin(ChannelModelAdmin):
    """What the store changed, in its channel database: a record of the store's own
    edit, so it is read here, never changed."""

    list_display = [
        "request_id",
        "store_number",
        "target",
        "edited_at",
        "changes_summary",
        "uploaded",
    ]
    list_filter = [UploadedFilter, "store_number"]
    search_fields = ["=request_id", "=target_account", "=target_async_customer_id"]
    date_hierarchy = "edited_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="changes")
    def changes_summary(self, obj):
        return shortened(changes_text(obj.changes), 120)

    @admin.display(boolean=True, description="uploaded", ordering="upload_session_id")
    def uploaded(self, obj):
        return obj.upload_session_id is not None


@admin.register(StagedChannelRequest)
class StagedChannelRequestAdmin(StagingAdmin):
    form = StagedChannelRequestFixForm
    staged_ids_parameter = "request_ids"
    status_kind = "edit"
    list_display = [
        "request_id",
        "store_number",
        "target",
        "edited_at",
        "status_text",
        "account",
        "changes_summary",
        "short_error",
    ]
    search_fields = ["=request_id", "=target_account", "=target_async_customer_id", "account"]
    readonly_fields = [
        "request_id",
        "target",
        "edited_at",
        "changes_summary",
        "account",
        "applied_version",
        "applied_to_staged",
        "skipped_list",
        *STAGING_READONLY,
    ]

    @admin.display(description="customer")
    def target(self, obj):
        return obj.target_account or obj.target_async_customer_id

    @admin.display(description="changes")
    def changes_summary(self, obj):
        return shortened(changes_text(obj.changes), 120)

    @admin.display(description="kept at HQ (changed there later)")
    def skipped_list(self, obj):
        if not obj.skipped:
            return "-"
        return format_html_join("", "<div>{}</div>", ((line,) for line in obj.skipped))

    def get_fieldsets(self, request, obj=None):
        """The request's changes in typed inputs (the form's own layout), then the
        request's facts."""
        facts = (None, {"fields": self.readonly_fields})
        if obj is None or not self.has_change_permission(request, obj):
            return [facts]
        return [facts, *self.form(instance=obj).layout()]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The inputs are made per request by the form itself (their number follows the
        # request's attributes and addresses), not listed as model fields.
        kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)
