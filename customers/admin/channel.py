"""Admin for the channel customer records, per channel database: the customers and
addresses distribution (R7, 1010) wrote, and the async customers (with their
addresses, contacts, attribute values and affiliations) and async addresses a store
created (R1, R6).

These admins use ``commerce.admin_channel.ChannelModelAdmin``: rows are read and
written in the channel database chosen by the "Channel database" list filter. Fields
the jobs write (upload session ids, account links, location ids) are read-only.
"""

import uuid

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html

from commerce.admin import ViewOnlyMixin
from commerce.admin_channel import ChannelModelAdmin, ChannelTabularInline
from commerce.admin_display import (
    AsyncCustomerColumns,
    ChoicesFilter,
    short_guid,
    short_location_id,
)
from customers.admin.addresses import (
    ASYNC_ADDRESS_FIELDS,
    ASYNC_ADDRESS_READONLY,
    AsyncAddressColumns,
)
from customers.admin.store_all_stores import StoreAllStoresMixin
from customers.admin.store_customers import StoreCustomersPageMixin
from customers.attribute_forms import AsyncAttributeValueForm, attributes_by_name
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomer,
    ChannelCustomerAddress,
    attribute_value_text,
)
from customers.selectors import AsyncStatus, async_status_label, channel_records_statuses


class ChannelCustomerAddressInline(ViewOnlyMixin, ChannelTabularInline):
    model = ChannelCustomerAddress
    extra = 0
    fields = ["location_id", "purpose", "street", "city", "state", "zip", "country", "is_primary"]


@admin.register(ChannelCustomer)
class ChannelCustomerAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = [
        "account",
        "name",
        "contact",
        "customer_group",
        "async_id",
        "hq_version",
        "updated_at",
    ]
    list_filter = ["legal_entity", "type", "customer_group"]
    search_fields = ["account", "name", "email", "phone", "async_customer_id"]
    inlines = [ChannelCustomerAddressInline]

    @admin.display(description="email / phone", ordering="email")
    def contact(self, obj):
        return contact_lines(obj)

    @admin.display(description="async id", ordering="async_customer_id")
    def async_id(self, obj):
        return short_guid(obj.async_customer_id)


@admin.register(ChannelCustomerAddress)
class ChannelCustomerAddressAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = ["location_id", "customer", "purpose", "street", "city", "country", "is_primary"]
    list_filter = ["purpose", "is_primary", "country"]
    search_fields = ["location_id", "street", "city", "customer__account"]
    list_select_related = ["customer"]


def contact_lines(obj):
    """Email over phone, in one narrow column."""
    return format_html("{}<br>{}", obj.email or "-", obj.phone or "-")


# What the store knows of its async record, named as on the status page:
# failed or created at HQ are known at HQ only.
PENDING_UPLOAD, UPLOADED, SYNCHRONIZED = (
    async_status_label(AsyncStatus.PENDING_UPLOAD),
    async_status_label(AsyncStatus.UPLOADED),
    async_status_label(AsyncStatus.SYNCHRONIZED),
)


def channel_status(obj, linked_field: str) -> str:
    """The row's status as every page names it (``customers.selectors.status``): the
    one its list read for it (``DerivedStatusMixin``), else what the store knows."""
    derived = getattr(obj, "derived_status", None)
    if derived:
        return async_status_label(derived)
    if getattr(obj, linked_field):
        return SYNCHRONIZED
    return UPLOADED if obj.upload_session_id is not None else PENDING_UPLOAD


class DerivedStatusMixin:
    """A list of async customers or addresses shows each row's status as the status
    page does: HQ staging is read for the page's rows not linked yet (one query)."""

    status_kind = "customer"

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = changelist.result_list  # the page's queryset, evaluated once here
        statuses = channel_records_statuses(
            kind=self.status_kind, alias=self.channel_alias(request), rows=rows
        )
        guid_field = "async_customer_id" if self.status_kind == "customer" else "async_address_id"
        for row in rows:
            row.derived_status = statuses.get(getattr(row, guid_field))
        return changelist


def store_status_options(linked_field: str) -> dict[str, tuple[str, Q]]:
    """The choices of a store status filter for records a distribution links by
    ``linked_field`` (an account, a location id)."""
    linked = f"{linked_field}__isnull"
    return {
        "pending_upload": (PENDING_UPLOAD, Q(**{linked: True, "upload_session_id__isnull": True})),
        "uploaded": (
            "Uploaded, not synchronized yet",
            Q(**{linked: True, "upload_session_id__isnull": False}),
        ),
        "synchronized": (SYNCHRONIZED, Q(**{linked: False})),
    }


class StoreStatusFilter(ChoicesFilter):
    """The async record's status as the store knows it: pending upload, uploaded (the
    store shows it "Pending sync"), or synchronized once distribution (1010) links it."""

    title = "at the store"
    parameter_name = "store_status"
    options = store_status_options("account")


class AddressStoreStatusFilter(StoreStatusFilter):
    options = store_status_options("location_id")


class AsyncCustomerAddressStatusFilter(ChoicesFilter):
    """An async customer's address is linked (synchronized) once it has a location id."""

    title = "status"
    parameter_name = "store_status"
    options = {
        "pending": ("Not linked yet", Q(location_id__isnull=True)),
        "synchronized": (SYNCHRONIZED, Q(location_id__isnull=False)),
    }


class GeneratedGuidMixin:
    """Channel rows get their GUID (and creation time) from the store, never typed."""

    guid_field = "async_customer_id"

    def save_model(self, request, obj, form, change):
        if getattr(obj, self.guid_field) is None:
            setattr(obj, self.guid_field, uuid.uuid4())
        if hasattr(obj, "created_at") and obj.created_at is None:
            obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)


class AsyncCustomerAddressInline(ChannelTabularInline):
    model = AsyncCustomerAddress
    extra = 0
    fields = ASYNC_ADDRESS_FIELDS
    readonly_fields = ASYNC_ADDRESS_READONLY


class AsyncCustomerContactInline(ChannelTabularInline):
    model = AsyncCustomerContact
    extra = 0


class AsyncCustomerAttributeValueInline(ChannelTabularInline):
    model = AsyncCustomerAttributeValue
    form = AsyncAttributeValueForm  # the input of the attribute's type, no JSON
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.attributes = attributes_by_name()
        return formset


class AsyncCustomerAffiliationInline(ChannelTabularInline):
    model = AsyncCustomerAffiliation
    extra = 0


@admin.register(AsyncCustomer)
class AsyncCustomerAdmin(
    AsyncCustomerColumns,
    StoreAllStoresMixin,
    DerivedStatusMixin,
    StoreCustomersPageMixin,
    GeneratedGuidMixin,
    ChannelModelAdmin,
):
    # The name links the row; status and account (what the operator looks for) come
    # before the details, and fit at 1440 px beside the filters.
    list_display = [
        "name_link",
        "async_id",
        "store_number",
        "status",
        "account",
        "contact",
        "customer_group",
        "created_at",
    ]
    list_display_links = ["name_link"]
    list_filter = [StoreStatusFilter, "type", "store_number"]
    search_fields = [
        "async_customer_id",
        "first_name",
        "last_name",
        "organization_name",
        "email",
        "phone",
        "account",
    ]
    date_hierarchy = "created_at"
    # The GUID is the store's; the rest is written by the upload (P-0001) and 1010.
    readonly_fields = [
        "async_customer_id",
        "created_at",
        "upload_session_id",
        "uploaded_at",
        "account",
        "synchronized_at",
    ]
    inlines = [
        AsyncCustomerAddressInline,
        AsyncCustomerContactInline,
        AsyncCustomerAttributeValueInline,
        AsyncCustomerAffiliationInline,
    ]

    @admin.display(description="status", ordering="account")
    def status(self, obj):
        return channel_status(obj, "account")

    @admin.display(description="email / phone", ordering="email")
    def contact(self, obj):
        return contact_lines(obj)

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            if isinstance(instance, AsyncCustomerAddress) and instance.async_address_id is None:
                instance.async_address_id = uuid.uuid4()
            instance.save(using=self.channel_alias(request))
        for instance in formset.deleted_objects:
            instance.delete(using=self.channel_alias(request))
        formset.save_m2m()


class AsyncCustomerChildAdmin(ChannelModelAdmin):
    list_select_related = ["async_customer"]
    raw_id_fields = ["async_customer"]
    search_fields = ["async_customer__async_customer_id"]


@admin.register(AsyncCustomerAddress)
class AsyncCustomerAddressAdmin(AsyncAddressColumns, GeneratedGuidMixin, AsyncCustomerChildAdmin):
    guid_field = "async_address_id"
    list_display = [
        "address_text",
        "async_id",
        "customer",
        "purpose",
        "country",
        "is_primary",
        "location_id",
    ]
    list_display_links = ["address_text"]
    list_filter = [AsyncCustomerAddressStatusFilter, "purpose", "country"]
    search_fields = [
        "async_address_id",
        "async_customer__async_customer_id",
        "street",
        "city",
        "location_id",
    ]
    readonly_fields = ASYNC_ADDRESS_READONLY

    @admin.display(description="async customer", ordering="async_customer__last_name")
    def customer(self, obj):
        return obj.async_customer.name or short_guid(obj.async_customer.async_customer_id)


@admin.register(AsyncCustomerContact)
class AsyncCustomerContactAdmin(AsyncCustomerChildAdmin):
    list_display = ["async_customer", "type", "value", "is_primary"]
    list_filter = ["type"]
    search_fields = ["value", "async_customer__async_customer_id"]


@admin.register(AsyncCustomerAttributeValue)
class AsyncCustomerAttributeValueAdmin(AsyncCustomerChildAdmin):
    form = AsyncAttributeValueForm
    list_display = ["async_customer", "name", "value_text"]
    list_filter = ["name"]
    search_fields = ["name", "async_customer__async_customer_id"]

    @admin.display(description="value")
    def value_text(self, obj):
        return attribute_value_text(obj.value)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.attributes = attributes_by_name()
        return form


@admin.register(AsyncCustomerAffiliation)
class AsyncCustomerAffiliationAdmin(AsyncCustomerChildAdmin):
    list_display = ["async_customer", "name"]
    list_filter = ["name"]
    search_fields = ["name", "async_customer__async_customer_id"]


@admin.register(AsyncAddress)
class AsyncAddressAdmin(
    AsyncAddressColumns, DerivedStatusMixin, GeneratedGuidMixin, ChannelModelAdmin
):
    status_kind = "address"

    guid_field = "async_address_id"
    list_display = [
        "address_text",
        "async_id",
        "store_number",
        "customer_account",
        "purpose",
        "is_primary",
        "status",
        "location",
        "created_at",
    ]
    list_display_links = ["address_text"]
    list_filter = [AddressStoreStatusFilter, "purpose", "store_number"]

    @admin.display(description="location id", ordering="location_id")
    def location(self, obj):
        return short_location_id(obj.location_id)

    search_fields = ["async_address_id", "customer_account", "street", "city", "location_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "async_address_id",
        "created_at",
        "upload_session_id",
        "uploaded_at",
        "location_id",
        "synchronized_at",
    ]

    @admin.display(description="address", ordering="street")
    def address_text(self, obj):
        return f"{obj.street}, {obj.city} ({obj.country})"

    @admin.display(description="status", ordering="location_id")
    def status(self, obj):
        return channel_status(obj, "location_id")
