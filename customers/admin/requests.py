"""Admin for channel requests (R11): the store's changes as recorded in its channel
database, and as staged at HQ, where a request HQ rejected (R5) is fixed and
synchronized again like any staged record."""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join

from commerce.admin_channel import ChannelModelAdmin, UploadedFilter
from customers.admin.staging import STAGING_READONLY, StagingAdmin, _short
from customers.models import ChannelRequest, StagedChannelRequest
from customers.services.changes import CustomerChanges, CustomerChangesError


def changes_text(changes: dict) -> str:
    """A request's changes in words: ``email → ona@new.example; Tier → Silver; …``."""
    parts = [f"{name} → {value}" for name, value in (changes.get("fields") or {}).items()]
    parts += [f"{name} → {value}" for name, value in (changes.get("attributes") or {}).items()]
    parts += [f"affiliation + {name}" for name in changes.get("affiliations") or ()]
    parts += [
        f"address + {a.get('street', '')}, {a.get('city', '')} ({a.get('country', '')})"
        for a in changes.get("addresses") or ()
    ]
    return "; ".join(parts) or "(nothing)"


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
        return _short(changes_text(obj.changes), 120)

    @admin.display(boolean=True, description="uploaded", ordering="upload_session_id")
    def uploaded(self, obj):
        return obj.upload_session_id is not None


class StagedChannelRequestForm(forms.ModelForm):
    """The changes as JSON, checked for shape on save; R5 is checked by the job."""

    class Meta:
        model = StagedChannelRequest
        fields = ["changes"]

    def clean_changes(self):
        changes = self.cleaned_data["changes"]
        if not isinstance(changes, dict):
            raise forms.ValidationError('Enter an object: {"fields": {...}, "attributes": ...}')
        try:
            CustomerChanges.from_json(changes)
        except (CustomerChangesError, TypeError, ValueError, KeyError, AttributeError) as error:
            raise forms.ValidationError(str(error)) from error
        return changes


@admin.register(StagedChannelRequest)
class StagedChannelRequestAdmin(StagingAdmin):
    form = StagedChannelRequestForm
    staged_ids_parameter = "request_ids"
    list_display = [
        "request_id",
        "store_number",
        "target",
        "edited_at",
        "status",
        "account",
        "changes_summary",
        "short_error",
    ]
    search_fields = ["=request_id", "=target_account", "=target_async_customer_id", "account"]
    fields = [
        "request_id",
        "target",
        "edited_at",
        "changes",
        "changes_summary",
        "account",
        "applied_version",
        "applied_to_staged",
        "skipped_list",
        *STAGING_READONLY,
    ]
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
        return _short(changes_text(obj.changes), 120)

    @admin.display(description="kept at HQ (changed there later)")
    def skipped_list(self, obj):
        if not obj.skipped:
            return "-"
        return format_html_join("", "<div>{}</div>", ((line,) for line in obj.skipped))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "changes" in form.base_fields:
            form.base_fields["changes"].widget.attrs.update(rows=6, cols=90)
            form.base_fields["changes"].help_text = (
                "Fix the value the error names, e.g. "
                + json.dumps({"fields": {"email": "ona@example.com"}})
            )
        return form
