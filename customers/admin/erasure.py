""" "Erase personal data" on the HQ customer's change page (R14; README, Erasure and
access): a confirmation page that says what goes and what stays, then
``jobs.services.erasure.customer_erase_everywhere``. Only for users with the
``customers.erase_customer`` permission."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from commerce.admin_urls import admin_view_paths
from customers.models import Customer, StagedAsyncCustomer
from jobs.services.erasure import customer_erase_everywhere

ERASE_PERMISSION = "customers.erase_customer"


class EraseCustomerMixin:
    """Mixed into the HQ customers admin."""

    def get_urls(self):
        return [
            *admin_view_paths(
                self, ("<int:object_id>/erase/", self.erase_view, "customers_customer_erase")
            ),
            *super().get_urls(),
        ]

    def may_erase(self, request) -> bool:
        return request.user.has_perm(ERASE_PERMISSION)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["may_erase"] = obj is not None and self.may_erase(request)
        # README, Retention: a converted customer's staged record is purged once done
        # and old, and its timeline with it; the page then offers no Timeline link.
        context["timeline_kept"] = (
            obj is not None
            and obj.async_customer_id is not None
            and StagedAsyncCustomer.objects.filter(
                channel_database=obj.async_origin, async_customer_id=obj.async_customer_id
            ).exists()
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def erase_view(self, request, object_id):
        if not self.may_erase(request):
            raise PermissionDenied
        customer = get_object_or_404(
            Customer.objects.select_related("party", "legal_entity"), pk=object_id
        )
        change_url = reverse("admin:customers_customer_change", args=[customer.pk])
        if request.method == "POST":
            customer, _counts = customer_erase_everywhere(
                account=customer.account, legal_entity=customer.legal_entity.code, user=request.user
            )
            self.log_change(request, customer, "Erased the customer's personal data.")
            self.message_user(
                request,
                f"Customer {customer.account} erased at HQ: names, addresses, contact info, "
                "attribute values, staged records, download sessions, job run messages and "
                "history. The next distribution erases it in every channel database.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Erase the personal data of customer {customer.account}?",
            "opts": self.opts,
            "original": customer,
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/customers/customer/erase_confirmation.html", context
        )
