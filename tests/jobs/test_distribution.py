"""Distribution (1010) as the bulk writer does it: payloads read as tuples say what the
instance payload says, a row the channel database refuses fails alone on both engines,
addresses are replaced and moved location ids freed, and recorded versions only rise."""

import hashlib
import json
import uuid

import pytest
from django.db import connections
from django.db.models import F

from commerce.isolation import RunAborted
from commerce.models import ChannelDatabase
from customers.models import ChannelCustomer, ChannelCustomerAddress, Customer
from customers.selectors import customer_payload, customer_payloads, with_payload_relations
from jobs import distribution, download_payloads
from jobs.download_payloads import payload_checksum
from jobs.models import (
    AppliedDownloadSession,
    CustomerDistribution,
    DownloadPayload,
    DownloadSession,
)
from tests.factories.customers import AddressFactory, AsyncCustomerLinkFactory, CustomerFactory
from tests.factories.jobs import DownloadSessionFactory
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")


def hq_customer(organization, account, *, locations=(), **fields):
    customer = CustomerFactory(legal_entity=organization["legal_entity"], account=account, **fields)
    for index, location_id in enumerate(locations):
        AddressFactory(party=customer.party, location_id=location_id, is_primary=index == 0)
    return customer


def copies(alias="channel"):
    """account -> sorted location ids of its copy at the channel database."""
    rows = ChannelCustomer.objects.using(alias).values_list("account", "addresses__location_id")
    found: dict[str, list[str]] = {}
    for account, location_id in rows:
        found.setdefault(account, [])
        if location_id:
            found[account].append(location_id)
    return {account: sorted(ids) for account, ids in found.items()}


def test_payloads_read_as_tuples_are_the_instance_payloads(organization):
    guid, address_guid = uuid.uuid4(), uuid.uuid4()
    linked = hq_customer(
        organization,
        "C000010",
        locations=["LOC-B", "LOC-A"],
        async_customer_id=guid,
        async_origin="HOUSTON",
        email="ona@example.com",
    )
    AddressFactory(
        party=linked.party,
        location_id="LOC-C",
        async_address_id=address_guid,
        async_origin="HOUSTON",
    )
    links = [
        AsyncCustomerLinkFactory(customer=linked, channel_database=name)
        for name in ["SEATTLE", "HOUSTON", "HOUSTON"]
    ]
    bare = hq_customer(organization, "C000011")
    ids = [linked.pk, bare.pk]

    payloads = customer_payloads(customer_ids=ids)

    instances = with_payload_relations(Customer.objects.filter(pk__in=ids)).order_by("account")
    assert payloads == [customer_payload(c) for c in instances]
    first, second = payloads
    assert (first["account"], first["legal_entity"]) == ("C000010", "USRT")
    assert first["customer_group"] == linked.customer_group.code
    assert (first["type"], first["name"]) == (linked.party.type, linked.party.name)
    assert (first["async_customer_id"], first["async_origin"]) == (str(guid), "HOUSTON")
    assert [a["location_id"] for a in first["addresses"]] == ["LOC-A", "LOC-B", "LOC-C"]
    assert first["addresses"][2]["async_address_id"] == str(address_guid)
    assert first["linked_async_ids"] == {
        "HOUSTON": sorted(str(link.async_customer_id) for link in links[1:]),
        "SEATTLE": [str(links[0].async_customer_id)],
    }
    assert (second["addresses"], second["linked_async_ids"]) == ([], {})
    assert second["async_customer_id"] is None


def refuse(alias, *, table, column, value):
    """Make the channel database refuse rows of ``table`` whose ``column`` is ``value``,
    as a database does (a constraint error raised by the database, not by Python)."""
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.{column} = '{value}' THEN RAISE EXCEPTION 'refused by the store' "
                "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse BEFORE INSERT ON {table} "
                f"WHEN NEW.{column} = '{value}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the store'); END"
            )


def allow(alias):
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            cursor.execute("DROP FUNCTION test_refuse() CASCADE")
        else:
            cursor.execute("DROP TRIGGER test_refuse")


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [("channel_customer", "account", "C000021"), ("channel_customer_address", "location_id", "B1")],
)
def test_a_row_the_channel_database_refuses_fails_alone_and_named(
    organization, table, column, value
):
    for index, account in enumerate(["C000020", "C000021", "C000022"]):
        hq_customer(organization, account, locations=[f"{'ABC'[index]}1"])
    refuse("channel", table=table, column=column, value=value)

    (houston,) = run("distribute", channel_database="HOUSTON")

    assert houston.status == "completed_with_errors"
    assert (houston.succeeded, houston.failed) == (3, 1)  # the default customer too
    (error,) = houston.errors
    assert "C000021" in error and "IntegrityError" in error
    assert copies() == {"C000001": copies()["C000001"], "C000020": ["A1"], "C000022": ["C1"]}
    # Closed unapplied: the batch of four, the half holding the refused customer and
    # its own session (the batch is split in halves, not sent one customer at a time).
    assert DownloadSession.objects.filter(status="superseded").count() == 3
    refused = Customer.objects.get(account="C000021")
    assert not CustomerDistribution.objects.filter(customer=refused).exists()

    allow("channel")
    (again,) = run("distribute", channel_database="HOUSTON")
    assert again.status == "succeeded" and again.succeeded == 1
    assert copies()["C000021"] == ["B1"]


def test_addresses_are_replaced_and_a_moved_location_id_follows_its_customer(organization):
    ona = hq_customer(organization, "C000030", locations=["L1", "L2"])
    mia = hq_customer(organization, "C000031", locations=["L3"])
    run("distribute", channel_database="HOUSTON")
    assert {k: v for k, v in copies().items() if k != "C000001"} == {
        "C000030": ["L1", "L2"],
        "C000031": ["L3"],
    }
    first_ids = dict(ChannelCustomer.objects.using("channel").values_list("account", "pk"))

    # At HQ: L2 moves from Ona to Mia, L3 is removed, L4 is new.
    ona.party.addresses.filter(location_id="L2").update(party=mia.party, is_primary=False)
    mia.party.addresses.filter(location_id="L3").delete()
    AddressFactory(party=ona.party, location_id="L4")
    Customer.objects.filter(pk__in=[ona.pk, mia.pk]).update(version=F("version") + 1)
    (again,) = run("distribute", channel_database="HOUSTON")

    assert again.succeeded == 2
    assert {k: v for k, v in copies().items() if k != "C000001"} == {
        "C000030": ["L1", "L4"],
        "C000031": ["L2"],
    }
    # The copies were updated in place (their ids are kept), to the new versions.
    assert dict(ChannelCustomer.objects.using("channel").values_list("account", "pk")) == (
        first_ids
    )
    versions = dict(ChannelCustomer.objects.using("channel").values_list("account", "hq_version"))
    assert (versions["C000030"], versions["C000031"]) == (2, 2)
    assert ChannelCustomerAddress.objects.using("channel").count() == 3
    assert set(
        CustomerDistribution.objects.filter(customer__in=[ona, mia]).values_list(
            "version", flat=True
        )
    ) == {2}


def test_a_session_repaired_after_a_newer_one_leaves_the_newer_version(organization):
    customer = hq_customer(organization, "C000040", version=3)
    newer = DownloadSessionFactory(channel_database="HOUSTON")
    CustomerDistribution.objects.create(
        channel_database="HOUSTON", customer=customer, version=3, download_session=newer
    )
    older = DownloadSessionFactory(
        channel_database="HOUSTON",
        status="created",
        payload__value={
            "customers": [{"account": "C000040", "version": 2, "addresses": []}],
            "ids": [customer.pk],
        },
    )
    AppliedDownloadSession.objects.using("channel").create(session_id=older.pk, counts={})

    repaired = distribution.download_sessions_repair(
        channel_database=ChannelDatabase.objects.get(name="HOUSTON")
    )

    assert repaired == 1
    older.refresh_from_db()
    assert older.status == "applied"
    row = CustomerDistribution.objects.get(customer=customer)
    assert (row.version, row.download_session_id) == (3, newer.pk)


def stored_text(payload_id):
    """The payload's text column as the database holds it."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT text FROM jobs_downloadpayload WHERE id = %s", [payload_id])
        return cursor.fetchone()[0]


def test_the_session_is_stored_as_the_text_its_checksum_is_over(organization):
    guid = uuid.uuid4()
    hq_customer(organization, "C000050", locations=["L1"], party__first_name="Zoë 😀")
    hq_customer(organization, "C000051", async_customer_id=guid, async_origin="HOUSTON")

    (houston,) = run("distribute", channel_database="HOUSTON")

    (sent,) = houston.download_sessions.all()
    session = DownloadSession.objects.select_related("payload").get(pk=sent.pk)  # read back
    value = session.payload.value()
    customers = {p["account"]: p for p in value["customers"]}
    assert customers["C000050"]["first_name"] == "Zoë 😀"
    assert customers["C000051"]["async_customer_id"] == str(guid)
    by_account = dict(Customer.objects.values_list("account", "pk"))
    assert value["ids"] == [by_account[p["account"]] for p in value["customers"]]
    assert session.counts["customers"] == 3 and session.counts["addresses"] == 1
    assert (session.status, session.job_run_id) == ("applied", houston.pk)
    assert session.created_at is not None and session.applied_at >= session.created_at
    # The text is stored as written (a text column on both engines) and checksummed.
    text = stored_text(session.payload_id)
    assert text == json.dumps(value, sort_keys=True)
    assert session.checksum == session.payload.checksum == hashlib.sha256(text.encode()).hexdigest()
    copy = ChannelCustomer.objects.using("channel").get(account="C000051")
    assert copy.async_customer_id == guid


def test_a_crash_after_the_session_is_written_leaves_it_to_the_repair(organization, monkeypatch):
    hq_customer(organization, "C000060")

    def crash(stage):
        if stage == "after_session_created":
            raise RunAborted("crash")

    monkeypatch.setattr(distribution, "fault_hook", crash)
    with pytest.raises(RunAborted):
        distribution.distribution_batch(
            channel_database=ChannelDatabase.objects.get(name="HOUSTON"), after_pk=0
        )
    (session,) = DownloadSession.objects.all()
    assert session.status == "created" and len(session.payload.value()["customers"]) == 2
    assert session.checksum == payload_checksum(session.payload.text)

    monkeypatch.setattr(distribution, "fault_hook", lambda stage: None)
    (again,) = run("distribute", channel_database="HOUSTON")
    session.refresh_from_db()
    assert session.status == "superseded"  # never applied: its customers went again
    assert again.succeeded == 2
    assert DownloadSession.objects.filter(status="applied").count() == 1


def test_customers_after_windows_with_nothing_to_send_still_go_in_the_same_run(
    organization, monkeypatch
):
    """Each batch looks at a window of the next customers (a primary key range), not at
    "the first N that need it": windows where every customer is current are passed over
    and the run goes on to the customers after them."""
    monkeypatch.setattr(distribution, "DISTRIBUTION_BATCH", 2)
    for number in range(1, 8):
        hq_customer(organization, f"C0001{number:02d}")
    (first,) = run("distribute", channel_database="HOUSTON")
    assert first.succeeded == 7 + 1  # and the organization's own customer
    changed = Customer.objects.filter(account__in=["C000101", "C000107"])
    changed.update(version=F("version") + 1, email="new@example.com")

    (again,) = run("distribute", channel_database="HOUSTON")

    assert again.succeeded == 2
    emails = ChannelCustomer.objects.using("channel").filter(email="new@example.com")
    assert sorted(emails.values_list("account", flat=True)) == ["C000101", "C000107"]
    assert DownloadSession.objects.filter(job_run=again).count() == 2  # two windows sent


# --- One payload per set, shared by the channel databases (README "Distribution") --------


def test_channel_databases_needing_the_same_customers_share_one_payload(organization, admin_client):
    for n in range(3):
        hq_customer(organization, f"C00007{n}", locations=[f"L7{n}"])

    (houston,) = run("distribute", channel_database="HOUSTON")
    (seattle,) = run("distribute", channel_database="SEATTLE")

    (sent_houston,) = houston.download_sessions.all()
    (sent_seattle,) = seattle.download_sessions.all()
    assert sent_houston.payload_id == sent_seattle.payload_id  # built once, received twice
    assert DownloadPayload.objects.count() == 1
    assert sent_houston.checksum == sent_seattle.checksum == sent_houston.payload.checksum
    assert copies("channel") == copies("channel2")
    assert set(copies("channel2")) >= {"C000070", "C000071", "C000072"}
    page = admin_client.get(f"/admin/jobs/downloadsession/{sent_seattle.pk}/change/")
    assert (
        f"payload #{sent_seattle.payload_id}, built once and sent to HOUSTON, SEATTLE"
        in page.content.decode()
    )


def test_a_channel_database_needing_another_set_gets_a_payload_of_its_own(organization):
    first = hq_customer(organization, "C000080")
    run("distribute", channel_database="HOUSTON")
    run("distribute", channel_database="SEATTLE")
    Customer.objects.filter(pk=first.pk).update(version=F("version") + 1)
    hq_customer(organization, "C000081")

    (houston,) = run("distribute", channel_database="HOUSTON")  # both customers
    CustomerDistribution.objects.filter(channel_database="SEATTLE", customer=first).update(
        version=F("version") + 1  # SEATTLE has C000080's new version from elsewhere
    )
    (seattle,) = run("distribute", channel_database="SEATTLE")  # C000081 only

    (to_houston,) = houston.download_sessions.all()
    (to_seattle,) = seattle.download_sessions.all()
    assert to_houston.payload_id != to_seattle.payload_id
    assert [c["account"] for c in to_houston.payload.value()["customers"]] == [
        "C000080",
        "C000081",
    ]
    assert [c["account"] for c in to_seattle.payload.value()["customers"]] == ["C000081"]


def test_the_second_channel_database_reads_the_payload_instead_of_building_it(
    organization, monkeypatch
):
    for n in range(3):
        hq_customer(organization, f"C00009{n}", locations=[f"L9{n}"])
    run("distribute", channel_database="HOUSTON")
    built = []
    monkeypatch.setattr(
        download_payloads, "payloads_read", lambda queryset: built.append(queryset) or []
    )

    (seattle,) = run("distribute", channel_database="SEATTLE")

    assert built == []
    assert seattle.succeeded == 4  # the three and the store's default customer


def test_a_session_applied_again_returns_its_first_counts_and_writes_nothing(organization):
    """The marker is written last, with no read before (one query fewer per session):
    a second apply of the same session fails on it, is rolled back whole (no second
    event, no second copy) and returns what the first apply counted."""
    from commerce.events import ChannelEvent

    hq_customer(organization, "C000060", locations=["LOC-60"])
    (houston,) = run("distribute", channel_database="HOUSTON")
    (sent,) = houston.download_sessions.all()
    session = DownloadSession.objects.select_related("payload").get(pk=sent.pk)
    entries = download_payloads.payload_entries(session.payload.value())
    first = AppliedDownloadSession.objects.using("channel").get(session_id=session.pk).counts
    events = ChannelEvent.objects.using("channel").count()

    again = distribution.download_session_apply(session=session, entries=entries, alias="channel")

    assert again == first and first["customers"] >= 1
    assert (
        AppliedDownloadSession.objects.using("channel").filter(session_id=session.pk).count() == 1
    )
    assert ChannelEvent.objects.using("channel").count() == events
    assert copies()["C000060"] == ["LOC-60"]


def test_a_stored_payload_is_received_in_one_query_without_a_lock(
    organization, django_assert_num_queries
):
    """Every channel database but the first receives a set another run stored: one read,
    no transaction and no lock on its key (on SQLite a transaction would take HQ's one
    write lock). A set not stored yet is built under the lock (the PostgreSQL test with
    two channel databases at once shows it built once)."""
    first = hq_customer(organization, "C000070", locations=["LOC-70"])
    second = hq_customer(organization, "C000071")
    versions = [(first.pk, first.version), (second.pk, second.version)]
    built = download_payloads.download_payload_for(versions)

    with django_assert_num_queries(1) as queries:
        received = download_payloads.download_payload_for(versions)

    assert "lock" not in queries.captured_queries[0]["sql"].lower()
    assert (received.pk, received.checksum, received.entries) == (
        built.pk,
        built.checksum,
        built.entries,
    )


def test_a_complete_look_reads_the_ends_of_its_windows_in_one_query(organization, monkeypatch):
    """A run that looks at every customer numbers them once (``distribution_windows``)
    instead of reading each window's end on its own; only the customers after the last
    full window are read as before. Every customer arrives, each in its window."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(distribution, "DISTRIBUTION_BATCH", 3)
    for index in range(10):
        hq_customer(organization, f"C0001{index:02d}")

    with CaptureQueriesContext(connections["default"]) as hq:
        (houston,) = run("distribute", channel_database="HOUSTON")

    window_reads = [q["sql"] for q in hq.captured_queries if "OFFSET" in q["sql"].upper()]
    numbering = [q["sql"] for q in hq.captured_queries if "ROW_NUMBER" in q["sql"].upper()]
    assert (len(numbering), len(window_reads)) == (1, 1)
    customers = Customer.objects.filter(legal_entity=organization["legal_entity"]).count()
    assert customers == 11  # the default customer too: three full windows, then two
    assert houston.succeeded == customers
    assert [s.counts["customers"] for s in houston.download_sessions.order_by("pk")] == [
        3,
        3,
        3,
        2,
    ]
    assert len(copies()) == customers
