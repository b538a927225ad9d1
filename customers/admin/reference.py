"""Admin for the reference data each channel database holds (R16): customer groups,
attributes, affiliations and the stores' default customers, as distribution (1010)
wrote them, per channel database ("Channel database" filter). View only: HQ's setup
pages are where they change; the next distribution brings the change to the store.
"""

from django.contrib import admin

from commerce.admin import ViewOnlyMixin
from commerce.admin_channel import ChannelModelAdmin
from customers.models import (
    ChannelAffiliation,
    ChannelCustomerAttribute,
    ChannelCustomerGroup,
    ChannelReferenceVersion,
    ChannelStoreDefaults,
)


@admin.register(ChannelCustomerGroup)
class ChannelCustomerGroupAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = ["code", "name", "legal_entity"]
    list_filter = ["legal_entity"]
    search_fields = ["code", "name"]


class AttributeColumns:
    """The list of customer attributes, HQ's (``master``) and a channel database's: name,
    type and the choices, filtered by type."""

    list_display = ["name", "type", "choices_text"]
    list_filter = ["type"]
    search_fields = ["name"]

    @admin.display(description="choices")
    def choices_text(self, obj):
        return ", ".join(str(choice) for choice in obj.choices or []) or "-"


@admin.register(ChannelCustomerAttribute)
class ChannelCustomerAttributeAdmin(AttributeColumns, ViewOnlyMixin, ChannelModelAdmin):
    """A channel database's customer attributes, as distribution (1010) wrote them."""


@admin.register(ChannelAffiliation)
class ChannelAffiliationAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]


@admin.register(ChannelStoreDefaults)
class ChannelStoreDefaultsAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = [
        "store_number",
        "account",
        "type",
        "customer_group",
        "currency",
        "language",
        "title",
        "affiliations_shown",
    ]
    list_filter = ["legal_entity"]
    search_fields = ["store_number", "account"]

    @admin.display(description="affiliations")
    def affiliations_shown(self, obj):
        return ", ".join(obj.affiliations or []) or "-"


@admin.register(ChannelReferenceVersion)
class ChannelReferenceVersionAdmin(ViewOnlyMixin, ChannelModelAdmin):
    list_display = ["version", "applied_at"]
    search_fields = ["checksum"]

    @admin.display(description="version", ordering="checksum")
    def version(self, obj):
        return obj.checksum[:12]
