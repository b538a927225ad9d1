"""The customer synchronization status page: one row per async customer and async
address in every channel database, with a dashboard per store, served under the
staged async customers admin.

Failed rows (R5) link to their staged record to be fixed, and are synchronized again
from here, singly or in bulk.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from commerce.admin_channel import channel_changelist_url
from commerce.models import ChannelDatabase, Store
from customers.admin.job_actions import staged_synchronize
from customers.forms import ASYNC_STATUS_LABELS, SyncStatusFilterForm
from customers.models import AsyncAddress, AsyncCustomer
from customers.selectors import AsyncStatus, async_status_rows, async_status_summary

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


class SyncStatusPageMixin:
    """The status page as a view of the staged async customers admin, whose view
    permission it asks for; synchronizing again needs the job's permission
    (``JobPermissionsMixin``)."""

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
        # A channel database that is down leaves its rows out and shows as a banner;
        # the page still answers for every other database.
        unreachable = []
        rows = [
            row
            for row in async_status_rows(store=store, details=True, unreachable=unreachable)
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
            "unreachable": unreachable,
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
