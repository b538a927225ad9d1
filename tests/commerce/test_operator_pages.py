"""Pages an operator can work from (README "Admin"): money with its currency, posted
transactions read only, statements with their transactions, their errors as sentences
linking what blocks them and "Post again", the business date to post, seconds in
times, channel lists naming their database."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commerce.admin import statement_error_sentences
from commerce.admin_display import money
from commerce.models import (
    ChannelSalesLine,
    ChannelSalesTransaction,
    SalesLine,
    SalesTransaction,
    Statement,
    StatementStatus,
    Store,
    TransactionStatus,
)
from customers.models import StagedAsyncCustomer
from jobs.models import JobRun
from jobs.services import job_runs_execute, job_runs_request
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.commerce import (
    SalesLineFactory,
    SalesTransactionFactory,
    StatementFactory,
)
from tests.factories.jobs import UserFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def run_now(job, **scope):
    runs, refused = job_runs_request(job=job, enqueue=False, **scope)
    assert not refused
    job_runs_execute(run_ids=[run.pk for run in runs])


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def client_with(*codenames):
    user = UserFactory()
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def failed_statement(channel_data):
    """S0001's statement of 2026-11-24, failed: a cash sale of the async customer HQ
    rejected (country "XXL")."""
    invalid = channel_data["invalid"]
    txn = ChannelSalesTransaction.objects.using("channel").create(
        transaction_id="S0001-1-000005",
        store_number="S0001",
        type="cash_and_carry",
        business_date="2026-11-24",
        async_customer_id=invalid.async_customer_id,
    )
    ChannelSalesLine.objects.using("channel").create(
        transaction=txn, line_number=1, item="0042", quantity="2", unit_price="22.24"
    )
    run_now("upload", channel_database="HOUSTON")
    run_now("post-statements", store="S0001", business_date="2026-11-24")
    statement = Statement.objects.get(store__number="S0001")
    assert statement.status == StatementStatus.FAILED
    return statement


# --- Money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("44.4800000000000"), "44.48 USD"),
        (Decimal("0.005"), "0.01 USD"),
        (Decimal("2499"), "2,499.00 USD"),
        (None, "-"),
    ],
)
def test_money_has_two_decimals_and_the_currency(amount, text):
    assert money(amount, "USD") == text


def test_transaction_list_shows_totals_with_the_legal_entity_currency(admin_client):
    txn = SalesTransactionFactory()
    SalesLineFactory(transaction=txn, quantity=Decimal("2"), unit_price=Decimal("22.24"))

    content = admin_client.get(admin_url(SalesTransaction, "changelist")).content.decode()

    assert '<span class="money">44.48 USD</span>' in content
    assert "44.4800" not in content


# --- Posted transactions are history -------------------------------------------------------


def test_a_posted_transaction_cannot_be_changed_or_deleted(admin_client):
    posted = SalesTransactionFactory(status=TransactionStatus.POSTED)
    line = SalesLineFactory(transaction=posted)
    open_one = SalesTransactionFactory(store=posted.store)

    page = admin_client.get(admin_url(SalesTransaction, "change", posted.pk))
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert admin_client.get(admin_url(SalesTransaction, "delete", posted.pk)).status_code == 403
    bulk = admin_client.post(
        admin_url(SalesTransaction, "changelist"),
        {"action": "delete_selected", "_selected_action": [posted.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    line_page = admin_client.get(admin_url(SalesLine, "change", line.pk))
    assert line_page.context["has_change_permission"] is False
    assert SalesTransaction.objects.filter(pk=posted.pk).exists()
    assert admin_client.get(admin_url(SalesTransaction, "change", open_one.pk)).context[
        "has_change_permission"
    ]


def test_a_posted_transaction_post_changes_nothing(admin_client):
    posted = SalesTransactionFactory(status=TransactionStatus.POSTED, customer_account="C1")
    url = admin_url(SalesTransaction, "change", posted.pk)

    response = admin_client.post(url, {"customer_account": "C2"})

    assert response.status_code == 403
    posted.refresh_from_db()
    assert posted.customer_account == "C1"


# --- Statements ------------------------------------------------------------------------------


def test_failed_statement_page_lists_transactions_and_errors_as_linked_sentences(
    admin_client, failed_statement, channel_data
):
    staged = StagedAsyncCustomer.objects.get(
        async_customer_id=channel_data["invalid"].async_customer_id
    )
    txn = SalesTransaction.objects.get(transaction_id="S0001-1-000005")

    content = admin_client.get(admin_url(Statement, "change", failed_statement.pk)).content.decode()

    staged_url = admin_url(StagedAsyncCustomer, "change", staged.pk)
    txn_url = admin_url(SalesTransaction, "change", txn.pk)
    assert (
        f'Transaction <a href="{txn_url}">S0001-1-000005</a> is blocked by async customer '
        f'<a href="{staged_url}">Bad Country</a>, which HQ could not create: '
        "Address 1: Country: invalid country code &quot;XXL&quot;. "
        "Fix it and synchronize it again, then post again."
    ) in content
    assert str(channel_data["invalid"].async_customer_id) not in content.split("Errors:")[-1][:600]
    assert "44.48 USD" in content  # the transaction's total, listed on the statement
    assert f'<a href="{txn_url}">S0001-1-000005</a>' in content
    assert "Post again</button>" in content
    assert 'name="sequence"' not in content and "Sequence:" not in content


def test_a_later_statement_of_a_date_shows_its_sequence(admin_client):
    first = StatementFactory(status=StatementStatus.POSTED)
    later = StatementFactory(store=first.store, business_date=first.business_date, sequence=2)

    content = admin_client.get(admin_url(Statement, "change", later.pk)).content.decode()
    listing = admin_client.get(admin_url(Statement, "changelist")).content.decode()

    assert "Sequence:" in content
    assert f"{first.store.number} {first.business_date} #2" in listing


def test_an_unparsable_error_is_still_shown():
    statement = StatementFactory(errors=["statement: RuntimeError: ledger offline", "odd"])

    assert [str(s) for s in statement_error_sentences(statement)] == [
        "The statement could not be posted: RuntimeError: ledger offline.",
        "odd.",
    ]


def test_post_again_queues_posting_and_posts_once_the_customer_is_fixed(
    admin_client, failed_statement, channel_data, django_capture_on_commit_callbacks
):
    staged = StagedAsyncCustomer.objects.get(
        async_customer_id=channel_data["invalid"].async_customer_id
    )
    staged.addresses.filter(country="XXL").update(country="USA")
    url = reverse("admin:commerce_statement_post_again", args=[failed_statement.pk])

    assert admin_client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    assert response.status_code == 302
    assert response.url == admin_url(Statement, "change", failed_statement.pk)
    run = JobRun.objects.filter(job="post-statements").latest("pk")
    assert run.parameters == {"store": "S0001", "business_date": "2026-11-24"}
    ((level, message),) = messages_of(response)
    assert level == "success"
    assert "Post statements for store S0001, business date 2026-11-24" in message
    failed_statement.refresh_from_db()
    assert failed_statement.status == StatementStatus.POSTED
    page = admin_client.get(admin_url(Statement, "change", failed_statement.pk))
    assert "Post again</button>" not in page.content.decode()


def test_post_again_needs_the_post_statements_permission(failed_statement):
    viewer = client_with("view_statement", "view_salestransaction")

    page = viewer.get(admin_url(Statement, "change", failed_statement.pk))
    response = viewer.post(
        reverse("admin:commerce_statement_post_again", args=[failed_statement.pk])
    )

    assert "Post again</button>" not in page.content.decode()
    assert response.status_code == 403
    assert not JobRun.objects.filter(job="post-statements", requested_via="admin").exists()


def test_post_again_action_skips_posted_statements(
    admin_client, failed_statement, django_capture_on_commit_callbacks
):
    posted = StatementFactory(store=failed_statement.store, status=StatementStatus.POSTED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            admin_url(Statement, "changelist"),
            {"action": "post_again", "_selected_action": [failed_statement.pk, posted.pk]},
        )

    levels = dict(messages_of(response))
    assert f"Skipped 1 already posted: {posted}" in levels["warning"]
    (run,) = JobRun.objects.filter(job="post-statements", requested_via="admin")
    assert run.parameters == {"store": "S0001", "business_date": "2026-11-24"}


# --- Post statement for a business date: the oldest date to post ---------------------------


def test_post_statement_defaults_to_the_oldest_unposted_date_with_sales(admin_client, organization):
    houston, seattle = organization["houston"], organization["seattle"]
    SalesTransactionFactory(store=houston, business_date=datetime.date(2026, 11, 22))
    SalesTransactionFactory(store=seattle, business_date=datetime.date(2026, 11, 20))
    SalesTransactionFactory(
        store=seattle, business_date=datetime.date(2026, 11, 18), status=TransactionStatus.POSTED
    )
    SalesTransactionFactory(
        store=houston, business_date=timezone.localdate() + datetime.timedelta(3)
    )

    ask = admin_client.post(
        admin_url(Store, "changelist"),
        {"action": "post_statement", "_selected_action": [houston.pk, seattle.pk]},
    )

    assert ask.context["form"].initial["business_date"] == datetime.date(2026, 11, 20)
    content = ask.content.decode()
    assert 'value="2026-11-20"' in content
    assert "sales not posted yet on 2026-11-22" in content
    assert "sales not posted yet on 2026-11-20" in content


# --- Times with seconds; channel lists name their database ----------------------------------


def test_times_show_their_seconds_on_lists_and_pages(admin_client):
    moment = datetime.datetime(2026, 11, 24, 9, 5, 7, tzinfo=datetime.UTC)
    statement = StatementFactory(calculated_at=moment)

    listing = admin_client.get(admin_url(Statement, "changelist")).content.decode()
    page = admin_client.get(admin_url(Statement, "change", statement.pk)).content.decode()

    assert "2026-11-24 09:05:07" in listing
    assert "2026-11-24 09:05:07" in page


def test_channel_lists_name_their_channel_database_under_the_title(admin_client):
    response = admin_client.get(
        admin_url(ChannelSalesTransaction, "changelist"), {"channel_db": "channel2"}
    )

    assert "<h2>Channel database channel2</h2>" in response.content.decode()


def test_change_form_post_data_still_edits_an_open_transaction(admin_client):
    txn = SalesTransactionFactory()
    SalesLineFactory(transaction=txn)
    url = admin_url(SalesTransaction, "change", txn.pk)

    response = admin_client.post(
        url, change_form_post_data(admin_client.get(url), customer_account="C000042")
    )

    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.customer_account == "C000042"
