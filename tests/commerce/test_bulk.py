"""The bulk writer (commerce.db.bulk): rows written by the driver read back through the ORM
exactly as the ORM would have written them, on SQLite and (in CI's PostgreSQL pass)
on PostgreSQL, with keys no other writer can take and Django's own errors."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext

from commerce.db import HQ, bulk
from commerce.db.bulk import (
    JSONText,
    ids_reserve,
    rows_delete,
    rows_insert,
    rows_update_from,
    rows_upsert,
)
from commerce.models import Statement
from customers.models import (
    AsyncCustomer,
    ChannelCustomer,
    ChannelCustomerAddress,
    Customer,
    CustomerType,
    Party,
)
from jobs.models import CustomerDistribution
from tests.factories.commerce import StoreFactory
from tests.factories.customers import (
    AsyncCustomerFactory,
    ChannelCustomerAddressFactory,
    ChannelCustomerFactory,
    CustomerFactory,
)
from tests.factories.jobs import DownloadSessionFactory

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@pytest.fixture(params=["values", "copy"])
def write_path(request, monkeypatch):
    """Each test of values written twice on PostgreSQL: a few rows as one ``INSERT ...
    VALUES``, and (no rows by VALUES) by ``COPY`` (an upsert's into a temporary table).
    SQLite has one path."""
    if request.param == "copy":
        monkeypatch.setattr(bulk, "VALUES_ROWS", 0)
    return request.param


@pytest.mark.usefixtures("write_path")
def test_rows_read_back_as_the_orm_writes_them_with_defaults_for_left_out_columns():
    store = StoreFactory()
    guid = uuid.uuid4()
    created = datetime.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.UTC)
    with transaction.atomic(using="channel"):
        count = rows_insert(
            model=AsyncCustomer,
            columns=["async_customer_id", "store_number", "type", "last_name", "created_at"],
            rows=[(guid, store.number, CustomerType.PERSON, "Ünïcode ' \" \\ \t", created)],
            using="channel",
        )
    assert count == 1
    row = AsyncCustomer.objects.using("channel").get()
    assert row.async_customer_id == guid
    assert row.created_at == created
    assert row.last_name == "Ünïcode ' \" \\ \t"
    assert row.first_name == ""  # the field's default
    assert row.upload_session_id is None


@pytest.mark.usefixtures("write_path")
def test_json_decimal_date_and_auto_now_columns():
    store = StoreFactory()
    with transaction.atomic(using=HQ):
        rows_insert(
            model=Statement,
            columns=["store_id", "business_date", "total", "errors"],
            rows=[(store.pk, datetime.date(2026, 1, 2), Decimal("12.34"), [{"a": "ü"}])],
            using=HQ,
        )
    statement = Statement.objects.get()
    assert statement.total == Decimal("12.34")
    assert statement.errors == [{"a": "ü"}]
    assert statement.business_date == datetime.date(2026, 1, 2)
    assert statement.sequence == 1


def raw_column(alias, table, column):
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.usefixtures("write_path")
def test_uuid_values_in_any_form_are_stored_as_the_orm_stores_them():
    store = StoreFactory()
    now = datetime.datetime.now(tz=datetime.UTC)
    orm_guid = uuid.uuid4()
    AsyncCustomer.objects.using("channel").create(
        async_customer_id=orm_guid, store_number=store.number, type="person", created_at=now
    )
    guids = [uuid.uuid4() for _ in range(5)]
    given = [
        guids[0],  # a UUID
        str(guids[1]),  # its canonical text
        str(guids[2]).upper(),  # other forms Django takes
        guids[3].hex,
        "{" + str(guids[4]) + "}",
    ]

    def insert(values):
        with transaction.atomic(using="channel"):
            rows_insert(
                model=AsyncCustomer,
                columns=["async_customer_id", "store_number", "type", "created_at"],
                rows=[(value, store.number, CustomerType.PERSON, now) for value in values],
                using="channel",
            )

    insert(given)
    rows_upsert(
        rows=[copy_row("A1", "x", guid=str(guids[1])), copy_row("A2", "y", guid=None)],
        **COPY_UPSERT,
    )
    read = AsyncCustomer.objects.using("channel").order_by("pk")
    assert list(read.values_list("async_customer_id", flat=True)) == [orm_guid, *guids]
    # The column holds exactly what the ORM writes (SQLite: 32 lowercase hex digits), so
    # unique indexes and joins on it match rows however they were written.
    for same in [orm_guid, str(orm_guid)]:
        with pytest.raises(IntegrityError):
            insert([same])
    if connections["channel"].vendor == "sqlite":
        stored = raw_column("channel", "channel_async_customer", "async_customer_id")
        assert stored == [g.hex for g in [orm_guid, *guids]]
    copies = ChannelCustomer.objects.using("channel").order_by("account")
    assert list(copies.values_list("async_customer_id", flat=True)) == [guids[1], None]


def test_a_value_that_is_no_uuid_is_refused_as_the_orm_refuses_it():
    store = StoreFactory()
    now = datetime.datetime.now(tz=datetime.UTC)
    for value in ["not-a-uuid", "0123456789abcdef0123456789abcdeg"]:
        with pytest.raises(ValidationError), transaction.atomic(using="channel"):
            rows_insert(
                model=AsyncCustomer,
                columns=["async_customer_id", "store_number", "type", "created_at"],
                rows=[(value, store.number, CustomerType.PERSON, now)],
                using="channel",
            )
    assert not AsyncCustomer.objects.using("channel").exists()


@pytest.mark.usefixtures("write_path")
def test_json_text_is_written_as_it_is_not_encoded_again():
    store = StoreFactory()
    value = [{"b": "ü 😀", "a": [1, None, True]}]
    text = JSONText.dumps(value)
    assert text.text == '[{"a": [1, null, true], "b": "\\u00fc \\ud83d\\ude00"}]'
    with transaction.atomic(using=HQ):
        rows_insert(
            model=Statement,
            columns=["store_id", "business_date", "total", "errors"],
            rows=[
                (store.pk, datetime.date(2026, 1, 2), Decimal("1"), text),
                (store.pk, datetime.date(2026, 1, 3), Decimal("1"), value),  # encoded here
                (store.pk, datetime.date(2026, 1, 4), Decimal("1"), JSONText('"plain"')),
            ],
            using=HQ,
        )
    read = list(Statement.objects.order_by("business_date").values_list("errors", flat=True))
    assert read == [value, value, "plain"]
    # The same canonical text again from the value read back, on either engine.
    assert JSONText.dumps(read[0]) == text
    if connections[HQ].vendor == "sqlite":
        stored = raw_column(HQ, Statement._meta.db_table, "errors")
        assert stored[0] == text.text and stored[2] == '"plain"'
        assert json.loads(stored[1]) == value


def test_reserved_ids_are_unique_and_later_orm_inserts_never_reuse_them():
    CustomerFactory()  # a row the ORM numbered first
    with transaction.atomic(using=HQ):
        first = ids_reserve(model=Party, count=3, using=HQ)
        second = ids_reserve(model=Party, count=2, using=HQ)
        rows_insert(
            model=Party,
            columns=["id", "type", "name"],
            rows=[(pk, CustomerType.PERSON, f"P{pk}") for pk in first],
            using=HQ,
        )
    assert len(set(first + second)) == 5
    assert first == sorted(first) and second[0] > first[-1]
    assert min(first) > Customer.objects.get().party_id
    later = Party.objects.create(type=CustomerType.PERSON, name="later")
    assert later.pk > max(second)  # reserved but unused ids are not handed out again
    assert sorted(Party.objects.filter(pk__in=first).values_list("name", flat=True)) == sorted(
        f"P{pk}" for pk in first
    )


@pytest.mark.usefixtures("write_path")
def test_a_constraint_failure_is_djangos_integrity_error_and_writes_nothing():
    party = Party.objects.create(type=CustomerType.PERSON, name="taken")
    with pytest.raises(IntegrityError), transaction.atomic(using=HQ):
        rows_insert(
            model=Party,
            columns=["id", "type", "name"],
            rows=[(party.pk + 1000, CustomerType.PERSON, "new"), (party.pk, "person", "dup")],
            using=HQ,
        )
    assert list(Party.objects.values_list("name", flat=True)) == ["taken"]


@pytest.mark.parametrize(("count", "postgresql_statement"), [(3, "INSERT"), (500, "COPY")])
def test_one_statement_per_call_seen_by_query_capture(count, postgresql_statement):
    """A few rows: one ``INSERT ... VALUES`` (one round trip); many: one ``COPY`` on
    PostgreSQL, whose cost stays flat as the rows grow."""
    rows = [(CustomerType.PERSON, f"P{i}") for i in range(count)]
    with CaptureQueriesContext(connections[HQ]) as queries, transaction.atomic(using=HQ):
        rows_insert(model=Party, columns=["type", "name"], rows=rows, using=HQ)
    (write,) = [q["sql"] for q in queries.captured_queries if "party" in q["sql"].lower()]
    if connections[HQ].vendor == "postgresql":
        # (the query log shows a COPY as "<rows> times: COPY ...")
        assert write.removeprefix(f"{count} times: ").startswith(postgresql_statement)
    assert Party.objects.count() == count


def test_unknown_or_repeated_columns_are_refused():
    with pytest.raises(ValueError, match="no column nickname"):
        rows_insert(model=Party, columns=["nickname"], rows=[("x",)], using=HQ)
    with pytest.raises(ValueError, match="named twice"):
        rows_insert(model=Customer, columns=["party", "party_id"], rows=[(1, 1)], using=HQ)
    assert rows_insert(model=Party, columns=["name"], rows=[], using=HQ) == 0


# --- rows_upsert ------------------------------------------------------------------------

COPY_COLUMNS = ["legal_entity", "account", "name", "type", "async_customer_id", "hq_version"]
# rows_upsert's arguments for channel customer copies, keyed by legal entity and account.
COPY_UPSERT = {
    "model": ChannelCustomer,
    "columns": COPY_COLUMNS,
    "unique": ["legal_entity", "account"],
    "using": "channel",
}


def copy_row(account, name, *, version=1, guid=None, legal_entity="LE1"):
    return (legal_entity, account, name, CustomerType.PERSON, guid, version)


@pytest.mark.usefixtures("write_path")
def test_upsert_inserts_new_keys_updates_existing_ones_and_returns_ids_in_row_order():
    kept = ChannelCustomerFactory(legal_entity="LE1", account="A1", email="kept@example.com")
    updated_at = kept.updated_at
    guid = uuid.uuid4()
    rows = [copy_row("A2", "New", guid=guid), copy_row("A1", "Renamed", version=7)]
    with transaction.atomic(using="channel"):
        ids = rows_upsert(
            rows=rows,
            return_ids=True,
            **COPY_UPSERT,
        )
    copies = ChannelCustomer.objects.using("channel")
    assert ids[1] == kept.pk and ids[0] != kept.pk
    new = copies.get(pk=ids[0])
    assert (new.account, new.name, new.async_customer_id, new.hq_version) == ("A2", "New", guid, 1)
    assert new.email == "" and new.updated_at is not None  # defaults for left-out columns
    kept.refresh_from_db()
    assert (kept.name, kept.hq_version) == ("Renamed", 7)
    assert kept.email == "kept@example.com"  # a column not written is left as it was
    assert kept.updated_at > updated_at  # auto_now moves on an update, as save() would
    assert copies.count() == 2


@pytest.mark.usefixtures("write_path")
def test_upsert_updates_only_the_columns_named():
    kept = ChannelCustomerFactory(legal_entity="LE1", account="A1", name="Old", hq_version=3)
    rows_upsert(
        rows=[copy_row("A1", "New", version=4)],
        update=["hq_version"],
        **COPY_UPSERT,
    )
    kept.refresh_from_db()
    assert (kept.name, kept.hq_version) == ("Old", 4)


@pytest.mark.usefixtures("write_path")
def test_upsert_only_rising_never_lowers_the_stored_value():
    customers = CustomerFactory.create_batch(3)
    first, second = DownloadSessionFactory.create_batch(2)
    for customer, version in zip(customers[:2], [5, 5], strict=True):
        CustomerDistribution.objects.create(
            channel_database="HOUSTON", customer=customer, version=version, download_session=first
        )
    count = rows_upsert(
        model=CustomerDistribution,
        columns=["channel_database", "customer_id", "version", "download_session_id"],
        rows=[
            ("HOUSTON", customers[0].pk, 4, second.pk),  # older: left as it is
            ("HOUSTON", customers[1].pk, 6, second.pk),  # newer: written
            ("HOUSTON", customers[2].pk, 1, second.pk),  # new
        ],
        unique=["channel_database", "customer_id"],
        only_rising="version",
        using=HQ,
    )
    assert count == 3
    assert sorted(
        CustomerDistribution.objects.values_list("customer_id", "version", "download_session_id")
    ) == [
        (customers[0].pk, 5, first.pk),
        (customers[1].pk, 6, second.pk),
        (customers[2].pk, 1, second.pk),
    ]


def upsert_statements(count):
    rows = [copy_row(f"Q{i}", f"Q{i}") for i in range(count)]
    with CaptureQueriesContext(connections["channel"]) as queries:
        with transaction.atomic(using="channel"):
            # Twice in one transaction: updates the second time.
            for _ in range(2):
                ids = rows_upsert(
                    rows=rows,
                    return_ids=True,
                    **COPY_UPSERT,
                )
    assert len(ids) == count == ChannelCustomer.objects.using("channel").count()
    ChannelCustomer.objects.using("channel").all().delete()
    control = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT")
    return len([q for q in queries.captured_queries if not q["sql"].startswith(control)])


def test_upsert_statements_do_not_grow_with_rows():
    small, large = upsert_statements(2), upsert_statements(600)
    if connections["channel"].vendor == "postgresql":
        # A few rows: one INSERT ... VALUES (ids returned); many: temporary table, COPY,
        # upsert.
        assert (small, large) == (2 * 1, 2 * 3)
    else:
        # SQLite: the upsert and the ids read, whatever the count.
        assert small == large == 2 * 2


@pytest.mark.usefixtures("write_path")
def test_a_row_the_table_refuses_is_djangos_integrity_error_and_writes_nothing():
    kept = ChannelCustomerFactory(legal_entity="LE1", account="A1", name="Kept")
    with pytest.raises(IntegrityError), transaction.atomic(using="channel"):
        rows_upsert(
            rows=[copy_row("A1", "Renamed"), copy_row("A2", None)],  # name is NOT NULL
            return_ids=True,
            **COPY_UPSERT,
        )
    assert list(ChannelCustomer.objects.using("channel").values_list("pk", "name")) == [
        (kept.pk, "Kept")
    ]


@pytest.mark.usefixtures("write_path")
def test_a_value_too_long_for_postgresql_is_djangos_data_error():
    if connections["channel"].vendor != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    with pytest.raises(DataError), transaction.atomic(using="channel"):
        rows_upsert(
            rows=[copy_row("A1", "x"), copy_row("A2", "y", legal_entity="L" * 11)],
            **COPY_UPSERT,
        )
    assert not ChannelCustomer.objects.using("channel").exists()


@pytest.mark.usefixtures("write_path")
def test_upsert_refuses_what_it_cannot_do_right():
    with pytest.raises(ValueError, match="given twice"):
        rows_upsert(rows=[copy_row("A1", "x"), copy_row("A1", "y")], **COPY_UPSERT)
    with pytest.raises(ValueError, match="no id back"):
        rows_upsert(rows=[], only_rising="hq_version", return_ids=True, **COPY_UPSERT)
    with pytest.raises(ValueError, match="not among the columns written"):
        rows_upsert(rows=[], **{**COPY_UPSERT, "unique": ["legal_entity", "email"]})
    assert rows_upsert(rows=[], return_ids=True, **COPY_UPSERT) == []
    assert not ChannelCustomer.objects.using("channel").exists()


# --- rows_delete ------------------------------------------------------------------------


def test_delete_takes_rows_matching_any_column_in_one_statement_per_column():
    kept, gone = ChannelCustomerFactory.create_batch(2)
    for location_id, copy in [("L1", kept), ("L2", kept), ("L3", gone), ("L4", gone)]:
        ChannelCustomerAddressFactory(customer=copy, location_id=location_id)
    keys = [f"X{i}" for i in range(2000)] + ["L2"]
    with CaptureQueriesContext(connections["channel"]) as queries:
        deleted = rows_delete(
            model=ChannelCustomerAddress,
            any_of={"customer_id": [gone.pk], "location_id": keys},
            using="channel",
        )
    deletes = [q for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert deleted == 3 and len(deletes) == 2  # each column through its own index
    assert list(ChannelCustomerAddress.objects.using("channel").values_list("location_id")) == [
        ("L1",)
    ]
    assert (
        rows_delete(model=ChannelCustomerAddress, any_of={"location_id": []}, using="channel") == 0
    )


def test_delete_refuses_rows_other_tables_point_to():
    with pytest.raises(ValueError, match="deleted by the ORM"):
        rows_delete(model=ChannelCustomer, any_of={"account": ["A1"]}, using="channel")


# --- rows_update_from -------------------------------------------------------------------


def test_update_from_joins_on_the_key_in_one_statement_and_fills_only_empty_rows():
    waiting, taken, unrelated, not_written = AsyncCustomerFactory.create_batch(4)
    AsyncCustomer.objects.using("channel").filter(pk=taken.pk).update(account="KEEP")
    copies = [
        ChannelCustomerFactory(account=f"C{i}", async_customer_id=row.async_customer_id)
        for i, row in enumerate([waiting, taken, not_written])
    ]
    now = datetime.datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.UTC)
    with CaptureQueriesContext(connections["channel"]) as queries:
        updated = rows_update_from(
            model=AsyncCustomer,
            source=ChannelCustomer,
            key="async_customer_id",
            assignments={"account": "account"},
            values={"synchronized_at": now},
            where_null="account",
            source_any_of=("id", [copy.pk for copy in copies[:2]] + [10**9]),
            using="channel",
        )

    assert updated == 1 and len(queries.captured_queries) == 1
    rows = AsyncCustomer.objects.using("channel").in_bulk()
    assert (rows[waiting.pk].account, rows[waiting.pk].synchronized_at) == ("C0", now)
    assert rows[taken.pk].account == "KEEP" and rows[taken.pk].synchronized_at is None
    assert rows[unrelated.pk].account is None and rows[not_written.pk].account is None
