"""Admin pages of the organization: legal entities and their customer number
sequences, functionality profiles, channel databases and stores. A store links its
customer page by URL name (README "Admin"): commerce imports nothing from customers.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from commerce.db import channel_aliases, is_channel_alias
from commerce.models import (
    ChannelDatabase,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)


class NumberSequenceInline(admin.StackedInline):
    model = NumberSequence
    can_delete = False
    extra = 1
    max_num = 1


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "currency", "duplicate_policy", "next_account", "store_count"]
    search_fields = ["code", "name"]
    list_filter = ["currency", "duplicate_policy"]
    list_select_related = ["customer_sequence"]
    inlines = [NumberSequenceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(store_count=Count("stores"))

    @admin.display(description="next customer account")
    def next_account(self, obj):
        sequence = getattr(obj, "customer_sequence", None)
        return sequence.format(sequence.next_number) if sequence else "-"

    @admin.display(description="stores", ordering="store_count")
    def store_count(self, obj):
        return obj.store_count


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin):
    list_display = ["legal_entity", "prefix", "digits", "next_number", "next_account"]
    search_fields = ["legal_entity__code", "prefix"]
    list_select_related = ["legal_entity"]

    @admin.display(description="next customer account")
    def next_account(self, obj):
        return obj.format(obj.next_number)


@admin.register(FunctionalityProfile)
class FunctionalityProfileAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "create_customer_in_async_mode", "store_count"]
    list_filter = ["create_customer_in_async_mode"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(store_count=Count("stores"))

    @admin.display(description="stores", ordering="store_count")
    def store_count(self, obj):
        return obj.store_count


class ChannelDatabaseForm(forms.ModelForm):
    alias = forms.ChoiceField(help_text="A channel database alias configured in the settings.")

    class Meta:
        model = ChannelDatabase
        fields = ["name", "alias"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        aliases = channel_aliases()
        current = self.instance.alias
        if current and current not in aliases:
            aliases = [current, *aliases]
        self.fields["alias"].choices = [(a, a) for a in aliases]


@admin.register(ChannelDatabase)
class ChannelDatabaseAdmin(admin.ModelAdmin):
    form = ChannelDatabaseForm
    list_display = ["name", "alias", "configured", "store_count", "channel_data"]
    search_fields = ["name", "alias"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(store_count=Count("stores"))

    @admin.display(boolean=True, description="configured")
    def configured(self, obj):
        return is_channel_alias(obj.alias)

    @admin.display(description="stores", ordering="store_count")
    def store_count(self, obj):
        return obj.store_count

    @admin.display(description="channel data")
    def channel_data(self, obj):
        if not is_channel_alias(obj.alias):
            return "-"
        links = [
            ("Async customers", "customers_asynccustomer"),
            ("Async addresses", "customers_asyncaddress"),
            ("Customers", "customers_channelcustomer"),
            ("Transactions", "commerce_channelsalestransaction"),
        ]
        return format_html_join(
            " | ",
            '<a href="{}?channel_db={}">{}</a>',
            ((reverse(f"admin:{name}_changelist"), obj.alias, label) for label, name in links),
        )


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "creates_customers_async",
        "offline",
        "default_customer",
        "customers_link",
    ]
    list_filter = ["legal_entity", "channel_database", "functionality_profile", "offline"]
    search_fields = ["number", "name"]
    list_select_related = [
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "default_customer",
    ]
    autocomplete_fields = ["default_customer"]

    @admin.display(boolean=True, description="creates customers async")
    def creates_customers_async(self, obj):
        return obj.creates_customers_async

    @admin.display(description="customers")
    def customers_link(self, obj):
        """The store's customer page (README "Admin"), by URL name: commerce imports
        nothing from customers."""
        url = reverse("admin:customers_store_customers", args=[obj.pk])
        return format_html('<a href="{}">Customers</a>', url)
