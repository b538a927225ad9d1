"""The columns of an address inline, shared by HQ's customer master, the store's async
customers and HQ staging (README "Admin"): one order wherever an address is a table row."""

from django.contrib import admin

from commerce.admin_display import short_guid

ADDRESS_FIELDS = ["purpose", "street", "city", "state", "zip", "country", "is_primary"]
# A store's address (and its staged copy) ends with its async id and the location it is
# linked to, both read-only.
ASYNC_ADDRESS_FIELDS = [*ADDRESS_FIELDS, "async_address_id", "location_id"]
ASYNC_ADDRESS_READONLY = ["async_address_id", "location_id"]


class AsyncAddressColumns:
    """The first two columns of an async address's lists (the store's and HQ staging's):
    ``address_text`` (street and city) and ``async_id`` (the GUID short)."""

    @admin.display(description="address", ordering="street")
    def address_text(self, obj):
        return f"{obj.street}, {obj.city}"

    @admin.display(description="async id", ordering="async_address_id")
    def async_id(self, obj):
        return short_guid(obj.async_address_id)
