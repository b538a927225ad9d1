"""Admin: merge duplicate customers (R13, README, Rule map: R13) from the Possible
duplicates page.

"Merge…" (an action on the list, a button on a pair) opens the merge page: the accounts
side by side, the survivor chosen with a radio button, and a confirmation. The page
carries the version of each account it showed (signed, like the other HQ forms,
``customers.shown_version``): a merge over an account changed since is refused and
nothing is merged. The merge itself is ``customers.services.merge.customers_merge``.
Merging needs change permission on possible duplicates and on customers.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from commerce.admin_urls import admin_view_paths

# The module, not its names: ``duplicates`` imports this mixin (its page hooks it in).
from customers.admin import duplicates
from customers.selectors import customers_for_comparison
from customers.services.merge import MergeError, customers_merge
from customers.shown_version import SHOWN_SALT

MERGE_URL_NAME = "customers_possibleduplicate_merge"


def merge_url(customer_ids) -> str:
    """The merge page for these customers (ids, in the order shown)."""
    ids = ",".join(str(pk) for pk in dict.fromkeys(customer_ids))
    return f"{reverse('admin:' + MERGE_URL_NAME)}?{urlencode({'customers': ids})}"


@admin.display(description="merged into")
def merged_display(admin_instance, obj):
    """On a merged account's page: the survivor it resolves to, who merged it and when."""
    if obj is None or obj.merged_into_id is None:
        return "-"
    who = obj.merged_by.get_username() if obj.merged_by else obj.merger or "?"
    when = f"{timezone.localtime(obj.merged_at):%Y-%m-%d %H:%M:%S}" if obj.merged_at else "?"
    return format_html(
        '<a href="{}">account {}</a>, at {} by {}; orders, statements and store edits that '
        "name this account go to it",
        reverse("admin:customers_customer_change", args=[obj.merged_into_id]),
        obj.merged_into.account,
        when,
        who,
    )


def _ids(text: str) -> list[int]:
    return list(dict.fromkeys(int(part) for part in text.split(",") if part.strip().isdigit()))


class MergePageMixin:
    """For PossibleDuplicateAdmin: the merge page, and the "Merge…" action."""

    def get_urls(self):
        return [
            *admin_view_paths(self, ("merge/", self.merge_view, MERGE_URL_NAME)),
            *super().get_urls(),
        ]

    def may_merge(self, request) -> bool:
        return self.has_change_permission(request) and request.user.has_perm(
            "customers.change_customer"
        )

    @admin.action(description="Merge…", permissions=["change"])
    def merge_selected(self, request, queryset):
        ids = []
        for customer_id, duplicate_of_id in queryset.order_by("pk").values_list(
            "customer_id", "duplicate_of_id"
        ):
            ids += [duplicate_of_id, customer_id]
        return HttpResponseRedirect(merge_url(ids))

    def merge_view(self, request):
        """GET: the accounts side by side, choose the survivor; POST: merge."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.may_merge(request):
                raise PermissionDenied
            return self._merge_post(request)
        ids = _ids(request.GET.get("customers", ""))
        customers = {c.pk: c for c in customers_for_comparison(customer_ids=ids)}
        shown = [customers[pk] for pk in ids if pk in customers]
        columns = [duplicates.customer_column(c) for c in shown]
        for column, customer in zip(columns, shown, strict=True):
            column["pk"] = customer.pk
            column["merged_into"] = customer.merged_into_id
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge customers",
            "opts": self.opts,
            "columns": columns,
            "comparison": duplicates.comparison_rows(columns),
            "customer_ids": ",".join(str(c.pk) for c in shown),
            "shown_versions": signing.dumps({str(c.pk): c.version for c in shown}, salt=SHOWN_SALT),
            "may_merge": self.may_merge(request) and len(shown) > 1,
            "already_merged": [c.account for c in shown if c.merged_into_id],
            "list_url": reverse("admin:customers_possibleduplicate_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/merge.html", context)

    def _merge_post(self, request):
        ids = _ids(request.POST.get("customers", ""))
        back = merge_url(ids)
        try:
            shown = signing.loads(request.POST.get("shown_versions", ""), salt=SHOWN_SALT)
            survivor_id = int(request.POST.get("survivor", ""))
        except (signing.BadSignature, ValueError):
            self.message_user(request, "Choose the account that stays.", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            result = customers_merge(
                survivor_id=survivor_id,
                merged_ids=[pk for pk in ids if pk != survivor_id],
                user=request.user,
                shown_versions={int(pk): version for pk, version in shown.items()},
            )
        except MergeError as error:
            reason = str(error)
            self.message_user(request, f"{reason[:1].upper()}{reason[1:]}.", messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request,
            f"Account(s) {', '.join(result.merged)} merged into account "
            f"{result.survivor.account}. They stay as its aliases: orders, statements and "
            "store edits that name them go to it. Distribution (1010) replaces the stores' "
            "copies.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:customers_customer_change", args=[result.survivor.pk])
        )
