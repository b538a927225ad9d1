"""Admin for duplicate customers (R12).

- "Possible duplicates": accounts created under the "create" policy although they
  looked like another customer, each pair side by side, marked reviewed once a
  person has compared them.
- The review page of a staged async customer that needs review (policy "review"): the
  store's record side by side with the accounts it matches now, and the decision —
  link it to one of them (or another account of the legal entity) or create a new
  account — through ``customers.services.review``. The status page reaches it.
- The links HQ made (async GUID -> existing account), at HQ and at the store.
"""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from commerce.admin import ViewOnlyMixin
from commerce.admin_channel import ChannelModelAdmin
from commerce.admin_urls import admin_view_paths
from customers.admin.merge import MergePageMixin
from customers.countries import country_name
from customers.match_keys import reasons_in_words
from customers.models import (
    AsyncCustomerLink,
    ChannelCustomerAsyncLink,
    Customer,
    PossibleDuplicate,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.selectors import customers_for_comparison
from customers.services.accounts_staged import STAGED_CUSTOMER_PREFETCH
from customers.services.review import (
    DuplicateReviewError,
    possible_duplicates_mark_reviewed,
    staged_customer_review,
    staged_duplicates_find,
)


def reasons_text(reasons: dict) -> str:
    """'same email, same name and zip code 77001' (a match key itself is never shown)."""
    return reasons_in_words(reasons)


def _address_line(address) -> str:
    parts = [address.street, address.city, address.state, address.zip]
    line = ", ".join(p for p in parts if p)
    primary = " (primary)" if address.is_primary else ""
    return f"{address.purpose}: {line}, {country_name(address.country)}{primary}"


# Rows of the side-by-side table, the same for a customer and a staged record.
COMPARED = [
    "Name",
    "Type",
    "Email",
    "Phone",
    "Customer group",
    "Addresses",
    "Contact info",
    "Created",
    "Async GUID",
]


def customer_column(customer: Customer, *, reasons: dict | None = None) -> dict:
    """An HQ customer (``customers_for_comparison``) as one column of the comparison."""
    party = customer.party
    return {
        "title": f"Account {customer.account}",
        "url": reverse("admin:customers_customer_change", args=[customer.pk]),
        "account": customer.account,
        "reasons": reasons_text(reasons or {}),
        "values": [
            party.name,
            party.get_type_display(),
            customer.email or "-",
            customer.phone or "-",
            customer.customer_group.code,
            [_address_line(a) for a in party.addresses.all()] or ["-"],
            [f"{c.type}: {c.value}" for c in party.contacts.all()] or ["-"],
            customer.created_at,
            f"{customer.async_customer_id} ({customer.async_origin or 'origin unknown'})"
            if customer.async_customer_id
            else "- (created at HQ)",
        ],
    }


def staged_column(staged: StagedAsyncCustomer) -> dict:
    """The store's record (children prefetched) as the first column of the comparison."""
    return {
        "title": f"Store {staged.store_number} ({staged.channel_database})",
        "url": reverse("admin:customers_stagedasynccustomer_change", args=[staged.pk]),
        "account": "",
        "reasons": "",
        "values": [
            staged.name or "-",
            staged.get_type_display(),
            staged.email or "-",
            staged.phone or "-",
            staged.customer_group or "(the store's default)",
            [_address_line(a) for a in staged.addresses.all()] or ["-"],
            [f"{c.type}: {c.value}" for c in staged.contacts.all()] or ["-"],
            staged.created_at_store,
            str(staged.async_customer_id),
        ],
    }


def _lines(value) -> list[str]:
    if isinstance(value, list):
        return value
    if isinstance(value, datetime.datetime):
        return [f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"]
    return [str(value)]


def comparison_rows(columns: list[dict]) -> list[dict]:
    """The table the template shows: one row per compared field, one cell (a list of
    lines) per column."""
    return [
        {"label": label, "cells": [_lines(column["values"][index]) for column in columns]}
        for index, label in enumerate(COMPARED)
    ]


def _customer_link(customer: Customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{} ({})</a>', url, customer.party.name, customer.account)


MARK_REVIEWED = "_mark_reviewed"  # the possible duplicate page's review button


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(MergePageMixin, admin.ModelAdmin):
    """Listed by account creation (policy "create"); compared and marked reviewed here."""

    list_display = [
        "new_customer",
        "new_name",
        "matched_customer",
        "matched_name",
        "reasons_display",
        "legal_entity",
        "created_at",
        "reviewed",
    ]
    list_filter = [("reviewed_at", admin.EmptyFieldListFilter), "legal_entity", "created_at"]
    search_fields = [
        "customer__account",
        "customer__party__name",
        "duplicate_of__account",
        "duplicate_of__party__name",
    ]
    list_select_related = ["legal_entity", "customer__party", "duplicate_of__party", "reviewed_by"]
    readonly_fields = [
        "legal_entity",
        "new_account_link",
        "matched_account_link",
        "reasons_display",
        "created_at",
        "reviewed_by",
        "reviewed_at",
    ]
    fields = readonly_fields
    actions = ["mark_reviewed", "merge_selected"]  # merge_selected: R13, customers.admin.merge
    change_form_template = "admin/customers/possibleduplicate/change_form.html"

    def has_add_permission(self, request):
        return False

    @admin.display(description="new account", ordering="customer__account")
    def new_customer(self, obj):
        return obj.customer.account

    @admin.display(description="name", ordering="customer__party__name")
    def new_name(self, obj):
        return obj.customer.party.name

    @admin.display(description="looks like account", ordering="duplicate_of__account")
    def matched_customer(self, obj):
        return obj.duplicate_of.account

    @admin.display(description="name", ordering="duplicate_of__party__name")
    def matched_name(self, obj):
        return obj.duplicate_of.party.name

    @admin.display(description="new account")
    def new_account_link(self, obj):
        return _customer_link(obj.customer)

    @admin.display(description="looks like account")
    def matched_account_link(self, obj):
        return _customer_link(obj.duplicate_of)

    @admin.display(description="why")
    def reasons_display(self, obj):
        return reasons_text(obj.reasons)

    @admin.display(description="reviewed", ordering="reviewed_at")
    def reviewed(self, obj):
        if obj.reviewed_at is None:
            return "-"
        who = obj.reviewed_by.get_username() if obj.reviewed_by else "?"
        return f"{timezone.localtime(obj.reviewed_at):%Y-%m-%d %H:%M:%S} by {who}"

    @admin.action(description="Mark as reviewed (keep both accounts)", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        ids = queryset.values_list("pk", flat=True)
        count = possible_duplicates_mark_reviewed(ids=ids, user=request.user)
        self.message_user(request, f"Marked {count} possible duplicate(s) as reviewed.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The pair's page: "Mark as reviewed" (both accounts kept) is its action."""
        if request.method == "POST" and MARK_REVIEWED in request.POST:
            obj = self.get_object(request, object_id)
            if obj is None or not self.has_change_permission(request, obj):
                raise PermissionDenied
            if possible_duplicates_mark_reviewed(ids=[obj.pk], user=request.user):
                self.message_user(
                    request, f"Marked as reviewed, both accounts kept: {obj}.", messages.SUCCESS
                )
            else:
                self.message_user(request, f"Already reviewed: {obj}.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:customers_possibleduplicate_changelist"))
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            customers = {
                c.pk: c
                for c in customers_for_comparison(
                    customer_ids=[obj.customer_id, obj.duplicate_of_id]
                )
            }
            columns = [
                customer_column(customers[obj.customer_id], reasons=obj.reasons),
                customer_column(customers[obj.duplicate_of_id], reasons=obj.reasons),
            ]
            columns[0]["title"] = f"New account {obj.customer.account}"
            context.update(columns=columns, comparison=comparison_rows(columns))
            context["show_mark_reviewed"] = obj.reviewed_at is None and self.has_change_permission(
                request, obj
            )
            context["mark_reviewed"] = MARK_REVIEWED
            context["reasons"] = reasons_text(obj.reasons)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(AsyncCustomerLink)
class AsyncCustomerLinkAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Written by a review that linked a store's async customer to an existing account."""

    list_display = ["async_customer_id", "channel_database", "customer", "linker", "linked_at"]
    list_filter = ["channel_database", "linked_at"]
    search_fields = ["async_customer_id", "customer__account", "customer__party__name"]
    list_select_related = ["customer"]


@admin.register(ChannelCustomerAsyncLink)
class ChannelCustomerAsyncLinkAdmin(ViewOnlyMixin, ChannelModelAdmin):
    """At the store: the async GUIDs distribution (1010) linked to an existing account."""

    list_display = ["async_customer_id", "account", "customer"]
    search_fields = ["async_customer_id", "account"]
    list_select_related = ["customer"]


class DuplicateReviewMixin:
    """The review page of a staged async customer that needs review (R12), under the
    staged async customers admin: deciding needs its change permission."""

    def get_urls(self):
        return [
            *admin_view_paths(
                self,
                (
                    "<int:object_id>/review/",
                    self.review_view,
                    "customers_stagedasynccustomer_review",
                ),
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        """The store's record and the accounts it matches, side by side; POST decides."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        staged = get_object_or_404(
            StagedAsyncCustomer.objects.prefetch_related(*STAGED_CUSTOMER_PREFETCH), pk=object_id
        )
        may_decide = self.has_change_permission(request) and (
            staged.status == StagingStatus.NEEDS_REVIEW
        )
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            return self._review_decide(request, staged)
        matches = staged_duplicates_find(staged=staged)
        customers = {
            c.pk: c for c in customers_for_comparison(customer_ids=[m.customer_id for m in matches])
        }
        columns = [staged_column(staged)] + [
            customer_column(customers[m.customer_id], reasons=m.reasons) for m in matches
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review possible duplicate: {staged.name or staged.async_customer_id}",
            "opts": self.opts,
            "original": staged,
            "columns": columns,
            "comparison": comparison_rows(columns),
            "may_decide": may_decide,
            "sync_status_url": reverse("admin:customers_sync_status"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/duplicate_review.html", context)

    def _review_decide(self, request, staged):
        create = "_create" in request.POST
        link = (request.POST.get("link_account") or request.POST.get("other_account") or "").strip()
        if create:
            link = ""
        try:
            result = staged_customer_review(
                staged=staged, link_account=link or None, create=create, user=request.user
            )
        except DuplicateReviewError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        self.review_report(request, staged, result)
        return HttpResponseRedirect(reverse("admin:customers_sync_status"))

    def review_report(self, request, staged, result) -> None:
        guid = staged.async_customer_id
        if not result.ok:
            self.message_user(
                request,
                f"Async customer {guid} could not be created: {result.error}. Fix it on its "
                "staged record, then synchronize it again.",
                messages.ERROR,
            )
        elif result.decision == "linked":
            self.message_user(
                request,
                format_html(
                    "Async customer {} linked to account {} ({} address(es), {} contact(s) "
                    "added). Distribution (1010) links it at the store.",
                    guid,
                    result.account,
                    result.addresses_added,
                    result.contacts_added,
                ),
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                f"Async customer {guid} created as account {result.account}.",
                messages.SUCCESS,
            )
