"""The store's customer page (README "Admin"; R1, R11), per store:

- one search (name, email, phone, account or async GUID, every word matching) over
  the store's channel database: the async customers of its stores not synchronized
  yet ("Pending sync", with their age) and the synchronous copies of its legal entity
  together, 50 a page, in a fixed number of queries (``store_customer_search``);
- a customer's page: its fields, addresses and pending edits, an edit form and an
  "Add address" form. Submitting calls ``customer_edit_at_store`` with the fields the
  user changed only, and says what happened: changed in place (an async customer not
  uploaded yet), recorded as a channel request (HQ gets it with the next upload), or
  changed at HQ at once (real-time store), with the R1 fallback reason when HQ could
  not be reached;
- "All stores" asks HQ too, and "Add customer at store" (R1) is the store's own form:
  both in ``customers.admin.store_all_stores``.

Served by the async customers admin (``StoreCustomersPageMixin``). Viewing needs the
view permission on async customers and on channel customers; editing and adding an
address need the change permission on async customers, whatever the customer's kind:
the page acts as the store, whose changes to synchronous customers travel as channel
requests too. One customer's page is ``customers.admin.store_customer``; the words both
pages use, ``customers.admin.store_customer_text``.
"""

from __future__ import annotations

import math

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from commerce.admin_urls import admin_view_paths
from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from customers.admin.store_all_stores import ALL_STORES_VAR
from customers.admin.store_customer import StoreCustomerPageMixin
from customers.admin.store_customer_text import age_text, store_label, store_mode, type_label
from customers.forms import ASYNC_STATUS_LABELS
from customers.models import ChannelCustomer, Customer, CustomerGroup
from customers.selectors import (
    StoreCustomer,
    store_customer_search,
    store_customer_search_all,
)

PAGE_SIZE = 50
PAGE_VAR, SEARCH_VAR = "p", "q"
SEARCH_MAX_LENGTH = 200


class StoreCustomersPageMixin(StoreCustomerPageMixin):
    """Mixed into the async customers admin: the store customers pages as its views (one
    customer's page from ``StoreCustomerPageMixin``)."""

    def get_urls(self):
        return [
            *admin_view_paths(
                self,
                (
                    "store-customers/",
                    self.store_customers_index_view,
                    "customers_store_customers_index",
                ),
                (
                    "store-customers/<int:store_id>/",
                    self.store_customers_view,
                    "customers_store_customers",
                ),
                (
                    "store-customers/<int:store_id>/<str:key>/",
                    self.store_customer_view,
                    "customers_store_customer",
                ),
            ),
            *super().get_urls(),
        ]

    # --- Permissions ---

    def has_store_customers_view_permission(self, request) -> bool:
        channel_customers = self.admin_site.get_model_admin(ChannelCustomer)
        return self.has_view_permission(request) and channel_customers.has_view_permission(request)

    def _store_context(self, request, store: Store | None, title: str) -> dict:
        customer_admin = self.admin_site.get_model_admin(Customer)
        add_url = None
        if store is not None and customer_admin.has_add_permission(request):
            add_url = reverse("admin:customers_store_customer_add", args=[store.pk])
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "store": store,
            "store_label": store_label(store) if store else "",
            "store_mode": store_mode(store) if store else "",
            "add_customer_url": add_url,
            "may_edit": self.has_change_permission(request),
            "index_url": reverse("admin:customers_store_customers_index"),
        }

    @staticmethod
    def _store(store_id: int) -> Store:
        return get_object_or_404(
            Store.objects.select_related(
                "legal_entity", "channel_database", "functionality_profile"
            ),
            pk=store_id,
        )

    # --- Which store ---

    def store_customers_index_view(self, request):
        """The stores, each leading to its customers page."""
        if not self.has_store_customers_view_permission(request):
            raise PermissionDenied
        stores = [
            {
                "store": store,
                "mode": store_mode(store),
                "url": reverse("admin:customers_store_customers", args=[store.pk]),
            }
            for store in Store.objects.select_related(
                "legal_entity", "channel_database", "functionality_profile"
            ).order_by("number")
        ]
        context = {**self._store_context(request, None, "Store customers"), "stores": stores}
        return TemplateResponse(request, "customers/store_customers.html", context)

    # --- Search ---

    def store_customers_view(self, request, store_id: int):
        """One search over the store's async customers and synchronous copies."""
        if not self.has_store_customers_view_permission(request):
            raise PermissionDenied
        store = self._store(store_id)
        query = " ".join(request.GET.get(SEARCH_VAR, "").split())[:SEARCH_MAX_LENGTH]
        try:
            page_number = max(1, int(request.GET.get(PAGE_VAR, 1)))
        except ValueError:
            page_number = 1
        context = self._store_context(request, store, f"Customers of store {store_label(store)}")
        # "All stores" (README "Store customers"): HQ is asked too, in store_all_stores.
        all_stores = request.GET.get(ALL_STORES_VAR) == "1"
        offset = (page_number - 1) * PAGE_SIZE
        found = None
        try:
            if all_stores:
                found = store_customer_search_all(
                    store=store, query=query, limit=PAGE_SIZE, offset=offset
                )
                result = found.local
            else:
                result = store_customer_search(
                    store=store, query=query, limit=PAGE_SIZE, offset=offset
                )
        except ChannelDatabaseUnreachable as error:
            result, context["unreachable"] = None, error
        if all_stores:
            context.update(self.all_stores_context(store, found, query))
        num_pages = max(1, math.ceil(result.count / PAGE_SIZE)) if result else 1
        if result and page_number > num_pages:
            return HttpResponseRedirect(self._list_query(query, num_pages, all_stores))
        groups = CustomerGroup.objects.filter(legal_entity=store.legal_entity)
        groups = dict(groups.values_list("code", "name"))
        now = timezone.now()
        rows = [self._list_row(store, row, groups, now) for row in result.rows] if result else []
        context.update(
            query=query,
            rows=rows,
            result_count=result.count if result else 0,
            page_number=page_number,
            num_pages=num_pages,
            previous_url=self._list_query(query, page_number - 1, all_stores)
            if page_number > 1
            else None,
            next_url=self._list_query(query, page_number + 1, all_stores)
            if page_number < num_pages
            else None,
            page_size=PAGE_SIZE,
            search_var=SEARCH_VAR,
        )
        return TemplateResponse(request, "customers/store_customers.html", context)

    @staticmethod
    def _list_query(query: str, page: int, all_stores: bool = False) -> str:
        params = {SEARCH_VAR: query} if query else {}
        if all_stores:
            params[ALL_STORES_VAR] = "1"
        if page > 1:
            params[PAGE_VAR] = page
        return f"?{urlencode(params)}" if params else "?"

    @staticmethod
    def _list_row(store: Store, row: StoreCustomer, groups: dict, now) -> dict:
        record = row.record
        group = record.customer_group
        item = {
            "kind": row.kind,
            "name": record.name or "(no name)",
            "url": reverse("admin:customers_store_customer", args=[store.pk, quote(row.key)]),
            "account": row.account,
            "email": record.email,
            "phone": record.phone,
            "group": groups.get(group, group) if group else "",
            "group_code": group,
            "type": type_label(record.type),
            "pending_edits": len(row.pending_edits),
            "pending_since": row.pending_edits[0].edited_at if row.pending_edits else None,
        }
        if row.kind == "async":
            item.update(
                pending_sync=not row.account,
                created_at=record.created_at,
                age=age_text(record.created_at, now),
                other_store=record.store_number if record.store_number != store.number else "",
                hq_status=row.hq_status,
                hq_status_label=ASYNC_STATUS_LABELS.get(row.hq_status, row.hq_status),
                hq_error=row.hq_error,
            )
        else:
            item["pending_sync"] = False
        return item
