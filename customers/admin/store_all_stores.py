"""Store customers (README "Store customers"): the "All stores" part of the search, choosing
a customer HQ found, and adding a customer at the store.

- "All stores" asks HQ (``store_customer_search_all``) for the legal entity's customers
  the store does not show and the records its other stores sent that are not accounts
  yet; they are listed under the store's own results, marked "HQ". When HQ cannot be
  reached (the store is offline, or HQ's database fails) the page says so and shows
  the store's own results.
- Choosing an account found at HQ writes its copy to the store's channel database as
  distribution writes it (``customer_copy_to_store``) and opens the store customer page
  of it. Another store's record that is not an account yet is shown, not chosen: it
  becomes an account, and reaches every store, when HQ creates it.
- "Add customer at store" is a form of the store: the store is the page's, the
  customer group one of its legal entity's; creating (R1) ends on the store customer
  page of the new customer, saying how it was created.

Served by the async customers admin, before the store customer page's URL.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from commerce.admin_urls import admin_view_paths
from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from customers.forms import ASYNC_STATUS_LABELS, StoreCustomerForm
from customers.models import AsyncCustomer, ChannelCustomer, Customer, CustomerGroup
from customers.selectors.store_all import HQ_UNREACHABLE, AllStoresResult
from customers.services.accounts import NumberSequenceExhausted
from customers.services.store import StoreCustomerResult, customer_create_at_store
from customers.services.store_copy import StoreCopyError, customer_copy_to_store
from customers.services.validation import CustomerValidationError

ALL_STORES_VAR = "all"


class StoreAddCustomerForm(StoreCustomerForm):
    """ "Add customer at store" for one store: no store to choose, the customer groups of
    its legal entity to choose from (empty: the default customer's, R2)."""

    def __init__(self, *args, store: Store, **kwargs):
        self.store = store
        super().__init__(*args, **kwargs)
        del self.fields["store"]
        group = self.fields["customer_group"]
        group.queryset = CustomerGroup.objects.filter(legal_entity_id=store.legal_entity_id)
        group.label_from_instance = lambda g: f"{g.name} ({g.code})" if g.name else g.code
        group.empty_label = "The store's default"
        self.fieldsets = [
            (title, {**options, "fields": [n for n in options["fields"] if n != "store"]})
            for title, options in self.fieldsets
        ]

    def clean(self):
        self.cleaned_data["store"] = self.store
        return super().clean()


def store_customer_url(store: Store, key: str) -> str:
    return reverse("admin:customers_store_customer", args=[store.pk, quote(key)])


def store_form_create(form, store: Store):
    """Create the customer of an add-at-store ``form`` at ``store`` (R1); None, with the
    refusal on the form (on its field where it names one), when it is refused."""
    try:
        return customer_create_at_store(store=store, data=form.customer_input())
    except CustomerValidationError as error:
        form.add_service_errors(error.errors)
    except NumberSequenceExhausted as error:
        form.add_error(None, str(error))
    except ChannelDatabaseUnreachable as error:
        form.add_error(None, f"Nothing created: {error.cannot_be_reached}.")
    return None


def store_customer_created(model_admin, request, store: Store, result: StoreCustomerResult):
    """The end of a creation at a store (R1), from any page: logged on the new record,
    said in a message, and the store customer page of the new customer."""
    admin_site = model_admin.admin_site
    if result.mode == "async":
        customer = result.async_customer
        reason = result.fallback_reason or (
            "the store is offline" if store.offline else "its profile creates async"
        )
        # Logged by the async customer's own admin, so the entry carries its channel
        # database and shows on that row's history page.
        admin_site.get_model_admin(AsyncCustomer).log_addition(request, customer, [{"added": {}}])
        model_admin.message_user(
            request,
            f"Customer “{customer.name}” created as async customer "
            f"{customer.async_customer_id} in channel database {store.channel_database} "
            f"({store.channel_database.alias}), Pending sync: store {store.number} works "
            f"async ({reason}).",
            messages.WARNING if result.fallback_reason else messages.SUCCESS,
        )
        return HttpResponseRedirect(store_customer_url(store, str(customer.async_customer_id)))
    customer = result.customer
    admin_site.get_model_admin(Customer).log_addition(request, customer, [{"added": {}}])
    model_admin.message_user(
        request,
        f"Customer “{customer.party.name}” created customer account {customer.account} "
        f"at HQ (real-time call) and in channel database {store.channel_database}.",
        messages.SUCCESS,
    )
    if result.duplicates:
        model_admin.message_user(
            request,
            f"It may be a duplicate: {result.duplicates}. It is listed under "
            "Possible duplicates for a person to compare.",
            messages.WARNING,
        )
    return HttpResponseRedirect(store_customer_url(store, customer.account))


class StoreAllStoresMixin:
    """Mixed into the async customers admin with ``StoreCustomersPageMixin``."""

    def get_urls(self):
        return [
            *admin_view_paths(
                self,
                (
                    "store-customers/<int:store_id>/add/",
                    self.store_customer_add_view,
                    "customers_store_customer_add",
                ),
                (
                    "store-customers/<int:store_id>/choose/",
                    self.store_customer_choose_view,
                    "customers_store_customer_choose",
                ),
            ),
            *super().get_urls(),
        ]

    # --- All stores ---

    @staticmethod
    def all_stores_context(store: Store, found: AllStoresResult | None, query: str) -> dict:
        """What the list shows under the store's own results when "All stores" is on."""
        rows = []
        hq_rows = found.hq_rows if found else []
        groups = (
            dict(
                CustomerGroup.objects.filter(legal_entity_id=store.legal_entity_id).values_list(
                    "code", "name"
                )
            )
            if hq_rows
            else {}
        )
        for row in hq_rows:
            item = {
                "kind": row.kind,
                "name": row.name or "(no name)",
                "account": row.account,
                "email": row.email,
                "phone": row.phone,
                "group": groups.get(row.customer_group) or row.customer_group,
                "at_store": row.at_store,
                "store_number": row.store_number,
            }
            if row.kind == "account" and row.at_store:
                item["url"] = store_customer_url(store, row.account)
            if row.kind == "staged":
                item["status_label"] = ASYNC_STATUS_LABELS.get(row.status, row.status)
            rows.append(item)
        return {
            "all_stores": True,
            "all_stores_var": ALL_STORES_VAR,
            "hq_rows": rows,
            "hq_unreachable": found.hq_unreachable if found else "",
            "hq_asked": bool(found and query and not found.hq_unreachable),
            "choose_url": reverse("admin:customers_store_customer_choose", args=[store.pk]),
        }

    def store_customer_choose_view(self, request, store_id: int):
        """POST ``account``: the account found at HQ becomes available at the store (its
        channel copy written as 1010 writes it), then its store customer page."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:customers_store_customers", args=[store_id]))
        if not (
            self.has_store_customers_view_permission(request)
            and self.has_change_permission(request)
        ):
            raise PermissionDenied
        store = self._store(store_id)
        account = request.POST.get("account", "").strip()
        back = (
            reverse("admin:customers_store_customers", args=[store.pk])
            + "?"
            + urlencode({"q": request.POST.get("q", ""), ALL_STORES_VAR: "1"})
        )
        try:
            result = customer_copy_to_store(store=store, account=account)
        except StoreCopyError as error:
            self.message_user(request, f"Nothing written: {error}.", messages.ERROR)
            return HttpResponseRedirect(back)
        except ChannelDatabaseUnreachable as error:
            self.message_user(
                request, f"Nothing written: {error.cannot_be_reached}.", messages.ERROR
            )
            return HttpResponseRedirect(back)
        except HQ_UNREACHABLE as error:
            self.message_user(
                request,
                f"Nothing written: HQ could not be reached ({type(error).__name__}).",
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        copy = (
            ChannelCustomer.objects.using(store.channel_database.alias)
            .filter(legal_entity=store.legal_entity.code, account=result.account)
            .first()
        )
        name = copy.name if copy is not None else result.account
        if result.written and copy is not None:
            self.admin_site.get_model_admin(ChannelCustomer).log_addition(
                request, copy, [{"added": {"name": "copy from HQ", "object": result.account}}]
            )
        if result.written:
            said = (
                f"{name} ({result.account}) is now available at store {store.number}: "
                f"HQ's version {result.version} was written to channel database "
                f"{store.channel_database.name}."
            )
        else:
            said = f"{name} ({result.account}) was already at store {store.number}."
        self.message_user(request, said, messages.SUCCESS)
        return HttpResponseRedirect(store_customer_url(store, result.account))

    # --- Add customer at store (R1) ---

    def store_customer_add_view(self, request, store_id: int):
        customer_admin = self.admin_site.get_model_admin(Customer)
        if not customer_admin.has_add_permission(request):
            raise PermissionDenied
        store = self._store(store_id)
        if request.method == "POST":
            form = StoreAddCustomerForm(request.POST, store=store)
            if form.is_valid():
                result = store_form_create(form, store)
                if result is not None:
                    return store_customer_created(self, request, store, result)
        else:
            form = StoreAddCustomerForm(store=store)
        adminform = helpers.AdminForm(form, form.fieldsets, {})
        context = {
            **self._store_context(request, store, f"Add customer at store {store.number}"),
            "adminform": adminform,
            "form": form,
            "media": self.media + adminform.media,
            "list_url": reverse("admin:customers_store_customers", args=[store.pk]),
        }
        return TemplateResponse(request, "customers/add_customer_at_store.html", context)
