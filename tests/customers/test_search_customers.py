"""search_customers and the all-stores search (README "Store customers"): the store's
own search, HQ asked for the legal entity's customers and the other stores' records,
the local fallback when HQ cannot be reached, JSON output, indexed keys, and a flat
number of queries."""

import io
import json
from contextlib import ExitStack
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.db import InterfaceError, OperationalError, connections
from django.test.utils import CaptureQueriesContext

from commerce.db import channel_aliases
from customers.models import Party
from customers.selectors import store_all
from customers.selectors.store_all import hq_customer_search, store_customer_search_all
from customers.services import async_customer_create, customer_create_at_store
from customers.services import requests as request_services
from customers.services.store_copy import StoreCopyError, customer_copy_to_store
from tests.factories.commerce import StoreFactory
from tests.factories.customers import AddressFactory, ChannelCustomerFactory
from tests.fixtures import person, realtime_store_at, run

pytestmark = pytest.mark.django_db(databases="__all__")


def search(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("search_customers", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def search_json(*args):
    out, err = search(*args, "--format", "json")
    return json.loads(out), err


@pytest.fixture
def stores(organization):
    """Houston (S0001, channel) with a copy and an async customer; Seattle's channel
    database (channel2) with a real-time store S0003 whose customer Rita Stone Houston
    does not hold yet, and Seattle's async customer Øyvind Hansen uploaded to HQ."""
    houston = organization["houston"]
    # The stores' default customer has a fixed name: a random one ("Jonathan") could
    # match the searches below ("Ona").
    Party.objects.filter(pk=organization["default"].party_id).update(
        name="Walk-in Customer", first_name="Walk-in", last_name="Customer"
    )
    # Where the stores are: a phone number typed without a country code is read there.
    AddressFactory(party=organization["default"].party, country="USA", is_primary=True)
    ChannelCustomerFactory(
        legal_entity="USRT",
        account="C000101",
        first_name="Karen",
        last_name="Stone",
        name="Karen Stone",
        email="karen@example.com",
    )
    async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "Stone"))
    realtime = realtime_store_at(organization, "seattle")
    rita = customer_create_at_store(
        store=realtime,
        data=replace(
            person("Rita", "Stone"), email="Rita.Stone@Example.com", phone="(713) 555-0199"
        ),
    )
    oyvind = async_customer_create(
        alias="channel2", store_number="S0002", data=person("Øyvind", "Hansen")
    )
    run("upload", channel_database="SEATTLE")
    return {
        "houston": houston,
        "realtime": realtime,
        "rita": rita.customer,
        "oyvind": oyvind,
    }


# --- The command ----------------------------------------------------------------------------


def test_a_store_finds_its_own_customers_locally(stores):
    rows, err = search_json("--store", "S0001", "Stone")

    assert {(r["source"], r["kind"], r["name"]) for r in rows} == {
        ("local", "account", "Karen Stone"),
        ("local", "async", "Ona Stone"),
    }
    assert err == ""
    (ona,) = [r for r in rows if r["kind"] == "async"]
    assert (ona["account"], ona["store"], ona["status"]) == (None, "S0001", "pending_upload")


def test_all_stores_adds_hqs_customers_and_other_stores_records(stores):
    rows, err = search_json("--store", "S0001", "Stone", "--all-stores")

    assert err == ""
    hq = [r for r in rows if r["source"] == "hq"]
    assert [(r["kind"], r["name"], r["account"], r["at_store"]) for r in hq] == [
        ("account", "Rita Stone", stores["rita"].account, False)
    ]
    assert [r["source"] for r in rows] == ["local", "local", "hq"]  # the store's first

    staged, _ = search_json("--store", "S0001", "hansen", "--all-stores")
    assert [(r["source"], r["kind"], r["store"], r["status"], r["account"]) for r in staged] == [
        ("hq", "staged", "S0002", "uploaded", None)
    ]
    assert staged[0]["async_customer_id"] == str(stores["oyvind"].async_customer_id)


def test_without_all_stores_hq_is_not_asked(stores):
    rows, _ = search_json("--store", "S0001", "Rita")

    assert rows == []


def test_a_customer_the_store_shows_is_not_repeated_from_hq(stores, organization):
    customer_copy_to_store(store=stores["houston"], account=stores["rita"].account)

    rows, _ = search_json("--store", "S0001", "Rita", "--all-stores")

    assert [(r["source"], r["account"]) for r in rows] == [("local", stores["rita"].account)]


def test_the_store_searches_locally_when_it_is_offline(stores):
    houston = stores["houston"]
    houston.offline = True
    houston.save()

    rows, err = search_json("--store", "S0001", "Stone", "--all-stores")

    assert {r["source"] for r in rows} == {"local"} and len(rows) == 2
    assert err == (
        "Store S0001: HQ cannot be reached (the store is offline); "
        "searched its channel database only.\n"
    )


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_the_store_searches_locally_when_hq_cannot_be_reached(stores, monkeypatch, error):
    def hq_down(**kwargs):
        raise error("could not connect to server: Connection refused")

    monkeypatch.setattr(store_all, "_hq_customers", hq_down)

    out, err = search("--store", "S0001", "Stone", "--all-stores")

    assert "Karen Stone" in out and "Rita Stone" not in out
    assert err.count("\n") == 1
    assert err.startswith("Store S0001: HQ could not be reached (could not connect")
    assert err.endswith("; searched its channel database only.\n")


def test_hq_unreachable_is_the_same_errors_as_the_real_time_fallback():
    assert store_all.HQ_UNREACHABLE == request_services.HQ_UNREACHABLE


def test_json_is_one_array_on_stdout_only(stores):
    out, err = search("--store", "S0001", "Stone", "--all-stores", "--format", "json")

    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 3
    assert err == ""
    assert set(rows[0]) == {*store_all.SEARCH_COLUMNS, "at_store"}


def test_the_table_has_a_header_the_rows_and_a_count(stores):
    out, _ = search("--store", "S0001", "Stone", "--all-stores")

    lines = out.splitlines()
    assert lines[0].split() == store_all.SEARCH_COLUMNS
    assert lines[-1] == "3 rows"
    assert any(line.startswith("hq ") and "Rita Stone" in line for line in lines)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--store", "S9999", "Stone"], 'unknown store "S9999"'),
        (["--store", "S0001", "   "], "QUERY is empty"),
    ],
)
def test_bad_arguments_exit_with_one_line(stores, args, message):
    with pytest.raises(CommandError) as raised:
        search(*args)

    assert message in str(raised.value) and "\n" not in str(raised.value)


# --- HQ's keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        " rita.stone@EXAMPLE.com ",  # the email key: case and spaces ignored
        "713 555 0199",  # the phone key, read with the store's country
        "+17135550199",
        "rita stone",  # every word in the name
    ],
)
def test_hq_finds_a_customer_by_each_key(stores, query):
    rows = hq_customer_search(store=stores["houston"], query=query)

    assert [r.account for r in rows] == [stores["rita"].account]


def test_hq_finds_a_customer_by_account_and_by_its_guid(stores):
    rita = stores["rita"]
    by_account = hq_customer_search(store=stores["houston"], query=rita.account.lower())
    oyvind = hq_customer_search(
        store=stores["houston"], query=str(stores["oyvind"].async_customer_id)
    )

    assert [r.account for r in by_account] == [rita.account]
    assert [(r.kind, r.name) for r in oyvind] == [("staged", "Øyvind Hansen")]


def test_hq_finds_only_the_stores_legal_entity(stores):
    other = StoreFactory(number="S0900")  # another legal entity, on channel

    assert hq_customer_search(store=other, query="Rita Stone") == []
    assert hq_customer_search(store=other, query="Hansen") == []


def test_a_record_of_the_stores_own_channel_database_is_local_not_hq(stores, organization):
    run("upload", channel_database="HOUSTON")  # Ona is staged now, and still local

    result = store_customer_search_all(store=stores["houston"], query="Ona")

    assert [r.record.first_name for r in result.local.rows] == ["Ona"]
    assert result.hq_rows == []


def _query_counts(store, query) -> dict[str, int]:
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ["default", *channel_aliases()]
        }
        store_customer_search_all(store=store, query=query)
    return {alias: len(c.captured_queries) for alias, c in captured.items()}


def test_the_number_of_queries_does_not_grow_with_the_rows(stores, organization):
    def walkers(indexes):
        for index in indexes:
            customer_create_at_store(store=stores["realtime"], data=person("Amy", f"Walker{index}"))
            async_customer_create(
                alias="channel2", store_number="S0002", data=person("Ben", f"Walker{index}")
            )
        run("upload", channel_database="SEATTLE")

    walkers([0])
    one = _query_counts(stores["houston"], "Walker")
    walkers(range(1, 12))

    many = _query_counts(stores["houston"], "Walker")

    assert len(store_customer_search_all(store=stores["houston"], query="Walker").hq_rows) == 24
    assert many == one
    limited = hq_customer_search(store=stores["houston"], query="Walker", limit=5)
    assert [r.kind for r in limited] == ["account"] * 5 + ["staged"] * 5


# --- Choosing a customer found at HQ ------------------------------------------------------------


def test_choosing_writes_the_copy_as_distribution_would(stores):
    from customers.models import ChannelCustomer

    rita = stores["rita"]
    seattle_copy = ChannelCustomer.objects.using("channel2").get(account=rita.account)

    result = customer_copy_to_store(store=stores["houston"], account=rita.account)

    copy = ChannelCustomer.objects.using("channel").get(account=rita.account)
    assert result.written and result.version == rita.version == copy.hq_version
    fields = ["name", "email", "phone", "customer_group", "currency", "hq_version"]
    assert [getattr(copy, f) for f in fields] == [getattr(seattle_copy, f) for f in fields]
    assert list(copy.addresses.values_list("location_id", "street", "is_primary")) == list(
        seattle_copy.addresses.values_list("location_id", "street", "is_primary")
    )
    again = customer_copy_to_store(store=stores["houston"], account=rita.account)
    assert not again.written
    assert ChannelCustomer.objects.using("channel").filter(account=rita.account).count() == 1


def test_choosing_an_account_of_another_legal_entity_is_refused(stores):
    other = StoreFactory(number="S0900")

    with pytest.raises(StoreCopyError):
        customer_copy_to_store(store=other, account=stores["rita"].account)
