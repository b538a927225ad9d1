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
from django.utils import timezone

from commerce.admin import ViewOnlyMixin
from commerce.admin_channel import ChannelModelAdmin, ChannelTabularInline, UploadedFilter
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomer,
    ChannelCustomerAddress,
)


class ChannelCustomerAddressInline(ViewOnlyMixin, ChannelTabularInline):
    model = ChannelCustomerAddress
    extra = 0
    fields = ["location_id", "purpose", "street", "city", "state", "zip", "country", "is_primary"]


@admin.register(ChannelCustomer)
class ChannelCustomerAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = [
        "account",
        "legal_entity",
        "name",
        "type",
        "email",
        "phone",
        "customer_group",
        "currency",
        "async_customer_id",
        "hq_version",
        "updated_at",
    ]
    list_filter = ["legal_entity", "type", "customer_group"]
    search_fields = ["account", "name", "email", "phone", "async_customer_id"]
    inlines = [ChannelCustomerAddressInline]


@admin.register(ChannelCustomerAddress)
class ChannelCustomerAddressAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = ["location_id", "customer", "purpose", "street", "city", "country", "is_primary"]
    list_filter = ["purpose", "is_primary", "country"]
    search_fields = ["location_id", "street", "city", "customer__account"]
    list_select_related = ["customer"]


class StoreStatusFilter(admin.SimpleListFilter):
    """What the store shows: "Pending sync" until distribution (1010) links the row."""

    title = "store status"
    parameter_name = "store_status"
    linked_field = "account"

    def lookups(self, request, model_admin):
        return [("pending", "Pending sync"), ("synchronized", "Synchronized")]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(**{f"{self.linked_field}__isnull": True})
        if self.value() == "synchronized":
            return queryset.filter(**{f"{self.linked_field}__isnull": False})
        return queryset


class AddressStoreStatusFilter(StoreStatusFilter):
    linked_field = "location_id"


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


class AsyncCustomerContactInline(ChannelTabularInline):
    model = AsyncCustomerContact
    extra = 0


class AsyncCustomerAttributeValueInline(ChannelTabularInline):
    model = AsyncCustomerAttributeValue
    extra = 0


class AsyncCustomerAffiliationInline(ChannelTabularInline):
    model = AsyncCustomerAffiliation
    extra = 0


@admin.register(AsyncCustomer)
class AsyncCustomerAdmin(GeneratedGuidMixin, ChannelModelAdmin):
    list_display = [
        "async_customer_id",
        "name",
        "store_number",
        "type",
        "email",
        "phone",
        "customer_group",
        "created_at",
        "uploaded",
        "store_status",
        "account",
        "synchronized_at",
    ]
    list_filter = [StoreStatusFilter, UploadedFilter, "type", "store_number"]
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

    @admin.display(boolean=True, description="uploaded", ordering="upload_session_id")
    def uploaded(self, obj):
        return obj.upload_session_id is not None

    @admin.display(description="store status", ordering="account")
    def store_status(self, obj):
        return obj.store_status

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
class AsyncCustomerAddressAdmin(GeneratedGuidMixin, AsyncCustomerChildAdmin):
    guid_field = "async_address_id"
    list_display = [
        "async_address_id",
        "async_customer",
        "purpose",
        "street",
        "city",
        "country",
        "is_primary",
        "location_id",
    ]
    list_filter = [AddressStoreStatusFilter, "purpose", "country"]
    search_fields = [
        "async_address_id",
        "async_customer__async_customer_id",
        "street",
        "city",
        "location_id",
    ]
    readonly_fields = ["async_address_id", "location_id"]


@admin.register(AsyncCustomerContact)
class AsyncCustomerContactAdmin(AsyncCustomerChildAdmin):
    list_display = ["async_customer", "type", "value", "is_primary"]
    list_filter = ["type"]
    search_fields = ["value", "async_customer__async_customer_id"]


@admin.register(AsyncCustomerAttributeValue)
class AsyncCustomerAttributeValueAdmin(AsyncCustomerChildAdmin):
    list_display = ["async_customer", "name", "value"]
    list_filter = ["name"]
    search_fields = ["name", "async_customer__async_customer_id"]


@admin.register(AsyncCustomerAffiliation)
class AsyncCustomerAffiliationAdmin(AsyncCustomerChildAdmin):
    list_display = ["async_customer", "name"]
    list_filter = ["name"]
    search_fields = ["name", "async_customer__async_customer_id"]


@admin.register(AsyncAddress)
class AsyncAddressAdmin(GeneratedGuidMixin, ChannelModelAdmin):
    guid_field = "async_address_id"
    list_display = [
        "async_address_id",
        "store_number",
        "customer_account",
        "purpose",
        "street",
        "city",
        "country",
        "is_primary",
        "created_at",
        "uploaded",
        "location_id",
        "synchronized_at",
    ]
    list_filter = [AddressStoreStatusFilter, UploadedFilter, "purpose", "store_number"]
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

    @admin.display(boolean=True, description="uploaded", ordering="upload_session_id")
    def uploaded(self, obj):
        return obj.upload_session_id is not None
