"""Admin for HQ staging: the staged async customers (with their children) and staged
async addresses the upload (P-0001, R3) brought to HQ.

A staged record HQ rejected (R5) is fixed on its change page and synchronized again
("Save and synchronize again", the "Synchronize selected" action, or the customer
synchronization status page, singly or in bulk): failed rows go back to pending and
one "Synchronize customers and channel requests" run is queued for exactly those rows.
Fields the jobs write (staging status, upload session ids, account links) are
read-only.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from commerce.models import Store
from customers.admin.job_actions import JobPermissionsMixin, staged_synchronize
from customers.admin.status import SyncStatusPageMixin
from customers.forms import AddressCountryForm
from customers.models import (
    CustomerGroup,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagingStatus,
)

STAGING_READONLY = [
    "channel_database",
    "store_number",
    "upload_session",
    "status",
    "last_error",
    "attempts",
    "staged_at",
    "processed_at",
]


def _short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[:length] + "…"


class StagingAdmin(JobPermissionsMixin, admin.ModelAdmin):
    """Staged rows come only from the upload (P-0001): they are fixed here, not added
    (nor deleted: the upload would not bring them again). A completed row is history
    (its HQ record exists): it is shown, not edited."""

    list_filter = ["status", "channel_database", "store_number"]
    date_hierarchy = "staged_at"
    actions = ["synchronize_selected"]
    change_form_template = "admin/customers/staged_change_form.html"
    staged_ids_parameter = ""  # "customer_ids" or "address_ids" of staged_synchronize

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
        return _short(obj.last_error)

    def synchronize(self, request, ids: list[int]) -> None:
        staged_synchronize(self, request, **{self.staged_ids_parameter: ids})

    @admin.action(description="Synchronize selected", permissions=["run_async_customers"])
    def synchronize_selected(self, request, queryset):
        """Failed rows go back to pending; pending and failed rows are queued; completed
        ones are reported as skipped."""
        rows = list(queryset.values_list("pk", "status"))
        ids = [pk for pk, status in rows if status != StagingStatus.COMPLETED]
        completed = len(rows) - len(ids)
        if completed:
            self.message_user(
                request,
                f"Skipped {completed} already created at HQ (completed).",
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
        )
        context["sync_status_url"] = reverse("admin:customers_sync_status")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        if "_sync_again" not in request.POST:
            return super().response_change(request, obj)
        if not self.has_run_async_customers_permission(request):
            raise PermissionDenied  # rolls the save back with the rest of the request
        self.message_user(request, f"The {self.opts.verbose_name} “{obj}” was saved.")
        self.synchronize(request, [obj.pk])
        return HttpResponseRedirect(request.get_full_path())


class StagedInlineMixin:
    """Children of a completed staged customer are history, like their parent."""

    @staticmethod
    def _open(obj) -> bool:
        return obj is None or obj.status != StagingStatus.COMPLETED

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj) and super().has_delete_permission(request, obj)


STAGED_ADDRESS_WIDTHS = {
    "street": "14em",
    "city": "9em",
    "state": "4em",
    "zip": "6em",
    "country": "12em",  # a select of "Name (CODE)"
}


class StagedAsyncCustomerAddressInline(StagedInlineMixin, admin.TabularInline):
    model = StagedAsyncCustomerAddress
    form = AddressCountryForm
    extra = 0
    fields = [
        "purpose",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "is_primary",
        "async_address_id",
        "location_id",
    ]
    readonly_fields = ["async_address_id", "location_id"]
    # The store links its address to HQ's by the GUID: addresses are fixed, never
    # added or dropped here.
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # A new address needs the store's GUID; it can only come from the store.
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in STAGED_ADDRESS_WIDTHS:
            # Narrow inputs: the whole address fits on one line of the inline.
            field.widget.attrs["style"] = f"width: {STAGED_ADDRESS_WIDTHS[db_field.name]}"
        return field


class StagedAsyncCustomerContactInline(StagedInlineMixin, admin.TabularInline):
    model = StagedAsyncCustomerContact
    extra = 0


class StagedAsyncCustomerAttributeValueInline(StagedInlineMixin, admin.TabularInline):
    model = StagedAsyncCustomerAttributeValue
    extra = 0


class StagedAsyncCustomerAffiliationInline(StagedInlineMixin, admin.TabularInline):
    model = StagedAsyncCustomerAffiliation
    extra = 0


@admin.register(StagedAsyncCustomer)
class StagedAsyncCustomerAdmin(SyncStatusPageMixin, StagingAdmin):
    staged_ids_parameter = "customer_ids"
    list_display = [
        "async_customer_id",
        "name",
        "store_number",
        "channel_database",
        "status",
        "account",
        "short_error",
        "attempts",
        "staged_at",
        "processed_at",
    ]
    list_filter = ["status", "channel_database", "store_number", "type"]
    search_fields = [
        "async_customer_id",
        "first_name",
        "last_name",
        "organization_name",
        "email",
        "account",
        "last_error",
    ]
    readonly_fields = [*STAGING_READONLY, "async_customer_id", "created_at_store", "account"]
    inlines = [
        StagedAsyncCustomerAddressInline,
        StagedAsyncCustomerContactInline,
        StagedAsyncCustomerAttributeValueInline,
        StagedAsyncCustomerAffiliationInline,
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "customer_group" in form.base_fields:
            # What a person fixing "unknown customer group" needs to know.
            store = Store.objects.select_related("legal_entity").filter(number=obj.store_number)
            store = store.first()
            help_text = "Empty: the group of the store's default customer."
            if store is not None:
                codes = CustomerGroup.objects.filter(legal_entity=store.legal_entity)
                codes = ", ".join(codes.order_by("code").values_list("code", flat=True))
                help_text += f" Groups of legal entity {store.legal_entity.code}: {codes or '-'}."
            form.base_fields["customer_group"].help_text = help_text
        return form


@admin.register(StagedAsyncAddress)
class StagedAsyncAddressAdmin(StagingAdmin):
    form = AddressCountryForm
    staged_ids_parameter = "address_ids"
    list_display = [
        "async_address_id",
        "customer_account",
        "store_number",
        "channel_database",
        "purpose",
        "city",
        "country",
        "status",
        "location_id",
        "short_error",
        "attempts",
        "staged_at",
    ]
    search_fields = ["async_address_id", "customer_account", "street", "city", "last_error"]
    readonly_fields = [*STAGING_READONLY, "async_address_id", "created_at_store", "location_id"]


class StagedChildAdmin(admin.ModelAdmin):
    list_select_related = ["staged_customer"]
    raw_id_fields = ["staged_customer"]
    search_fields = ["staged_customer__async_customer_id"]

    @admin.display(description="status", ordering="staged_customer__status")
    def staged_status(self, obj):
        return obj.staged_customer.get_status_display()


@admin.register(StagedAsyncCustomerAddress)
class StagedAsyncCustomerAddressAdmin(StagedChildAdmin):
    form = AddressCountryForm
    list_display = [
        "async_address_id",
        "staged_customer",
        "staged_status",
        "purpose",
        "street",
        "city",
        "country",
        "is_primary",
        "location_id",
    ]
    list_filter = ["purpose", "country"]
    search_fields = ["async_address_id", "staged_customer__async_customer_id", "street", "city"]
    readonly_fields = ["async_address_id", "location_id"]

    def has_add_permission(self, request):
        return False


@admin.register(StagedAsyncCustomerContact)
class StagedAsyncCustomerContactAdmin(StagedChildAdmin):
    list_display = ["staged_customer", "staged_status", "type", "value", "is_primary"]
    list_filter = ["type"]
    search_fields = ["value", "staged_customer__async_customer_id"]


@admin.register(StagedAsyncCustomerAttributeValue)
class StagedAsyncCustomerAttributeValueAdmin(StagedChildAdmin):
    list_display = ["staged_customer", "staged_status", "name", "value"]
    list_filter = ["name"]
    search_fields = ["name", "staged_customer__async_customer_id"]


@admin.register(StagedAsyncCustomerAffiliation)
class StagedAsyncCustomerAffiliationAdmin(StagedChildAdmin):
    list_display = ["staged_customer", "staged_status", "name"]
    list_filter = ["name"]
    search_fields = ["name", "staged_customer__async_customer_id"]
