"""import_data commits HQ first: a crash between the commits leaves HQ whole and a
reimport completes it; an async customer's children go through the one mapping."""

import io
import json
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections

from commerce.models import ChannelSalesTransaction, LegalEntity, Store
from customers.importing import ImportIncompleteError, data_import, writing_channel
from customers.models import (
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerContact,
    Customer,
)
from customers.services.children import CHANNEL_CHILDREN, CHILD_FIELDS
from tests.customers.test_importing import guid, valid_file

pytestmark = pytest.mark.django_db(databases="__all__")


# --- HQ commits first ---------------------------------------------------------------------


def _fail_commit(monkeypatch, alias: str) -> None:
    def commit():
        raise OperationalError(f"disk I/O error on {alias}")

    monkeypatch.setattr(connections[alias], "commit", commit)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_crash_between_the_commits_leaves_hq_whole_and_a_reimport_completes(monkeypatch):
    _fail_commit(monkeypatch, "channel")  # HQ and channel2 commit, then channel fails

    with pytest.raises(ImportIncompleteError) as excinfo:
        data_import(payload=valid_file())

    assert "disk I/O error on channel" in str(excinfo.value)
    assert Store.objects.count() == 2
    assert Customer.objects.count() == 1
    assert AsyncCustomer.objects.using("channel").count() == 0
    assert AsyncCustomer.objects.using("channel2").count() == 1

    monkeypatch.undo()
    report = data_import(payload=valid_file())

    assert report.skipped_ids == {
        "async_customers": [guid(2)],
        "transactions": ["S0002-1-000001"],
    }
    assert AsyncCustomer.objects.using("channel").get().store_number == "S0001"
    assert AsyncCustomerAddress.objects.using("channel").count() == 2
    assert AsyncAddress.objects.using("channel").count() == 1
    assert ChannelSalesTransaction.objects.using("channel").count() == 1
    assert AsyncCustomer.objects.using("channel2").count() == 1
    assert Store.objects.count() == 2


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_hq_commit_failure_commits_no_channel_database(monkeypatch):
    _fail_commit(monkeypatch, "default")

    with pytest.raises(OperationalError):
        data_import(payload=valid_file())

    monkeypatch.undo()
    assert LegalEntity.objects.count() == 0
    assert AsyncCustomer.objects.using("channel").count() == 0
    assert AsyncCustomer.objects.using("channel2").count() == 0


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_command_says_how_to_complete_an_incomplete_import(tmp_path, monkeypatch):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(valid_file()), encoding="utf-8")
    _fail_commit(monkeypatch, "channel2")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), stdout=io.StringIO())

    monkeypatch.undo()
    assert str(excinfo.value) == (
        f"{path}: HQ records imported, but a channel database did not commit (disk I/O error "
        "on channel2); import the same file again to complete it"
    )
    out = io.StringIO()
    call_command("import_data", str(path), stdout=out)
    # channel2 failed first: channel, which commits after it, rolled back as well.
    assert "legal_entities: 0 created, 0 updated, 1 unchanged" in out.getvalue()
    assert "async_customers: 2 created, 0 updated, 0 unchanged" in out.getvalue()


# --- One mapping for an async customer's children ---------------------------------------------


def test_children_are_written_through_the_one_mapping(monkeypatch):
    calls = []
    real = writing_channel.children_bulk_create

    def spy(**kwargs):
        families = list(kwargs["families"])
        calls.append((kwargs["side"], families))
        return real(**{**kwargs, "families": families})

    monkeypatch.setattr(writing_channel, "children_bulk_create", spy)

    data_import(payload=valid_file())

    assert [side for side, _ in calls] == [CHANNEL_CHILDREN, CHANNEL_CHILDREN]
    for _, families in calls:
        for _, children in families:
            assert set(children) == set(CHILD_FIELDS)
            for relation, rows in children.items():
                assert all(set(row) <= set(CHILD_FIELDS[relation]) for row in rows)
    customer = AsyncCustomer.objects.using("channel").get()
    address = AsyncCustomerAddress.objects.using("channel").get(
        async_address_id=uuid.UUID(guid(101))
    )
    assert (address.async_customer_id, address.is_primary, address.state) == (customer.pk, True, "")
    assert AsyncCustomerContact.objects.using("channel").get().is_primary is False
    assert AsyncCustomerAffiliation.objects.using("channel").get().name == "Employees"
