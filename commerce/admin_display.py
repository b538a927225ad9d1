"""How admin pages show values (README "Admin"): money with its currency and two
decimals, GUIDs short where a name or a link says more, list filters of fixed choices.
Shared by the commerce, customers and jobs admins."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html

CENT = Decimal("0.01")


def money(amount, currency: str) -> str:
    """``44.48 USD``: two decimals (half up), thousands separated, then the currency."""
    if amount is None:
        return "-"
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{value:,.2f} {currency}".strip()


def money_html(amount, currency: str):
    """``money`` on one line, aligned to the right of its column."""
    return format_html('<span class="money">{}</span>', money(amount, currency))


def short_location_id(value) -> str:
    """A location id made from a GUID (``LOC-`` and 32 hex digits) shortened like a GUID,
    the whole id on hover; "-" for none."""
    if not value:
        return "-"
    text = str(value)
    if len(text) <= 16:
        return text
    return format_html('<code class="guid" title="{}">{}…</code>', text, text[:12])


def short_guid(value) -> str:
    """The first block of a GUID with the whole GUID on hover; "-" for none."""
    if not value:
        return "-"
    text = str(value)
    return format_html('<code class="guid" title="{}">{}…</code>', text, text[:8])


class AsyncCustomerColumns:
    """The name and short async id columns of an async customer's lists (the store's
    async customers and HQ's staged ones): ``name_link`` and ``async_id``."""

    @admin.display(description="name", ordering="last_name")
    def name_link(self, obj):
        return obj.name or "(no name)"

    @admin.display(description="async id", ordering="async_customer_id")
    def async_id(self, obj):
        return short_guid(obj.async_customer_id)


class ChoicesFilter(admin.SimpleListFilter):
    """A list filter of fixed choices: ``options`` maps each value of its parameter to
    the label shown and the ``Q`` the list is filtered by (no choice: the whole list)."""

    options: dict[str, tuple[str, Q]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _where) in self.options.items()]

    def queryset(self, request, queryset):
        chosen = self.options.get(self.value())
        return queryset.filter(chosen[1]) if chosen else queryset
