"""The event log (README "Event log"): a failed-then-fixed record's whole story with who
and what, through the real services and jobs; events written in the change's own
transaction; written in batches on the job paths; append-only but for erasure."""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from commerce.events import (
    AppendOnlyError,
    ChannelEvent,
    Event,
    EventAction,
    EventKind,
    event_record,
    events_erase_subject,
)
from commerce.models import ChannelSalesLine, ChannelSalesTransaction, Statement
from customers.models import Customer, StagedAsyncCustomer, StagingStatus
from customers.selectors.events import customer_events, record_events
from customers.services import async_customer_create
from customers.services.staging import staged_records_retry
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.customers import CustomerGroupFactory, StagedAsyncCustomerFactory
from tests.fixtures import person, run

pytestmark = pytest.mark.django_db(databases="__all__")

SYNC_STATUS = "/admin/customers/stagedasynccustomer/sync-status/"


def timeline_titles(client, guid, database="HOUSTON"):
    response = client.get(f"{SYNC_STATUS}timeline/{database}/customer/{guid}/")
    assert response.status_code == 200
    return response.context["events"]


def test_a_failed_then_fixed_customer_has_its_whole_story_with_who_and_what(
    admin_client, admin_user, organization, django_capture_on_commit_callbacks
):
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="RETAIL")
    harold = async_customer_create(
        alias="channel",
        store_number="S0001",
        data=person("Harold", "Whitaker", customer_group="PLATINUM"),
    )
    run("upload", channel_database="HOUSTON")
    run("async-customers")
    staged = StagedAsyncCustomer.objects.get(async_customer_id=harold.async_customer_id)
    assert staged.status == StagingStatus.FAILED
    page = admin_client.get(admin_url(StagedAsyncCustomer, "change", staged.pk))
    data = change_form_post_data(page, customer_group="RETAIL")
    with django_capture_on_commit_callbacks(execute=True):  # the queued run executes
        response = admin_client.post(
            admin_url(StagedAsyncCustomer, "change", staged.pk), {**data, "_sync_again": "1"}
        )
    assert response.status_code == 302
    customer = Customer.objects.get(async_customer_id=harold.async_customer_id)

    log, unreachable = record_events(
        channel_database="HOUSTON",
        kind="customer",
        guid=harold.async_customer_id,
        account=customer.account,
    )

    assert unreachable is None
    actions = [event.action for event in log]
    # The fix ran the rest of the chain: distribution to HOUSTON (the store links the
    # account) and to the legal entity's other channel database, SEATTLE.
    assert actions[8:] == [EventAction.DISTRIBUTED]
    assert actions[:8] == [
        EventAction.CREATED,
        EventAction.UPLOADED,
        EventAction.FAILED,
        EventAction.FIXED,
        EventAction.RETRIED,
        EventAction.CREATED_AT_HQ,
        EventAction.DISTRIBUTED,
        EventAction.LINKED,
    ]
    by_action = {event.action: event for event in log}
    assert 'unknown customer group "PLATINUM"' in by_action[EventAction.FAILED].detail
    fixed = by_action[EventAction.FIXED]
    assert fixed.actor == admin_user.get_username()
    assert ["Customer group", "PLATINUM", "RETAIL"] in fixed.changes
    assert by_action[EventAction.RETRIED].actor == admin_user.get_username()
    assert by_action[EventAction.UPLOADED].session == staged.upload_session_id
    assert by_action[EventAction.DISTRIBUTED].version == customer.version
    assert by_action[EventAction.LINKED].account == customer.account
    assert isinstance(by_action[EventAction.CREATED], ChannelEvent)  # the store's own change

    events = timeline_titles(admin_client, harold.async_customer_id)
    titles = [event.title for event in events]
    assert titles[:8] == [
        "Created at store S0001",
        "Uploaded to HQ staging",
        "Failed at HQ",
        f"Fixed by {admin_user.get_username()}",
        f"Synchronized again by {admin_user.get_username()}",
        f"Created at HQ as account {customer.account}",
        "Distributed to channel database HOUSTON",
        f"Linked at the store to account {customer.account}",
    ]
    assert events[2].detail.startswith('Customer group: unknown customer group "PLATINUM"')
    assert events[3].detail == "Customer group: PLATINUM → RETAIL"
    dated = [event.at for event in events if event.at]
    assert dated == sorted(dated)

    # The HQ customer page shows the log of the customer and of the record it became.
    customer_page = admin_client.get(admin_url(Customer, "change", customer.pk))
    content = customer_page.content.decode()
    assert "Event log" in content
    assert "Customer group: PLATINUM → RETAIL" in content
    assert [event.action for event in customer_events(customer)] == actions


def test_a_failed_statement_shows_on_its_customers_timeline(admin_client, channel_data):
    invalid = channel_data["invalid"]
    txn = ChannelSalesTransaction.objects.using("channel").create(
        transaction_id="S0001-1-000021",
        store_number="S0001",
        type="cash_and_carry",
        business_date="2026-11-24",
        async_customer_id=invalid.async_customer_id,
    )
    ChannelSalesLine.objects.using("channel").create(
        transaction=txn, line_number=1, item="0001", quantity="1", unit_price="5.00"
    )
    run("upload")
    run("post-statements", store="S0001", business_date="2026-11-24")
    statement = Statement.objects.get()
    assert statement.status == "failed"

    events = timeline_titles(admin_client, invalid.async_customer_id)

    (failed,) = [event for event in events if event.title == "Statement not posted"]
    assert failed.state == "failed" and 'invalid country code "XXL"' in failed.detail
    assert Event.objects.filter(
        kind=EventKind.STATEMENT, key=str(statement.pk), action=EventAction.POSTING_FAILED
    ).exists()


def test_a_rolled_back_change_leaves_no_event(organization):
    with pytest.raises(RuntimeError), transaction.atomic(using="channel"):
        async_customer_create(alias="channel", store_number="S0001", data=person("Ann", "Lee"))
        raise RuntimeError("the store's transaction rolls back")
    staged = StagedAsyncCustomerFactory(
        channel_database="HOUSTON", store_number="S0001", status=StagingStatus.FAILED
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        staged_records_retry(model=StagedAsyncCustomer, ids=[staged.pk], actor="ops")
        assert Event.objects.filter(action=EventAction.RETRIED).count() == 1
        raise RuntimeError("HQ's transaction rolls back")

    assert not ChannelEvent.objects.using("channel").exists()
    assert not Event.objects.exists()
    staged.refresh_from_db()
    assert staged.status == StagingStatus.FAILED


def test_the_log_is_append_only_but_for_erasure(organization):
    event_record(
        kind=EventKind.ACCOUNT,
        key="C000009",
        account="C000009",
        action=EventAction.FIXED,
        actor="ops",
        detail="email was wrong",
        changes=[["Email", "old@example.com", "new@example.com"]],
    )
    event = Event.objects.get()

    with pytest.raises(AppendOnlyError):
        Event.objects.update(detail="rewritten")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert events_erase_subject(accounts=["C000009"]) == 1
    event.refresh_from_db()
    assert event.detail == "(erased)"
    assert event.changes == [["Email", "(erased)", "(erased)"]]
    assert event.actor == "ops" and event.action == EventAction.FIXED


def _inserts(captured, table: str) -> int:
    """Statements that insert into ``table``: an INSERT, or the bulk writer's COPY on
    PostgreSQL."""
    return sum(
        f'INSERT INTO "{table}"' in q["sql"] or f'COPY "{table}"' in q["sql"]
        for q in captured.captured_queries
    )


@pytest.mark.parametrize("customers", [2, 12])
def test_job_paths_write_events_in_batches(organization, customers):
    for i in range(customers):
        async_customer_create(
            alias="channel", store_number="S0001", data=person("Batch", f"Customer{i}")
        )

    with (
        CaptureQueriesContext(connections["default"]) as captured,
        CaptureQueriesContext(connections["channel"]) as channel,
    ):
        run("upload", channel_database="HOUSTON")
        run("async-customers")
        run("distribute", channel_database="HOUSTON")

    # Uploaded, created at HQ, distributed: one insert each, whatever the batch holds;
    # linked at the store: one insert in the channel database.
    assert _inserts(captured, "commerce_event") == 3
    assert _inserts(channel, "channel_event") == 1
    assert Event.objects.filter(action=EventAction.CREATED_AT_HQ).count() == customers
    linked = ChannelEvent.objects.using("channel").filter(action=EventAction.LINKED)
    assert linked.count() == customers


def test_an_hq_edit_is_logged_with_who_and_which_fields(admin_client, admin_user, organization):
    customer = organization["default"]
    page = admin_client.get(admin_url(Customer, "change", customer.pk))

    response = admin_client.post(
        admin_url(Customer, "change", customer.pk),
        change_form_post_data(page, email="new.address@example.com"),
    )

    assert response.status_code == 302
    (edited,) = Event.objects.filter(action=EventAction.EDITED)
    assert (edited.kind, edited.key, edited.actor) == ("account", "C000001", "admin")
    assert edited.detail == "changed: Email"  # the field, not the customer's address
    content = admin_client.get(admin_url(Customer, "change", customer.pk)).content.decode()
    assert f"Edited at HQ by {admin_user.get_username()}" in content
