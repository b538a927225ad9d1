"""R13 merge duplicate customers: every kind of child moves to the survivor, a merged
account is an alias that orders, statements and store edits resolve to the survivor,
the stores' copies are replaced by 1010, refusals, the command, and query counts."""

import io
import json
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from commerce.models import (
    ChannelSalesTransaction,
    SalesOrder,
    SalesTransaction,
    Statement,
    Store,
)
from customers.match_keys import MatchKeys
from customers.models import (
    Address,
    AsyncCustomer,
    AsyncCustomerLink,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelCustomerAsyncLink,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    PossibleDuplicate,
    StagedAsyncCustomer,
    StagedChannelRequest,
)
from customers.selectors import customer_payloads, customers_to_distribute
from customers.services.changes import CustomerChanges
from customers.services.duplicates import duplicates_find
from customers.services.merge import MergeError, customers_merge
from customers.services.requests import customer_edit_at_store
from tests.commerce.test_orders import channel_txn
from tests.factories.commerce import LegalEntityFactory
from tests.factories.customers import (
    AddressFactory,
    AffiliationFactory,
    ContactInfoFactory,
    CustomerAffiliationFactory,
    CustomerAttributeValueFactory,
    CustomerFactory,
)
from tests.fixtures import convert, run

pytestmark = pytest.mark.django_db(databases="__all__")


def merge(*args: str) -> dict:
    out = io.StringIO()
    call_command("merge_customers", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def converted(organization, channel_data):
    """Ona, Jürgen and José converted at HOUSTON and distributed to both stores."""
    convert()
    ona, jurgen, jose = (
        Customer.objects.select_related("party").get(async_customer_id=c.async_customer_id)
        for c in channel_data["valid"]
    )
    return {**organization, **channel_data, "ona": ona, "jurgen": jurgen, "jose": jose}


def fresh(customer: Customer) -> Customer:
    return Customer.objects.select_related("party").get(pk=customer.pk)


# --- The merge at HQ -----------------------------------------------------------------------


def test_every_kind_of_child_moves_to_the_survivor(converted):
    ona, jurgen = converted["ona"], converted["jurgen"]
    user = User.objects.create_user("merger")
    # Ona lacks the tier Jürgen has, and Jürgen has an affiliation and a contact more.
    CustomerAttributeValue.objects.filter(customer=ona, attribute__name="Tier").delete()
    CustomerAffiliationFactory(customer=jurgen, affiliation=AffiliationFactory(name="VIP"))
    ContactInfoFactory(party=jurgen.party, type="url", value="https://jurgen.example")
    guid = uuid.uuid4()
    AsyncCustomerLink.objects.create(
        async_customer_id=guid,
        channel_database="SEATTLE",
        customer=jurgen,
        linked_at=ona.created_at,
    )
    PossibleDuplicate.objects.create(
        legal_entity=ona.legal_entity, customer=jurgen, duplicate_of=ona, reasons={"phone": "x"}
    )
    SalesTransaction.objects.filter(transaction_id="S0001-1-000001").update(
        customer_account=jurgen.account
    )
    jurgen_addresses = set(
        Address.objects.filter(party=jurgen.party).values_list("location_id", flat=True)
    )
    version = ona.version

    result = customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], user=user)

    ona, jurgen = fresh(ona), fresh(jurgen)
    assert result.survivor == ona and result.merged == [jurgen.account]
    assert ona.version == version + 1
    assert (jurgen.merged_into, jurgen.merged_by, jurgen.merger) == (ona, user, "merger")
    assert jurgen.merged_at is not None
    moved = set(Address.objects.filter(party=ona.party).values_list("location_id", flat=True))
    assert jurgen_addresses <= moved
    assert not Address.objects.filter(party=jurgen.party).exists()
    assert Address.objects.filter(party=ona.party, is_primary=True).count() == 1
    contacts = set(ContactInfo.objects.filter(party=ona.party).values_list("type", "value"))
    assert ("url", "https://jurgen.example") in contacts
    assert ("email", jurgen.email) in contacts  # his email, hers stays hers
    assert ona.email == "ona@example.com"
    assert not ContactInfo.objects.filter(party=jurgen.party).exists()
    values = dict(
        CustomerAttributeValue.objects.filter(customer=ona).values_list("attribute__name", "value")
    )
    assert values == {"Newsletter": True, "Tier": "Gold"}
    assert not CustomerAttributeValue.objects.filter(customer=jurgen).exists()
    assert sorted(
        CustomerAffiliation.objects.filter(customer=ona).values_list("affiliation__name", flat=True)
    ) == ["Employees", "VIP"]
    assert not CustomerAffiliation.objects.filter(customer=jurgen).exists()
    links = dict(AsyncCustomerLink.objects.values_list("async_customer_id", "customer_id"))
    assert links == {guid: ona.pk, jurgen.async_customer_id: ona.pk}
    staged = StagedAsyncCustomer.objects.get(async_customer_id=jurgen.async_customer_id)
    assert staged.account == ona.account
    assert SalesTransaction.objects.get(transaction_id="S0001-1-000001").customer_account == (
        ona.account
    )
    pair = PossibleDuplicate.objects.get()
    assert (pair.reviewed_by, pair.reviewed_at is not None) == (user, True)


def test_a_merged_account_is_no_live_customer(converted):
    ona, jurgen = converted["ona"], converted["jurgen"]
    customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], merger="ops")

    channel = converted["houston"].channel_database
    assert jurgen.pk not in set(
        customers_to_distribute(channel_database=channel).values_list("pk", flat=True)
    )
    (payload,) = customer_payloads(customer_ids=[ona.pk])
    assert payload["merged_accounts"] == [jurgen.account]
    assert str(jurgen.async_customer_id) in payload["linked_async_ids"]["HOUSTON"]
    # R12 matching sees the survivor (which has his email as a contact), never the alias.
    (matches,) = duplicates_find(
        legal_entity_id=ona.legal_entity_id, keys=[MatchKeys(email=jurgen.match_email)]
    )
    assert jurgen.match_email and [m.account for m in matches] == []


def test_a_merged_survivors_aliases_follow_it_one_hop(converted):
    ona, jurgen, jose = converted["ona"], converted["jurgen"], converted["jose"]
    customers_merge(survivor_id=jurgen.pk, merged_ids=[jose.pk], merger="ops")
    customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], merger="ops")

    assert fresh(jose).merged_into_id == ona.pk and fresh(jurgen).merged_into_id == ona.pk
    (payload,) = customer_payloads(customer_ids=[ona.pk])
    assert payload["merged_accounts"] == sorted([jurgen.account, jose.account])


def test_the_default_customer_of_a_store_follows_to_the_survivor(converted):
    default, ona = converted["default"], converted["ona"]
    customers_merge(survivor_id=ona.pk, merged_ids=[default.pk], merger="ops")
    assert set(Store.objects.values_list("default_customer_id", flat=True)) == {ona.pk}


# --- Refusals ------------------------------------------------------------------------------


def test_refusals_name_why_in_one_line(converted):
    ona, jurgen, jose = converted["ona"], converted["jurgen"], converted["jose"]
    other = CustomerFactory(legal_entity=LegalEntityFactory(code="DEMF"), account="DE000001")
    cases = [
        (["--into", ona.account, other.account], "accounts of two legal entities"),
        (["--into", ona.account, ona.account], f"account {ona.account} cannot be merged into"),
        (["--into", ona.account, "C999999"], 'unknown account "C999999"'),
    ]
    for args, reason in cases:
        with pytest.raises(CommandError, match=reason) as error:
            merge(*args)
        assert "\n" not in str(error.value)
    merge("--into", ona.account, jurgen.account)
    with pytest.raises(CommandError, match=f"account {jurgen.account} is already merged into"):
        merge("--into", jose.account, jurgen.account)
    with pytest.raises(CommandError, match=f"account {jurgen.account} is already merged into"):
        merge("--into", jurgen.account, jose.account)
    assert fresh(jose).merged_into_id is None
    assert Customer.objects.filter(merged_into__isnull=False).count() == 1


def test_a_merge_over_a_changed_account_is_refused(converted):
    ona, jurgen = converted["ona"], converted["jurgen"]
    shown = {ona.pk: ona.version, jurgen.pk: jurgen.version}
    Customer.objects.filter(pk=jurgen.pk).update(version=jurgen.version + 1)

    with pytest.raises(MergeError, match=f"account {jurgen.account} was changed after"):
        customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], shown_versions=shown)
    assert fresh(jurgen).merged_into_id is None
    assert Address.objects.filter(party=jurgen.party).exists()


def test_the_command_prints_the_survivor_as_export_customers_does(converted):
    ona, jurgen = converted["ona"], converted["jurgen"]
    printed = merge("--into", ona.account, jurgen.account)

    out = io.StringIO()
    call_command("export_customers", "--legal-entity", "USRT", stdout=out)
    (exported,) = [row for row in json.loads(out.getvalue()) if row["account"] == ona.account]
    assert printed == exported
    assert len(printed["addresses"]) == 4
    assert fresh(jurgen).merger.endswith("(command line)")


# --- Orders, statements and store edits naming a merged account -----------------------


def test_orders_and_statements_naming_a_merged_account_post_against_the_survivor(converted):
    ona, jurgen = converted["ona"], converted["jurgen"]
    # Ona is merged away: her order (by GUID, uploaded already) and a later sale and order
    # naming her account go to Jürgen.
    customers_merge(survivor_id=jurgen.pk, merged_ids=[ona.pk], merger="ops")
    channel_txn("S0001-1-000101", customer_account=ona.account)
    channel_txn("S0001-1-000102", type="customer_order", customer_account=ona.account)
    run("upload")

    run("sync-orders")
    run("post-statements", store="S0001", business_date="2026-11-24")

    orders = dict(SalesOrder.objects.values_list("transaction__transaction_id", "customer_account"))
    assert orders == {"S0001-1-000001": jurgen.account, "S0001-1-000102": jurgen.account}
    sale = SalesTransaction.objects.get(transaction_id="S0001-1-000101")
    assert (sale.status, sale.posted_customer_account) == ("posted", jurgen.account)
    assert Statement.objects.get().status == "posted"


def test_a_store_edit_naming_a_merged_account_lands_on_the_survivor(converted):
    ona, jurgen, houston = converted["ona"], converted["jurgen"], converted["houston"]
    customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], merger="ops")
    # The store still holds Jürgen's copy and his async customer (1010 has not run yet).
    by_account = customer_edit_at_store(
        store=houston, customer=jurgen.account, changes=CustomerChanges(fields={"language": "de"})
    )
    by_guid = customer_edit_at_store(
        store=houston,
        customer=str(jurgen.async_customer_id),
        changes=CustomerChanges(fields={"phone": "+15550001111"}),
    )
    assert by_account.mode == by_guid.mode == "request"

    run("upload")
    run("async-customers")

    ona = fresh(ona)
    assert (ona.language, ona.phone) == ("de", "+15550001111")
    assert set(StagedChannelRequest.objects.values_list("status", "account")) == {
        ("completed", ona.account)
    }


# --- The stores' copies --------------------------------------------------------------------


def test_1010_replaces_the_stores_copy_of_a_merged_account_with_the_survivor(converted):
    ona, jurgen = converted["ona"], converted["jurgen"]
    jurgen_guid = jurgen.async_customer_id
    channel_txn("S0001-1-000201", customer_account=jurgen.account)  # not uploaded yet
    assert ChannelCustomer.objects.using("channel2").filter(account=jurgen.account).exists()

    customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], merger="ops")
    run("distribute")

    for alias in ("channel", "channel2"):
        copies = ChannelCustomer.objects.using(alias)
        assert not copies.filter(account=jurgen.account).exists()
        survivor = copies.get(account=ona.account)
        assert survivor.hq_version == fresh(ona).version
        locations = set(
            ChannelCustomerAddress.objects.using(alias)
            .filter(customer=survivor)
            .values_list("location_id", flat=True)
        )
        assert locations == set(
            Address.objects.filter(party=ona.party).values_list("location_id", flat=True)
        )
    # Jürgen's async customer and his sales at HOUSTON now name Ona's account.
    assert AsyncCustomer.objects.using("channel").get(async_customer_id=jurgen_guid).account == (
        ona.account
    )
    link = ChannelCustomerAsyncLink.objects.using("channel").get(async_customer_id=jurgen_guid)
    assert link.account == ona.account
    assert ChannelSalesTransaction.objects.using("channel").get(
        transaction_id="S0001-1-000201"
    ).customer_account == (ona.account)
    assert not ChannelCustomerAsyncLink.objects.using("channel2").exists()  # his GUID is HOUSTON's

    # Nothing is left to send.
    assert ChannelCustomer.objects.using("channel").filter(account=ona.account).count() == 1
    assert not customers_to_distribute(
        channel_database=converted["houston"].channel_database
    ).exists()


def test_applying_a_merge_payload_twice_is_idempotent(converted):
    from customers.services.channel import channel_customers_apply

    ona, jurgen = converted["ona"], converted["jurgen"]
    customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], merger="ops")
    payloads = customer_payloads(customer_ids=[ona.pk])

    first = channel_customers_apply(alias="channel", channel_database="HOUSTON", payloads=payloads)
    second = channel_customers_apply(alias="channel", channel_database="HOUSTON", payloads=payloads)

    assert first["merged_copies_replaced"] == 1 and "merged_copies_replaced" not in second
    assert list(
        ChannelCustomer.objects.using("channel")
        .filter(account__in=[ona.account, jurgen.account])
        .values_list("account", flat=True)
    ) == [ona.account]


# --- Query count ---------------------------------------------------------------------------


def _merge_queries(organization, children: int, number: int) -> int:
    entity = organization["legal_entity"]
    survivor = CustomerFactory(legal_entity=entity, account=f"S{number}")
    merged = CustomerFactory(legal_entity=entity, account=f"M{number}")
    attributes = list(
        CustomerAttributeValue.objects.values_list("attribute", flat=True).distinct()
    ) or [None]
    for index in range(children):
        AddressFactory(party=merged.party, is_primary=index == 0)
        ContactInfoFactory(
            party=merged.party, type="url", value=f"https://{number}-{index}.example"
        )
        CustomerAffiliationFactory(
            customer=merged, affiliation=AffiliationFactory(name=f"A{number}-{index}")
        )
    for attribute in attributes[:1]:
        if attribute is not None:
            CustomerAttributeValueFactory(customer=merged, attribute_id=attribute)
    with CaptureQueriesContext(connections["default"]) as queries:
        customers_merge(survivor_id=survivor.pk, merged_ids=[merged.pk], merger="ops")
    assert Address.objects.filter(party=survivor.party).count() == children
    return len(queries)


def test_the_merge_costs_the_same_queries_whatever_the_number_of_children(organization):
    assert _merge_queries(organization, 2, 1) == _merge_queries(organization, 30, 2)


def test_an_async_address_and_a_review_link_naming_a_merged_account_go_to_the_survivor(
    converted,
):
    from customers.services.review import _link_target
    from tests.factories.customers import AsyncAddressFactory, StagedAsyncCustomerFactory

    ona, jurgen = converted["ona"], converted["jurgen"]
    customers_merge(survivor_id=ona.pk, merged_ids=[jurgen.pk], merger="ops")
    address = AsyncAddressFactory(store_number="S0001", customer_account=jurgen.account)

    run("upload")
    run("async-customers")

    assert Address.objects.get(async_address_id=address.async_address_id).party_id == (ona.party_id)
    held = StagedAsyncCustomerFactory(store_number="S0001", channel_database="HOUSTON")
    assert _link_target(held, jurgen.account) == ona
