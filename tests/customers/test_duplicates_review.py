"""R12 a record held for review: both resolutions (link, create), orders and statements
around a review, the review_duplicate command and the duplicates admin."""

import io
import re
import uuid

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command

from commerce.models import ChannelSalesTransaction, SalesOrder, SalesTransaction, Statement
from customers.models import (
    Address,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerLink,
    ChannelCustomerAsyncLink,
    ContactInfo,
    Customer,
    PossibleDuplicate,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.selectors import async_status_rows, customer_payloads
from customers.services import AddressInput
from customers.services.review import DuplicateReviewError, staged_customer_review
from tests.commerce.test_orders import channel_txn, run
from tests.customers.test_duplicates import (
    at_store,
    convert_customers,
    existing,
    review_policy,
    staged,
)
from tests.factories.commerce import LegalEntityFactory
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db(databases="__all__")
__all__ = ["review_policy"]  # fixtures


# --- Review: link ----------------------------------------------------------------------


@pytest.fixture
def held(review_policy):
    """Ona exists at HQ (with her own async GUID); the Houston store made her again."""
    legal_entity = review_policy["legal_entity"]
    ona = existing(legal_entity, "Ona", "Šimkutė", email="ona@example.com", zip="01103")
    Customer.objects.filter(pk=ona.pk).update(
        async_customer_id=uuid.uuid4(), async_origin="SEATTLE"
    )
    ona.refresh_from_db()
    record = at_store(
        "Ona",
        "Simkute",
        email="ONA@example.com",
        phone="+37061111111",
        zip="77001",
        addresses=[
            AddressInput(
                purpose="delivery",
                street="9 Store St",
                city="Houston",
                zip="77001",
                country="USA",
                is_primary=True,
            ),
            AddressInput(
                purpose="invoice", street="2 Side", city="Vilnius", zip="01103", country="LTU"
            ),
        ],
    )
    address = record.addresses.using("channel").first()
    channel_txn(
        "S0001-1-000050",
        type="customer_order",
        async_customer_id=record.async_customer_id,
        delivery_address=str(address.async_address_id),
    )
    channel_txn("S0001-1-000051", async_customer_id=record.async_customer_id)
    convert_customers()
    assert staged(record).status == StagingStatus.NEEDS_REVIEW
    return {"ona": ona, "record": record, "address": address}


def test_orders_and_statements_of_a_record_under_review_fail_with_the_reason(held):
    guid = held["record"].async_customer_id

    (sync,) = run("sync-orders")
    run("post-statements", store="S0001", business_date="2026-11-24")

    order_txn = SalesTransaction.objects.get(transaction_id="S0001-1-000050")
    assert order_txn.status == "order_failed"
    assert f"async customer {guid} needs review: possible duplicate of " in order_txn.last_error
    assert Statement.objects.get().status == "failed"
    assert "needs review" in Statement.objects.get().errors[0]


def test_link_maps_the_guid_to_the_account_and_adds_the_stores_addresses_and_contacts(held):
    ona, record = held["ona"], held["record"]
    user = User.objects.create_user("reviewer")
    own_guid, version = ona.async_customer_id, ona.version

    result = staged_customer_review(staged=staged(record), link_account=ona.account, user=user)

    row = staged(record)
    ona.refresh_from_db()
    assert result.ok and result.account == ona.account
    assert (row.status, row.account, row.review_decision) == ("completed", ona.account, "linked")
    assert (row.reviewed_by, row.reviewer) == (user, "reviewer") and row.reviewed_at
    assert ona.async_customer_id == own_guid  # the account keeps its own GUID history
    assert ona.version == version + 1
    link = AsyncCustomerLink.objects.get()
    assert (link.async_customer_id, link.channel_database, link.customer) == (
        record.async_customer_id,
        "HOUSTON",
        ona,
    )
    guids = {a.async_address_id for a in record.addresses.using("channel").all()}
    added = Address.objects.filter(async_address_id__in=guids)
    assert {a.party_id for a in added} == {ona.party_id}
    assert {a.async_origin for a in added} == {"HOUSTON"}
    assert Address.objects.get(party_id=ona.party_id, is_primary=True).zip == "01103"
    contacts = set(ContactInfo.objects.filter(party_id=ona.party_id).values_list("type", "value"))
    assert ("phone", "+37061111111") in contacts
    assert ("email", "ONA@example.com") not in contacts  # the account's own email, folded
    assert result.addresses_added == 2 and result.contacts_added == 1
    (payload,) = customer_payloads(customer_ids=[ona.pk])
    assert payload["linked_async_ids"] == {"HOUSTON": [str(record.async_customer_id)]}


def test_after_a_link_orders_resolve_to_the_account_and_1010_links_the_store(held):
    ona, record = held["ona"], held["record"]
    staged_customer_review(staged=staged(record), link_account=ona.account, user=None)

    run("sync-orders")
    run("distribute")

    order = SalesOrder.objects.get(transaction__transaction_id="S0001-1-000050")
    address = Address.objects.get(async_address_id=held["address"].async_address_id)
    assert (order.customer_account, order.delivery_location_id) == (
        ona.account,
        address.location_id,
    )
    at_store_now = AsyncCustomer.objects.using("channel").get(pk=record.pk)
    assert at_store_now.account == ona.account and at_store_now.synchronized_at
    assert ChannelCustomerAsyncLink.objects.using("channel").get().account == ona.account
    assert not ChannelCustomerAsyncLink.objects.using("channel2").exists()  # R7: own GUIDs only
    assert set(
        ChannelSalesTransaction.objects.using("channel").values_list("customer_account", flat=True)
    ) == {ona.account}
    linked = AsyncCustomerAddress.objects.using("channel").get(
        async_address_id=held["address"].async_address_id
    )
    assert linked.location_id == address.location_id
    (status,) = [r for r in async_status_rows() if r["async_id"] == str(record.async_customer_id)]
    assert (status["status"], status["customer_account"]) == ("synchronized", ona.account)
    # Applying it again changes nothing.
    run("distribute")
    assert ChannelCustomerAsyncLink.objects.using("channel").count() == 1


def test_statement_posts_after_the_review_links_the_record(held):
    run("post-statements", store="S0001", business_date="2026-11-24")
    staged_customer_review(
        staged=staged(held["record"]), link_account=held["ona"].account, user=None
    )

    run("post-statements", store="S0001", business_date="2026-11-24")

    posted = SalesTransaction.objects.get(transaction_id="S0001-1-000051")
    assert (posted.status, posted.posted_customer_account) == ("posted", held["ona"].account)


def test_link_refuses_unknown_accounts_and_accounts_of_another_legal_entity(held):
    other = LegalEntityFactory(code="DEMF")
    CustomerFactory(legal_entity=other, account="DE000001")
    row = staged(held["record"])

    with pytest.raises(DuplicateReviewError, match=r'^unknown account "C999999" in legal entity'):
        staged_customer_review(staged=row, link_account="C999999", user=None)
    with pytest.raises(
        DuplicateReviewError,
        match=r"^account DE000001 belongs to legal entity DEMF, not USRT \(store S0001\)$",
    ):
        staged_customer_review(staged=row, link_account="DE000001", user=None)
    assert staged(held["record"]).status == StagingStatus.NEEDS_REVIEW
    assert not AsyncCustomerLink.objects.exists()


# --- Review: create -----------------------------------------------------------------


def test_create_makes_a_new_account_and_the_record_is_not_held_again(held):
    record = held["record"]
    user = User.objects.create_user("decider")

    result = staged_customer_review(staged=staged(record), create=True, user=user)

    row = staged(record)
    assert result.ok and row.status == "completed" and row.account == result.account
    assert row.account != held["ona"].account
    assert (row.review_decision, row.reviewer) == ("created", "decider")
    assert Customer.objects.get(account=row.account).async_customer_id == record.async_customer_id
    assert not PossibleDuplicate.objects.exists()  # a person already compared them
    with pytest.raises(DuplicateReviewError, match=r"is not under review \(status created\)$"):
        staged_customer_review(staged=row, create=True, user=user)
    (sync,) = run("sync-orders")
    order = SalesOrder.objects.get(transaction__transaction_id="S0001-1-000050")
    assert order.customer_account == row.account


def test_a_created_decision_sticks_through_a_fix(held):
    """Created anyway but invalid (a group removed meanwhile): failed, fixed, then
    synchronized again without being held again."""
    row = staged(held["record"])
    StagedAsyncCustomer.objects.filter(pk=row.pk).update(customer_group="NOPE")

    result = staged_customer_review(staged=row, create=True, user=None)

    assert not result.ok and "Customer group" in result.error
    assert staged(held["record"]).status == StagingStatus.FAILED
    StagedAsyncCustomer.objects.filter(pk=row.pk).update(customer_group="", status="pending")
    run("async-customers")
    assert staged(held["record"]).status == StagingStatus.COMPLETED


# --- Command ---------------------------------------------------------------------------


def review(*args):
    out = io.StringIO()
    call_command("review_duplicate", *args, stdout=out)
    return out.getvalue().strip()


def test_review_duplicate_command_links_and_refuses_with_one_line(held, organization):
    guid = str(held["record"].async_customer_id)
    failed = at_store("Bad", "Country", country="XXL", zip="3")
    convert_customers()

    for args, message in [
        ([str(uuid.uuid4()), "--create"], "unknown async customer"),
        (["not-a-guid", "--create"], '"not-a-guid" is not an async customer GUID'),
        ([str(failed.async_customer_id), "--create"], "is not under review (status failed)"),
        ([guid, "--link", "C999999"], 'unknown account "C999999" in legal entity USRT'),
    ]:
        with pytest.raises(CommandError, match=re.escape(message)) as raised:
            review(*args)
        assert "\n" not in str(raised.value)

    output = review(guid, "--link", held["ona"].account)

    assert output.startswith(f"async customer {guid} linked to account {held['ona'].account}")
    assert staged(held["record"]).reviewer.endswith("(command line)")


def test_review_duplicate_command_creates_and_records_the_user(held):
    User.objects.create_user("anna")
    guid = str(held["record"].async_customer_id)

    output = review(guid, "--create", "--user", "anna")

    row = staged(held["record"])
    assert output == f"async customer {guid} created as account {row.account}"
    assert row.reviewed_by.username == "anna"


# --- Admin ------------------------------------------------------------------------------


def test_status_page_lists_records_under_review_with_their_review_page(admin_client, held):
    row = staged(held["record"])

    response = admin_client.get("/admin/customers/stagedasynccustomer/sync-status/")

    assert response.status_code == 200
    (shown,) = [r for r in response.context["page"].object_list if r["staged_id"] == row.pk]
    assert shown["status"] == "needs_review" and shown["status_label"] == "Needs review"
    assert shown["review_url"] == f"/admin/customers/stagedasynccustomer/{row.pk}/review/"
    assert shown["checkbox"] == f"review:{row.pk}"
    total = response.context["summary"][-1]
    assert total["needs_review"] == 1
    assert b"Create new accounts" in response.content
    filtered = admin_client.get(
        "/admin/customers/stagedasynccustomer/sync-status/", {"status": "needs_review"}
    )
    assert [r["staged_id"] for r in filtered.context["page"].object_list] == [row.pk]


def test_review_page_shows_the_record_and_the_account_side_by_side(admin_client, held):
    row, ona = staged(held["record"]), held["ona"]

    response = admin_client.get(f"/admin/customers/stagedasynccustomer/{row.pk}/review/")

    assert response.status_code == 200
    columns = response.context["columns"]
    assert [c["account"] for c in columns] == ["", ona.account]
    assert columns[1]["reasons"] == "same email"
    names = next(r for r in response.context["comparison"] if r["label"] == "Name")
    assert names["cells"] == [["Ona Simkute"], ["Ona Šimkutė"]]
    assert f'value="{ona.account}"'.encode() in response.content


def test_review_page_links_the_record_and_records_the_user(admin_client, held):
    row, ona = staged(held["record"]), held["ona"]

    response = admin_client.post(
        f"/admin/customers/stagedasynccustomer/{row.pk}/review/", {"link_account": ona.account}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.account, row.review_decision) == ("completed", ona.account, "linked")
    assert row.reviewed_by.username == "admin" and row.reviewer == "admin"
    again = admin_client.get(f"/admin/customers/stagedasynccustomer/{row.pk}/review/")
    assert b"Link to" not in again.content  # decided: nothing more to decide here
    status = admin_client.get("/admin/customers/stagedasynccustomer/sync-status/")
    (shown,) = [r for r in status.context["page"].object_list if r["staged_id"] == row.pk]
    assert shown["review"]["label"] == "Linked to an existing account"
    assert shown["review"]["by"] == "admin"


def test_review_page_reports_a_refused_link(admin_client, held):
    row = staged(held["record"])

    response = admin_client.post(
        f"/admin/customers/stagedasynccustomer/{row.pk}/review/",
        {"other_account": "C999999", "_link_other": "1"},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        'unknown account "C999999" in legal entity USRT'
    ]
    assert staged(held["record"]).status == StagingStatus.NEEDS_REVIEW


def test_reviewing_needs_the_change_permission(client, held):
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_stagedasynccustomer"))
    client.force_login(user)
    row = staged(held["record"])

    assert client.get(f"/admin/customers/stagedasynccustomer/{row.pk}/review/").status_code == 200
    response = client.post(
        f"/admin/customers/stagedasynccustomer/{row.pk}/review/", {"_create": "1"}
    )

    assert response.status_code == 403
    assert staged(held["record"]).status == StagingStatus.NEEDS_REVIEW


def test_status_page_creates_checked_records_under_review(admin_client, held):
    row = staged(held["record"])

    admin_client.post(
        "/admin/customers/stagedasynccustomer/sync-status/",
        {"selected": [f"review:{row.pk}"], "_create_new": "1"},
    )

    row.refresh_from_db()
    assert row.status == "completed" and row.review_decision == "created"
    assert row.account != held["ona"].account


def test_synchronize_selected_skips_records_under_review(admin_client, held):
    row = staged(held["record"])

    response = admin_client.post(
        "/admin/customers/stagedasynccustomer/",
        {"action": "synchronize_selected", "_selected_action": [row.pk]},
        follow=True,
    )

    assert "Skipped 1 that need review" in response.content.decode()
    assert staged(held["record"]).status == StagingStatus.NEEDS_REVIEW


def test_possible_duplicates_admin_shows_both_accounts_and_marks_reviewed(
    admin_client, organization
):
    ona = existing(organization["legal_entity"], "Ona", "Šimkutė", email="ona@example.com")
    at_store("Ona", "Other", email="ona@example.com", zip="5")
    convert_customers()
    listed = PossibleDuplicate.objects.get()

    page = admin_client.get("/admin/customers/possibleduplicate/")
    change = admin_client.get(f"/admin/customers/possibleduplicate/{listed.pk}/change/")
    admin_client.post(
        "/admin/customers/possibleduplicate/",
        {"action": "mark_reviewed", "_selected_action": [listed.pk]},
    )

    assert page.status_code == 200 and ona.account in page.content.decode()
    assert [c["account"] for c in change.context["columns"]] == [
        listed.customer.account,
        ona.account,
    ]
    listed.refresh_from_db()
    assert listed.reviewed_by.username == "admin" and listed.reviewed_at


def test_hq_customer_admin_edit_refreshes_its_match_keys(admin_client, organization):
    from tests.commerce.test_admin import change_form_post_data

    customer = existing(organization["legal_entity"], "Ona", "X", email="old@example.com")
    url = f"/admin/customers/customer/{customer.pk}/change/"
    data = change_form_post_data(admin_client.get(url), email="New@Example.com")

    assert admin_client.post(url, data).status_code == 302

    customer.refresh_from_db()
    assert customer.match_email == "new@example.com"


def test_legal_entity_admin_sets_the_duplicate_policy(admin_client, organization):
    from tests.commerce.test_admin import change_form_post_data

    legal_entity = organization["legal_entity"]
    url = f"/admin/commerce/legalentity/{legal_entity.pk}/change/"
    data = change_form_post_data(admin_client.get(url), duplicate_policy="review")

    assert admin_client.post(url, data).status_code == 302

    legal_entity.refresh_from_db()
    assert legal_entity.duplicate_policy == "review"
    assert (
        "duplicate_policy"
        in admin_client.get("/admin/commerce/legalentity/").context["cl"].list_display
    )


def test_an_async_address_made_primary_moves_the_name_and_zip_key(organization):
    from tests.factories.customers import AsyncAddressFactory

    customer = existing(organization["legal_entity"], "Ona", "X", zip="77001")
    AsyncAddressFactory(
        store_number="S0001", customer_account=customer.account, is_primary=True, zip="99 999"
    )

    convert_customers()

    customer.refresh_from_db()
    assert customer.match_name_zip == "ona x|99999"
