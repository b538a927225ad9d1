"""Admin for the staged async customers at HQ (R3, R5): the list and the change page
where a record HQ rejected is fixed (header and children, judged as a whole by R5) and
synchronized again, with its children inline (read only once it is completed), and the
lists of the children themselves. The shared base of the staging pages is
``customers.admin.staging``.
"""

from django import forms
from django.contrib import admin

from commerce.admin_display import AsyncCustomerColumns, short_guid
from commerce.models import Store
from customers.admin.addresses import (
    ASYNC_ADDRESS_FIELDS,
    ASYNC_ADDRESS_READONLY,
    AsyncAddressColumns,
)
from customers.admin.duplicates import DuplicateReviewMixin
from customers.admin.guid_collisions import NewGuidMixin
from customers.admin.staging import (
    CARRIED,
    STAGING_READONLY,
    FixedNotSentFilter,
    StagingAdmin,
    staged_status_label,
)
from customers.admin.status import SyncStatusPageMixin
from customers.fix_forms import (
    CUSTOMER_FIX_FIELDS,
    StagedAttributeValueForm,
    StagedCustomerFixForm,
    customer_group_options,
)
from customers.forms import AddressCountryForm
from customers.models import (
    CustomerAttribute,
    CustomerGroup,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagingStatus,
)


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
    fields = ASYNC_ADDRESS_FIELDS
    readonly_fields = ASYNC_ADDRESS_READONLY
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
    form = StagedAttributeValueForm
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # inlineformset_factory builds a fresh form class on every call: this request's
        # attributes, read once for every row.
        formset.form.attributes = {a.name: a for a in CustomerAttribute.objects.all()}
        return formset


class StagedAsyncCustomerAffiliationInline(StagedInlineMixin, admin.TabularInline):
    model = StagedAsyncCustomerAffiliation
    extra = 0


@admin.register(StagedAsyncCustomer)
class StagedAsyncCustomerAdmin(
    AsyncCustomerColumns, NewGuidMixin, DuplicateReviewMixin, SyncStatusPageMixin, StagingAdmin
):
    staged_ids_parameter = "customer_ids"
    status_kind = "customer"
    form = StagedCustomerFixForm
    # The name links the row (a GUID is shown short); the channel database is the
    # store's, and a filter.
    list_display = [
        "name_link",
        "async_id",
        "store_number",
        "status_text",
        "account",
        "short_error",
        "attempts",
        "created_at_store",
        "processed_at",
    ]
    list_display_links = ["name_link"]
    list_filter = ["status", FixedNotSentFilter, "channel_database", "store_number", "type"]
    search_fields = [
        "async_customer_id",
        "first_name",
        "last_name",
        "organization_name",
        "email",
        "account",
        "last_error",
    ]
    readonly_fields = [
        *STAGING_READONLY,
        "async_customer_id",
        "created_at_store",
        "account",
        "review_decision",
        "reviewer",
        "reviewed_at",
        "replaced_async_customer_id",
        "guid_replaced_by",
        "guid_replaced_at",
    ]
    exclude = ["reviewed_by"]  # shown as ``reviewer``, the name recorded then
    inlines = [
        StagedAsyncCustomerAddressInline,
        StagedAsyncCustomerContactInline,
        StagedAsyncCustomerAttributeValueInline,
        StagedAsyncCustomerAffiliationInline,
    ]

    def get_fieldsets(self, request, obj=None):
        """What the operator fixes first; the record's staging facts after, folded."""
        fields = [
            f for _name, options in super().get_fieldsets(request, obj) for f in options["fields"]
        ]
        # The version the page shows travels with the fields it fixes (R11).
        fixable = [f for f in [*CUSTOMER_FIX_FIELDS, *CARRIED] if f in fields]
        return [
            (None, {"fields": fixable}),
            (
                "Staged record",
                {"fields": [f for f in fields if f not in fixable], "classes": ["collapse"]},
            ),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "customer_group" in form.base_fields:
            # A select of the legal entity's groups, for "unknown customer group" (R5).
            store = (
                Store.objects.select_related("legal_entity", "default_customer__customer_group")
                .filter(number=obj.store_number)
                .first()
            )
            field = form.base_fields["customer_group"]
            if store is None:
                field.help_text = "Empty: the group of the store's default customer."
            else:
                groups = CustomerGroup.objects.filter(legal_entity=store.legal_entity)
                form.base_fields["customer_group"] = forms.ChoiceField(
                    choices=customer_group_options(
                        groups=list(groups.order_by("code")),
                        current=obj.customer_group,
                        default=store.default_customer.customer_group.code,
                        legal_entity=store.legal_entity.code,
                    ),
                    required=False,
                    label=field.label,
                    help_text=f"Groups of legal entity {store.legal_entity.code}; the store "
                    "default is its default customer's group.",
                )
        return form

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        # The header form judges the whole record by R5, inline rows included: they are
        # made before it is validated (ModelAdmin._changeform_view).
        obj._fix_formsets = formsets
        return formsets, inline_instances


class StagedChildAdmin(admin.ModelAdmin):
    list_select_related = ["staged_customer"]
    autocomplete_fields = ["staged_customer"]  # by name, not a raw id
    search_fields = ["staged_customer__async_customer_id"]

    @admin.display(description="status", ordering="staged_customer__status")
    def staged_status(self, obj):
        return staged_status_label(obj.staged_customer)

    @admin.display(description="staged async customer", ordering="staged_customer__last_name")
    def customer_name(self, obj):
        return obj.staged_customer.name or short_guid(obj.staged_customer.async_customer_id)


@admin.register(StagedAsyncCustomerAddress)
class StagedAsyncCustomerAddressAdmin(AsyncAddressColumns, StagedChildAdmin):
    form = AddressCountryForm
    list_display = [
        "address_text",
        "async_id",
        "customer_name",
        "staged_status",
        "purpose",
        "country",
        "is_primary",
        "location_id",
    ]
    list_display_links = ["address_text"]
    list_filter = ["purpose", "country"]
    search_fields = ["async_address_id", "staged_customer__async_customer_id", "street", "city"]
    readonly_fields = ASYNC_ADDRESS_READONLY

    def has_add_permission(self, request):
        return False


@admin.register(StagedAsyncCustomerContact)
class StagedAsyncCustomerContactAdmin(StagedChildAdmin):
    list_display = ["__str__", "customer_name", "staged_status", "type", "value", "is_primary"]
    list_filter = ["type"]
    search_fields = ["value", "staged_customer__async_customer_id"]


@admin.register(StagedAsyncCustomerAttributeValue)
class StagedAsyncCustomerAttributeValueAdmin(StagedChildAdmin):
    form = StagedAttributeValueForm  # the input of the attribute's type, no JSON
    list_display = ["__str__", "customer_name", "staged_status"]
    list_filter = ["name"]
    search_fields = ["name", "staged_customer__async_customer_id"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.attributes = {a.name: a for a in CustomerAttribute.objects.all()}
        return form


@admin.register(StagedAsyncCustomerAffiliation)
class StagedAsyncCustomerAffiliationAdmin(StagedChildAdmin):
    list_display = ["name", "customer_name", "staged_status"]
    list_filter = ["name"]
    search_fields = ["name", "staged_customer__async_customer_id"]
