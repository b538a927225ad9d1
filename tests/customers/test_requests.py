"""R11: what a store changes on a customer reaches HQ and every other store."""

import datetime
import uuid

import pytest
from django.utils import timezone

from commerce.isolation import RunAborted
from customers.models import (
    AsyncCustomer,
    AsyncCustomerAddress,
    ChannelCustomer,
    ChannelRequest,
    Customer,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.selectors import async_status_rows
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import AddressInput
from jobs import upload
from tests.factories.customers import CustomerGroupFactory
from tests.fixtures import convert, person, run

pytestmark = pytest.mark.django_db(databases="__all__")


def edit_rows(store):
    return {r["async_id"]: r for r in async_status_rows(store=store) if r["kind"] == "edit"}


def email_change(value):
    return CustomerChanges(fields={"email": value})


def written_request(*, store_number, customer, changes, edited_at, alias="channel"):
    """A channel request as a store (or anything writing past the store's checks) left
    it in the channel database: nothing checked it."""
    guid = uuid.UUID(str(customer)) if len(str(customer)) == 36 else None
    return ChannelRequest.objects.using(alias).create(
        request_id=uuid.uuid4(),
        store_number=store_number,
        target_async_customer_id=guid,
        target_account="" if guid else customer,
        edited_at=edited_at,
        changes=changes.as_json(),
    )


@pytest.fixture
def ona(organization):
    return async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "Š"))


def test_an_async_customer_not_uploaded_is_edited_in_place(organization, ona):
    result = customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(
            fields={"email": "ona@new.example"},
            attributes={"Tier": "Silver"},
            addresses=(
                AddressInput(
                    purpose="invoice", street="9 New St", city="Houston", zip="77009", country="USA"
                ),
            ),
        ),
    )

    assert result.mode == "in_place" and result.request_id is None
    assert not ChannelRequest.objects.using("channel").exists()
    convert()
    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    assert customer.email == "ona@new.example"
    assert customer.attribute_values.get(attribute__name="Tier").value == "Silver"
    assert customer.party.addresses.filter(street="9 New St").exists()


def test_an_edit_after_upload_travels_as_a_request_to_hq_and_every_store(organization, ona):
    convert()
    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    version = customer.version

    result = customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=email_change("ona@new.example"),
    )

    assert result.mode == "request"
    assert edit_rows("S0001")[str(result.request_id)]["status"] == "pending_upload"
    runs = convert()
    assert all(r.status == "succeeded" for r in runs), [r.errors for r in runs]
    customer.refresh_from_db()
    assert customer.email == "ona@new.example" and customer.version == version + 1
    for alias in ("channel", "channel2"):  # every channel database of the legal entity
        assert ChannelCustomer.objects.using(alias).get(account=customer.account).email == (
            "ona@new.example"
        )
    row = edit_rows("S0001")[str(result.request_id)]
    assert row["status"] == "synchronized" and row["customer_account"] == customer.account


def test_a_synchronous_customer_edited_at_another_store(organization, ona):
    convert()
    account = Customer.objects.get(async_customer_id=ona.async_customer_id).account

    result = customer_edit_at_store(
        store=organization["seattle"], customer=account, changes=email_change("ona@seattle.example")
    )
    convert()

    assert result.mode == "request"
    assert ChannelRequest.objects.using("channel2").get().target_account == account
    assert Customer.objects.get(account=account).email == "ona@seattle.example"
    assert ChannelCustomer.objects.using("channel").get(account=account).email == (
        "ona@seattle.example"
    )


def test_a_failed_record_is_fixed_by_the_stores_edit_in_the_same_run(organization):
    bad = async_customer_create(
        alias="channel",
        store_number="S0001",
        data=person("Bad", "Group", customer_group="PLATINUM"),
    )
    convert()
    staged = StagedAsyncCustomer.objects.get(async_customer_id=bad.async_customer_id)
    assert staged.status == "failed" and "PLATINUM" in staged.last_error
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="GOLDCLUB")
    run("distribute")  # the new group reaches the store (R16), which checks against it

    customer_edit_at_store(
        store=organization["houston"],
        customer=str(bad.async_customer_id),
        changes=CustomerChanges(fields={"customer_group": "GOLDCLUB"}),
    )
    runs = convert()

    staged.refresh_from_db()
    assert staged.status == "completed", staged.last_error
    customer = Customer.objects.get(async_customer_id=bad.async_customer_id)
    assert customer.customer_group.code == "GOLDCLUB"
    request = StagedChannelRequest.objects.get()
    assert request.status == "completed" and request.applied_to_staged
    assert all(r.status == "succeeded" for r in runs)
    assert AsyncCustomer.objects.using("channel").get(pk=bad.pk).account == customer.account
    assert next(iter(edit_rows("S0001").values()))["status"] == "synchronized"


def test_time_order_wins_whatever_the_order_requests_arrive_in(organization, ona):
    convert()
    target = str(ona.async_customer_id)
    early = timezone.now() - datetime.timedelta(minutes=10)
    late = timezone.now() - datetime.timedelta(minutes=5)
    houston = organization["houston"]

    customer_edit_at_store(
        store=houston, customer=target, changes=email_change("late@x.example"), edited_at=late
    )
    convert()
    customer_edit_at_store(
        store=houston, customer=target, changes=email_change("early@x.example"), edited_at=early
    )
    convert()

    assert Customer.objects.get(async_customer_id=ona.async_customer_id).email == "late@x.example"
    older = StagedChannelRequest.objects.get(edited_at=early)
    assert older.status == "completed" and older.skipped and "email" in older.skipped[0]


def test_two_edits_in_one_run_apply_in_time_order(organization, ona):
    convert()
    target = str(ona.async_customer_id)
    now = timezone.now()
    houston = organization["houston"]
    # Recorded newest first: the apply order is the time they were made.
    customer_edit_at_store(
        store=houston, customer=target, changes=email_change("second@x.example"), edited_at=now
    )
    customer_edit_at_store(
        store=houston,
        customer=target,
        changes=email_change("first@x.example"),
        edited_at=now - datetime.timedelta(minutes=1),
    )

    convert()

    assert Customer.objects.get(async_customer_id=ona.async_customer_id).email == (
        "second@x.example"
    )


def test_a_field_changed_at_hq_after_the_edit_keeps_the_hq_value(organization, ona):
    convert()
    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    edited_at = timezone.now() - datetime.timedelta(minutes=5)
    customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(fields={"email": "store@x.example", "phone": "+15550199"}),
        edited_at=edited_at,
    )
    customer.email = "hq@x.example"
    customer.field_changed_at = {"email": timezone.now().isoformat()}
    customer.save()

    convert()

    customer.refresh_from_db()
    assert customer.email == "hq@x.example" and customer.phone == "+15550199"
    request = StagedChannelRequest.objects.get()
    assert request.status == "completed" and request.skipped[0].startswith("email:")


def test_a_bad_request_fails_naming_field_and_value_and_blocks_nothing(organization, ona):
    other = async_customer_create(alias="channel", store_number="S0001", data=person("Jo", "K"))
    convert()
    # The store refuses a malformed email (R1); a request that has one anyway (written
    # past the store's checks) fails at HQ by itself.
    bad = written_request(
        store_number="S0001",
        customer=ona.async_customer_id,
        changes=email_change("not-an-email"),
        edited_at=timezone.now(),
    )
    good = customer_edit_at_store(
        store=organization["houston"],
        customer=str(other.async_customer_id),
        changes=email_change("jo@new.example"),
    )

    runs = convert()
    (create_run,) = [r for r in runs if r.job == "async-customers"]

    rows = edit_rows("S0001")
    assert rows[str(bad.request_id)]["status"] == "failed"
    assert 'Email: malformed email "not-an-email"' in rows[str(bad.request_id)]["last_error"]
    assert rows[str(good.request_id)]["status"] == "synchronized"
    assert create_run.status == "completed_with_errors" and create_run.failed == 1

    staged = StagedChannelRequest.objects.get(request_id=bad.request_id)
    staged.changes = {"fields": {"email": "ona@fixed.example"}}
    staged.status = "pending"
    staged.save()
    convert()
    assert Customer.objects.get(async_customer_id=ona.async_customer_id).email == (
        "ona@fixed.example"
    )


def test_an_address_added_by_a_request_is_linked_at_the_store(organization, ona):
    convert()
    result = customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(
            addresses=(
                AddressInput(
                    purpose="invoice",
                    street="5 Added St",
                    city="Houston",
                    zip="77005",
                    country="USA",
                    is_primary=True,
                ),
            )
        ),
    )
    convert()

    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    added = customer.party.addresses.get(street="5 Added St")
    assert added.is_primary and added.async_origin == "HOUSTON"
    assert customer.party.addresses.filter(is_primary=True).count() == 1
    copy = ChannelCustomer.objects.using("channel").get(account=customer.account)
    assert copy.addresses.get(location_id=added.location_id).async_address_id == (
        added.async_address_id
    )
    assert edit_rows("S0001")[str(result.request_id)]["status"] == "synchronized"


def test_a_crash_between_hq_commit_and_channel_stamp_repairs_itself(organization, ona, monkeypatch):
    convert()
    customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=email_change("ona@new.example"),
    )

    class Crash(RunAborted):
        pass

    def crash(stage):
        if stage == "requests:after_hq_apply":
            raise Crash(stage)

    monkeypatch.setattr(upload, "fault_hook", crash)
    (failed,) = run("upload", channel_database="HOUSTON")
    assert failed.status == "failed"
    assert StagedChannelRequest.objects.count() == 1  # HQ committed
    assert ChannelRequest.objects.using("channel").get().upload_session_id is None

    monkeypatch.setattr(upload, "fault_hook", lambda stage: None)
    convert()

    assert StagedChannelRequest.objects.count() == 1
    assert Customer.objects.get(async_customer_id=ona.async_customer_id).email == (
        "ona@new.example"
    )


def test_unknown_customer_and_empty_change_are_refused(organization):
    with pytest.raises(CustomerEditError, match="unknown customer"):
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(uuid.uuid4()),
            changes=email_change("x@y.example"),
        )
    with pytest.raises(CustomerEditError, match="unknown customer"):
        customer_edit_at_store(
            store=organization["houston"], customer="C999999", changes=email_change("x@y.example")
        )
    with pytest.raises(CustomerEditError, match="nothing to change"):
        customer_edit_at_store(
            store=organization["houston"], customer="C000001", changes=CustomerChanges()
        )


def test_in_place_children_are_added_to_the_async_customer(organization, ona):
    customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(
            affiliations=("Employees",),
            addresses=(
                AddressInput(
                    purpose="home",
                    street="1 Home St",
                    city="Houston",
                    zip="77001",
                    country="USA",
                    is_primary=True,
                ),
            ),
        ),
    )

    addresses = AsyncCustomerAddress.objects.using("channel").filter(async_customer=ona)
    assert addresses.count() == 3
    assert list(addresses.filter(is_primary=True).values_list("street", flat=True)) == ["1 Home St"]


def test_an_hq_admin_edit_records_when_each_field_changed(admin_client):
    from tests.commerce.test_admin import admin_url, change_form_post_data
    from tests.factories.customers import CustomerFactory

    customer = CustomerFactory(email="old@example.com")
    url = admin_url(Customer, "change", customer.pk)

    response = admin_client.post(
        url, change_form_post_data(admin_client.get(url), email="new@example.com")
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert set(customer.field_changed_at) == {"email"}
    changed_at = datetime.datetime.fromisoformat(customer.field_changed_at["email"])
    assert timezone.now() - changed_at < datetime.timedelta(minutes=1)


def test_an_edit_of_an_async_customer_linked_to_an_existing_account_reaches_it(organization):
    from customers.services.review import staged_customer_review

    legal_entity = organization["legal_entity"]
    legal_entity.duplicate_policy = "review"
    legal_entity.save()
    first = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "A"))
    convert()
    account = Customer.objects.get(async_customer_id=first.async_customer_id).account
    again = async_customer_create(
        alias="channel2", store_number="S0002", data=person("Ona", "A")
    )  # the same person at Seattle: held for review, then linked
    convert()
    staged = StagedAsyncCustomer.objects.get(async_customer_id=again.async_customer_id)
    assert staged.status == "needs_review"
    staged_customer_review(staged=staged, link_account=account, reviewer="test")
    convert()

    result = customer_edit_at_store(
        store=organization["seattle"],
        customer=str(again.async_customer_id),
        changes=email_change("ona@linked.example"),
    )
    convert()

    assert result.mode == "request"
    assert Customer.objects.get(account=account).email == "ona@linked.example"
    assert StagedChannelRequest.objects.get().account == account


def test_an_edit_made_while_a_distribution_runs_is_never_lost(organization, ona, monkeypatch):
    from jobs import distribution

    convert()
    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    customer.phone = "+15550111"  # an HQ change, so the next distribution sends the customer
    customer.version += 1
    customer.save()
    edits = []

    def edit_during_apply(stage):
        if stage == "after_channel_apply" and not edits:
            edits.append(
                customer_edit_at_store(
                    store=organization["houston"],
                    customer=customer.account,
                    changes=email_change("ona@during-1010.example"),
                )
            )

    monkeypatch.setattr(distribution, "fault_hook", edit_during_apply)
    run("distribute", channel_database="HOUSTON")
    monkeypatch.setattr(distribution, "fault_hook", lambda stage: None)
    convert()

    assert edits and edits[0].mode == "request"
    customer.refresh_from_db()
    assert (customer.email, customer.phone) == ("ona@during-1010.example", "+15550111")
    copy = ChannelCustomer.objects.using("channel").get(account=customer.account)
    assert copy.email == "ona@during-1010.example" and copy.hq_version == customer.version
    assert edit_rows("S0001")[str(edits[0].request_id)]["status"] == "synchronized"


def _apply_queries(organization, count):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from customers.services.requests import staged_requests_apply

    customers = [
        async_customer_create(alias="channel", store_number="S0001", data=person("Q", f"N{i}"))
        for i in range(count)
    ]
    convert()
    for customer in customers:
        customer_edit_at_store(
            store=organization["houston"],
            customer=str(customer.async_customer_id),
            changes=CustomerChanges(fields={"email": f"q{customer.pk}@new.example"}),
        )
    run("upload")
    rows = list(StagedChannelRequest.objects.filter(status="pending"))
    with CaptureQueriesContext(connections["default"]) as queries:
        outcomes = staged_requests_apply(staged_rows=rows, final=True)
    assert len(outcomes) == count and all(o.ok for o in outcomes)
    return len(queries)


def test_applying_requests_costs_the_same_queries_for_3_or_12_customers(organization):
    few = _apply_queries(organization, 3)
    StagedChannelRequest.objects.all().delete()
    many = _apply_queries(organization, 12)

    assert few == many
