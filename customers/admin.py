"""Admin for the customer master (HQ), the channel customer records and HQ staging,
plus the "Add customer at store" page (R1) reached from the store and customer pages.

Channel records use ``commerce.admin_channel.ChannelModelAdmin``: they are read and
written in the channel database chosen by the "Channel database" list filter.
Fields the jobs write (staging status, upload session ids, account links, versions)
are read-only.

Staged async customers and addresses that failed at HQ (R5) are fixed on their
change pages and synchronized again ("Save and synchronize again", the "Synchronize
selected" action, or the customer synchronization status page, singly or in bulk):
failed rows go back to pending and one "Synchronize customers and channel requests"
run is queued for exactly those rows.
"""

import uuid
from collections.abc import Sequence

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from commerce.admin import ViewOnlyMixin
from commerce.admin_channel import (
    ChannelModelAdmin,
    ChannelTabularInline,
    UploadedFilter,
    channel_change_url,
    channel_changelist_url,
)
from commerce.db import HQ
from commerce.models import ChannelDatabase, NumberSequence, Store
from customers.forms import ASYNC_STATUS_LABELS, StoreCustomerForm, SyncStatusFilterForm
from customers.models import (
    Address,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomer,
    ChannelCustomerAddress,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    Party,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagingStatus,
)
from customers.selectors import AsyncStatus, async_status_rows, async_status_summary
from customers.services import (
    CustomerValidationError,
    NumberSequenceExhausted,
    account_numbers_allocate,
    customer_create_at_store,
    location_id_for,
    staged_records_retry,
)
from jobs.admin_actions import VIA_ADMIN, JobPermissionsMixin, job_requests_report
from jobs.models import Job
from jobs.services import JobRequestError, job_runs_request

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


def customer_version_raise(**filters) -> None:
    """Raise the version of the customers ``filters`` select, so distribution (1010)
    sends them again. A candidate for customers.services; kept here because only
    admin edits need it today."""
    Customer.objects.filter(**filters).update(version=F("version") + 1)


class RaisesCustomerVersionMixin:
    """Admin for a row that belongs to a customer: an edit makes the customer newer."""

    def customer_filter(self, obj) -> dict:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        customer_version_raise(**self.customer_filter(obj))

    def delete_model(self, request, obj):
        customer_filter = self.customer_filter(obj)
        super().delete_model(request, obj)
        customer_version_raise(**customer_filter)

    def delete_queryset(self, request, queryset):
        filters = [self.customer_filter(obj) for obj in queryset]
        super().delete_queryset(request, queryset)
        for customer_filter in filters:
            customer_version_raise(**customer_filter)


# --- HQ setup -------------------------------------------------------------------------


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "legal_entity", "customer_count"]
    list_filter = ["legal_entity"]
    search_fields = ["code", "name", "legal_entity__code"]
    list_select_related = ["legal_entity"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(customer_count=Count("customers"))

    @admin.display(description="customers", ordering="customer_count")
    def customer_count(self, obj):
        return obj.customer_count


@admin.register(CustomerAttribute)
class CustomerAttributeAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "choices"]
    list_filter = ["type"]
    search_fields = ["name"]


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "member_count"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


# --- HQ customer master ---------------------------------------------------------------


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = [
        "location_id",
        "purpose",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "is_primary",
        "async_address_id",
    ]
    readonly_fields = ["async_address_id"]


class ContactInfoInline(admin.TabularInline):
    model = ContactInfo
    extra = 0


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "customer_account", "address_count"]
    list_filter = ["type"]
    search_fields = ["name", "first_name", "last_name", "organization_name", "customer__account"]
    list_select_related = ["customer"]
    inlines = [AddressInline, ContactInfoInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(address_count=Count("addresses"))

    @admin.display(description="customer account", ordering="customer__account")
    def customer_account(self, obj):
        customer = getattr(obj, "customer", None)
        return customer.account if customer else "-"

    @admin.display(description="addresses", ordering="address_count")
    def address_count(self, obj):
        return obj.address_count

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            customer_version_raise(party_id=form.instance.pk)


class CustomerAttributeValueInline(admin.TabularInline):
    model = CustomerAttributeValue
    extra = 0


class CustomerAffiliationInline(admin.TabularInline):
    model = CustomerAffiliation
    extra = 0


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "legal_entity",
            "account",
            "party",
            "customer_group",
            "currency",
            "language",
            "email",
            "phone",
        ]

    def clean(self):
        data = super().clean()
        legal_entity, group = data.get("legal_entity"), data.get("customer_group")
        if legal_entity and group and group.legal_entity_id != legal_entity.pk:
            self.add_error(
                "customer_group",
                f"Customer group {group.code} does not belong to legal entity {legal_entity}.",
            )
        if (
            legal_entity
            and "account" in self.fields
            and not data.get("account")
            and not NumberSequence.objects.filter(legal_entity=legal_entity).exists()
        ):
            self.add_error(
                "account", f"Legal entity {legal_entity} has no customer number sequence."
            )
        return data


class AsyncOriginFilter(admin.SimpleListFilter):
    title = "origin"
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("async", "Converted from an async customer"), ("hq", "Created at HQ")]

    def queryset(self, request, queryset):
        if self.value() == "async":
            return queryset.filter(async_customer_id__isnull=False)
        if self.value() == "hq":
            return queryset.filter(async_customer_id__isnull=True)
        return queryset


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = [
        "account",
        "name",
        "legal_entity",
        "customer_group",
        "currency",
        "email",
        "phone",
        "async_customer_id",
        "version",
        "modified_at",
    ]
    list_filter = [AsyncOriginFilter, "legal_entity", "customer_group__code", "party__type"]
    search_fields = ["account", "party__name", "email", "phone", "async_customer_id"]
    list_select_related = ["legal_entity", "party", "customer_group__legal_entity"]
    raw_id_fields = ["party"]
    readonly_fields = ["async_customer_id", "version", "created_at", "modified_at", "addresses"]
    inlines = [CustomerAttributeValueInline, CustomerAffiliationInline]

    @admin.display(description="name", ordering="party__name")
    def name(self, obj):
        return obj.party.name

    @admin.display(description="addresses")
    def addresses(self, obj):
        if obj.pk is None:
            return "-"
        rows = [
            (
                reverse("admin:customers_address_change", args=[a.pk]),
                a,
                " (primary)" if a.is_primary else "",
            )
            for a in obj.party.addresses.all()
        ]
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a>{}', rows) or "-"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Channels know the customer by legal entity and account number.
        return [*readonly, "legal_entity", "account"] if obj else readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "account" in form.base_fields:
            account = form.base_fields["account"]
            account.required = False
            account.help_text = "Empty: the next number of the legal entity's customer sequence."
        return form

    def save_model(self, request, obj, form, change):
        if not change and not obj.account:
            (obj.account,) = account_numbers_allocate(legal_entity_id=obj.legal_entity_id, count=1)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            customer_version_raise(pk=form.instance.pk)

    # --- Add customer at store (R1) ---

    def get_urls(self):
        return [
            path(
                "add-at-store/",
                self.admin_site.admin_view(self.add_at_store_view),
                name="customers_customer_add_at_store",
            ),
            *super().get_urls(),
        ]

    def add_at_store_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = StoreCustomerForm(request.POST)
            if form.is_valid():
                store = form.cleaned_data["store"]
                try:
                    result = customer_create_at_store(store=store, data=form.customer_input())
                except CustomerValidationError as error:
                    form.add_service_errors(error.errors)
                except NumberSequenceExhausted as error:
                    form.add_error(None, str(error))
                else:
                    return self._store_customer_created(request, store, result)
        else:
            store = Store.objects.filter(pk=request.GET.get("store") or None).first()
            form = StoreCustomerForm(initial={"store": store})
        adminform = helpers.AdminForm(form, form.fieldsets, {})
        context = {
            **self.admin_site.each_context(request),
            "title": "Add customer at store",
            "opts": self.opts,
            "adminform": adminform,
            "form": form,
            "media": self.media + adminform.media,
        }
        return TemplateResponse(request, "customers/add_customer_at_store.html", context)

    def _store_customer_created(self, request, store, result):
        if result.mode == "async":
            customer = result.async_customer
            alias = store.channel_database.alias
            reason = "the store is offline" if store.offline else "its profile creates async"
            self.log_addition(request, customer, [{"added": {}}])
            self.message_user(
                request,
                f"Customer “{customer.name}” created as async customer "
                f"{customer.async_customer_id} in channel database {store.channel_database} "
                f"({alias}), Pending sync: store {store.number} works async ({reason}).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(channel_change_url(customer, alias))
        customer = result.customer
        self.log_addition(request, customer, [{"added": {}}])
        self.message_user(
            request,
            f"Customer “{customer.party.name}” created customer account {customer.account} "
            f"at HQ (real-time call) and in channel database {store.channel_database}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))


@admin.register(Address)
class AddressAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    list_display = [
        "location_id",
        "party",
        "purpose",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "is_primary",
        "async_address_id",
    ]
    list_filter = ["purpose", "is_primary", "country"]
    search_fields = ["location_id", "street", "city", "zip", "party__name", "async_address_id"]
    list_select_related = ["party"]
    raw_id_fields = ["party"]
    readonly_fields = ["async_address_id"]

    def customer_filter(self, obj):
        return {"party_id": obj.party_id}

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Channels and transactions know the address by its location id.
        return [*readonly, "location_id"] if obj else readonly

    def get_changeform_initial_data(self, request):
        return {
            "location_id": location_id_for(None),
            **super().get_changeform_initial_data(request),
        }


@admin.register(ContactInfo)
class ContactInfoAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    list_display = ["party", "type", "value", "is_primary"]
    list_filter = ["type", "is_primary"]
    search_fields = ["value", "party__name"]
    list_select_related = ["party"]
    raw_id_fields = ["party"]

    def customer_filter(self, obj):
        return {"party_id": obj.party_id}


@admin.register(CustomerAttributeValue)
class CustomerAttributeValueAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    list_display = ["customer", "attribute", "value"]
    list_filter = ["attribute"]
    search_fields = ["customer__account", "attribute__name"]
    list_select_related = ["customer", "attribute"]
    raw_id_fields = ["customer"]

    def customer_filter(self, obj):
        return {"pk": obj.customer_id}


@admin.register(CustomerAffiliation)
class CustomerAffiliationAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    list_display = ["customer", "affiliation"]
    list_filter = ["affiliation"]
    search_fields = ["customer__account", "affiliation__name"]
    list_select_related = ["customer", "affiliation"]
    raw_id_fields = ["customer"]

    def customer_filter(self, obj):
        return {"pk": obj.customer_id}


# --- Channel records (per channel database) -------------------------------------------


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


# --- HQ staging (what P-0001 brought) -------------------------------------------------


def staged_synchronize(
    modeladmin, request, *, customer_ids: Sequence[int] = (), address_ids: Sequence[int] = ()
) -> None:
    """Put the failed ones among these staged rows back to pending and queue one
    "Synchronize customers and channel requests" run for exactly these rows; the
    messages say what was queued (with a link to the run) or why not."""
    extra = {}
    try:
        with transaction.atomic(using=HQ):  # back to pending only with the run requested
            if customer_ids:
                staged_records_retry(model=StagedAsyncCustomer, ids=customer_ids)
                extra["staged_customer_ids"] = sorted(customer_ids)
            if address_ids:
                staged_records_retry(model=StagedAsyncAddress, ids=address_ids)
                extra["staged_address_ids"] = sorted(address_ids)
            runs, refused = job_runs_request(
                job=Job.ASYNC_CUSTOMERS, extra=extra, user=request.user, via=VIA_ADMIN
            )
    except JobRequestError as error:
        modeladmin.message_user(request, str(error), messages.ERROR)
        return
    job_requests_report(modeladmin, request, runs, refused)


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
    "country": "4em",
}


class StagedAsyncCustomerAddressInline(StagedInlineMixin, admin.TabularInline):
    model = StagedAsyncCustomerAddress
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
        if db_field.name == "country":
            field.help_text = "ISO 3166-1 alpha-3, e.g. USA"
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


STATUS_PAGE_SIZE = 100
STATUS_PAGE_ORDER = {
    AsyncStatus.FAILED: 0,
    AsyncStatus.UPLOADED: 1,
    AsyncStatus.PENDING_UPLOAD: 2,
    AsyncStatus.CREATED: 3,
    AsyncStatus.SYNCHRONIZED: 4,
}
STAGED_CHANGE_URL = {
    "customer": "admin:customers_stagedasynccustomer_change",
    "address": "admin:customers_stagedasyncaddress_change",
}
CHANNEL_MODEL = {"customer": AsyncCustomer, "address": AsyncAddress}


@admin.register(StagedAsyncCustomer)
class StagedAsyncCustomerAdmin(StagingAdmin):
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

    # --- Customer synchronization status page (SPEC section 8) ---

    def get_urls(self):
        return [
            path(
                "sync-status/",
                self.admin_site.admin_view(self.sync_status_view),
                name="customers_sync_status",
            ),
            *super().get_urls(),
        ]

    def sync_status_view(self, request):
        """One row per async customer and async address in every channel database, with
        a dashboard per store; failed rows are synchronized again from here (POST)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        may_synchronize = self.has_run_async_customers_permission(request)
        if request.method == "POST":
            if not may_synchronize:
                raise PermissionDenied
            self._synchronize_checked(request)
            return HttpResponseRedirect(request.get_full_path())

        stores = list(Store.objects.order_by("number").values_list("number", "name"))
        form = SyncStatusFilterForm(request.GET or None, stores=stores)
        filters = form.cleaned_data if form.is_valid() else {}
        store, kind, status = (filters.get(k) or None for k in ("store", "kind", "status"))
        rows = [
            row
            for row in async_status_rows(store=store, details=True)
            if kind is None or row["kind"] == kind
        ]
        summary = async_status_summary(rows)
        if status:
            rows = [row for row in rows if row["status"] == status]
        # What needs a person first: failed, then what is still on its way.
        rows.sort(
            key=lambda row: (STATUS_PAGE_ORDER[row["status"]], row["store"], row["created_at"])
        )
        page = Paginator(rows, STATUS_PAGE_SIZE).get_page(request.GET.get("page"))
        aliases = dict(ChannelDatabase.objects.values_list("name", "alias"))
        for row in page.object_list:
            self._add_links(row, aliases)

        def query(**changes):
            params = {"store": store, "kind": kind, "status": status, **changes}
            return "?" + urlencode({k: v for k, v in params.items() if v})

        for line in summary:
            line["links"] = {
                s: query(store=line["store"] or store, status=s) for s in AsyncStatus.ALL
            }
        context = {
            **self.admin_site.each_context(request),
            "title": "Customer synchronization status",
            "opts": self.opts,
            "form": form,
            "summary": summary,
            "statuses": [(s, ASYNC_STATUS_LABELS[s]) for s in AsyncStatus.ALL],
            "page": page,
            "previous_url": query(page=page.previous_page_number())
            if page.has_previous()
            else None,
            "next_url": query(page=page.next_page_number()) if page.has_next() else None,
            "result_count": len(rows),
            "may_synchronize": may_synchronize,
            "may_fix": self.has_change_permission(request),
            "has_failed_rows": any(row["status"] == AsyncStatus.FAILED for row in rows),
            "page_size": STATUS_PAGE_SIZE,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/sync_status.html", context)

    @staticmethod
    def _add_links(row: dict, aliases: dict[str, str]) -> None:
        row["status_label"] = ASYNC_STATUS_LABELS[row["status"]]
        row["staged_url"] = (
            reverse(STAGED_CHANGE_URL[row["kind"]], args=[row["staged_id"]])
            if row["staged_id"]
            else None
        )
        alias = aliases.get(row["channel_database"], row["channel_database"])
        row["channel_url"] = channel_changelist_url(
            CHANNEL_MODEL[row["kind"]], alias, q=row["async_id"]
        )
        row["customer_url"] = (
            f"{reverse('admin:customers_customer_changelist')}?"
            f"{urlencode({'q': row['customer_account']})}"
            if row["customer_account"]
            and row["status"] in (AsyncStatus.CREATED, AsyncStatus.SYNCHRONIZED)
            else None
        )
        row["checkbox"] = (
            f"{row['kind']}:{row['staged_id']}" if row["status"] == AsyncStatus.FAILED else None
        )

    def _synchronize_checked(self, request) -> None:
        ids: dict[str, list[int]] = {"customer": [], "address": []}
        for value in request.POST.getlist("selected"):
            kind, _, pk = value.partition(":")
            if kind in ids and pk.isdigit():
                ids[kind].append(int(pk))
        if not ids["customer"] and not ids["address"]:
            self.message_user(
                request, "Check the failed rows to synchronize again first.", messages.WARNING
            )
            return
        staged_synchronize(self, request, customer_ids=ids["customer"], address_ids=ids["address"])


@admin.register(StagedAsyncAddress)
class StagedAsyncAddressAdmin(StagingAdmin):
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
