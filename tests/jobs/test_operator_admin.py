"""Scopes and parameters in words on job run pages and in action messages, and the
admin index grouped by what an operator does, with what failed (README "Admin")."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from commerce.models import Statement, StatementStatus, TransactionStatus
from customers.forms import ASYNC_STATUS_LABELS
from customers.models import StagedAsyncCustomer, StagingStatus
from customers.selectors import AsyncStatus
from jobs.admin_actions import scope_words
from jobs.models import JobRun, JobStatus
from tests.commerce.test_admin import admin_url, query_counts
from tests.factories.commerce import SalesTransactionFactory, StatementFactory
from tests.factories.customers import StagedAsyncCustomerFactory
from tests.factories.jobs import JobRunFactory, UserFactory

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.mark.parametrize(
    ("job", "scope", "words"),
    [
        ("upload", "channel_database=HOUSTON", "channel database HOUSTON"),
        (
            "post-statements",
            "business_date=2026-11-24,store=S0001",
            "store S0001, business date 2026-11-24",
        ),
        ("post-statements", "store=S0001", "store S0001, every business date with sales to post"),
        (
            "async-customers",
            "staged_customer_ids=3 selected #fa35e192",
            "3 selected staged async customers",
        ),
        (
            "async-customers",
            "staged_address_ids=1 selected #0a1b2c3d,staged_customer_ids=2 selected #fa35e192",
            "2 selected staged async customers, 1 selected staged async address",
        ),
        ("sync-orders", "transaction_ids=1 selected #fa35e192", "1 selected transaction"),
        ("upload", "all", "every channel database"),
        ("async-customers", "all", "every record waiting for it"),
    ],
)
def test_scopes_in_words(job, scope, words):
    assert scope_words(job=job, scope=scope) == words


def test_job_run_pages_say_scope_and_parameters_in_words_and_name_the_records(admin_client):
    staged = StagedAsyncCustomerFactory(first_name="Ayşe", last_name="Yılmaz")
    run = JobRunFactory(
        job="async-customers",
        scope="staged_customer_ids=1 selected #fa35e192",
        parameters={"staged_customer_ids": [staged.pk]},
        errors=[f"async customer {staged.async_customer_id}: email: malformed email"],
    )

    page = admin_client.get(admin_url(JobRun, "change", run.pk)).content.decode()
    listing = admin_client.get(admin_url(JobRun, "changelist")).content.decode()

    staged_url = admin_url(StagedAsyncCustomer, "change", staged.pk)
    assert "1 selected staged async customer" in listing
    assert f"#{run.pk} Synchronize customers and channel requests for 1 selected staged" in page
    assert f'1 selected staged async customer: <a href="{staged_url}">Ayşe Yılmaz</a>' in page
    assert (
        f'async customer <a href="{staged_url}" title="{staged.async_customer_id}">Ayşe Yılmaz</a>'
        ": email: malformed email</div>"
    ) in page
    assert "staged_customer_ids" not in page.split("Parameters")[-1][:400]


# --- The index -------------------------------------------------------------------------------


def sections_of(response):
    return {
        section["name"]: [model["object_name"] for model in section["models"]]
        for section in response.context["sections"]
    }


def test_index_groups_pages_by_what_an_operator_does(admin_client):
    response = admin_client.get("/admin/")

    sections = sections_of(response)
    assert list(sections) == ["Conversion", "Stores", "Customers", "Setup"]
    assert sections["Conversion"][:3] == ["JobRun", "StagedAsyncCustomer", "StagedAsyncAddress"]
    assert sections["Stores"][:4] == ["Store", "ChannelDatabase", "SalesTransaction", "Statement"]
    assert sections["Customers"][0] == "Customer"
    assert {"LegalEntity", "CustomerGroup", "CustomerAttribute", "FunctionalityProfile"} <= set(
        sections["Setup"]
    )
    assert "User" in sections["Setup"]  # auth and the task queue are setup too
    content = response.content.decode()
    assert "/admin/customers/stagedasynccustomer/sync-status/" in content


def test_index_shows_failed_counts_linked_to_the_filtered_lists(admin_client):
    StagedAsyncCustomerFactory.create_batch(2, status=StagingStatus.FAILED)
    StagedAsyncCustomerFactory(status=StagingStatus.COMPLETED)
    JobRunFactory(status=JobStatus.FAILED)
    old = JobRunFactory(status=JobStatus.FAILED)
    JobRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    StatementFactory(status=StatementStatus.FAILED)
    SalesTransactionFactory(status=TransactionStatus.ORDER_FAILED)

    content = admin_client.get("/admin/").content.decode()

    staged = admin_url(StagedAsyncCustomer, "changelist")
    assert f'href="{staged}?status__exact=failed"' in content
    assert ">2 failed</a>" in content
    assert ">1 failed today</a>" in content
    assert f'href="{admin_url(Statement, "changelist")}?status__exact=failed"' in content
    assert ">1 order failed</a>" in content
    assert "posting failed</a>" not in content  # nothing failed to post


def test_index_queries_do_not_grow_with_failures(admin_client):
    admin_client.get("/admin/")
    StagedAsyncCustomerFactory(status=StagingStatus.FAILED)
    few = query_counts(admin_client, "/admin/")
    StagedAsyncCustomerFactory.create_batch(20, status=StagingStatus.FAILED)
    StatementFactory.create_batch(5, status=StatementStatus.FAILED)
    JobRunFactory.create_batch(5, status=JobStatus.FAILED)

    assert query_counts(admin_client, "/admin/") == few


def test_index_shows_only_what_the_user_may_open(organization):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_statement"))
    client = Client()
    client.force_login(user)
    StatementFactory(status=StatementStatus.FAILED)
    StagedAsyncCustomerFactory(status=StagingStatus.FAILED)

    response = client.get("/admin/")

    assert sections_of(response) == {
        "Conversion": [],
        "Stores": ["Statement"],
        "Customers": [],
        "Setup": [],
    }
    content = response.content.decode()
    assert ">1 failed</a>" in content  # the statement; staged records are not shown
    assert "sync-status" not in content
    assert "Conversion" not in content


def test_a_status_has_one_name_on_every_page(admin_client):
    StagedAsyncCustomerFactory(status=StagingStatus.PENDING)
    StagedAsyncCustomerFactory(status=StagingStatus.COMPLETED, account="C000009")

    listing = admin_client.get(admin_url(StagedAsyncCustomer, "changelist")).content.decode()

    for staged, shown in [
        (StagingStatus.PENDING, AsyncStatus.UPLOADED),
        (StagingStatus.COMPLETED, AsyncStatus.CREATED),
        (StagingStatus.FAILED, AsyncStatus.FAILED),
    ]:
        assert staged.label == ASYNC_STATUS_LABELS[shown]
    assert '<td class="field-status_text">Uploaded</td>' in listing
    assert '<td class="field-status_text">Created at HQ</td>' in listing
