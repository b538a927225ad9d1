"""One customer's page at a store (README "Admin"; R1, R11): its fields, addresses and
pending edits, an edit form, an "Add address" form and the two forms of a store's other
changes (``store_change_forms``). Submitting calls ``customer_edit_at_store`` with what
the user changed only, and says what happened (see ``customers.admin.store_customers``).

``StoreCustomerPageMixin`` is the base of ``StoreCustomersPageMixin``, which gives it the
store, the page's context and the view permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from commerce.db import ChannelDatabaseUnreachable
from commerce.models import Store
from customers.admin.store_customer_text import (
    age_text,
    edit_text,
    short_id,
    store_label,
    type_label,
)
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
    CustomerAttribute,
    CustomerGroup,
)
from customers.selectors import StoreCustomer, store_customer_get
from customers.services.changes import CustomerChanges
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import CustomerValidationError
from customers.store_change_forms import StoreAddressChangeForm, StoreMoreChangesForm


@dataclass
class StoreCustomerForms:
    """The customer page's forms: the edit form (with what builds it, bound, again),
    the "Add address" form and the two of ``store_change_forms`` (``more``)."""

    edit_kwargs: dict
    edit: StoreCustomerEditForm
    address: StoreCustomerAddressForm
    more: dict


def store_customer_forms(customer: StoreCustomer, groups: list) -> StoreCustomerForms:
    """The customer page's forms, unbound."""
    record = customer.record
    edit_kwargs = {
        "current": {name: getattr(record, name) for name in STORE_EDIT_LABELS},
        "customer_type": record.type,
        "groups": groups,
    }
    return StoreCustomerForms(
        edit_kwargs=edit_kwargs,
        edit=StoreCustomerEditForm(**edit_kwargs),
        address=StoreCustomerAddressForm(prefix="address"),
        more=store_change_forms(customer),
    )


class StoreCustomerPageMixin:
    """One customer's page, a view of the async customers admin (through
    ``StoreCustomersPageMixin``)."""

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
        forms = store_customer_forms(customer, groups)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            if self._customer_post(request, store, customer, forms):
                return HttpResponseRedirect(url)
        context.update(self._customer_context(store, customer, groups, forms))
        return TemplateResponse(request, "customers/store_customer.html", context)

    def _customer_post(
        self, request, store: Store, customer: StoreCustomer, forms: StoreCustomerForms
    ) -> bool:
        """The posted form (by its button) bound in ``forms`` and its change made; True
        when made, False with the form carrying what is wrong."""
        posted = store_change_form_posted(request, forms.more, customer)
        if posted is not None:
            form = forms.more[posted]
            if form.is_valid():
                changes = form.changes()
                if changes.is_empty:
                    form.add_error(None, "Nothing changed: fill what changes, then save.")
                else:
                    return self._edit(request, store, customer, changes, form)
            return False
        if "_add_address" in request.POST:
            forms.address = StoreCustomerAddressForm(request.POST, prefix="address")
            if forms.address.is_valid():
                address = forms.address.address_input()
                changes = CustomerChanges(addresses=(address,))
                return self._edit(request, store, customer, changes, forms.address)
            return False
        forms.edit = StoreCustomerEditForm(request.POST, **forms.edit_kwargs)
        if forms.edit.is_valid():
            fields = forms.edit.changed_fields()
            if not fields:
                forms.edit.add_error(None, "Nothing changed: change a field first, then save.")
            else:
                changes = CustomerChanges(fields=fields)
                return self._edit(request, store, customer, changes, forms.edit)
        return False

    def _customer_context(
        self, store: Store, customer: StoreCustomer, groups: list, forms: StoreCustomerForms
    ) -> dict:
        """What the customer page shows: its facts, addresses, pending edits and forms."""
        record = customer.record
        group_names = {g.code: g.name for g in groups}
        now = timezone.now()
        edit_form, address_form, more = forms.edit, forms.address, forms.more
        return dict(
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
