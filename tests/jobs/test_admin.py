"""The job-related admin (README "Admin"): job runs and sessions pages and the customer
synchronization status page."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from commerce.models import ChannelDatabase
from customers.models import StagedAsyncCustomer, StagingStatus
from customers.selectors import async_status_rows
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadSession,
    JobDemand,
    JobRun,
    JobScopeCheck,
    JobStatus,
    UploadSession,
)
from jobs.services import job_runs_execute, job_runs_request
from tests.commerce.test_admin import (
    admin_url,
    assert_changelist_queries_constant,
    model_label,
    query_counts,
    registered_models,
)
from tests.factories.customers import AsyncCustomerFactory, StagedAsyncCustomerFactory
from tests.factories.jobs import (
    AppliedDownloadSessionFactory,
    CustomerDistributionFactory,
    DownloadSessionFactory,
    JobDemandFactory,
    JobRunFactory,
    JobScopeCheckFactory,
    UploadSessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")

SYNC_STATUS = "/admin/customers/stagedasynccustomer/sync-status/"
REFRESH_TAG = '<meta http-equiv="refresh"'


def run_now(job, **scope):
    """Request and execute a job in this process (what a worker would do)."""
    runs, refused = job_runs_request(job=job, enqueue=False, **scope)
    assert not refused
    job_runs_execute(run_ids=[run.pk for run in runs])


def staff(*permissions):
    """A staff user with exactly these "app_label.codename" permissions."""
    user = UserFactory()
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def client_for(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def action_names(response):
    return [name for name, _label in response.context["action_form"].fields["action"].choices]


def post_action(client, model, action, objs, **extra):
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [obj.pk for obj in objs], **extra},
    )


def statuses():
    return {row["async_id"]: row["status"] for row in async_status_rows()}


@pytest.fixture
def houston(channel_data):
    return ChannelDatabase.objects.get(name="HOUSTON")


@pytest.fixture
def failed_customer(channel_data):
    """The Houston customer HQ rejected (country "XXL"), after upload and creation."""
    run_now("upload", channel_database="HOUSTON")
    run_now("async-customers")
    staged = StagedAsyncCustomer.objects.get(
        async_customer_id=channel_data["invalid"].async_customer_id
    )
    assert staged.status == StagingStatus.FAILED
    return staged


def fix_country(staged):
    staged.addresses.filter(country="XXL").update(country="USA")


# --- Every jobs model is in the admin, lists without N+1 ----------------------------------

MAKERS = {
    JobRun: lambda n: JobRunFactory.create_batch(n),
    UploadSession: lambda n: UploadSessionFactory.create_batch(n),
    DownloadSession: lambda n: DownloadSessionFactory.create_batch(n),
    CustomerDistribution: lambda n: CustomerDistributionFactory.create_batch(n),
    AppliedDownloadSession: lambda n: AppliedDownloadSessionFactory.create_batch(n),
    JobScopeCheck: lambda n: JobScopeCheckFactory.create_batch(n),
    JobDemand: lambda n: JobDemandFactory.create_batch(n),
}


def test_every_jobs_model_is_in_the_admin():
    assert set(registered_models("jobs")) == set(MAKERS)


@pytest.mark.parametrize("model", list(MAKERS), ids=model_label)
def test_jobs_pages_open_read_only(admin_client, model):
    (obj,) = MAKERS[model](1)

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "changelist"), {"q": "1"}).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    response = admin_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj
    assert response.context["has_change_permission"] is False


@pytest.mark.parametrize("model", list(MAKERS), ids=model_label)
def test_jobs_changelist_queries_do_not_grow_with_rows(admin_client, model):
    assert_changelist_queries_constant(admin_client, model, MAKERS[model])


def test_job_run_page_shows_progress_errors_one_per_line_and_the_message(admin_client):
    run = JobRunFactory(
        errors=["customer A: email: bad", "customer B: country: XXL"], message="done <b>"
    )

    content = admin_client.get(admin_url(JobRun, "change", run.pk)).content.decode()

    assert "customer A: email: bad</div>" in content
    assert "customer B: country: XXL</div>" in content
    assert "done &lt;b&gt;" in content
    assert "4 / 4" in content  # processed of selected


def test_download_session_list_does_not_show_the_payload(admin_client):
    DownloadSessionFactory(
        payload__value={"customers": [{"account": "C424242", "addresses": []}], "ids": [1]}
    )

    listing = admin_client.get(admin_url(DownloadSession, "changelist")).content.decode()

    assert "C424242" not in listing


# --- Refreshing while active --------------------------------------------------------------


def test_job_runs_list_refreshes_while_a_shown_run_is_active(admin_client):
    JobRunFactory()
    queued = JobRunFactory(status=JobStatus.QUEUED)
    url = admin_url(JobRun, "changelist")

    active = admin_client.get(url).content.decode()
    assert REFRESH_TAG in active and "Refreshing every 3 s while active" in active
    assert REFRESH_TAG in admin_client.get(admin_url(JobRun, "change", queued.pk)).content.decode()

    JobRun.objects.filter(pk=queued.pk).update(status=JobStatus.SUCCEEDED)
    idle = admin_client.get(url)
    assert idle.status_code == 200
    assert REFRESH_TAG not in idle.content.decode()
    page = admin_client.get(admin_url(JobRun, "change", queued.pk)).content.decode()
    assert REFRESH_TAG not in page


# --- Customer synchronization status page --------------------------------------------------


def test_status_page_lists_every_row_with_a_dashboard(admin_client, failed_customer):
    response = admin_client.get(SYNC_STATUS)

    assert response.status_code == 200
    rows = response.context["page"].object_list
    assert len(rows) == 6
    summary = {line["store"]: line for line in response.context["summary"]}
    assert (summary["S0001"]["failed"], summary["S0001"]["created"]) == (1, 4)
    assert summary["S0002"]["pending_upload"] == 1
    assert summary["S0002"]["oldest_pending_at"] is not None
    assert summary[None]["failed"] == 1  # the totals line
    failed_row = next(row for row in rows if row["status"] == "failed")
    assert failed_row["operation_at"] == failed_customer.processed_at
    assert "XXL" in failed_row["last_error"]
    staged_url = admin_url(StagedAsyncCustomer, "change", failed_customer.pk)
    content = response.content.decode()
    assert f'href="{staged_url}"' in content
    assert f'value="customer:{failed_customer.pk}"' in content
    assert "Synchronize again" in content


def test_status_page_filters_by_status_store_and_kind(admin_client, failed_customer):
    failed = admin_client.get(SYNC_STATUS, {"status": "failed"}).context["page"].object_list
    seattle = admin_client.get(SYNC_STATUS, {"store": "S0002"}).context["page"].object_list
    addresses = admin_client.get(SYNC_STATUS, {"kind": "address"}).context["page"].object_list

    assert [row["async_id"] for row in failed] == [str(failed_customer.async_customer_id)]
    assert {row["store"] for row in seattle} == {"S0002"} and len(seattle) == 1
    assert {row["kind"] for row in addresses} == {"address"} and len(addresses) == 1


def test_status_page_ignores_invalid_filters_and_says_so(admin_client, channel_data):
    response = admin_client.get(SYNC_STATUS, {"status": "bogus", "store": "S9999"})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"status", "store"}
    assert len(response.context["page"].object_list) == 6
    assert "Filters ignored" in response.content.decode()


def test_status_page_is_paginated(admin_client, channel_data, monkeypatch):
    monkeypatch.setattr("customers.admin.status.STATUS_PAGE_SIZE", 4)

    first = admin_client.get(SYNC_STATUS)
    second = admin_client.get(SYNC_STATUS, {"page": 2})

    assert len(first.context["page"].object_list) == 4
    assert len(second.context["page"].object_list) == 2
    assert "page=2" in first.content.decode()


def test_status_page_bulk_synchronize_again(
    admin_client, failed_customer, django_capture_on_commit_callbacks
):
    fix_country(failed_customer)
    url = f"{SYNC_STATUS}?status=failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"selected": [f"customer:{failed_customer.pk}"], "_sync_again": "1"}
        )

    assert response.status_code == 302 and response.url == url
    failed_customer.refresh_from_db()
    assert failed_customer.status == StagingStatus.COMPLETED
    # The fix ran the rest of the chain: the store holds the account (jobs.fix_chain).
    assert statuses()[str(failed_customer.async_customer_id)] == "synchronized"
    run = JobRun.objects.filter(job="async-customers", requested_via="admin").get()
    assert f"job run #{run.pk}" in messages_of(response)[0][1]


def test_status_page_bulk_without_rows_warns(admin_client, channel_data):
    response = admin_client.post(SYNC_STATUS, {"_sync_again": "1"})

    assert response.status_code == 302
    assert messages_of(response)[0][0] == "warning"
    assert not JobRun.objects.exists()


def test_status_page_without_the_job_permission_has_no_button_and_refuses(failed_customer):
    client = client_for(staff("customers.view_stagedasynccustomer"))

    page = client.get(SYNC_STATUS)
    response = client.post(SYNC_STATUS, {"selected": [f"customer:{failed_customer.pk}"]})

    assert page.status_code == 200
    assert "Synchronize again" not in page.content.decode()
    assert 'name="selected"' not in page.content.decode()
    assert response.status_code == 403
    failed_customer.refresh_from_db()
    assert failed_customer.status == StagingStatus.FAILED


def test_status_page_needs_the_staged_view_permission(channel_data):
    client = client_for(staff("jobs.run_async_customers"))

    assert client.get(SYNC_STATUS).status_code == 403


def test_status_page_queries_do_not_grow_with_rows(admin_client, organization):
    def make(n):
        for customer in AsyncCustomerFactory.create_batch(n):
            StagedAsyncCustomerFactory(
                async_customer_id=customer.async_customer_id,
                status=StagingStatus.FAILED,
                last_error="email: bad",
            )

    admin_client.get(SYNC_STATUS)
    make(5)
    few = query_counts(admin_client, SYNC_STATUS)
    make(45)
    many = query_counts(admin_client, SYNC_STATUS)

    assert few == many


def test_status_page_is_linked_from_the_index_and_the_staged_list(admin_client):
    assert SYNC_STATUS in admin_client.get("/admin/").content.decode()
    listing = admin_client.get(admin_url(StagedAsyncCustomer, "changelist")).content.decode()
    assert SYNC_STATUS in listing
