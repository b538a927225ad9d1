"""The customer synchronization status page at scale (README "Admin" and "Performance"): counts from
aggregates, a page reads only its rows, and each row says its age, whether a fix waits
to be sent, and which orders or statements it blocks; the timeline of a record."""

import datetime
import re
import uuid

import pytest
from django.utils import timezone

from commerce.models import TransactionStatus
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    Customer,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.selectors import async_status_rows, async_status_summary
from jobs.models import Job, JobRun, JobStatus
from tests.commerce.test_admin import query_counts
from tests.factories.commerce import SalesTransactionFactory
from tests.factories.customers import ChannelRequestFactory, StagedChannelRequestFactory
from tests.jobs.test_admin import SYNC_STATUS, run_now

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def failed_customer(channel_data):
    """The Houston customer HQ rejected (country "XXL"), after upload and creation."""
    run_now("upload", channel_database="HOUSTON")
    run_now("async-customers")
    return StagedAsyncCustomer.objects.get(
        async_customer_id=channel_data["invalid"].async_customer_id, status=StagingStatus.FAILED
    )


STATUSES = ["pending_upload", "uploaded", "failed", "needs_review", "created", "synchronized"]
DATABASES = [("channel", "HOUSTON", "S0001"), ("channel2", "SEATTLE", "S0002")]


def bulk_records(n: int) -> None:
    """``n`` async customers and ``n`` async addresses of every status in each channel
    database, written in bulk (what the pipeline would leave)."""
    start = timezone.now() - datetime.timedelta(days=3)
    for alias, name, store in DATABASES:
        customers, addresses, staged_customers, staged_addresses = [], [], [], []
        for status in STATUSES:
            for i in range(n):
                at = start + datetime.timedelta(seconds=i)
                guid, address_guid = uuid.uuid4(), uuid.uuid4()
                uploaded = status != "pending_upload"
                linked = status == "synchronized"
                postal = {
                    "customer_account": "C000001",
                    "purpose": "invoice",
                    "street": f"{i} Bulk St",
                    "city": "Houston",
                    "zip": "77001",
                    "country": "USA",
                }
                customers.append(
                    AsyncCustomer(
                        async_customer_id=guid,
                        store_number=store,
                        first_name=f"{status} {i}",
                        last_name="Bulk",
                        created_at=at,
                        upload_session_id=1 if uploaded else None,
                        account=f"B{status[:2]}{i:06d}{name[0]}" if linked else None,
                    )
                )
                addresses.append(
                    AsyncAddress(
                        async_address_id=address_guid,
                        store_number=store,
                        **postal,
                        created_at=at,
                        upload_session_id=1 if uploaded else None,
                        location_id=f"L{status[:2]}{i:06d}{name[0]}" if linked else None,
                    )
                )
                if not uploaded:
                    continue
                staging = {
                    "uploaded": StagingStatus.PENDING,
                    "failed": StagingStatus.FAILED,
                    "needs_review": StagingStatus.NEEDS_REVIEW,
                }.get(status, StagingStatus.COMPLETED)
                common = {
                    "channel_database": name,
                    "store_number": store,
                    "status": staging,
                    "created_at_store": at,
                    "last_error": "bad" if staging == StagingStatus.FAILED else "",
                }
                staged_customers.append(
                    StagedAsyncCustomer(
                        async_customer_id=guid, type="person", first_name=str(i), **common
                    )
                )
                staged_addresses.append(
                    StagedAsyncAddress(
                        async_address_id=address_guid,
                        **postal,
                        **common,
                    )
                )
        AsyncCustomer.objects.using(alias).bulk_create(customers)
        AsyncAddress.objects.using(alias).bulk_create(addresses)
        StagedAsyncCustomer.objects.bulk_create(staged_customers)
        StagedAsyncAddress.objects.bulk_create(staged_addresses)


PAGES = [
    "",
    "?page=2",
    "?status=synchronized",
    "?status=created&page=2",
    "?store=S0002&status=pending_upload",
    "?kind=address&status=failed",
]


@pytest.mark.parametrize("url", PAGES)
def test_status_page_queries_do_not_grow_with_the_records(
    admin_client, organization, monkeypatch, url
):
    # Each page lies inside one segment (status, channel database, kind) at either size.
    monkeypatch.setattr("customers.admin.status.STATUS_PAGE_SIZE", 2)
    bulk_records(5)
    admin_client.get(SYNC_STATUS)  # warm-up: sessions, content types
    few = query_counts(admin_client, SYNC_STATUS + url)

    bulk_records(495)
    many = query_counts(admin_client, SYNC_STATUS + url)

    assert many == few


def test_status_page_rows_and_counts_match_the_status_command(
    admin_client, organization, monkeypatch
):
    monkeypatch.setattr("customers.admin.status.STATUS_PAGE_SIZE", 7)
    bulk_records(4)
    ChannelRequestFactory(store_number="S0001")  # an edit not uploaded yet (R11)
    expected = list(async_status_rows(details=True))

    shown, page = [], 1
    while True:
        response = admin_client.get(SYNC_STATUS, {"page": page})
        shown += response.context["page"].object_list
        if not response.context["page"].has_next():
            break
        page += 1

    assert sorted((r["async_id"], r["status"]) for r in shown) == sorted(
        (r["async_id"], r["status"]) for r in expected
    )
    order = ["failed", "needs_review", "uploaded", "pending_upload", "created", "synchronized"]
    assert [order.index(r["status"]) for r in shown] == sorted(
        order.index(r["status"]) for r in shown
    )
    keys = ["store", "channel_database", *STATUSES]
    summary = response.context["summary"]
    assert [{k: line[k] for k in keys} for line in summary] == [
        {k: line[k] for k in keys} for line in async_status_summary(expected)
    ]
    # The oldest record on its way counts failed and held records too (README "Admin").
    oldest = min(r["created_at"] for r in expected if r["status"] != "synchronized")
    assert summary[-1]["oldest_pending_at"] == oldest


def test_status_page_counts_and_filters_at_the_status_of_each_kind(admin_client, organization):
    bulk_records(2)

    failed = admin_client.get(SYNC_STATUS, {"status": "failed", "kind": "address"})
    seattle = admin_client.get(SYNC_STATUS, {"store": "S0002", "status": "created"})

    assert [(r["kind"], r["status"]) for r in failed.context["page"].object_list] == [
        ("address", "failed")
    ] * 4
    assert failed.context["result_count"] == 4
    assert {(r["store"], r["status"]) for r in seattle.context["page"].object_list} == {
        ("S0002", "created")
    }
    assert seattle.context["result_count"] == 4
    assert [line["store"] for line in seattle.context["summary"]] == ["S0002", None]


def test_failed_row_shows_its_age_a_fix_not_sent_and_what_it_blocks(
    admin_client, failed_customer, organization
):
    failed_customer.fixed_at = timezone.now()
    failed_customer.save(update_fields=["fixed_at"])
    blocked = SalesTransactionFactory(
        store=organization["houston"],
        transaction_id="S0001-1-000777",
        async_customer_id=failed_customer.async_customer_id,
        status=TransactionStatus.POSTING_FAILED,
    )
    SalesTransactionFactory(
        store=organization["houston"],
        async_customer_id=failed_customer.async_customer_id,
        status=TransactionStatus.UPLOADED,
    )

    response = admin_client.get(SYNC_STATUS, {"status": "failed"})

    (row,) = response.context["page"].object_list
    assert row["fixed_not_sent"] is True
    assert row["created_at"] < failed_customer.processed_at
    assert [b["label"] for b in row["blocks"]] == [
        f"statement of store S0001 for 2026-11-24, transaction {blocked.transaction_id}"
    ]
    content = response.content.decode()
    assert "fixed, not sent" in content
    assert f"/admin/commerce/salestransaction/{blocked.pk}/change/" in content
    assert row["timeline_url"] in content
    assert row["created_at"].strftime("%Y-%m-%d %H:%M:%S") in content


def test_status_page_refreshes_only_while_a_conversion_run_is_active(admin_client, organization):
    quiet = admin_client.get(SYNC_STATUS).content.decode()
    JobRun.objects.create(job=Job.SYNC_ORDERS, status=JobStatus.RUNNING)
    other_job = admin_client.get(SYNC_STATUS).content.decode()
    JobRun.objects.create(job=Job.DISTRIBUTE, status=JobStatus.QUEUED)
    active = admin_client.get(SYNC_STATUS).content.decode()

    assert '<meta http-equiv="refresh"' not in quiet
    assert '<meta http-equiv="refresh"' not in other_job
    assert '<meta http-equiv="refresh" content="10">' in active


# --- Timeline (README "Admin") ------------------------------------------------------------


def timeline(client, kind, guid, database="HOUSTON"):
    response = client.get(f"{SYNC_STATUS}timeline/{database}/{kind}/{guid}/")
    assert response.status_code == 200
    return response


def test_timeline_of_a_synchronized_customer_from_store_to_statement(
    admin_client, channel_data, organization
):
    run_now("upload", channel_database="HOUSTON")
    run_now("async-customers")
    run_now("distribute", channel_database="HOUSTON")
    ona = AsyncCustomer.objects.using("channel").get(
        async_customer_id=channel_data["valid"][0].async_customer_id
    )
    staged = StagedAsyncCustomer.objects.get(async_customer_id=ona.async_customer_id)

    response = timeline(admin_client, "customer", ona.async_customer_id)

    events = response.context["events"]
    titles = [event.title for event in events]
    steps = [
        "Created at store S0001",
        "Uploaded to HQ staging",
        f"Created at HQ as account {ona.account}",
    ]
    assert [t for t in titles if t in steps] == steps
    dated = [event.at for event in events if event.at]  # the log in time order
    assert dated == sorted(dated)
    assert "Distributed to channel database HOUSTON" in titles
    assert f"Linked at the store to account {ona.account}" in titles
    assert any(t.startswith("Customer order S0001-1-000001 at store S0001") for t in titles)
    content = response.content.decode()
    assert re.search(
        rf">upload session #{staged.upload_session_id}</a> of channel database HOUSTON", content
    )
    assert timezone.localtime(ona.created_at).strftime("%Y-%m-%d %H:%M:%S") in content
    assert re.search(r">download session #\d+</a> carried version 1 of account", content)


def test_timeline_of_a_failed_customer_says_why_and_who_fixed_it(
    admin_client, failed_customer, admin_user
):
    failed_customer.fixed_at = timezone.now()
    failed_customer.fixed_by = admin_user
    failed_customer.save(update_fields=["fixed_at", "fixed_by"])

    response = timeline(admin_client, "customer", failed_customer.async_customer_id)

    events = {event.title: event for event in response.context["events"]}
    assert "XXL" in events["Failed at HQ"].detail
    fixed = events[f"Fixed by {admin_user.get_username()}"]
    assert fixed.detail == "not sent again yet: synchronize it again"
    assert "Not linked at the store yet" in events
    assert f"/admin/customers/stagedasynccustomer/{failed_customer.pk}/change/" in (
        response.content.decode()
    )


def test_timeline_of_a_store_edit_and_of_an_address(admin_client, channel_data):
    edit = ChannelRequestFactory(store_number="S0001", target_account="C000001")
    StagedChannelRequestFactory(
        channel_database="HOUSTON",
        request_id=edit.request_id,
        status=StagingStatus.FAILED,
        last_error="email: 'nope' is not an email address",
    )

    edit_page = timeline(admin_client, "edit", edit.request_id)
    address_page = timeline(admin_client, "address", channel_data["address"].async_address_id)

    edit_titles = [event.title for event in edit_page.context["events"]]
    assert edit_titles[0] == "Edited at store S0001"
    assert "Failed at HQ" in edit_titles
    assert edit_page.context["events"][0].detail == "changed: email"
    address_titles = [event.title for event in address_page.context["events"]]
    assert address_titles == [
        "Created at store S0001",
        "Not uploaded yet",
        "Not linked at the store yet",
    ]


def test_staged_record_and_hq_customer_link_to_the_timeline(admin_client, failed_customer):
    run_now("async-customers")  # nothing changes for the failed one; the others are created
    ona = StagedAsyncCustomer.objects.filter(status=StagingStatus.COMPLETED).first()
    customer = Customer.objects.get(account=ona.account)
    failed_url = f"{SYNC_STATUS}timeline/HOUSTON/customer/{failed_customer.async_customer_id}/"
    customer_url = f"{SYNC_STATUS}timeline/HOUSTON/customer/{ona.async_customer_id}/"

    staged_page = admin_client.get(
        f"/admin/customers/stagedasynccustomer/{failed_customer.pk}/change/"
    )
    customer_page = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/")

    assert f'href="{failed_url}"' in staged_page.content.decode()
    assert f'href="{customer_url}"' in customer_page.content.decode()


def test_timeline_of_an_unknown_record_is_not_found(admin_client, organization):
    response = admin_client.get(f"{SYNC_STATUS}timeline/HOUSTON/customer/{uuid.uuid4()}/")

    assert response.status_code == 404
