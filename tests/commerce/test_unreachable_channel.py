"""Monitoring survives a channel database that cannot be reached: the status commands
list the reachable rows and name the unreachable database in one line on standard
error (exit 0), setup_databases migrates the others and exits 1, and the customer
synchronization status page shows a banner (HTTP 200)."""

import contextlib
import copy
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.utils import load_backend

from commerce.db import ChannelDatabaseUnreachable
from commerce.models import ChannelSalesTransaction
from customers.selectors import async_status_rows
from tests.support import base_env, manage

pytestmark = pytest.mark.django_db(databases="__all__")

SYNC_STATUS = "/admin/customers/stagedasynccustomer/sync-status/"
SEATTLE_DOWN = "channel database SEATTLE (alias channel2) unreachable: "


@contextlib.contextmanager
def unreachable(alias: str, tmp_path):
    """Point ``alias`` at a database that cannot be opened, as a store server that is
    down looks to Django: SQLite, a file in a directory that does not exist;
    PostgreSQL, a database that does not exist. Every query raises OperationalError."""
    original = connections[alias]
    settings_dict = copy.deepcopy(original.settings_dict)
    if original.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "no-such-dir" / f"{alias}.sqlite3")
    else:
        settings_dict["NAME"] = f"{settings_dict['NAME']}_unreachable"
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = broken
    try:
        yield
    finally:
        broken.close()
        connections[alias] = original


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_async_customer_status_json_lists_reachable_rows_and_names_the_other(
    channel_data, tmp_path
):
    houston = [
        row["async_id"] for row in async_status_rows() if row["channel_database"] == "HOUSTON"
    ]

    with unreachable("channel2", tmp_path):
        out, err = run("async_customer_status", "--format", "json")

    rows = json.loads(out)  # stdout is one JSON array, nothing else
    assert sorted(row["async_id"] for row in rows) == sorted(houston) and len(houston) == 5
    assert {row["channel_database"] for row in rows} == {"HOUSTON"}
    [line] = err.splitlines()  # one line, whatever the engine's reason
    assert line.startswith(f"Warning: {SEATTLE_DOWN}")
    assert line.endswith("; its rows are not listed.")


def test_async_customer_status_table_counts_reachable_rows(channel_data, tmp_path):
    with unreachable("channel2", tmp_path):
        out, err = run("async_customer_status")

    lines = out.splitlines()
    assert lines[-1] == "5 rows"
    assert all("SEATTLE" not in line for line in lines)
    assert len(err.splitlines()) == 1 and SEATTLE_DOWN in err


def test_status_of_the_unreachable_store_alone_is_empty_with_the_warning(channel_data, tmp_path):
    with unreachable("channel2", tmp_path):
        out, err = run("async_customer_status", "--store", "S0002", "--format", "json")

    assert json.loads(out) == []
    assert len(err.splitlines()) == 1 and SEATTLE_DOWN in err


def test_status_rows_without_a_list_raise_naming_the_database(channel_data, tmp_path):
    with unreachable("channel2", tmp_path), pytest.raises(ChannelDatabaseUnreachable) as raised:
        list(async_status_rows())

    assert raised.value.alias == "channel2" and raised.value.name == "SEATTLE"
    assert str(raised.value).startswith(SEATTLE_DOWN)


def test_transaction_status_lists_reachable_rows_and_names_the_other(channel_data, tmp_path):
    ChannelSalesTransaction.objects.using("channel2").create(
        transaction_id="S0002-1-000001",
        store_number="S0002",
        type="cash_and_carry",
        business_date="2026-11-24",
    )

    with unreachable("channel2", tmp_path):
        out, err = run("transaction_status", "--format", "json")
        table, table_err = run("transaction_status")

    assert [row["transaction_id"] for row in json.loads(out)] == ["S0001-1-000001"]
    assert len(err.splitlines()) == 1 and SEATTLE_DOWN in err
    assert table.splitlines()[-1] == "1 row" and "S0002-1-000001" not in table
    assert table_err == err


def test_transaction_status_tells_same_ids_of_two_stores_apart(channel_data):
    """A transaction id is unique per store: each row shows its own store's status."""
    ChannelSalesTransaction.objects.using("channel2").create(
        transaction_id="S0001-1-000001",  # the same id as Houston's, at Seattle
        store_number="S0002",
        type="cash_and_carry",
        business_date="2026-11-24",
    )
    call_command(
        "run_job", "upload", "--channel-database", "HOUSTON", "--sync", stdout=io.StringIO()
    )

    rows = json.loads(run("transaction_status", "--format", "json")[0])

    assert sorted((row["store"], row["status"]) for row in rows) == [
        ("S0001", "uploaded"),
        ("S0002", "pending_upload"),
    ]


def test_an_hq_failure_is_one_line_and_not_blamed_on_a_store(channel_data, tmp_path):
    with unreachable("default", tmp_path), pytest.raises(CommandError) as raised:
        run("async_customer_status", "--format", "json")

    assert str(raised.value).startswith("HQ database error: ")
    assert "\n" not in str(raised.value) and "channel database" not in str(raised.value)


def test_status_page_shows_reachable_rows_and_a_banner(admin_client, channel_data, tmp_path):
    with unreachable("channel2", tmp_path):
        response = admin_client.get(SYNC_STATUS)

    assert response.status_code == 200
    rows = response.context["page"].object_list
    assert len(rows) == 5 and {row["channel_database"] for row in rows} == {"HOUSTON"}
    assert {line["store"] for line in response.context["summary"]} == {"S0001", None}
    page = response.content.decode()
    assert page.count('class="errornote sync-unreachable"') == 1
    assert "Not shown: channel database SEATTLE (alias channel2) unreachable" in page


def test_status_page_without_an_unreachable_database_has_no_banner(admin_client, channel_data):
    response = admin_client.get(SYNC_STATUS)

    assert response.status_code == 200
    assert "sync-unreachable" not in response.content.decode()


@pytest.mark.django_db(databases=[])
def test_setup_databases_migrates_the_reachable_and_exits_1_naming_the_other(tmp_path):
    env = base_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'hq.sqlite3'}",
        CHANNEL_DATABASE_URLS=(
            f"channel=sqlite:///{tmp_path / 'channel.sqlite3'},"
            f"channel2=sqlite:///{tmp_path / 'no-such-dir' / 'channel2.sqlite3'}"
        ),
    )

    setup = manage(env, "setup_databases", check=False)
    customers = manage(env, "async_customer_status", "--format", "json", check=False)
    transactions = manage(env, "transaction_status", "--format", "json", check=False)

    assert setup.returncode == 1
    assert "Migrated: default, channel" in setup.stdout
    assert setup.stderr.strip().splitlines() == [
        "CommandError: Not migrated: channel database channel2 unreachable: "
        "unable to open database file"
    ]
    assert (tmp_path / "channel.sqlite3").exists()
    for result in (customers, transactions):
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == []
        assert result.stderr.strip().splitlines() == [
            "Warning: channel database channel2 unreachable: unable to open database file; "
            "its rows are not listed."
        ]
