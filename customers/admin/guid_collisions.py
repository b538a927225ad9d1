""" "Create under a new GUID" on the change page of a staged async customer that failed
because another channel database made its GUID first (``customers.services.
guid_collisions``). Offered to whoever may fix the record and run account creation;
the button posts to its own URL and the page says what happened."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from commerce.admin_urls import admin_view_paths
from customers.models import StagedAsyncCustomer
from customers.services.guid_collisions import (
    GuidReplacementError,
    staged_customer_create_under_new_guid,
    staged_customer_guid_collides,
)


class NewGuidMixin:
    """Mixed into the staged async customers admin (with JobPermissionsMixin)."""

    def get_urls(self):
        return [
            *admin_view_paths(
                self,
                (
                    "<int:object_id>/new-guid/",
                    self.new_guid_view,
                    "customers_stagedasynccustomer_new_guid",
                ),
            ),
            *super().get_urls(),
        ]

    def may_create_under_new_guid(self, request, obj) -> bool:
        return (
            obj is not None
            and self.has_change_permission(request, obj)
            and self.has_run_async_customers_permission(request)
            and staged_customer_guid_collides(staged=obj)
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_new_guid"] = self.may_create_under_new_guid(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def new_guid_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        staged = get_object_or_404(StagedAsyncCustomer, pk=object_id)
        if not self.may_create_under_new_guid(request, staged):
            raise PermissionDenied
        store_guid = staged.async_customer_id
        try:
            staged = staged_customer_create_under_new_guid(staged=staged, user=request.user)
        except GuidReplacementError as error:
            message = str(error)
            self.message_user(request, message[:1].upper() + message[1:] + ".", messages.ERROR)
        else:
            self.log_change(
                request,
                staged,
                f"Created under new GUID {staged.async_customer_id} (the store's: {store_guid}).",
            )
            self.message_user(
                request,
                f"Async customer {store_guid} of channel database {staged.channel_database} "
                f"created as account {staged.account} under the new GUID "
                f"{staged.async_customer_id}. The store's sales naming {store_guid} resolve to "
                "it, and distribution (1010) links the store's async customer to it.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:customers_stagedasynccustomer_change", args=[staged.pk])
        )
