"""Admin for the organization (legal entities, stores, channel databases, number
sequences, functionality profiles) and sales transactions.

The commerce app imports nothing from customers: pages of the customers app are
reached through their URL names only. The actions that request jobs (upload,
distribution, the whole conversion, order synchronization, statement posting) come
from ``jobs.admin_actions``.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from commerce.admin_channel import ChannelModelAdmin, ChannelTabularInline, UploadedFilter
from commerce.db import channel_aliases, is_channel_alias
from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    SalesLine,
    SalesOrder,
    SalesOrderLine,
    SalesTransaction,
    Statement,
    Store,
)
from jobs.admin_actions import (
    JobPermissionsMixin,
    post_statement,
    run_conversion,
    run_distribution,
    run_upload,
    synchronize_order,
)

admin.site.site_header = "Retail HQ"
# The tables (transactions, status, job runs) need the width more than the nav sidebar.
admin.site.enable_nav_sidebar = False
admin.site.site_title = "Retail HQ"
admin.site.index_title = "Headquarters and store channel databases"

LINE_AMOUNT = ExpressionWrapper(
    F("lines__quantity") * F("lines__unit_price"),
    output_field=DecimalField(max_digits=20, decimal_places=2),
)


def with_line_totals(queryset):
    """Transactions with their line count and total, in the same query."""
    return queryset.annotate(line_count=Count("lines"), total_amount=Sum(LINE_AMOUNT))


class LineTotalsMixin:
    def get_queryset(self, request):
        return with_line_totals(super().get_queryset(request))

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    @admin.display(description="total", ordering="total_amount")
    def total_amount(self, obj):
        return obj.total_amount


# --- Organization -------------------------------------------------------------------


class NumberSequenceInline(admin.StackedInline):
    model = NumberSequence
    can_delete = False
    extra = 1
    max_num = 1


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "currency", "next_account", "store_count"]
    search_fields = ["code", "name"]
    list_filter = ["currency"]
    list_select_related = ["customer_sequence"]
    inlines = [NumberSequenceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(store_count=Count("stores"))

    @admin.display(description="next customer account")
    def next_account(self, obj):
        sequence = getattr(obj, "customer_sequence", None)
        return sequence.format(sequence.next_number) if sequence else "-"

    @admin.display(description="stores", ordering="store_count")
    def store_count(self, obj):
        return obj.store_count


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin):
    list_display = ["legal_entity", "prefix", "digits", "next_number", "next_account"]
    search_fields = ["legal_entity__code", "prefix"]
    list_select_related = ["legal_entity"]

    @admin.display(description="next customer account")
    def next_account(self, obj):
        return obj.format(obj.next_number)


@admin.register(FunctionalityProfile)
class FunctionalityProfileAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "create_customer_in_async_mode", "store_count"]
    list_filter = ["create_customer_in_async_mode"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(store_count=Count("stores"))

    @admin.display(description="stores", ordering="store_count")
    def store_count(self, obj):
        return obj.store_count


class ChannelDatabaseForm(forms.ModelForm):
    alias = forms.ChoiceField(help_text="A channel database alias configured in the settings.")

    class Meta:
        model = ChannelDatabase
        fields = ["name", "alias"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        aliases = channel_aliases()
        current = self.instance.alias
        if current and current not in aliases:
            aliases = [current, *aliases]
        self.fields["alias"].choices = [(a, a) for a in aliases]


@admin.register(ChannelDatabase)
class ChannelDatabaseAdmin(JobPermissionsMixin, admin.ModelAdmin):
    form = ChannelDatabaseForm
    list_display = ["name", "alias", "configured", "store_count", "channel_data"]
    search_fields = ["name", "alias"]
    actions = [run_upload, run_distribution, run_conversion]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(store_count=Count("stores"))

    @admin.display(boolean=True, description="configured")
    def configured(self, obj):
        return is_channel_alias(obj.alias)

    @admin.display(description="stores", ordering="store_count")
    def store_count(self, obj):
        return obj.store_count

    @admin.display(description="channel data")
    def channel_data(self, obj):
        if not is_channel_alias(obj.alias):
            return "-"
        links = [
            ("Async customers", "customers_asynccustomer"),
            ("Async addresses", "customers_asyncaddress"),
            ("Customers", "customers_channelcustomer"),
            ("Transactions", "commerce_channelsalestransaction"),
        ]
        return format_html_join(
            " | ",
            '<a href="{}?channel_db={}">{}</a>',
            ((reverse(f"admin:{name}_changelist"), obj.alias, label) for label, name in links),
        )


@admin.register(Store)
class StoreAdmin(JobPermissionsMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "creates_customers_async",
        "offline",
        "default_customer",
    ]
    list_filter = ["legal_entity", "channel_database", "functionality_profile", "offline"]
    search_fields = ["number", "name"]
    list_select_related = [
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "default_customer",
    ]
    autocomplete_fields = ["default_customer"]
    actions = [post_statement]

    @admin.display(boolean=True, description="creates customers async")
    def creates_customers_async(self, obj):
        return obj.creates_customers_async


# --- Sales transactions at the stores (channel databases) ---------------------------


class ChannelSalesLineInline(ChannelTabularInline):
    model = ChannelSalesLine
    extra = 0
    fields = ["line_number", "item", "quantity", "unit_price"]


@admin.register(ChannelSalesTransaction)
class ChannelSalesTransactionAdmin(LineTotalsMixin, ChannelModelAdmin):
    list_display = [
        "transaction_id",
        "store_number",
        "type",
        "business_date",
        "customer_account",
        "async_customer_id",
        "line_count",
        "total_amount",
        "uploaded",
    ]
    list_filter = [UploadedFilter, "type", "store_number", "business_date"]
    search_fields = ["transaction_id", "store_number", "customer_account", "async_customer_id"]
    date_hierarchy = "business_date"
    readonly_fields = ["created_at", "upload_session_id", "uploaded_at"]
    inlines = [ChannelSalesLineInline]

    @admin.display(boolean=True, description="uploaded", ordering="upload_session_id")
    def uploaded(self, obj):
        return obj.upload_session_id is not None


@admin.register(ChannelSalesLine)
class ChannelSalesLineAdmin(ChannelModelAdmin):
    list_display = ["transaction", "line_number", "item", "quantity", "unit_price", "amount"]
    search_fields = ["transaction__transaction_id", "item"]
    list_select_related = ["transaction"]
    raw_id_fields = ["transaction"]

    @admin.display(description="amount")
    def amount(self, obj):
        return obj.quantity * obj.unit_price


# --- Sales transactions at HQ -------------------------------------------------------


class SalesLineInline(admin.TabularInline):
    model = SalesLine
    extra = 0
    fields = ["line_number", "item", "quantity", "unit_price"]


@admin.register(SalesTransaction)
class SalesTransactionAdmin(JobPermissionsMixin, LineTotalsMixin, admin.ModelAdmin):
    list_display = [
        "transaction_id",
        "store",
        "type",
        "business_date",
        "status",
        "customer_account",
        "async_customer_id",
        "total_amount",
        "sales_order",
        "statement",
        "short_error",
    ]
    list_filter = ["status", "type", "store", "channel_database", "business_date"]
    search_fields = [
        "transaction_id",
        "customer_account",
        "posted_customer_account",
        "async_customer_id",
        "sales_order__order_number",
        "last_error",
    ]
    list_select_related = ["store", "sales_order", "statement__store"]
    date_hierarchy = "business_date"
    # Written by the upload (P-0001), order synchronization and statement posting.
    readonly_fields = [
        "channel_database",
        "status",
        "last_error",
        "attempts",
        "processed_at",
        "upload_session",
        "uploaded_at",
        "delivery_location_id",
        "statement",
        "posted_customer_account",
        "sales_order",
    ]
    inlines = [SalesLineInline]

    def has_add_permission(self, request):
        return False  # HQ transactions come from the stores through the upload (P-0001)

    actions = [synchronize_order]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "transaction_id", "store"] if obj else readonly

    @admin.display(description="sales order", ordering="sales_order__order_number")
    def sales_order(self, obj):
        order = getattr(obj, "sales_order", None)
        return order.order_number if order else "-"

    @admin.display(description="last error", ordering="last_error")
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error


@admin.register(SalesLine)
class SalesLineAdmin(admin.ModelAdmin):
    list_display = ["transaction", "line_number", "item", "quantity", "unit_price", "amount"]
    search_fields = ["transaction__transaction_id", "item"]
    list_select_related = ["transaction"]
    raw_id_fields = ["transaction"]

    @admin.display(description="amount")
    def amount(self, obj):
        return obj.amount


# --- Sales orders and statements (written by order sync and statement posting) -----


class ViewOnlyMixin:
    """Rows the jobs write: shown, never added or edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SalesOrderLineInline(ViewOnlyMixin, admin.TabularInline):
    model = SalesOrderLine
    extra = 0


@admin.register(SalesOrder)
class SalesOrderAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = [
        "order_number",
        "transaction",
        "store",
        "customer_account",
        "delivery_location_id",
        "total",
        "created_at",
    ]
    list_filter = ["store"]
    search_fields = ["order_number", "transaction__transaction_id", "customer_account"]
    list_select_related = ["transaction", "store"]
    date_hierarchy = "created_at"
    inlines = [SalesOrderLineInline]


@admin.register(SalesOrderLine)
class SalesOrderLineAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["order", "line_number", "item", "quantity", "unit_price"]
    search_fields = ["order__order_number", "item"]
    list_select_related = ["order"]


@admin.register(Statement)
class StatementAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = [
        "store",
        "business_date",
        "status",
        "transaction_count",
        "total",
        "short_errors",
        "calculated_at",
        "posted_at",
        "transactions_link",
    ]
    list_filter = ["status", "store", "business_date"]
    search_fields = ["store__number"]
    list_select_related = ["store"]
    date_hierarchy = "business_date"

    @admin.display(description="errors")
    def short_errors(self, obj):
        text = "; ".join(str(e) for e in obj.errors or [])
        return (text[:80] + "…") if len(text) > 80 else text

    @admin.display(description="transactions")
    def transactions_link(self, obj):
        url = reverse("admin:commerce_salestransaction_changelist")
        return format_html('<a href="{}?statement={}">{}</a>', url, obj.pk, "Transactions")
