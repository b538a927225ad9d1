"""Admin pages of sales orders and statements, which order synchronization and
statement posting write (view only), and the statement's errors as sentences naming and
linking the async customers and addresses that block it (R9), looked up through
``async_record_lookup_register``, which the customers admin fills.
"""

import re
import uuid
from collections.abc import Callable

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from commerce.admin.sales import GUID, transaction_customer, with_line_totals
from commerce.admin_display import money_html, short_guid
from commerce.models import SalesOrder, SalesOrderLine, SalesTransaction, Statement

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
# (commerce.services); a reason from resolving an async record starts with its GUID
# (``commerce.admin.sales.GUID``).
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
    fields = list_display
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
