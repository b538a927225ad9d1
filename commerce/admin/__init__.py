"""Admin for the organization (legal entities, stores, channel databases, number
sequences, functionality profiles), sales transactions, orders and statements, one
module per concern: ``organization``, ``sales`` (at the stores and at HQ) and
``statements`` (sales orders and statements, and the async records that block them).

The commerce app imports nothing from customers: pages of the customers app are
reached through their URL names only, and the async customers a statement's errors
name are looked up through ``async_record_lookup_register``, which the customers admin
fills. Nor does it import jobs: the actions that request jobs (upload, distribution,
the whole conversion, order synchronization, statement posting and posting again) and
the "last checked" column are added to these pages by ``jobs.admin_commerce``, which
registers its subclasses of the admins below in their place.

For the operator (README "Admin"): money with its currency (``commerce.admin_display``),
posted transactions and statements read only (R9), a statement's transactions and its
errors as sentences linking the records that block it, and lists whose key columns fit
at 1440 px.
"""

from django.contrib import admin

from commerce.admin.events import ChannelEventAdmin, EventAdmin
from commerce.admin.organization import (
    ChannelDatabaseAdmin,
    ChannelDatabaseForm,
    FunctionalityProfileAdmin,
    LegalEntityAdmin,
    NumberSequenceAdmin,
    NumberSequenceInline,
    StoreAdmin,
)
from commerce.admin.sales import (
    ChannelSalesLineAdmin,
    ChannelSalesLineInline,
    ChannelSalesTransactionAdmin,
    LineTotalsMixin,
    PostedReadOnlyMixin,
    SalesLineAdmin,
    SalesLineInline,
    SalesTransactionAdmin,
    store_currencies,
    transaction_customer,
    with_line_totals,
)
from commerce.admin.statements import (
    ASYNC_RECORD_LOOKUPS,
    SalesOrderAdmin,
    SalesOrderLineAdmin,
    SalesOrderLineInline,
    StatementAdmin,
    StatementTransactionInline,
    ViewOnlyMixin,
    async_record_lookup_register,
    async_records_named,
    statement_error_sentences,
)

admin.site.site_header = "Retail HQ"
# The tables (transactions, status, job runs) need the width more than the nav sidebar.
admin.site.enable_nav_sidebar = False
admin.site.site_title = "Retail HQ"
admin.site.index_title = "Headquarters and store channel databases"

__all__ = [
    "ChannelEventAdmin",
    "EventAdmin",
    "ASYNC_RECORD_LOOKUPS",
    "ChannelDatabaseAdmin",
    "ChannelDatabaseForm",
    "ChannelSalesLineAdmin",
    "ChannelSalesLineInline",
    "ChannelSalesTransactionAdmin",
    "FunctionalityProfileAdmin",
    "LegalEntityAdmin",
    "LineTotalsMixin",
    "NumberSequenceAdmin",
    "NumberSequenceInline",
    "PostedReadOnlyMixin",
    "SalesLineAdmin",
    "SalesLineInline",
    "SalesOrderAdmin",
    "SalesOrderLineAdmin",
    "SalesOrderLineInline",
    "SalesTransactionAdmin",
    "StatementAdmin",
    "StatementTransactionInline",
    "StoreAdmin",
    "ViewOnlyMixin",
    "async_record_lookup_register",
    "async_records_named",
    "statement_error_sentences",
    "store_currencies",
    "transaction_customer",
    "with_line_totals",
]
