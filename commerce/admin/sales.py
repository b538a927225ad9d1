"""Admin pages of sales transactions: at the stores (the channel databases' rows,
with whether they were uploaded) and at HQ (written by the upload, P-0001; read only
once posted, R9). Totals and prices carry their store's currency, known per request.
"""

import re

from django.contrib import admin
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.urls import reverse
from django.utils.html import format_html

from commerce.admin_channel import ChannelModelAdmin, ChannelTabularInline, UploadedFilter
from commerce.admin_display import money, money_html, short_guid
from commerce.models import (
    ChannelSalesLine,
    ChannelSalesTransaction,
    SalesLine,
    SalesTransaction,
    Store,
    TransactionStatus,
)

LINE_AMOUNT = ExpressionWrapper(
    F("lines__quantity") * F("lines__unit_price"),
    output_field=DecimalField(max_digits=20, decimal_places=2),
)


def with_line_totals(queryset):
    """Transactions with their line count and total, in the same query."""
    return queryset.annotate(line_count=Count("lines"), total_amount=Sum(LINE_AMOUNT))


def store_currencies(request) -> dict[str, str]:
    """Store number -> its legal entity's currency; one HQ query per request (channel
    rows name their store by number only)."""
    currencies = getattr(request, "_store_currencies", None)
    if currencies is None:
        currencies = dict(Store.objects.values_list("number", "legal_entity__currency"))
        request._store_currencies = currencies
    return currencies


class LineTotalsMixin:
    def get_queryset(self, request):
        return with_line_totals(super().get_queryset(request))

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    def currency(self, request, obj) -> str:
        return obj.store.legal_entity.currency

    @admin.display(description="total", ordering="total_amount")
    def total_amount(self, obj):
        return money_html(obj.total_amount, "")  # replaced per request, with the currency

    def get_list_display(self, request):
        """``total_amount`` with the currency, known per request."""

        @admin.display(description="total", ordering="total_amount")
        def total_amount(obj):
            return money_html(obj.total_amount, self.currency(request, obj))

        return [
            total_amount if name == "total_amount" else name
            for name in super().get_list_display(request)
        ]


# A GUID in an error (a reason from resolving an async record starts with its GUID),
# cut short in the lists.
GUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)


# --- Sales transactions at the stores (channel databases) ---------------------------


class ChannelSalesLineInline(ChannelTabularInline):
    model = ChannelSalesLine
    extra = 0
    fields = ["line_number", "item", "quantity", "unit_price"]


def transaction_customer(obj):
    """The account a transaction names, else its async customer's GUID, short."""
    account = getattr(obj, "posted_customer_account", "") or obj.customer_account
    if account:
        return account
    if obj.async_customer_id:
        return format_html("async {}", short_guid(obj.async_customer_id))
    return "-"


@admin.register(ChannelSalesTransaction)
class ChannelSalesTransactionAdmin(LineTotalsMixin, ChannelModelAdmin):
    list_display = [
        "transaction_id",
        "store_number",
        "type",
        "business_date",
        "customer",
        "line_count",
        "total_amount",
        "uploaded",
    ]
    list_filter = [UploadedFilter, "type", "store_number", "business_date"]
    search_fields = ["transaction_id", "store_number", "customer_account", "async_customer_id"]
    date_hierarchy = "business_date"
    readonly_fields = ["created_at", "upload_session_id", "uploaded_at"]
    inlines = [ChannelSalesLineInline]

    def currency(self, request, obj) -> str:
        return store_currencies(request).get(obj.store_number, "")

    @admin.display(description="customer", ordering="customer_account")
    def customer(self, obj):
        return transaction_customer(obj)

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
        return money_html(obj.quantity * obj.unit_price, "")  # replaced per request

    def get_list_display(self, request):
        """Prices and amounts with the currency of the line's store (known per request)."""

        @admin.display(description="unit price", ordering="unit_price")
        def unit_price(obj):
            return money_html(
                obj.unit_price, store_currencies(request).get(obj.transaction.store_number, "")
            )

        @admin.display(description="amount")
        def amount(obj):
            currency = store_currencies(request).get(obj.transaction.store_number, "")
            return money_html(obj.quantity * obj.unit_price, currency)

        shown = {"unit_price": unit_price, "amount": amount}
        return [shown.get(name, name) for name in super().get_list_display(request)]


# --- Sales transactions at HQ -------------------------------------------------------


class PostedReadOnlyMixin:
    """A posted transaction (R9) is history: shown, never changed or deleted."""

    @staticmethod
    def posted(transaction) -> bool:
        return transaction is not None and transaction.status == TransactionStatus.POSTED

    def has_change_permission(self, request, obj=None):
        return not self.posted(self.transaction_of(obj)) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return not self.posted(self.transaction_of(obj)) and super().has_delete_permission(
            request, obj
        )

    def transaction_of(self, obj):
        return obj


class SalesLineInline(PostedReadOnlyMixin, admin.TabularInline):
    model = SalesLine
    extra = 0
    fields = ["line_number", "item", "quantity", "unit_price", "amount"]
    readonly_fields = ["amount"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transaction__store__legal_entity")

    @admin.display(description="amount")
    def amount(self, obj):
        if obj.pk is None:
            return "-"
        return money_html(obj.amount, obj.transaction.store.legal_entity.currency)

    def has_add_permission(self, request, obj=None):
        return not self.posted(obj) and super().has_add_permission(request, obj)


@admin.register(SalesTransaction)
class SalesTransactionAdmin(PostedReadOnlyMixin, LineTotalsMixin, admin.ModelAdmin):
    # Key columns first and narrow ones merged (customer, "posted to"), so status and
    # last error stay on screen at 1440 px beside the filters.
    list_display = [
        "transaction_id",
        "store",
        "type",
        "business_date",
        "status",
        "customer",
        "total_amount",
        "posted_to",
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
    list_select_related = ["store__legal_entity", "sales_order", "statement__store"]
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
        "statement_link",
        "posted_customer_account",
        "sales_order",
        "total",
    ]
    fields = [
        "transaction_id",
        "store",
        "channel_database",
        "type",
        "business_date",
        "status",
        "total",
        "customer_account",
        "async_customer_id",
        "posted_customer_account",
        "delivery_address",
        "delivery_location_id",
        "statement_link",
        "sales_order",
        "last_error",
        "attempts",
        "processed_at",
        "upload_session",
        "uploaded_at",
    ]
    inlines = [SalesLineInline]

    def has_add_permission(self, request):
        return False  # HQ transactions come from the stores through the upload (P-0001)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "transaction_id", "store"] if obj else readonly

    @admin.display(description="customer", ordering="customer_account")
    def customer(self, obj):
        return transaction_customer(obj)

    @admin.display(description="statement / order")
    def posted_to(self, obj):
        order = getattr(obj, "sales_order", None)
        if order is not None:
            return order.order_number
        if obj.statement_id:
            url = reverse("admin:commerce_statement_change", args=[obj.statement_id])
            return format_html('<a href="{}" class="nowrap">{}</a>', url, obj.statement)
        return "-"

    @admin.display(description="sales order", ordering="sales_order__order_number")
    def sales_order(self, obj):
        order = getattr(obj, "sales_order", None)
        return order.order_number if order else "-"

    @admin.display(description="statement")
    def statement_link(self, obj):
        return self.posted_to(obj) if obj.statement_id else "-"

    @admin.display(description="total")
    def total(self, obj):
        return money(obj.total, obj.store.legal_entity.currency)

    @admin.display(description="last error", ordering="last_error")
    def short_error(self, obj):
        # GUIDs cut to their first block, so the reason fits; the statement's page names
        # the customer, and the whole text is on hover.
        text = GUID.sub(lambda m: m[0][:8] + "…", obj.last_error)
        text = (text[:140] + "…") if len(text) > 140 else text
        return format_html('<span class="error-text" title="{}">{}</span>', obj.last_error, text)


@admin.register(SalesLine)
class SalesLineAdmin(PostedReadOnlyMixin, admin.ModelAdmin):
    list_display = ["transaction", "line_number", "item", "quantity", "unit_price", "amount"]
    search_fields = ["transaction__transaction_id", "item"]
    list_select_related = ["transaction__store__legal_entity"]
    raw_id_fields = ["transaction"]

    def transaction_of(self, obj):
        return obj.transaction if obj is not None else None

    @admin.display(description="unit price", ordering="unit_price")
    def unit_price(self, obj):
        return money_html(obj.unit_price, obj.transaction.store.legal_entity.currency)

    @admin.display(description="amount")
    def amount(self, obj):
        return money_html(obj.amount, obj.transaction.store.legal_entity.currency)
