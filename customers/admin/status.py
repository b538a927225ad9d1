"""The customer synchronization status page: one row per async customer and async
address in every channel database, with a dashboard per store, served under the
staged async customers admin.

Failed rows (R5) link to their staged record to be fixed, and are synchronized again
from here, singly or in bulk. Rows held as possible duplicates (R12, needs review) link
to their review page; checked, they can be created as new accounts in bulk.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from commerce.admin_channel import channel_changelist_url
from commerce.admin_urls import admin_view_paths
from commerce.models import ChannelDatabase, Store
from customers.admin.job_actions import conversion_running, staged_synchronize
from customers.admin.timeline import timeline_url, timeline_view
from customers.forms import ASYNC_STATUS_LABELS, SyncStatusFilterForm
from customers.models import AsyncAddress, AsyncCustomer, ChannelRequest, StagedAsyncCustomer
from customers.selectors import (
    AsyncStatus,
    async_status,
    async_status_label,
    staged_records_statuses,
)
from customers.selectors.sync_status import blocked_transactions, sync_status_page
from customers.services.review import DuplicateReviewError, staged_customer_review

STATUS_PAGE_SIZE = 100
STATUS_REFRESH_SECONDS = 10
STAGED_CHANGE_URL = {
    "customer": "admin:customers_stagedasynccustomer_change",
    "address": "admin:customers_stagedasyncaddress_change",
    "edit": "admin:customers_stagedchannelrequest_change",
}
CHANNEL_MODEL = {"customer": AsyncCustomer, "address": AsyncAddress, "edit": ChannelRequest}


def _record_status(timeline: dict) -> str:
    """The timeline's record's status, by the one derivation (customers.selectors)."""
    kind, row, staged = timeline["kind"], timeline["row"], timeline["staged"]
    if staged is not None:
        return staged_records_statuses(kind=kind, records=[staged])[staged.pk]
    linked = (
        kind != "edit"
        and row is not None
        and bool(row.account if kind == "customer" else row.location_id)
    )
    return async_status(linked=linked, staging_status=None)


def _blocked_transaction(transaction) -> dict:
    """A sales transaction an async customer holds back (R8, R9), in words, linked."""
    what = (
        f"statement of store {transaction.store.number} for {transaction.business_date:%Y-%m-%d}"
        if transaction.status == "posting_failed"
        else "sales order"
    )
    url = (
        reverse("admin:commerce_statement_change", args=[transaction.statement_id])
        if transaction.status == "posting_failed" and transaction.statement_id
        else reverse("admin:commerce_salestransaction_change", args=[transaction.pk])
    )
    return {"label": f"{what}, transaction {transaction.transaction_id}", "url": url}


class SyncStatusPageMixin:
    """The status page as a view of the staged async customers admin, whose view
    permission it asks for; synchronizing again needs the job's permission
    (``JobPermissionsMixin``)."""

    def get_urls(self):
        return [
            *admin_view_paths(
                self,
                ("sync-status/", self.sync_status_view, "customers_sync_status"),
                (
                    "sync-status/timeline/<str:channel_database>/<str:kind>/<uuid:guid>/",
                    self.sync_timeline_view,
                    "customers_sync_timeline",
                ),
            ),
            *super().get_urls(),
        ]

    def sync_status_view(self, request):
        """One row per async customer and async address in every channel database, with
        a dashboard per store; failed rows are synchronized again from here (POST)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        may_synchronize = self.has_run_async_customers_permission(request)
        may_review = self.has_change_permission(request)
        if request.method == "POST":
            if "_create_new" in request.POST:  # R12: checked held rows become new accounts
                if not may_review:
                    raise PermissionDenied
                self._create_checked(request)
            else:
                if not may_synchronize:
                    raise PermissionDenied
                self._synchronize_checked(request)
            return HttpResponseRedirect(request.get_full_path())

        stores = list(Store.objects.order_by("number").values_list("number", "name"))
        form = SyncStatusFilterForm(request.GET or None, stores=stores)
        filters = form.cleaned_data if form.is_valid() else {}
        store, kind, status = (filters.get(k) or None for k in ("store", "kind", "status"))
        # A channel database that is down leaves its rows out and shows as a banner;
        # the page still answers for every other database. Counts are aggregates and
        # the page reads only its own rows, so a request costs the same at 100,000
        # records as at 1,000 (README "Performance").
        status_page = sync_status_page(store=store, kind=kind, status=status)
        summary, unreachable = status_page.summary, status_page.unreachable
        page = Paginator(status_page.rows, STATUS_PAGE_SIZE).get_page(request.GET.get("page"))
        aliases = dict(ChannelDatabase.objects.values_list("name", "alias"))
        blocked = blocked_transactions(rows=page.object_list)
        for row in page.object_list:
            self._add_links(row, aliases)
            row["timeline_url"] = timeline_url(row)
            row["blocks"] = [_blocked_transaction(t) for t in blocked.get(row["async_id"], [])]
            if row["status"] == AsyncStatus.NEEDS_REVIEW:
                row["review_url"] = reverse(
                    "admin:customers_stagedasynccustomer_review", args=[row["staged_id"]]
                )
                row["checkbox"] = f"review:{row['staged_id']}" if may_review else None
        has_failed_rows = status_page.has(AsyncStatus.FAILED)
        has_review_rows = status_page.has(AsyncStatus.NEEDS_REVIEW)

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
            "result_count": page.paginator.count,
            "may_synchronize": may_synchronize,
            "may_fix": self.has_change_permission(request),
            "has_failed_rows": has_failed_rows,
            "may_review": may_review,
            "has_review_rows": has_review_rows,
            "show_checkboxes": (may_synchronize and has_failed_rows)
            or (may_review and has_review_rows),
            "page_size": STATUS_PAGE_SIZE,
            "unreachable": unreachable,
            # Refreshed while a run that moves these records is queued or running.
            "refresh_seconds": STATUS_REFRESH_SECONDS if conversion_running() else None,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/sync_status.html", context)

    def sync_timeline_view(self, request, channel_database, kind, guid):
        """One record's way from the store to HQ and back (beyond the reference system)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = timeline_view(
            request,
            admin_site=self.admin_site,
            opts=self.opts,
            channel_database=channel_database,
            kind=kind,
            guid=guid,
        )
        context = response.context_data
        context["status_label"] = async_status_label(_record_status(context))
        return response

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

    def _create_checked(self, request) -> None:
        """R12: the checked rows under review are not duplicates: create their accounts,
        each in its own transaction (one refused or failed does not stop the others)."""
        ids = [
            int(pk)
            for kind, _, pk in (v.partition(":") for v in request.POST.getlist("selected"))
            if kind == "review" and pk.isdigit()
        ]
        if not ids:
            self.message_user(
                request, "Check the rows under review to create first.", messages.WARNING
            )
            return
        for staged in StagedAsyncCustomer.objects.filter(pk__in=ids).order_by("pk"):
            try:
                result = staged_customer_review(staged=staged, create=True, user=request.user)
            except DuplicateReviewError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            self.review_report(request, staged, result)

    def _synchronize_checked(self, request) -> None:
        ids: dict[str, list[int]] = {"customer": [], "address": [], "edit": []}
        for value in request.POST.getlist("selected"):
            kind, _, pk = value.partition(":")
            if kind in ids and pk.isdigit():
                ids[kind].append(int(pk))
        if not any(ids.values()):
            self.message_user(
                request, "Check the failed rows to synchronize again first.", messages.WARNING
            )
            return
        staged_synchronize(
            self,
            request,
            customer_ids=ids["customer"],
            address_ids=ids["address"],
            request_ids=ids["edit"],
        )
