"""Admin for the organization (legal entities, stores, channel databases, number
sequences, functionality profiles), sales transactions, orders and statements.

The commerce app imports nothing from customers: pages of the customers app are
reached through their URL names only, and the async customers a statement's errors
name are looked up through ``async_record_lookup_register``, which the customers admin
fills. Nor does it import jobs: the actions that request jobs (upload, distribution,
the whole conversion, order synchronization, statement posting and posting again) and
the "last checked" column are added to these pages by ``jobs.admin_commerce``, which
registers its subclasses of the admins below in their place.

For the operator (README "Admin"): money with its currency (``commerce.admin_display``),
posted transactions and statements read only (R9), a statement's transactions and its
errors as sentences linking the records that block it, and lists whose key columns fit
at 1440 px.
"""

import re
import uuid
from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Sum,
)
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from commerce.admin_channel import ChannelModelAdmin, ChannelTabularInline, UploadedFilter
from commerce.admin_display import money, money_html, short_guid
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
    TransactionStatus,
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


# --- Statements: naming the async records that block them (R9) ----------------------

# lookup(*, channel_database, guids) -> {guid: (name, change page url)}, channel_database
# None for any. The customers admin registers one: commerce imports nothing from it.
AsyncRecordLookup = Callable[..., dict[uuid.UUID, tuple[str, str]]]
ASYNC_RECORD_LOOKUPS: list[AsyncRecordLookup] = []


def async_record_lookup_register(lookup: AsyncRecordLookup) -> AsyncRecordLookup:
    """Let statement and job run pages name and link the async customers and addresses
    whose GUIDs their errors hold."""
    if lookup not in ASYNC_RECORD_LOOKUPS:
        ASYNC_RECORD_LOOKUPS.append(lookup)
    return lookup


def async_records_named(
    guids: set[uuid.UUID], channel_database: str | None = None
) -> dict[uuid.UUID, tuple[str, str]]:
    """What the registered lookups know of these GUIDs."""
    records: dict[uuid.UUID, tuple[str, str]] = {}
    if guids:
        for lookup in ASYNC_RECORD_LOOKUPS:
            records.update(lookup(channel_database=channel_database, guids=guids))
    return records


# Statement errors are "<transaction id>: <reason>" or "statement: <reason>"
# (commerce.services); a reason from resolving an async record starts with its GUID.
GUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
# What commerce.services writes on the transactions a blocked statement holds back.
WAITS = re.compile(r"^statement .+ not posted: blocked by ")
BLOCKED_BY = re.compile(r"(?:blocked by |; )(\S+) \(")
ERROR_LINE = re.compile(r"^(?P<subject>[^:]+): (?P<reason>.*)$", re.DOTALL)
ASYNC_REASON = re.compile(
    r"^async (?P<kind>customer|address) (?P<guid>[0-9a-fA-F-]{36})"
    r"(?:: (?P<why>.*)| (?P<state>has not been uploaded to HQ yet))$",
    re.DOTALL,
)


def _sentence_end(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def statement_error_sentences(statement: Statement) -> list:
    """The statement's errors as sentences, each linking the transaction and the async
    customer or address that blocks it (its staged record, where it is fixed)."""
    lines = [ERROR_LINE.match(str(error)) for error in statement.errors or []]
    transaction_ids = {m["subject"] for m in lines if m and m["subject"] != "statement"}
    transactions = dict(
        SalesTransaction.objects.filter(
            store_id=statement.store_id, transaction_id__in=transaction_ids
        ).values_list("transaction_id", "pk")
    )
    guids = set()
    for match in lines:
        reason = ASYNC_REASON.match(match["reason"]) if match else None
        if reason:
            guids.add(uuid.UUID(reason["guid"]))
    records = async_records_named(guids, statement.store.channel_database.name)
    sentences = []
    for error, match in zip(statement.errors or [], lines, strict=True):
        if match is None:
            sentences.append(_sentence_end(str(error)))
            continue
        subject, reason = match["subject"], match["reason"]
        if subject == "statement":
            sentences.append(
                format_html("The statement could not be posted: {}", _sentence_end(reason))
            )
            continue
        pk = transactions.get(subject)
        txn = (
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:commerce_salestransaction_change", args=[pk]),
                subject,
            )
            if pk
            else subject
        )
        blocker = ASYNC_REASON.match(reason)
        if blocker is None:
            sentences.append(
                format_html("Transaction {} cannot be posted: {}", txn, _sentence_end(reason))
            )
            continue
        guid = uuid.UUID(blocker["guid"])
        name, url = records.get(guid, (None, None))
        record = format_html('<a href="{}">{}</a>', url, name) if url else short_guid(guid)
        if blocker["state"]:
            sentences.append(
                format_html(
                    "Transaction {} waits for async {} {}, which has not been uploaded to HQ "
                    "yet: run the upload (P-0001) of channel database {}, then post again.",
                    txn,
                    blocker["kind"],
                    record,
                    statement.store.channel_database.name,
                )
            )
        else:
            sentences.append(
                format_html(
                    "Transaction {} is blocked by async {} {}, which HQ could not create: {} "
                    "Fix it and synchronize it again, then post again.",
                    txn,
                    blocker["kind"],
                    record,
                    _sentence_end(blocker["why"]),
                )
            )
    return sentences


# --- Organization -------------------------------------------------------------------


class NumberSequenceInline(admin.StackedInline):
    model = NumberSequence
    can_delete = False
    extra = 1
    max_num = 1


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "currency", "duplicate_policy", "next_account", "store_count"]
    search_fields = ["code", "name"]
    list_filter = ["currency", "duplicate_policy"]
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
class ChannelDatabaseAdmin(admin.ModelAdmin):
    form = ChannelDatabaseForm
    list_display = ["name", "alias", "configured", "store_count", "channel_data"]
    search_fields = ["name", "alias"]

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
class StoreAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "creates_customers_async",
        "offline",
        "default_customer",
        "customers_link",
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

    @admin.display(boolean=True, description="creates customers async")
    def creates_customers_async(self, obj):
        return obj.creates_customers_async

    @admin.display(description="customers")
    def customers_link(self, obj):
        """The store's customer page (README "Admin"), by URL name: commerce imports
        nothing from customers."""
        url = reverse("admin:customers_store_customers", args=[obj.pk])
        return format_html('<a href="{}">Customers</a>', url)


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
        "total_money",
        "created_at",
    ]
    list_filter = ["store"]
    search_fields = ["order_number", "transaction__transaction_id", "customer_account"]
    list_select_related = ["transaction", "store__legal_entity"]
    date_hierarchy = "created_at"
    fields = [
        "order_number",
        "transaction",
        "store",
        "customer_account",
        "delivery_location_id",
        "total_money",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [SalesOrderLineInline]

    @admin.display(description="total", ordering="total")
    def total_money(self, obj):
        return money_html(obj.total, obj.store.legal_entity.currency)


@admin.register(SalesOrderLine)
class SalesOrderLineAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["order", "line_number", "item", "quantity", "unit_price_money"]
    search_fields = ["order__order_number", "item"]
    list_select_related = ["order__store__legal_entity"]

    @admin.display(description="unit price", ordering="unit_price")
    def unit_price_money(self, obj):
        return money_html(obj.unit_price, obj.order.store.legal_entity.currency)


class StatementTransactionInline(ViewOnlyMixin, admin.TabularInline):
    """The statement's sales, each linking its own page."""

    model = SalesTransaction
    fk_name = "statement"
    extra = 0
    verbose_name_plural = "transactions"
    fields = ["transaction", "type", "customer", "total", "status", "error"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return with_line_totals(super().get_queryset(request)).select_related("store__legal_entity")

    @admin.display(description="transaction")
    def transaction(self, obj):
        url = reverse("admin:commerce_salestransaction_change", args=[obj.pk])
        return format_html('<a href="{}" class="nowrap">{}</a>', url, obj.transaction_id)

    @admin.display(description="last error")
    def error(self, obj):
        """A transaction that only waits for others says which; the blocker's own reason
        is in the statement's errors above, with names."""
        blockers = BLOCKED_BY.findall(obj.last_error) if WAITS.search(obj.last_error) else []
        if blockers:
            return f"Waits for {', '.join(blockers)} (see the errors above)."
        return GUID.sub(lambda m: m[0][:8] + "…", obj.last_error) or "-"

    @admin.display(description="customer")
    def customer(self, obj):
        return transaction_customer(obj)

    @admin.display(description="total")
    def total(self, obj):
        return money_html(obj.total_amount, obj.store.legal_entity.currency)


@admin.register(Statement)
class StatementAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = [
        "statement",
        "status",
        "transactions_link",
        "total_money",
        "short_errors",
        "calculated_at",
        "posted_at",
    ]
    list_filter = ["status", "store", "business_date"]
    search_fields = ["store__number"]
    list_select_related = ["store__legal_entity"]
    date_hierarchy = "business_date"
    inlines = [StatementTransactionInline]
    readonly_fields = [
        "store",
        "business_date",
        "sequence",
        "status",
        "transaction_count",
        "total_money",
        "error_sentences",
        "calculated_at",
        "posted_at",
    ]
    change_form_template = "admin/commerce/statement/change_form.html"

    def get_queryset(self, request):
        # With a select_related here, the changelist skips list_select_related.
        return (
            super()
            .get_queryset(request)
            .select_related("store__legal_entity", "store__channel_database")
        )

    def get_fields(self, request, obj=None):
        # A date's later statement (a late sale, R9) says which one it is.
        return [
            name
            for name in self.readonly_fields
            if name != "sequence" or (obj is not None and obj.sequence > 1)
        ]

    @admin.display(description="statement", ordering="business_date")
    def statement(self, obj):
        return str(obj)

    @admin.display(description="total", ordering="total")
    def total_money(self, obj):
        return money_html(obj.total, obj.store.legal_entity.currency)

    @admin.display(description="errors")
    def short_errors(self, obj):
        """Which transactions are blocked; their reasons are on the statement's page."""
        if not obj.errors:
            return ""
        subjects = [ERROR_LINE.match(str(e)) for e in obj.errors]
        blocked = [m["subject"] for m in subjects if m and m["subject"] != "statement"]
        if not blocked:
            text = "; ".join(str(e) for e in obj.errors)
            return (text[:80] + "…") if len(text) > 80 else text
        count = len(blocked)
        return (
            f"{count} transaction{'' if count == 1 else 's'} blocked: {', '.join(blocked[:3])}"
            + ("…" if count > 3 else "")
        )

    @admin.display(description="errors")
    def error_sentences(self, obj):
        sentences = statement_error_sentences(obj)
        if not sentences:
            return "-"
        return format_html_join("", '<p class="statement-error">{}</p>', ((s,) for s in sentences))

    @admin.display(description="transactions", ordering="transaction_count")
    def transactions_link(self, obj):
        url = reverse("admin:commerce_salestransaction_changelist")
        count = obj.transaction_count
        label = f"{count} transaction{'' if count == 1 else 's'}"
        return format_html('<a href="{}?statement={}">{}</a>', url, obj.pk, label)
