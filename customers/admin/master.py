"""Admin for HQ setup (customer groups, attributes, affiliations) and the HQ customer
master (parties, customers, addresses, contact info, attribute values, affiliations),
plus the "Add customer at store" page (R1) reached from the store and customer pages.

An edit of a customer or of a row that belongs to it raises the customer's version,
so distribution (R7, 1010) sends it to the channel databases again, and brings its
duplicate match keys (R12) up to date.
"""

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from commerce.admin_display import ChoicesFilter, short_guid
from commerce.admin_urls import admin_view_paths
from commerce.events import EventAction, EventKind, event_record
from commerce.models import Store
from customers.admin.addresses import ADDRESS_FIELDS
from customers.admin.erasure import EraseCustomerMixin
from customers.admin.fix_changes import fix_changes
from customers.admin.merge import merged_display
from customers.admin.reference import AttributeColumns
from customers.admin.store_all_stores import store_customer_created, store_form_create
from customers.admin.timeline import event_line
from customers.attribute_forms import CustomerAttributeForm, CustomerAttributeValueForm
from customers.forms import (
    AddressCountryForm,
    CustomerAdminForm,
    PartyAdminForm,
    StoreCustomerForm,
)
from customers.models import (
    Address,
    Affiliation,
    AsyncCustomerLink,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    Party,
    attribute_value_text,
    location_id_for,
)
from customers.selectors.events import customer_events
from customers.services.accounts import account_numbers_allocate
from customers.services.changes import EDITABLE_FIELDS, PARTY_FIELDS
from customers.services.duplicates import customer_match_keys_refresh
from customers.services.master import customer_fields_changed, customer_version_raise


def _changed_customer_fields(form, formsets) -> set[str]:
    """The editable fields and attributes an admin save changed (R11 field times)."""
    changed = set(form.changed_data) & set(EDITABLE_FIELDS)
    for formset in formsets:
        if formset.model is CustomerAttributeValue:
            for inline in formset.forms:
                if inline.has_changed() and inline.instance.attribute_id:
                    changed.add(f"attributes.{inline.instance.attribute.name}")
    return changed


class RaisesCustomerVersionMixin:
    """Admin for a row that belongs to a customer, directly (``customer``) or through its
    party (``party``): an edit makes the customer newer."""

    customer_link = "customer"

    def raise_customer_versions(self, objs) -> None:
        if self.customer_link == "party":
            party_ids = [obj.party_id for obj in objs]
            customer_version_raise(party_ids=party_ids)
            customer_match_keys_refresh(party_ids=party_ids)  # R12: an address may be the key's
        else:
            customer_version_raise(customer_ids=[obj.customer_id for obj in objs])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.raise_customer_versions([obj])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self.raise_customer_versions([obj])

    def delete_queryset(self, request, queryset):
        objs = list(queryset)
        super().delete_queryset(request, queryset)
        self.raise_customer_versions(objs)


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
class CustomerAttributeAdmin(AttributeColumns, admin.ModelAdmin):
    form = CustomerAttributeForm


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
    form = AddressCountryForm
    extra = 0
    fields = ["location_id", *ADDRESS_FIELDS, "async_address_id"]
    readonly_fields = ["async_address_id"]


class ContactInfoInline(admin.TabularInline):
    model = ContactInfo
    extra = 0


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    form = PartyAdminForm
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
            customer_version_raise(party_ids=[form.instance.pk])
            customer_fields_changed(  # R11: a store's older edit keeps these HQ values
                fields=set(form.changed_data) & set(PARTY_FIELDS), party_ids=[form.instance.pk]
            )
            customer_match_keys_refresh(party_ids=[form.instance.pk])  # R12: name, addresses


class CustomerAttributeValueInline(admin.TabularInline):
    """Each value in the input of its attribute's type (no JSON)."""

    model = CustomerAttributeValue
    form = CustomerAttributeValueForm
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A fresh form class per call: this request's attributes, read once for every row.
        CustomerAttributeValueForm.with_attributes(formset.form)
        return formset


class CustomerAffiliationInline(admin.TabularInline):
    model = CustomerAffiliation
    extra = 0


class AsyncCustomerLinkInline(admin.TabularInline):
    """R12: store async customers a review linked to this account (view only)."""

    model = AsyncCustomerLink
    extra = 0
    fields = ["async_customer_id", "channel_database", "linker", "linked_at"]
    readonly_fields = fields
    can_delete = False
    verbose_name = "linked async customer"

    def has_add_permission(self, request, obj=None):
        return False


class AsyncOriginFilter(ChoicesFilter):
    title = "origin"
    parameter_name = "origin"
    options = {
        "async": ("Converted from an async customer", Q(async_customer_id__isnull=False)),
        "hq": ("Created at HQ", Q(async_customer_id__isnull=True)),
    }


@admin.register(Customer)
class CustomerAdmin(EraseCustomerMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = [
        "account",
        "name",
        "legal_entity",
        "customer_group",
        "contact",
        "async_id",
        "version",
        "modified_at",
    ]
    list_filter = [AsyncOriginFilter, "legal_entity", "customer_group__code", "party__type"]
    search_fields = ["account", "party__name", "email", "phone", "async_customer_id"]
    list_select_related = ["legal_entity", "party", "customer_group__legal_entity"]
    # The party by its name: picked by name when the customer is added, a link to its
    # names (the party's page) afterwards.
    autocomplete_fields = ["party"]
    readonly_fields = ["async_customer_id", "version", "created_at", "modified_at", "addresses"]
    inlines = [CustomerAttributeValueInline, CustomerAffiliationInline, AsyncCustomerLinkInline]

    @admin.display(description="name", ordering="party__name")
    def name(self, obj):
        return obj.party.name

    @admin.display(description="email / phone", ordering="email")
    def contact(self, obj):
        return format_html("{}<br>{}", obj.email or "-", obj.phone or "-")

    @admin.display(description="async id", ordering="async_customer_id")
    def async_id(self, obj):
        return short_guid(obj.async_customer_id)

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

    merged = merged_display  # R13: a merged account's page names its survivor

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.merged_into_id is not None:
            readonly.insert(0, "merged")
        # Channels know the customer by legal entity and account number; its names are
        # edited on its party's page.
        return [*readonly, "legal_entity", "account", "party"] if obj else readonly

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # Who the customer is first: legal entity, account and the party by its name.
        first = [f for f in ("legal_entity", "account", "party") if f in fields]
        return [*first, *(f for f in fields if f not in first)]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        group = form.base_fields.get("customer_group")
        if obj is not None and group is not None:
            # Only the groups of the customer's own legal entity.
            group.queryset = group.queryset.filter(legal_entity_id=obj.legal_entity_id)
            group.label_from_instance = lambda g: f"{g.code} – {g.name}" if g.name else g.code
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
            customer_version_raise(customer_ids=[form.instance.pk])
            customer_fields_changed(  # R11: a store's older edit keeps these HQ values
                fields=_changed_customer_fields(form, formsets), customer_ids=[form.instance.pk]
            )
            # README "Event log": who edited the customer at HQ, and which fields (names
            # only: the values are the customer's data).
            changed = fix_changes(form, formsets)
            event_record(
                kind=EventKind.ACCOUNT,
                key=form.instance.account,
                account=form.instance.account,
                action=EventAction.EDITED,
                actor=request.user,
                detail=("changed: " + ", ".join(sorted({label for label, *_ in changed})))
                if changed
                else "",
            )
        if not change or form.has_changed():  # R12: email and phone are match keys
            customer_match_keys_refresh(customer_ids=[form.instance.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # README "Event log": the log of the customer and of every record that became it.
        customer = self.get_object(request, object_id)
        log = [event_line(event) for event in customer_events(customer)] if customer else []
        return super().change_view(
            request, object_id, form_url, {"event_log": log, **(extra_context or {})}
        )

    # --- Add customer at store (R1) ---

    def get_urls(self):
        return [
            *admin_view_paths(
                self, ("add-at-store/", self.add_at_store_view, "customers_customer_add_at_store")
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
                result = store_form_create(form, store)
                if result is not None:
                    return self._store_customer_created(request, store, result)
        else:
            store = Store.objects.filter(pk=request.GET.get("store") or None).first()
            if store is not None:  # the store's own form (README "Store customers")
                return HttpResponseRedirect(
                    reverse("admin:customers_store_customer_add", args=[store.pk])
                )
            form = StoreCustomerForm()
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
        # Ends on the store customer page of the new customer (README "Store customers").
        return store_customer_created(self, request, store, result)


@admin.register(Address)
class AddressAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    form = AddressCountryForm
    customer_link = "party"
    list_display = [
        "location_id",
        "party",
        "purpose",
        "address_text",
        "country",
        "is_primary",
        "async_id",
    ]
    list_filter = ["purpose", "is_primary", "country"]
    search_fields = ["location_id", "street", "city", "zip", "party__name", "async_address_id"]
    list_select_related = ["party"]
    autocomplete_fields = ["party"]
    readonly_fields = ["async_address_id"]

    @admin.display(description="address", ordering="street")
    def address_text(self, obj):
        return ", ".join(p for p in (obj.street, obj.city, obj.state, obj.zip) if p)

    @admin.display(description="async id", ordering="async_address_id")
    def async_id(self, obj):
        return short_guid(obj.async_address_id)

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
    customer_link = "party"
    list_display = ["party", "type", "value", "is_primary"]
    list_filter = ["type", "is_primary"]
    search_fields = ["value", "party__name"]
    list_select_related = ["party"]
    autocomplete_fields = ["party"]


@admin.register(CustomerAttributeValue)
class CustomerAttributeValueAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    form = CustomerAttributeValueForm
    list_display = ["customer", "customer_name", "attribute", "value_text"]
    list_filter = ["attribute"]
    search_fields = ["customer__account", "attribute__name"]
    list_select_related = ["customer__party", "attribute"]
    autocomplete_fields = ["customer"]

    @admin.display(description="name", ordering="customer__party__name")
    def customer_name(self, obj):
        return obj.customer.party.name

    @admin.display(description="value")
    def value_text(self, obj):
        return attribute_value_text(obj.value)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return CustomerAttributeValueForm.with_attributes(form)


@admin.register(CustomerAffiliation)
class CustomerAffiliationAdmin(RaisesCustomerVersionMixin, admin.ModelAdmin):
    list_display = ["customer", "customer_name", "affiliation"]
    list_filter = ["affiliation"]
    search_fields = ["customer__account", "customer__party__name", "affiliation__name"]
    list_select_related = ["customer__party", "affiliation"]
    autocomplete_fields = ["customer"]

    @admin.display(description="name", ordering="customer__party__name")
    def customer_name(self, obj):
        return obj.customer.party.name
