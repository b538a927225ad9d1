from contextlib import ExitStack

import factory
import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commerce.admin_channel import channel_query_string
from commerce.db import channel_aliases
from commerce.events import ChannelEvent, Event, EventAction, EventKind, NewEvent, events_record
from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    SalesLine,
    SalesOrder,
    SalesOrderLine,
    SalesTransaction,
    Statement,
    Store,
)
from tests.factories.commerce import (
    ChannelDatabaseFactory,
    ChannelSalesLineFactory,
    ChannelSalesTransactionFactory,
    FunctionalityProfileFactory,
    LegalEntityFactory,
    SalesLineFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    SalesTransactionFactory,
    StatementFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")


# --- Helpers shared with tests/customers/test_admin.py ---------------------------------


def admin_url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def in_channel(url, alias):
    """``url`` (an add, change, delete or history page) opened in channel database ``alias``."""
    return f"{url}?{channel_query_string(alias)}"


def query_counts(client, url) -> dict[str, int]:
    """Queries one GET issues, per database; the page must answer 200."""
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ["default", *channel_aliases()]
        }
        response = client.get(url)
    assert response.status_code == 200, url
    return {alias: len(context.captured_queries) for alias, context in captured.items()}


def assert_changelist_queries_constant(client, model, make):
    """The changelist issues as many queries for 50 rows as for 5 (no N+1)."""
    url = admin_url(model, "changelist")
    client.get(url)  # warm-up: content types and the like are cached afterwards
    make(5)
    few = query_counts(client, url)
    make(45)
    response = client.get(url)
    assert response.context["cl"].result_count >= 50
    many = query_counts(client, url)
    assert few == many


def form_values(form) -> dict:
    """What a browser would post for ``form`` as rendered."""
    data = {}
    for name in form.fields:
        bound = form[name]
        if bound.field.disabled:
            continue
        value = bound.value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
            continue
        data[bound.html_name] = value
    return data


def change_form_post_data(response, **changes) -> dict:
    """POST data for an admin add/change page: its form, inline management forms and
    inline forms as rendered, with ``changes`` (html names) applied."""
    data = form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(form_values(formset.management_form))
        for form in formset.forms:
            data.update(form_values(form))
    data.update(changes)
    return data


def registered_models(app_label):
    return [model for model in admin.site._registry if model._meta.app_label == app_label]


# --- Sample rows for every commerce model -----------------------------------------------


def _channel_transactions(n):
    transactions = ChannelSalesTransactionFactory.create_batch(n)
    for txn in transactions:
        ChannelSalesLineFactory(transaction=txn)
        ChannelSalesLineFactory(transaction=txn)
    return transactions


def _events(n, *, using):
    model = ChannelEvent if using == "channel" else Event
    events_record(
        [
            NewEvent(
                kind=EventKind.ACCOUNT,
                key=f"C{i:06d}",
                account=f"C{i:06d}",
                action=EventAction.FIXED,
                actor="admin",
                changes=[["Customer group", "PLATINUM", "RETAIL"]],
            )
            for i in range(n)
        ],
        using=using,
    )
    return list(model.objects.using(using).order_by("-pk")[:n])


def _sales_transactions(n):
    transactions = SalesTransactionFactory.create_batch(n)
    for txn in transactions:
        SalesLineFactory(transaction=txn)
        SalesOrderFactory(transaction=txn)
        txn.statement = StatementFactory(store=txn.store)
        txn.save()
    return transactions


def _sales_orders(n):
    orders = SalesOrderFactory.create_batch(n)
    for order in orders:
        SalesOrderLineFactory(order=order)
    return orders


MAKERS = {
    LegalEntity: lambda n: LegalEntityFactory.create_batch(n),
    NumberSequence: lambda n: [LegalEntityFactory().customer_sequence for _ in range(n)],
    FunctionalityProfile: lambda n: FunctionalityProfileFactory.create_batch(
        n, code=factory.Sequence(lambda i: f"PROFILE{i}")
    ),
    ChannelDatabase: lambda n: ChannelDatabaseFactory.create_batch(
        n, alias=factory.Sequence(lambda i: f"unconfigured{i}")
    ),
    Store: lambda n: StoreFactory.create_batch(n),
    ChannelSalesTransaction: _channel_transactions,
    ChannelSalesLine: lambda n: [
        ChannelSalesLineFactory(transaction=ChannelSalesTransactionFactory()) for _ in range(n)
    ],
    SalesTransaction: _sales_transactions,
    SalesLine: lambda n: SalesLineFactory.create_batch(n),
    SalesOrder: _sales_orders,
    SalesOrderLine: lambda n: SalesOrderLineFactory.create_batch(n),
    Statement: lambda n: StatementFactory.create_batch(n),
    Event: lambda n: _events(n, using="default"),
    ChannelEvent: lambda n: _events(n, using="channel"),
}


def model_label(model) -> str:
    """A model's "app_label.Model" label, the id of a test parametrized by model."""
    return model._meta.label


def test_every_commerce_and_customers_model_is_in_the_admin():
    for app_label in ("commerce", "customers"):
        missing = [
            m._meta.label
            for m in apps.get_app_config(app_label).get_models()
            if not admin.site.is_registered(m)
        ]
        assert missing == []


def test_every_registered_commerce_model_has_sample_rows():
    assert set(registered_models("commerce")) == set(MAKERS)


def add_page_status(model) -> int:
    """200 where the admin allows adding, 403 where only the jobs create rows."""
    model_admin = admin.site.get_model_admin(model)
    can_add = model_admin.has_add_permission.__func__ is admin.ModelAdmin.has_add_permission
    return 200 if can_add else 403


class AdminPagesContract:
    """The admin pages of every model of ``MAKERS`` (model -> function making n rows) open,
    list in constant queries and answer a search; a Test class of each app sets MAKERS."""

    MAKERS: dict = {}

    def pytest_generate_tests(self, metafunc):
        metafunc.parametrize("model", list(self.MAKERS), ids=model_label)

    def test_changelist_add_and_change_pages_open(self, admin_client, model):
        (obj,) = self.MAKERS[model](1)

        assert admin_client.get(admin_url(model, "changelist")).status_code == 200
        assert admin_client.get(admin_url(model, "add")).status_code == add_page_status(model)
        response = admin_client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200
        assert response.context["original"] == obj

    def test_changelist_queries_do_not_grow_with_rows(self, admin_client, model):
        assert_changelist_queries_constant(admin_client, model, self.MAKERS[model])

    def test_changelist_search_answers(self, admin_client, model):
        self.MAKERS[model](2)

        response = admin_client.get(admin_url(model, "changelist"), {"q": "a"})

        assert response.status_code == 200


class TestCommerceAdminPages(AdminPagesContract):
    MAKERS = MAKERS


# --- Organization pages ------------------------------------------------------------------


def test_channel_database_alias_must_be_configured(admin_client):
    response = admin_client.post(
        admin_url(ChannelDatabase, "add"), {"name": "NOWHERE", "alias": "nowhere"}
    )

    assert response.status_code == 200
    assert "alias" in response.context["adminform"].form.errors
    assert not ChannelDatabase.objects.exists()


def test_transaction_totals_are_shown(admin_client):
    txn = SalesTransactionFactory()
    SalesLineFactory(transaction=txn, quantity=2, unit_price="9.99")
    SalesLineFactory(transaction=txn, quantity=1, unit_price="0.02")

    response = admin_client.get(admin_url(SalesTransaction, "changelist"))

    (row,) = response.context["cl"].result_list
    assert row.line_count == 2 and row.total_amount == pytest.approx(20)


def test_raw_id_lookup_popup_lists_the_chosen_database(admin_client):
    ChannelSalesTransactionFactory(transaction_id="IN-CHANNEL")
    ChannelSalesTransactionFactory(transaction_id="IN-CHANNEL2", using="channel2")

    response = admin_client.get(
        admin_url(ChannelSalesTransaction, "changelist"),
        {"_to_field": "id", "_popup": "1", "channel_db": "channel2"},
    )

    assert [t.transaction_id for t in response.context["cl"].result_list] == ["IN-CHANNEL2"]


def test_channel_changelist_with_facet_counts(admin_client):
    ChannelSalesTransactionFactory(using="channel2")

    response = admin_client.get(
        admin_url(ChannelSalesTransaction, "changelist"),
        {"channel_db": "channel2", "_facets": "True"},
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_statement_links_to_its_transactions(admin_client):
    statement = StatementFactory()
    posted = SalesTransactionFactory(store=statement.store, statement=statement)
    SalesTransactionFactory(store=statement.store)

    listing = admin_client.get(admin_url(Statement, "changelist")).content.decode()
    url = f"{admin_url(SalesTransaction, 'changelist')}?statement={statement.pk}"
    assert url in listing
    response = admin_client.get(url)

    assert list(response.context["cl"].result_list) == [posted]


def test_store_default_customer_autocomplete(admin_client):
    store = StoreFactory()

    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "commerce",
            "model_name": "store",
            "field_name": "default_customer",
            "term": store.default_customer.account,
        },
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [store.default_customer.account]
