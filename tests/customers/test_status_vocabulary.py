"""One status vocabulary (README "Statuses"): the same record has the same status, by
the same name, on the status command, the status page, the staged and channel lists
and the store customers page, all derived in customers.selectors.status."""

import io
import json

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import strip_tags

from customers.models import AsyncCustomer, StagedAsyncCustomer
from customers.selectors import ASYNC_STATUS_LABELS
from tests.commerce.test_admin import admin_url
from tests.jobs.test_admin import SYNC_STATUS, run_now

pytestmark = pytest.mark.django_db(databases="__all__")


def command_statuses() -> dict[str, str]:
    out = io.StringIO()
    call_command("async_customer_status", "--format", "json", stdout=out)
    return {row["async_id"]: row["status"] for row in json.loads(out.getvalue())}


def status_page_labels(client) -> dict[str, str]:
    page = client.get(SYNC_STATUS).context["page"]
    return {row["async_id"]: row["status_label"] for row in page.object_list}


def staged_list_labels(client) -> dict[str, str]:
    response = client.get(admin_url(StagedAsyncCustomer, "changelist"))
    model_admin = admin.site._registry[StagedAsyncCustomer]
    return {
        str(record.async_customer_id): strip_tags(model_admin.status_text(record).split("<div")[0])
        for record in response.context["cl"].result_list
    }


def channel_list_labels(client, alias="channel") -> dict[str, str]:
    response = client.get(admin_url(AsyncCustomer, "changelist") + f"?channel_db={alias}")
    model_admin = admin.site._registry[AsyncCustomer]
    return {
        str(record.async_customer_id): model_admin.status(record)
        for record in response.context["cl"].result_list
    }


def store_page_labels(client, store) -> dict[str, str]:
    response = client.get(reverse("admin:customers_store_customers", args=[store.pk]))
    return {
        row["url"].rstrip("/").rsplit("/", 1)[-1]: row["hq_status_label"]
        for row in response.context["rows"]
        if row["kind"] == "async"
    }


def timeline_label(client, guid: str) -> str:
    url = reverse("admin:customers_sync_timeline", args=["HOUSTON", "customer", guid])
    return client.get(url).context["status_label"]


def test_each_record_has_one_status_by_one_name_on_every_page_and_command(
    admin_client, channel_data, organization
):
    run_now("upload", channel_database="HOUSTON")
    run_now("async-customers")
    run_now("distribute", channel_database="HOUSTON")
    synchronized = str(channel_data["valid"][0].async_customer_id)
    failed = str(channel_data["invalid"].async_customer_id)
    expected = {synchronized: "synchronized", failed: "failed"}

    statuses = command_statuses()
    assert {guid: statuses[guid] for guid in expected} == expected
    labels = {guid: ASYNC_STATUS_LABELS[status] for guid, status in expected.items()}
    assert labels == {synchronized: "Synchronized", failed: "Failed"}
    for page in (
        status_page_labels(admin_client),
        staged_list_labels(admin_client),
        channel_list_labels(admin_client),
    ):
        assert {guid: page[guid] for guid in expected} == labels
    for guid, label in labels.items():
        assert timeline_label(admin_client, guid) == label
    # The store lists a synchronized customer as its copy; the failed one with its status.
    assert store_page_labels(admin_client, organization["houston"])[failed] == "Failed"


def test_created_at_hq_not_yet_at_the_store_is_named_alike_everywhere(
    admin_client, channel_data, organization
):
    run_now("upload", channel_database="HOUSTON")
    run_now("async-customers")
    created = str(channel_data["valid"][1].async_customer_id)

    assert command_statuses()[created] == "created"
    label = ASYNC_STATUS_LABELS["created"]
    assert status_page_labels(admin_client)[created] == label
    assert staged_list_labels(admin_client)[created] == label
    assert channel_list_labels(admin_client)[created] == label
    assert store_page_labels(admin_client, organization["houston"])[created] == label
    assert timeline_label(admin_client, created) == label
