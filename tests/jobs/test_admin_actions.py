"""The job-related admin's actions that queue jobs (README "Admin"): from channel
databases, staged records, stores and sales transactions, and their permissions."""

import datetime
import re

import pytest
from django.contrib import admin
from django.utils import timezone

from commerce.models import ChannelDatabase, SalesOrder, SalesTransaction, Store, TransactionType
from customers.models import StagedAsyncAddress, StagedAsyncCustomer, StagingStatus
from customers.selectors import async_status_rows
from jobs.models import JobRun, JobStatus
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.commerce import SalesTransactionFactory
from tests.factories.jobs import JobRunFactory, UserFactory
from tests.jobs.test_admin import (
    action_names,
    client_for,
    failed_customer,
    fix_country,
    houston,
    messages_of,
    post_action,
    run_now,
    staff,
    statuses,
)

pytestmark = pytest.mark.django_db(databases="__all__")
__all__ = ["failed_customer", "houston"]  # fixtures


# --- Channel database actions ----------------------------------------------------------


def test_superuser_runs_upload_and_the_message_links_to_the_run(
    admin_client, houston, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, ChannelDatabase, "run_upload", [houston])

    assert response.status_code == 302
    run = JobRun.objects.get()
    assert (run.job, run.scope, run.requested_via) == (
        "upload",
        "channel_database=HOUSTON",
        "admin",
    )
    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED
    assert StagedAsyncCustomer.objects.count() == 4
    assert StagedAsyncAddress.objects.count() == 1
    ((level, message),) = messages_of(response)
    assert level == "success"
    assert f'<a href="{admin_url(JobRun, "change", run.pk)}">job run #{run.pk}</a>' in message
    # Scopes in words (README "Admin"), no longer the "channel_database=HOUSTON" key.
    assert "Upload (P-0001) for channel database HOUSTON" in message


def test_run_distribution_and_whole_conversion_from_channel_databases(
    admin_client, houston, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_action(admin_client, ChannelDatabase, "run_conversion", [houston])

    runs = list(JobRun.objects.order_by("pk"))
    assert [r.job for r in runs] == ["upload", "async-customers", "distribute"]
    assert all(r.scope == "channel_database=HOUSTON" for r in runs)
    assert [r.status for r in runs] == ["succeeded", "completed_with_errors", "succeeded"]
    houston_rows = [r for r in async_status_rows(store="S0001")]
    assert sorted(r["status"] for r in houston_rows) == ["failed", *["synchronized"] * 4]

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, ChannelDatabase, "run_distribution", [houston])
    distribute = JobRun.objects.filter(job="distribute").latest("pk")
    assert distribute.pk != runs[-1].pk and distribute.status == JobStatus.SUCCEEDED
    assert f"job run #{distribute.pk}" in messages_of(response)[-1][1]


def test_a_scope_already_running_is_refused_with_a_link(admin_client, houston):
    active = JobRunFactory(job="upload", scope="channel_database=HOUSTON", status=JobStatus.RUNNING)
    active.heartbeat_at = timezone.now()
    active.save()

    response = post_action(admin_client, ChannelDatabase, "run_upload", [houston])

    assert JobRun.objects.count() == 1
    ((level, message),) = messages_of(response)
    assert level == "warning"
    assert f'already running: <a href="{admin_url(JobRun, "change", active.pk)}">' in message


def test_staff_without_the_job_permission_neither_sees_nor_runs_the_action(houston):
    client = client_for(staff("commerce.view_channeldatabase", "jobs.run_distribute"))

    listing = client.get(admin_url(ChannelDatabase, "changelist"))
    response = post_action(client, ChannelDatabase, "run_upload", [houston])

    assert "run_upload" not in action_names(listing)
    assert "run_conversion" not in action_names(listing)  # needs all three
    assert "run_distribution" in action_names(listing)
    assert response.status_code in (200, 302)
    assert not JobRun.objects.exists()


def test_view_only_staff_with_the_upload_permission_sees_and_runs_it(
    houston, django_capture_on_commit_callbacks
):
    client = client_for(staff("commerce.view_channeldatabase", "jobs.run_upload"))

    listing = client.get(admin_url(ChannelDatabase, "changelist"))
    with django_capture_on_commit_callbacks(execute=True):
        post_action(client, ChannelDatabase, "run_upload", [houston])

    assert action_names(listing) == ["", "run_upload"]
    assert JobRun.objects.get().status == JobStatus.SUCCEEDED


def test_conversion_needs_all_three_permissions(houston):
    client = client_for(
        staff(
            "commerce.view_channeldatabase",
            "jobs.run_upload",
            "jobs.run_async_customers",
            "jobs.run_distribute",
        )
    )

    assert "run_conversion" in action_names(client.get(admin_url(ChannelDatabase, "changelist")))


def test_action_post_without_csrf_token_is_forbidden(houston):
    client = client_for(UserFactory(is_superuser=True), enforce_csrf_checks=True)

    response = post_action(client, ChannelDatabase, "run_upload", [houston])

    assert response.status_code == 403
    assert not JobRun.objects.exists()


# --- Staged records: Synchronize selected, Save and synchronize again ----------------------


def test_synchronize_selected_after_fixing_runs_the_chain_to_every_store(
    admin_client, failed_customer, django_capture_on_commit_callbacks
):
    """An HQ fix runs the rest of the chain (jobs.fix_chain): account creation, then
    1010 to its store and every other store of its legal entity, no schedule needed."""
    from customers.models import ChannelCustomer

    fix_country(failed_customer)
    guid = str(failed_customer.async_customer_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(
            admin_client, StagedAsyncCustomer, "synchronize_selected", [failed_customer]
        )

    run = JobRun.objects.filter(job="async-customers").latest("pk")
    assert run.parameters == {"staged_customer_ids": [failed_customer.pk]}
    assert (run.status, run.selected, run.succeeded) == (JobStatus.SUCCEEDED, 1, 1)
    distributions = JobRun.objects.filter(job="distribute", pk__gt=run.pk).order_by("pk")
    assert [d.parameters["channel_database"] for d in distributions] == ["HOUSTON", "SEATTLE"]
    assert all(d.task_id == run.task_id for d in distributions)  # one chain
    message = messages_of(response)[0][1]
    for queued in [run, *distributions]:
        assert f"job run #{queued.pk}" in message
    assert statuses()[guid] == "synchronized"
    account = StagedAsyncCustomer.objects.get(pk=failed_customer.pk).account
    for alias in ("channel", "channel2"):
        assert ChannelCustomer.objects.using(alias).filter(account=account).exists()


def test_synchronize_selected_for_staged_addresses(
    admin_client, channel_data, django_capture_on_commit_callbacks
):
    run_now("upload", channel_database="HOUSTON")
    staged = StagedAsyncAddress.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        post_action(admin_client, StagedAsyncAddress, "synchronize_selected", [staged])

    run = JobRun.objects.filter(job="async-customers").get()
    assert run.parameters == {"staged_address_ids": [staged.pk]}
    staged.refresh_from_db()
    assert staged.status == StagingStatus.COMPLETED and staged.location_id


def test_save_and_synchronize_again_on_the_staged_page(
    admin_client, failed_customer, django_capture_on_commit_callbacks
):
    url = admin_url(StagedAsyncCustomer, "change", failed_customer.pk)
    page = admin_client.get(url)
    content = page.content.decode()
    assert 'name="_sync_again"' in content and "XXL" in content
    index = [a.country for a in failed_customer.addresses.all()].index("XXL")
    data = change_form_post_data(
        page, email="fixed@example.com", **{f"addresses-{index}-country": "USA"}
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {**data, "_sync_again": "Save and synchronize again"})

    assert response.status_code == 302 and response.url == url
    failed_customer.refresh_from_db()
    assert failed_customer.email == "fixed@example.com"
    assert failed_customer.status == StagingStatus.COMPLETED and failed_customer.account
    messages = [message for _level, message in messages_of(response)]
    assert "was saved" in messages[0] and "job run #" in messages[1]
    # a completed staged record is history: shown, not editable, no button
    done = admin_client.get(url)
    assert done.context["has_change_permission"] is False
    assert 'name="_sync_again"' not in done.content.decode()


def test_save_and_synchronize_again_needs_the_job_permission(failed_customer):
    client = client_for(
        staff("customers.view_stagedasynccustomer", "customers.change_stagedasynccustomer")
    )
    url = admin_url(StagedAsyncCustomer, "change", failed_customer.pk)
    page = client.get(url)
    assert 'name="_sync_again"' not in page.content.decode()
    data = change_form_post_data(page, email="fixed@example.com")

    response = client.post(url, {**data, "_sync_again": "1"})

    assert response.status_code == 403
    failed_customer.refresh_from_db()
    assert failed_customer.email != "fixed@example.com"
    assert not JobRun.objects.filter(job="async-customers", requested_via="admin").exists()


# --- Stores: post statement for a business date ------------------------------------------


def test_post_statement_asks_the_date_then_queues_per_store(
    admin_client, organization, django_capture_on_commit_callbacks
):
    stores = [organization["houston"], organization["seattle"]]

    ask = post_action(admin_client, Store, "post_statement", stores)

    assert ask.status_code == 200
    content = ask.content.decode()
    assert 'type="date"' in content and timezone.localdate().isoformat() in content
    assert "csrfmiddlewaretoken" in content and "S0001" in content and "S0002" in content
    assert ask.context["form"].initial["business_date"] == timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        done = post_action(
            admin_client, Store, "post_statement", stores, apply="1", business_date="2026-11-24"
        )

    assert done.status_code == 302
    runs = list(JobRun.objects.order_by("pk"))
    assert [r.parameters for r in runs] == [
        {"store": "S0001", "business_date": "2026-11-24"},
        {"store": "S0002", "business_date": "2026-11-24"},
    ]
    assert all(r.job == "post-statements" and r.status == JobStatus.SUCCEEDED for r in runs)
    assert all(f"job run #{r.pk}" in messages_of(done)[0][1] for r in runs)


def test_post_statement_with_a_bad_date_shows_the_form_again(admin_client, organization):
    response = post_action(
        admin_client,
        Store,
        "post_statement",
        [organization["houston"]],
        apply="1",
        business_date="2026-13-45",
    )

    assert response.status_code == 200
    assert "business_date" in response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()
    assert not JobRun.objects.exists()


# --- Sales transactions: Synchronize order ------------------------------------------------


def test_synchronize_order_creates_the_sales_order_and_reports_skipped(
    admin_client, channel_data, django_capture_on_commit_callbacks
):
    run_now("upload", channel_database="HOUSTON")
    order = SalesTransaction.objects.get(transaction_id="S0001-1-000001")
    cash = SalesTransactionFactory(
        store=order.store, type=TransactionType.CASH_AND_CARRY, business_date=datetime.date.today()
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, SalesTransaction, "synchronize_order", [order, cash])

    sales_order = SalesOrder.objects.get(transaction=order)
    assert sales_order.customer_account.startswith("C")
    run = JobRun.objects.get(job="sync-orders")
    assert run.parameters == {"transaction_ids": [order.pk]}
    assert run.status == JobStatus.SUCCEEDED
    levels = dict(messages_of(response))
    assert cash.transaction_id in levels["warning"]
    assert re.search(rf"job run #{run.pk}", levels["success"])


def test_every_job_action_is_declared_with_its_permission():
    for model_admin in admin.site._registry.values():
        for action in getattr(model_admin, "actions", None) or []:
            func = getattr(model_admin, action) if isinstance(action, str) else action
            if func.__name__.startswith(("run_", "synchronize_", "post_")):
                assert func.allowed_permissions, func
