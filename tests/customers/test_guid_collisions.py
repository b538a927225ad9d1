"""A customer whose async GUID another channel database made first fails by name; a
person has it created under a new GUID, and its store's sales (and statement) then
resolve to the new account, which 1010 links to the store's async customer. The
other channel database's customer is untouched."""

import uuid

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from commerce.models import SalesTransaction, Statement
from customers.models import (
    AsyncCustomer,
    AsyncCustomerLink,
    Customer,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
)
from customers.services import async_customer_create
from customers.services.guid_collisions import (
    GuidReplacementError,
    staged_customer_create_under_new_guid,
)
from tests.fixtures import convert, person, run
from tests.jobs.test_isolation import sale

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def collided(organization):
    """The same GUID made at Houston and at Seattle, a sale naming it at each store;
    converted: Houston's is an account, Seattle's failed by name."""
    guid = uuid.uuid4()
    async_customer_create(
        alias="channel", store_number="S0001", data=person("Ona", "Houston", async_customer_id=guid)
    )
    async_customer_create(
        alias="channel2",
        store_number="S0002",
        data=person("Other", "Seattle", async_customer_id=guid),
    )
    sale("channel", "S0001", "S0001-1-000001", async_customer_id=guid)
    sale("channel2", "S0002", "S0002-1-000001", async_customer_id=guid)
    convert()
    staged = StagedAsyncCustomer.objects.get(channel_database="SEATTLE")
    assert staged.status == "failed" and str(guid) in staged.last_error
    return guid


def seattle_staged() -> StagedAsyncCustomer:
    return StagedAsyncCustomer.objects.get(channel_database="SEATTLE")


def test_created_under_a_new_guid_the_stores_statement_posts(collided):
    guid = collided
    houston_account = Customer.objects.get(async_customer_id=guid).account
    (blocked,) = run("post-statements", store="S0002")
    assert blocked.failed == 1
    assert Statement.objects.get(store__number="S0002").status == "failed"
    user = User.objects.create_superuser("operator", password="x")

    staged = staged_customer_create_under_new_guid(staged=seattle_staged(), user=user)
    convert()
    (posting,) = run("post-statements", store="S0002")

    assert posting.status == "succeeded"
    assert Statement.objects.get(store__number="S0002").status == "posted"
    created = Customer.objects.get(account=staged.account)
    assert created.party.last_name == "Seattle" and created.async_origin == "SEATTLE"
    assert created.async_customer_id == staged.async_customer_id != guid
    txn = SalesTransaction.objects.get(store__number="S0002")
    assert txn.status == "posted" and txn.posted_customer_account == created.account
    assert seattle_staged().replaced_async_customer_id == guid
    assert seattle_staged().guid_replaced_by == user and seattle_staged().guid_replaced_at
    # 1010 linked Seattle's async customer (its own GUID) to the new account.
    seattle = AsyncCustomer.objects.using("channel2").get()
    assert seattle.async_customer_id == guid and seattle.account == created.account
    # Houston's customer and account are untouched.
    assert Customer.objects.get(async_customer_id=guid).account == houston_account
    assert AsyncCustomer.objects.using("channel").get().account == houston_account
    (houston,) = run("post-statements", store="S0001")
    assert houston.status == "succeeded"
    assert (
        SalesTransaction.objects.get(store__number="S0001").posted_customer_account
        == houston_account
    )


def test_the_store_guid_sent_again_is_not_staged_again(collided):
    staged_customer_create_under_new_guid(staged=seattle_staged())
    # As after an upload that crashed before the channel stamped its rows.
    AsyncCustomer.objects.using("channel2").update(upload_session_id=None)

    run("upload", channel_database="SEATTLE")

    assert StagedAsyncCustomer.objects.filter(channel_database="SEATTLE").count() == 1
    assert seattle_staged().status == "completed"


def test_a_record_that_did_not_fail_on_a_guid_is_refused(organization):
    async_customer_create(
        alias="channel2", store_number="S0002", data=person("Bad", "Country", country="XXL")
    )
    convert()
    staged = seattle_staged()
    assert staged.status == "failed"

    with pytest.raises(GuidReplacementError, match="did not fail on a GUID"):
        staged_customer_create_under_new_guid(staged=staged)

    assert seattle_staged().async_customer_id == staged.async_customer_id
    assert seattle_staged().replaced_async_customer_id is None


def test_an_account_hq_cannot_create_changes_nothing(collided):
    staged = seattle_staged()
    StagedAsyncCustomerAddress.objects.filter(staged_customer=staged).update(country="XXL")

    with pytest.raises(GuidReplacementError, match="could not be created under a new GUID"):
        staged_customer_create_under_new_guid(staged=staged)

    again = seattle_staged()
    assert again.status == "failed" and again.async_customer_id == collided
    assert again.replaced_async_customer_id is None
    assert not AsyncCustomerLink.objects.exists()
    assert Customer.objects.filter(party__last_name="Seattle").count() == 0


def test_a_second_call_is_refused(collided):
    staged_customer_create_under_new_guid(staged=seattle_staged())

    with pytest.raises(GuidReplacementError):
        staged_customer_create_under_new_guid(staged=seattle_staged())

    assert AsyncCustomerLink.objects.count() == 1


# --- The admin button ---


def change_url(staged) -> str:
    return reverse("admin:customers_stagedasynccustomer_change", args=[staged.pk])


def new_guid_url(staged) -> str:
    return reverse("admin:customers_stagedasynccustomer_new_guid", args=[staged.pk])


def test_the_failed_records_page_offers_the_button_and_it_creates(admin_client, collided):
    staged = seattle_staged()

    page = admin_client.get(change_url(staged))
    response = admin_client.post(new_guid_url(staged), follow=True)

    assert page.status_code == 200 and page.context["show_new_guid"] is True
    assert 'value="Create under a new GUID"' in page.content.decode()
    assert response.redirect_chain[-1][0] == change_url(staged)
    done = seattle_staged()
    assert done.status == "completed" and done.replaced_async_customer_id == collided
    assert done.guid_replaced_by.username == "admin"
    [message] = [str(m) for m in response.context["messages"]]
    assert f"created as account {done.account} under the new GUID" in message
    link = AsyncCustomerLink.objects.get()
    assert (link.async_customer_id, link.channel_database) == (collided, "SEATTLE")
    assert link.customer.account == done.account
    assert "Create under a new GUID" not in response.content.decode()  # completed now


def test_the_button_is_not_offered_for_another_failure(admin_client, organization):
    async_customer_create(
        alias="channel2", store_number="S0002", data=person("Bad", "Country", country="XXL")
    )
    convert()
    staged = seattle_staged()

    page = admin_client.get(change_url(staged))
    refused = admin_client.post(new_guid_url(staged))

    assert page.context["show_new_guid"] is False
    assert "Create under a new GUID" not in page.content.decode()
    assert refused.status_code == 403


def test_the_button_needs_the_account_creation_permission(client, collided):
    user = User.objects.create_user("fixer", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_stagedasynccustomer", "change_stagedasynccustomer"]
        )
    )
    client.force_login(user)
    staged = seattle_staged()

    page = client.get(change_url(staged))
    refused = client.post(new_guid_url(staged))

    assert page.status_code == 200 and page.context["show_new_guid"] is False
    assert refused.status_code == 403
    assert seattle_staged().status == "failed"


def test_the_new_guid_url_takes_only_a_post(admin_client, collided):
    assert admin_client.get(new_guid_url(seattle_staged())).status_code == 405
