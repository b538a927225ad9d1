"""import_data: customer edits (R11)."""

import copy
import datetime
import uuid

import pytest

from commerce.signals import store_data_written
from customers.importing import ImportFileError, data_import
from customers.models import (
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    ChannelRequest,
    Customer,
)
from jobs.models import JobRun
from jobs.services import job_runs_execute, job_runs_request
from tests.customers.test_importing import (
    _count_queries,
    assert_nothing_written,
    async_customer,
    guid,
    row_counts,
    setup_sections,
    valid_file,
)

pytestmark = pytest.mark.django_db(databases="__all__")


def address_guid(n: int) -> str:
    """Distinct in the first 20 hex digits, which HQ's location ids are made of."""
    return str(uuid.UUID(int=n << 64))


def edit(n: int, customer: str, **overrides) -> dict:
    record = {
        "id": guid(50_000 + n),
        "customer": customer,
        "edited_at": "2026-11-24T11:00:00Z",
        "changes": {"email": f"edit{n}@new.example", "phone": "+37061111111"},
        "attributes": {"Tier": "Silver"},
        "affiliations": ["Students"],
        "addresses": [
            {
                "async_id": address_guid(n),
                "purpose": "invoice",
                "street": f"Pylimo g. {n}",
                "city": "Vilnius",
                "state": "",
                "zip": "01117",
                "country": "LTU",
                "primary": False,
            }
        ],
    }
    record.update(overrides)
    return record


def edits_file(*edits: dict, store: str = "S0001") -> dict:
    return {"channel": [{"store": store, "customer_edits": list(edits)}]}


def with_edits(payload: dict, *edits: dict, entry: int = 0) -> dict:
    payload["channel"][entry]["customer_edits"] = list(edits)
    return payload


def uploaded() -> None:
    """The async customers already in the channel databases have been uploaded."""
    for alias in ("channel", "channel2"):
        AsyncCustomer.objects.using(alias).update(upload_session_id=1)


def requests(alias: str = "channel") -> dict[str, ChannelRequest]:
    return {str(r.request_id): r for r in ChannelRequest.objects.using(alias)}


def expected_changes(n: int) -> dict:
    return {
        "fields": {"email": f"edit{n}@new.example", "phone": "+37061111111"},
        "attributes": {"Tier": "Silver"},
        "affiliations": ["Students"],
        "addresses": [
            {
                "async_address_id": address_guid(n),
                "purpose": "invoice",
                "street": f"Pylimo g. {n}",
                "city": "Vilnius",
                "state": "",
                "zip": "01117",
                "country": "LTU",
                "is_primary": False,
            }
        ],
    }


# --- Loading ----------------------------------------------------------------------------


def test_an_edit_of_an_uploaded_async_customer_loads_as_a_channel_request():
    data_import(payload=valid_file())
    uploaded()
    before = AsyncCustomer.objects.using("channel").values().get()

    report = data_import(payload=edits_file(edit(1, guid(1))))

    request = requests()[guid(50_001)]
    assert request.store_number == "S0001"
    assert (request.target_async_customer_id, request.target_account) == (uuid.UUID(guid(1)), "")
    assert request.edited_at == datetime.datetime(2026, 11, 24, 11, tzinfo=datetime.UTC)
    assert request.changes == expected_changes(1)
    assert request.upload_session_id is None
    # The uploaded customer itself is unchanged: HQ gets the change through the request.
    assert AsyncCustomer.objects.using("channel").values().get() == before
    assert (report.counts["customer_edits"].created, report.counts["customer_edits"].updated) == (
        1,
        0,
    )


def test_an_edit_of_an_hq_account_loads_as_a_channel_request_in_the_same_file():
    payload = with_edits(valid_file(), edit(1, "C000001", affiliations=[], addresses=[]), entry=1)

    data_import(payload=payload)

    request = ChannelRequest.objects.using("channel2").get()
    assert (request.store_number, request.target_account) == ("S0002", "C000001")
    assert request.target_async_customer_id is None
    assert request.changes["fields"] == {"email": "edit1@new.example", "phone": "+37061111111"}
    assert not ChannelRequest.objects.using("channel").exists()


def test_an_edit_of_an_async_customer_of_the_same_file_is_applied_in_place_latest_wins():
    later = edit(
        2,
        guid(1),
        edited_at="2026-11-24T12:00:00Z",
        changes={"email": "latest@new.example"},
        attributes={"Tier": "Gold"},
        affiliations=[],
        addresses=[],
    )
    earlier = edit(
        1,
        guid(1),
        changes={"email": "older@new.example", "last_name": "Naujoji"},
        addresses=[{**edit(1, "")["addresses"][0], "primary": True}],
    )
    # Listed in reverse time order: the time of the edit decides, not the file.
    payload = with_edits(valid_file(), later, earlier)

    report = data_import(payload=payload)

    row = AsyncCustomer.objects.using("channel").get(async_customer_id=guid(1))
    assert (row.email, row.last_name, row.phone) == (
        "latest@new.example",
        "Naujoji",
        "+37060000000",
    )
    attributes = AsyncCustomerAttributeValue.objects.using("channel").filter(async_customer=row)
    assert {a.name: a.value for a in attributes} == {"Newsletter": True, "Tier": "Gold"}
    affiliations = AsyncCustomerAffiliation.objects.using("channel").filter(async_customer=row)
    assert sorted(a.name for a in affiliations) == ["Employees", "Students"]
    addresses = AsyncCustomerAddress.objects.using("channel").filter(async_customer=row)
    assert {str(a.async_address_id): a.is_primary for a in addresses} == {
        guid(101): False,
        guid(102): False,
        address_guid(1): True,
    }
    assert not ChannelRequest.objects.using("channel").exists()
    assert report.counts["customer_edits"].updated == 2


def test_in_place_edits_across_batches_keep_the_latest(monkeypatch):
    from customers.importing import writing

    monkeypatch.setattr(writing, "BATCH_SIZE", 1)
    later = edit(2, guid(1), edited_at="2026-11-24T12:00:00Z", changes={"email": "l@x.example"})
    earlier = edit(1, guid(1), changes={"email": "e@x.example"})

    data_import(payload=with_edits(valid_file(), later, earlier))

    assert AsyncCustomer.objects.using("channel").get(async_customer_id=guid(1)).email == (
        "l@x.example"
    )


def test_reimporting_edits_changes_nothing():
    data_import(payload=valid_file())
    uploaded()
    payload = {
        "channel": [
            {"store": "S0001", "customer_edits": [edit(1, guid(1)), edit(2, "C000001")]},
            {
                "store": "S0002",
                "async_customers": [
                    {
                        "async_id": guid(7),
                        "type": "person",
                        "first_name": "Jonas",
                        "last_name": "Naujas",
                    }
                ],
                "customer_edits": [edit(3, guid(7))],
            },
        ]
    }
    data_import(payload=payload)
    snapshot = _snapshot()

    report = data_import(payload=copy.deepcopy(payload))

    assert _snapshot() == snapshot
    assert sorted(report.skipped_ids["customer_edits"]) == [guid(50_001), guid(50_002)]
    assert report.counts["customer_edits"].created == 0


def _snapshot() -> dict:
    return {
        **row_counts(),
        **{
            f"{model.__name__}@{alias}": sorted(
                map(str, model.objects.using(alias).values().order_by("pk"))
            )
            for alias in ("channel", "channel2")
            for model in (
                ChannelRequest,
                AsyncCustomer,
                AsyncCustomerAddress,
                AsyncCustomerAttributeValue,
                AsyncCustomerAffiliation,
            )
        },
    }


def test_edits_are_announced_once_per_channel_database():
    announced = []

    def receiver(sender, alias, **kwargs):
        announced.append((sender, alias))

    store_data_written.connect(receiver)
    try:
        payload = with_edits(valid_file(), edit(1, guid(1)), edit(2, "C000001"))
        with_edits(payload, edit(3, "C000001"), entry=1)
        data_import(payload=payload)
    finally:
        store_data_written.disconnect(receiver)

    assert sorted(announced) == [(ChannelRequest, "channel"), (ChannelRequest, "channel2")]


def test_query_count_does_not_grow_with_the_number_of_requests():
    data_import(payload=setup_sections())

    def many(first: int, count: int) -> dict:
        return edits_file(*(edit(first + i, "C000001") for i in range(count)))

    small = _count_queries(many(1_000, 10))
    large = _count_queries(many(10_000, 100))

    assert ChannelRequest.objects.using("channel").count() == 110
    assert large <= small + 4, (small, large)


# --- Rejected files -----------------------------------------------------------------------

EDIT = ["channel", 0, "customer_edits", 0]
EDIT_ERRORS = [
    pytest.param(
        {"customer": guid(999)},
        f"{'channel[0].customer_edits[0].customer'}: unknown async customer of channel "
        f'database "HOUSTON" "{guid(999)}"',
        id="unknown-async-customer",
    ),
    pytest.param(
        # guid(2) is an async customer of the other channel database (DALLAS).
        {"customer": guid(2)},
        "channel[0].customer_edits[0].customer: unknown async customer of channel "
        f'database "HOUSTON" "{guid(2)}"',
        id="async-customer-of-another-channel-database",
    ),
    pytest.param(
        {"customer": "C999999"},
        'channel[0].customer_edits[0].customer: unknown customer of legal entity USRT "C999999"',
        id="unknown-account",
    ),
    pytest.param(
        {"customer": "C" * 31},
        "channel[0].customer_edits[0].customer: must be an async customer GUID or an account "
        f'of at most 30 characters, got "{"C" * 31}"',
        id="account-too-long",
    ),
    pytest.param(
        {"changes": {"email": "x@example.com", "nickname": "Onute"}},
        'channel[0].customer_edits[0].changes.nickname: unknown field, got "Onute"',
        id="unknown-field-in-changes",
    ),
    pytest.param(
        {"changes": {"currency": "EUR"}},
        'channel[0].customer_edits[0].changes.currency: unknown field, got "EUR"',
        id="field-a-store-may-not-change",
    ),
    pytest.param(
        {"edited_at": None},
        "channel[0].customer_edits[0].edited_at: is required, got null",
        id="null-edited-at",
    ),
    pytest.param(
        {"edited_at": "yesterday"},
        "channel[0].customer_edits[0].edited_at: must be an ISO 8601 datetime such as "
        '2026-11-24T10:00:00Z, got "yesterday"',
        id="bad-edited-at",
    ),
    pytest.param(
        # R11: dated in the future, it would freeze its fields against every store edit.
        {"edited_at": "2099-01-01T00:00:00Z"},
        "channel[0].customer_edits[0].edited_at: is in the future (more than 5 minutes "
        'ahead of now), got "2099-01-01T00:00:00+00:00"',
        id="edited-at-in-the-future",
    ),
    pytest.param(
        {"addresses": [{**edit(1, "")["addresses"][0], "async_id": guid(101)}]},
        "channel[0].customer_edits[0].addresses[0].async_id: repeated async address id "
        f'"{guid(101)}" (first at channel[0].async_customers[0].addresses[0].async_id)',
        id="address-id-of-another-record",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), EDIT_ERRORS)
def test_a_bad_customer_edit_rejects_the_whole_file(overrides, message):
    record = edit(1, guid(1))
    record.update(overrides)
    payload = with_edits(valid_file(), record)

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == message
    assert_nothing_written()
    assert not ChannelRequest.objects.using("channel").exists()


@pytest.mark.parametrize("field", ["id", "customer", "edited_at"])
def test_a_customer_edit_without_a_required_field_rejects_the_file(field):
    record = edit(1, guid(1))
    del record[field]

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=with_edits(valid_file(), record))

    assert str(excinfo.value) == (
        f"channel[0].customer_edits[0].{field}: required field is missing"
    )
    assert_nothing_written()


def test_an_edit_id_repeated_in_the_file_rejects_it():
    payload = with_edits(valid_file(), edit(1, guid(1)))
    with_edits(payload, edit(1, "C000001"), entry=1)

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value) == (
        f'channel[1].customer_edits[0].id: repeated customer edit id "{guid(50_001)}" '
        "(first at channel[0].customer_edits[0].id)"
    )
    assert_nothing_written()


def test_an_edit_refers_to_an_async_customer_listed_after_it():
    payload = valid_file()
    entry = payload["channel"][0]
    # The edits come first in the entry, the async customer they change after them.
    payload["channel"][0] = {"customer_edits": [edit(1, guid(1))], **entry}

    data_import(payload=payload)

    row = AsyncCustomer.objects.using("channel").get(async_customer_id=guid(1))
    assert row.email == "edit1@new.example"


# --- End to end ------------------------------------------------------------------------------


def run(job):
    runs, refused = job_runs_request(job=job, enqueue=False)
    assert not refused
    job_runs_execute(run_ids=[r.pk for r in runs])
    return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))


def convert():
    return [*run("upload"), *run("async-customers"), *run("distribute")]


def test_imported_edits_reach_hq_through_the_conversion():
    # Ona (guid(1)) is edited in place before upload; after the first conversion an
    # imported edit changes her again, and one changes the HQ account C000001.
    first = {
        **setup_sections(),
        "channel": [
            {
                "store": "S0001",
                "async_customers": [async_customer(1, addresses=0)],
                "customer_edits": [
                    edit(1, guid(1), changes={"phone": "+37060000001"}, attributes={})
                ],
            }
        ],
    }
    first["affiliations"].append({"name": "Students"})
    data_import(payload=first)
    runs = convert()
    assert all(r.status == "succeeded" for r in runs), [r.errors for r in runs]
    ona = Customer.objects.get(async_customer_id=guid(1))
    assert ona.phone == "+37060000001"
    assert ona.party.addresses.filter(async_address_id=address_guid(1)).exists()

    data_import(
        payload=edits_file(
            edit(2, guid(1), changes={"email": "ona@new.example"}, affiliations=[]),
            edit(3, "C000001", changes={"email": "default@new.example"}, addresses=[]),
        )
    )
    assert len(requests()) == 2
    runs = convert()

    assert all(r.status == "succeeded" for r in runs), [r.errors for r in runs]
    ona.refresh_from_db()
    assert ona.email == "ona@new.example"
    assert ona.attribute_values.get(attribute__name="Tier").value == "Silver"
    assert ona.party.addresses.filter(
        async_address_id=address_guid(2), street="Pylimo g. 2"
    ).exists()
    default = Customer.objects.get(account="C000001")
    assert default.email == "default@new.example"
    assert default.affiliations.filter(affiliation__name="Students").exists()


def test_an_hq_customer_whose_name_overflows_the_party_name_rejects_the_file():
    """First and last name fit their columns (100 each), the party's name (200) not: the
    import refuses it before writing, on every engine (PostgreSQL would raise DataError)."""
    payload = valid_file()
    payload["customers"][0].update(first_name="x" * 100, last_name="y" * 100)

    with pytest.raises(ImportFileError) as excinfo:
        data_import(payload=payload)

    assert str(excinfo.value).startswith(
        'customers[0].last_name: makes a name longer than 200 characters, got "xxx'
    )
    assert_nothing_written()
