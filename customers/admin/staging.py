"""Admin for HQ staging: what the pages of the staged records the upload (P-0001, R3)
brought to HQ share (``StagingAdmin``, status labels and filter), the staged async
addresses, and the names of staged records a statement's or job run's errors show. The
staged async customers' pages (with their children) are in
``customers.admin.staged_customers``.

A staged record HQ rejected (R5) is fixed on its change page and synchronized again
("Save and synchronize again", the "Synchronize selected" action, or the customer
synchronization status page, singly or in bulk): failed rows go back to pending and
one "Synchronize customers and channel requests" run is queued for exactly those rows.
Fields the jobs write (staging status, upload session ids, account links) are
read-only. A staged async customer held as a possible duplicate (R12, needs review)
is resolved on its review page (``customers.admin.duplicates``), not synchronized again.
"""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from commerce.admin import async_record_lookup_register
from commerce.admin_display import ChoicesFilter, short_location_id
from customers.admin.fix_changes import fix_changes
from customers.admin.job_actions import JobPermissionsMixin, staged_synchronize
from customers.fix_forms import SYNC_AGAIN, StagedAddressFixForm
from customers.models import (
    FIXED_NOT_SENT,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagingStatus,
)
from customers.selectors import STAGING_TO_STATUS, async_status_label, staged_records_statuses
from customers.services.labels import operator_text
from customers.services.staging_events import staged_fix_record

CARRIED = ["shown_version", "shown_values"]

STAGING_READONLY = [
    "channel_database",
    "store_number",
    "upload_session",
    "status",
    "last_error",
    "attempts",
    "staged_at",
    "processed_at",
    "fixed_at",
    "fixed_by",
]


def shortened(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[:length] + "…"


# A fix saved without sending (customers.models.FIXED_NOT_SENT), as pages name it.
FIXED_NOT_SENT_LABEL = "Failed – fixed, not sent"


def fixed_not_sent(record) -> bool:
    """Whether a staged record (customer, address or channel request) is fixed, not sent."""
    return record.fixed_not_sent


def staged_status_label(record) -> str:
    """The record's status as every page names it (``customers.selectors.status``),
    "fixed, not sent" included: the one its list read for it (a completed record may be
    synchronized already), else what HQ staging says."""
    if fixed_not_sent(record):
        return FIXED_NOT_SENT_LABEL
    derived = getattr(record, "derived_status", None)
    return async_status_label(derived or STAGING_TO_STATUS.get(record.status, record.status))


class FixedNotSentFilter(ChoicesFilter):
    title = "fix"
    parameter_name = "fix"
    options = {
        "not_sent": ("Fixed, not sent", FIXED_NOT_SENT),
        "to_fix": ("Failed, not fixed yet", Q(status=StagingStatus.FAILED) & ~FIXED_NOT_SENT),
    }


class StagingAdmin(JobPermissionsMixin, admin.ModelAdmin):
    """Staged rows come only from the upload (P-0001): they are fixed here, not added
    (nor deleted: the upload would not bring them again). A completed row is history
    (its HQ record exists): it is shown, not edited."""

    list_filter = ["status", FixedNotSentFilter, "channel_database", "store_number"]
    date_hierarchy = "staged_at"
    actions = ["synchronize_selected"]
    change_form_template = "admin/customers/staged_change_form.html"
    staged_ids_parameter = ""  # "customer_ids" or "address_ids" of staged_synchronize
    status_kind = ""  # "customer", "address" or "edit" (customers.selectors.status)

    def get_changelist_instance(self, request):
        """Each row's status as the status page says it (one query per channel
        database for the page's completed rows)."""
        changelist = super().get_changelist_instance(request)
        rows = changelist.result_list  # the page's queryset, evaluated once here
        if self.status_kind:
            statuses = staged_records_statuses(kind=self.status_kind, records=rows)
            for row in rows:
                row.derived_status = statuses.get(row.pk)
        return changelist

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == StagingStatus.COMPLETED:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="last error", ordering="last_error")
    def short_error(self, obj):
        return shortened(operator_text(obj.last_error))

    @admin.display(description="status", ordering="status")
    def status_text(self, obj):
        label = staged_status_label(obj)
        if fixed_not_sent(obj):
            return format_html(
                '<span class="status-failed">{}</span><div class="quiet">fixed {}</div>',
                label,
                formats.localize(timezone.localtime(obj.fixed_at)),
            )
        if obj.status == StagingStatus.FAILED:
            return format_html('<span class="status-failed">{}</span>', label)
        return label

    # --- Fixing a failed record (R5) ---

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Before the form judges the record: without the job's permission nothing is
        # saved or sent, whatever the fields hold.
        if (
            request.method == "POST"
            and SYNC_AGAIN in request.POST
            and not self.has_run_async_customers_permission(request)
        ):
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        remaining = getattr(form, "remaining_errors", None)
        if remaining and SYNC_AGAIN not in request.POST:
            self.message_user(
                request,
                "Saved, but HQ would still reject it: " + "; ".join(remaining) + ".",
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        edited = form.has_changed() or any(formset.has_changed() for formset in formsets)
        if change and edited and obj.status == StagingStatus.FAILED:
            obj.fixed_at, obj.fixed_by_id = timezone.now(), request.user.pk
            type(obj).objects.filter(pk=obj.pk).update(
                fixed_at=obj.fixed_at, fixed_by_id=obj.fixed_by_id
            )
            staged_fix_record(
                staged=obj, actor=request.user, changes=fix_changes(form, formsets), at=obj.fixed_at
            )

    def synchronize(self, request, ids: list[int]) -> None:
        staged_synchronize(self, request, **{self.staged_ids_parameter: ids})

    @admin.action(description="Synchronize selected", permissions=["run_async_customers"])
    def synchronize_selected(self, request, queryset):
        """Failed rows go back to pending; pending and failed rows are queued; completed
        ones are reported as skipped."""
        rows = list(queryset.values_list("pk", "status"))
        ids = [pk for pk, status in rows if status in (StagingStatus.PENDING, StagingStatus.FAILED)]
        completed = sum(1 for _, status in rows if status == StagingStatus.COMPLETED)
        held = sum(1 for _, status in rows if status == StagingStatus.NEEDS_REVIEW)
        if completed:
            self.message_user(
                request,
                f"Skipped {completed} already created at HQ (completed).",
                messages.WARNING,
            )
        if held:
            self.message_user(
                request,
                f"Skipped {held} that need review as possible duplicates: link or create "
                "them on their review page.",
                messages.WARNING,
            )
        if ids:
            self.synchronize(request, ids)

    # --- "Save and synchronize again" on the change page ---

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_sync_again"] = (
            obj is not None
            and self.has_change_permission(request, obj)
            and self.has_run_async_customers_permission(request)
            and obj.status != StagingStatus.NEEDS_REVIEW  # R12: a person links or creates it
        )
        context["sync_status_url"] = reverse("admin:customers_sync_status")
        # The job joins a record's problems with "; " (one per field it names).
        shown = operator_text(obj.last_error) if obj else ""
        context["last_errors"] = shown.split("; ") if shown else []
        context["fixed_not_sent"] = obj is not None and fixed_not_sent(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        if "_sync_again" not in request.POST:
            return super().response_change(request, obj)
        if not self.has_run_async_customers_permission(request):
            raise PermissionDenied  # rolls the save back with the rest of the request
        self.message_user(request, f"The {self.opts.verbose_name} “{obj}” was saved.")
        self.synchronize(request, [obj.pk])
        return HttpResponseRedirect(request.get_full_path())


@admin.register(StagedAsyncAddress)
class StagedAsyncAddressAdmin(StagingAdmin):
    form = StagedAddressFixForm
    staged_ids_parameter = "address_ids"
    status_kind = "address"
    list_display = [
        "address_link",
        "customer_account",
        "store_number",
        "purpose",
        "status_text",
        "location",
        "short_error",
        "attempts",
        "created_at_store",
    ]
    list_display_links = ["address_link"]
    search_fields = ["async_address_id", "customer_account", "street", "city", "last_error"]

    @admin.display(description="location id", ordering="location_id")
    def location(self, obj):
        return short_location_id(obj.location_id)

    readonly_fields = [*STAGING_READONLY, "async_address_id", "created_at_store", "location_id"]

    @admin.display(description="address", ordering="city")
    def address_link(self, obj):
        return f"{obj.street}, {obj.city} ({obj.country})"


# --- Naming the records that block a statement (R9) ----------------------------------------


@async_record_lookup_register
def staged_records_named(
    *, channel_database: str | None, guids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """GUID -> (name, staged record's change page) for the async customers and addresses
    a statement's or a job run's errors name; of one channel database when given (a GUID
    is unique there only). Three queries."""
    where = {"channel_database": channel_database} if channel_database else {}
    found: dict[uuid.UUID, tuple[str, str]] = {}
    customers = StagedAsyncCustomer.objects.filter(async_customer_id__in=guids, **where)
    for staged in customers.only(
        "pk", "async_customer_id", "type", "first_name", "last_name", "organization_name"
    ):
        url = reverse("admin:customers_stagedasynccustomer_change", args=[staged.pk])
        found[staged.async_customer_id] = (staged.name or "(no name)", url)
    owner_where = {f"staged_customer__{k}": v for k, v in where.items()}
    addresses = StagedAsyncCustomerAddress.objects.filter(
        async_address_id__in=guids, **owner_where
    ).select_related("staged_customer")
    for address in addresses:
        url = reverse(
            "admin:customers_stagedasynccustomer_change", args=[address.staged_customer_id]
        )
        owner = address.staged_customer.name or "(no name)"
        found[address.async_address_id] = (f"{address.street}, {address.city} of {owner}", url)
    for staged in StagedAsyncAddress.objects.filter(async_address_id__in=guids, **where):
        url = reverse("admin:customers_stagedasyncaddress_change", args=[staged.pk])
        found[staged.async_address_id] = (f"{staged.street}, {staged.city}", url)
    return found
