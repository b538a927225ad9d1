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
requests too.
"""

from __future__ import annotations

import datetime
import math

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from customers.admin.store_all_stores import ALL_STORES_VAR
from customers.countries import country_name
from customers.forms import (
    ASYNC_STATUS_LABELS,
    STORE_EDIT_LABELS,
    StoreCustomerAddressForm,
    StoreCustomerEditForm,
)
from customers.models import (
    AddressPurpose,
    Affiliation,
    ChannelCustomer,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    CustomerType,
)
from customers.selectors import (
    StoreCustomer,
    store_customer_get,
    store_customer_search,
    store_customer_search_all,
)
from customers.services.changes import CustomerChanges
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import CustomerValidationError
from customers.store_change_forms import StoreAddressChangeForm, StoreMoreChangesForm

PAGE_SIZE = 50
PAGE_VAR, SEARCH_VAR = "p", "q"
SEARCH_MAX_LENGTH = 200


def age_text(since: datetime.datetime, now: datetime.datetime) -> str:
    """How long ago, the way a cashier says it: "45 s", "3 min", "2 h 5 min", "3 d 4 h"."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def edit_text(changes: dict) -> str:
    """A store's change in words: ``Email → ona@new.example; address added: 9 New St, …``."""
    parts = [
        f"{STORE_EDIT_LABELS.get(name, name)} → {value or '(empty)'}"
        for name, value in (changes.get("fields") or {}).items()
    ]
    parts += [f"{name} → {value}" for name, value in (changes.get("attributes") or {}).items()]
    parts += [f"affiliation added: {name}" for name in changes.get("affiliations") or ()]
    parts += [
        "address added: "
        + ", ".join(
            p
            for p in (a.get("street"), a.get("city"), a.get("zip"), country_name(a.get("country")))
            if p
        )
        + (" (primary)" if a.get("is_primary") else "")
        for a in changes.get("addresses") or ()
    ]
    parts += more_edit_text(changes)
    return "; ".join(parts) or "nothing"


def type_label(value: str) -> str:
    return CustomerType(value).label if value in CustomerType.values else value or "-"


def short_id(request_id) -> str:
    return str(request_id)[:8]


def store_label(store: Store) -> str:
    return f"{store.number} {store.name}"


def store_mode(store: Store) -> str:
    if store.offline:
        return "offline: creates and edits asynchronously"
    if store.functionality_profile.create_customer_in_async_mode:
        return "async mode"
    return "real time"


class StoreCustomersPageMixin:
    """Mixed into the async customers admin: the store customers pages as its views."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "store-customers/",
                view(self.store_customers_index_view),
                name="customers_store_customers_index",
            ),
            path(
                "store-customers/<int:store_id>/",
                view(self.store_customers_view),
                name="customers_store_customers",
            ),
            path(
                "store-customers/<int:store_id>/<str:key>/",
                view(self.store_customer_view),
                name="customers_store_customer",
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

    # --- One customer ---

    def store_customer_view(self, request, store_id: int, key: str):
        """A customer's fields, addresses and pending edits; edits it or adds an address
        (POST, change permission on async customers) through customer_edit_at_store."""
        if not self.has_store_customers_view_permission(request):
            raise PermissionDenied
        store = self._store(store_id)
        key = unquote(key)
        context = self._store_context(request, store, "Store customer")
        try:
            customer = store_customer_get(store=store, key=key)
        except ChannelDatabaseUnreachable as error:
            context["unreachable"] = error
            return TemplateResponse(request, "customers/store_customer.html", context)
        if customer is None:
            raise Http404(f"Store {store.number} knows no customer {key!r}.")
        url = reverse("admin:customers_store_customer", args=[store.pk, quote(customer.key)])
        if customer.key != key:  # a synchronized async customer: its page is its account's
            return HttpResponseRedirect(url)

        groups = list(
            CustomerGroup.objects.filter(legal_entity=store.legal_entity).order_by("code")
        )
        record = customer.record
        edit_form_kwargs = {
            "current": {name: getattr(record, name) for name in STORE_EDIT_LABELS},
            "customer_type": record.type,
            "groups": groups,
        }
        edit_form = StoreCustomerEditForm(**edit_form_kwargs)
        address_form = StoreCustomerAddressForm(prefix="address")
        more = store_change_forms(customer)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            posted = store_change_form_posted(request, more, customer)
            if posted is not None:
                form = more[posted]
                if form.is_valid():
                    changes = form.changes()
                    if changes.is_empty:
                        form.add_error(None, "Nothing changed: fill what changes, then save.")
                    elif self._edit(request, store, customer, changes, form):
                        return HttpResponseRedirect(url)
            elif "_add_address" in request.POST:
                address_form = StoreCustomerAddressForm(request.POST, prefix="address")
                if address_form.is_valid():
                    address = address_form.address_input()
                    changes = CustomerChanges(addresses=(address,))
                    if self._edit(request, store, customer, changes, address_form):
                        return HttpResponseRedirect(url)
            else:
                edit_form = StoreCustomerEditForm(request.POST, **edit_form_kwargs)
                if edit_form.is_valid():
                    fields = edit_form.changed_fields()
                    if not fields:
                        edit_form.add_error(
                            None, "Nothing changed: change a field first, then save."
                        )
                    elif self._edit(
                        request, store, customer, CustomerChanges(fields=fields), edit_form
                    ):
                        return HttpResponseRedirect(url)

        group_names = {g.code: g.name for g in groups}
        now = timezone.now()
        context.update(
            title=record.name or "(no name)",
            customer=customer,
            record=record,
            facts=self._facts(store, customer, group_names, now),
            addresses=self._addresses(customer),
            pending_edits=[
                {
                    "short_id": short_id(edit.request_id),
                    "edited_at": edit.edited_at,
                    "text": edit_text(edit.changes),
                    "status": edit.status,
                    "status_label": ASYNC_STATUS_LABELS.get(edit.status, edit.status),
                    "last_error": edit.last_error,
                }
                for edit in customer.pending_edits
            ],
            what_happens=self._what_happens(store, customer),
            edit_form=edit_form,
            edit_adminform=helpers.AdminForm(edit_form, edit_form.get_fieldsets(), {}),
            address_form=address_form,
            address_adminform=helpers.AdminForm(address_form, address_form.fieldsets, {}),
            change_address_form=more["change_address"],
            change_address_adminform=helpers.AdminForm(
                more["change_address"], more["change_address"].fieldsets, {}
            ),
            more_changes_form=more["more_changes"],
            more_changes_adminform=helpers.AdminForm(
                more["more_changes"], more["more_changes"].fieldsets, {}
            ),
            list_url=reverse("admin:customers_store_customers", args=[store.pk]),
            media=self.media + edit_form.media + address_form.media,
        )
        return TemplateResponse(request, "customers/store_customer.html", context)

    def _edit(self, request, store: Store, customer: StoreCustomer, changes, form) -> bool:
        """Make the change as the store; True when made (and said), False with the
        form carrying the error."""
        try:
            result = customer_edit_at_store(store=store, customer=customer.key, changes=changes)
        except CustomerValidationError as error:
            form.add_service_errors(error.errors)
            return False
        except CustomerEditError as error:
            form.add_error(None, str(error))
            return False
        except ChannelDatabaseUnreachable as error:
            form.add_error(None, f"Nothing changed: {error.cannot_be_reached}.")
            return False
        record = customer.record
        what = edit_text(changes.as_json())
        if result.mode == "in_place":
            outcome = "Changed in place (not uploaded yet)."
        elif result.mode == "real_time":
            outcome = "Changed at HQ at once (real-time store)."
        else:
            outcome = (
                f"Recorded as channel request {short_id(result.request_id)}; "
                "HQ gets it with the next upload."
            )
        if result.fallback_reason:
            outcome += f" {result.fallback_reason[:1].upper()}{result.fallback_reason[1:]}."
        self.message_user(
            request,
            f"{record.name or customer.key}: {what}. {outcome}",
            messages.WARNING if result.fallback_reason else messages.SUCCESS,
        )
        log = self if customer.kind == "async" else self.admin_site.get_model_admin(ChannelCustomer)
        if changes.fields:
            message = [{"changed": {"fields": [STORE_EDIT_LABELS[n] for n in changes.fields]}}]
        elif changes.addresses:
            message = [{"added": {"name": "address", "object": what.partition(": ")[2]}}]
        else:
            message = what
        log.log_change(request, record, message)
        return True

    @staticmethod
    def _what_happens(store: Store, customer: StoreCustomer) -> str:
        """What saving does here, before the user saves (R11, R1)."""
        if customer.kind == "async" and customer.record.upload_session_id is None:
            return (
                "Not uploaded yet: a change is made in place and travels to HQ with the "
                "async customer."
            )
        if customer.kind == "async" or store.creates_customers_async:
            return (
                "A change is recorded as a channel request in the store's channel database; "
                "HQ gets it with the next upload."
            )
        return (
            "Real-time store: a change goes to HQ at once (recorded as a channel request "
            "if HQ cannot be reached)."
        )

    @staticmethod
    def _facts(store: Store, customer: StoreCustomer, group_names: dict, now) -> list:
        record = customer.record
        group = record.customer_group
        facts = [
            ("Type", type_label(record.type)),
            (
                "Customer group",
                f"{group_names[group]} ({group})" if group in group_names else group or "-",
            ),
            ("Email", record.email or "-"),
            ("Phone", record.phone or "-"),
        ]
        if customer.kind == "async":
            status = ASYNC_STATUS_LABELS.get(customer.hq_status, customer.hq_status)
            if not customer.account:
                status = f"Pending sync ({status.lower()})"
            if customer.hq_error:
                status += f". HQ says: {customer.hq_error}. An edit here fixes it; HQ tries again."
            created_at_store = (
                store_label(store) if record.store_number == store.number else record.store_number
            )
            facts += [
                ("Status", status),
                ("Customer account", customer.account or "not yet (given by HQ on conversion)"),
                ("Created at store", created_at_store),
                (
                    "Created at",
                    f"{timezone.localtime(record.created_at):%Y-%m-%d %H:%M:%S} "
                    f"({age_text(record.created_at, now)} ago)",
                ),
                (
                    "Uploaded to HQ",
                    f"{timezone.localtime(record.uploaded_at):%Y-%m-%d %H:%M:%S}"
                    if record.uploaded_at
                    else "no",
                ),
                ("Async customer id", str(record.async_customer_id)),
            ]
        else:
            facts += [
                ("Customer account", record.account),
                ("Legal entity", f"{store.legal_entity.name} ({store.legal_entity.code})"),
                ("Version held", f"version {record.hq_version} from HQ"),
            ]
        return facts

    @staticmethod
    def _addresses(customer: StoreCustomer) -> list[dict]:
        rows = []
        for address in customer.record.addresses.all():
            rows.append(
                {
                    "purpose": AddressPurpose(address.purpose).label
                    if address.purpose in AddressPurpose.values
                    else address.purpose,
                    "street": address.street,
                    "city": address.city,
                    "state": address.state,
                    "zip": address.zip,
                    "country": country_name(address.country),
                    "is_primary": address.is_primary,
                    "location_id": address.location_id or "",
                }
            )
        return rows


# --- R11 complete: change or retire an address; attributes, affiliations, contacts ---


def more_edit_text(changes: dict) -> list[str]:
    """The parts of a store's change beyond fields, attributes and added addresses, in
    words (an address by its location or async id, as the store named it)."""
    parts = [f"affiliation removed: {name}" for name in changes.get("affiliations_removed") or ()]
    for change in changes.get("address_changes") or ():
        values = change.get("values") or {}
        words = [
            ("primary" if v else "not primary")
            if n == "is_primary"
            else country_name(v)
            if n == "country"
            else v
            for n, v in values.items()
        ]
        parts.append("address changed: " + ", ".join(str(w) for w in words))
    parts += [f"address retired ({ref})" for ref in changes.get("addresses_retired") or ()]
    parts += [
        f"{c.get('type')} added: {c.get('value')}" + (" (primary)" if c.get("is_primary") else "")
        for c in changes.get("contacts") or ()
    ]
    parts += [f"contact removed: {c.get('value')}" for c in changes.get("contacts_removed") or ()]
    return parts


def store_change_forms(customer: StoreCustomer, data=None) -> dict:
    """The page's "Change or retire an address" and "Attributes, affiliations and
    contact info" forms, unbound (or bound to ``data``)."""
    addresses = [
        (
            address.location_id or str(address.async_address_id),
            f"{address.street}, {address.city}" + (" (primary)" if address.is_primary else ""),
        )
        for address in customer.record.addresses.all()
    ]
    return {
        "change_address": StoreAddressChangeForm(data, prefix="change", addresses=addresses),
        "more_changes": StoreMoreChangesForm(
            data,
            prefix="more",
            attributes=list(
                CustomerAttribute.objects.order_by("name").values_list("name", flat=True)
            ),
            affiliations=list(Affiliation.objects.order_by("name").values_list("name", flat=True)),
        ),
    }


def store_change_form_posted(request, forms: dict, customer: StoreCustomer) -> str | None:
    """Which of the two forms was posted (its button), with ``forms`` rebound to the post."""
    for name, button in (("change_address", "_change_address"), ("more_changes", "_more_changes")):
        if button in request.POST:
            forms[name] = store_change_forms(customer, request.POST)[name]
            return name
    return None
