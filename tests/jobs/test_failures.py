"""Crashes injected between the steps of a session are repaired by the next run."""

import pytest

from commerce.isolation import RunAborted
from customers.models import (
    AsyncCustomer,
    ChannelCustomer,
    ChannelCustomerAddress,
    Customer,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
)
from customers.selectors import async_status_rows
from jobs import distribution, upload
from jobs.models import AppliedDownloadSession, DownloadSession, UploadSession
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")


class Crash(RunAborted):
    """Stands for the worker dying at that point: no record is failed for it."""


def crash_once_at(stage_name, *, after=0):
    calls = {"n": 0, "crashed": False}

    def hook(stage):
        if stage == stage_name and not calls["crashed"]:
            if calls["n"] >= after:
                calls["crashed"] = True
                raise Crash(stage)
            calls["n"] += 1

    return hook


def test_upload_crash_after_hq_applied_is_repaired_without_duplicates(channel_data, monkeypatch):
    monkeypatch.setattr(upload, "fault_hook", crash_once_at("customers:after_hq_apply"))

    (failed,) = run("upload", channel_database="HOUSTON")

    assert failed.status == "failed" and "Crash" in failed.message
    assert StagedAsyncCustomer.objects.count() == 4  # HQ has them...
    assert not AsyncCustomer.objects.using("channel").exclude(upload_session_id=None).exists()

    monkeypatch.setattr(upload, "fault_hook", lambda stage: None)
    (repaired,) = run("upload", channel_database="HOUSTON")

    assert repaired.status == "succeeded"
    assert StagedAsyncCustomer.objects.count() == 4
    assert StagedAsyncCustomerAddress.objects.count() == 8
    assert not AsyncCustomer.objects.using("channel").filter(upload_session_id=None).exists()
    assert UploadSession.objects.filter(status="superseded").count() == 1


def test_rows_written_during_an_upload_are_taken_by_the_next_run(channel_data, monkeypatch):
    from customers.services import async_customer_create
    from tests.fixtures import person

    def write_during_upload(stage):
        if (
            stage == "customers:after_hq_apply"
            and not AsyncCustomer.objects.using("channel").filter(first_name="Late").exists()
        ):
            async_customer_create(
                alias="channel", store_number="S0001", data=person("Late", "Comer")
            )

    monkeypatch.setattr(upload, "fault_hook", write_during_upload)
    run("upload", channel_database="HOUSTON")
    monkeypatch.setattr(upload, "fault_hook", lambda stage: None)
    run("upload", channel_database="HOUSTON")

    late = AsyncCustomer.objects.using("channel").get(first_name="Late")
    assert StagedAsyncCustomer.objects.filter(async_customer_id=late.async_customer_id).exists()


def _create_accounts(channel_data):
    run("upload")
    run("async-customers")
    assert Customer.objects.exclude(async_customer_id=None).count() == 4


def test_distribution_crash_after_channel_commit_is_repaired(channel_data, monkeypatch):
    _create_accounts(channel_data)
    monkeypatch.setattr(distribution, "fault_hook", crash_once_at("after_channel_commit"))

    (failed,) = run("distribute", channel_database="HOUSTON")

    assert failed.status == "failed"
    session = DownloadSession.objects.get()
    assert session.status == "created"
    assert AppliedDownloadSession.objects.using("channel").filter(session_id=session.pk).exists()

    monkeypatch.setattr(distribution, "fault_hook", lambda stage: None)
    (repaired,) = run("distribute", channel_database="HOUSTON")

    session.refresh_from_db()
    assert session.status == "applied"
    assert repaired.status == "succeeded" and repaired.selected == 0  # nothing sent twice
    assert ChannelCustomer.objects.using("channel").count() == 5
    assert ChannelCustomerAddress.objects.using("channel").count() == 9  # 4 x 2 + default's 1


def test_distribution_crash_in_the_middle_loses_and_duplicates_nothing(channel_data, monkeypatch):
    _create_accounts(channel_data)
    monkeypatch.setattr(distribution, "DISTRIBUTION_BATCH", 2)
    monkeypatch.setattr(distribution, "fault_hook", crash_once_at("after_channel_apply", after=1))

    (failed,) = run("distribute", channel_database="HOUSTON")

    assert failed.status == "failed"
    assert failed.succeeded == 2  # the first session went through
    assert ChannelCustomer.objects.using("channel").count() == 2  # the second rolled back

    monkeypatch.setattr(distribution, "fault_hook", lambda stage: None)
    (repaired,) = run("distribute", channel_database="HOUSTON")

    assert repaired.status == "succeeded" and repaired.succeeded == 3
    assert DownloadSession.objects.filter(status="superseded").count() == 1
    accounts = list(ChannelCustomer.objects.using("channel").values_list("account", flat=True))
    assert len(accounts) == len(set(accounts)) == 5
    statuses = {r["async_id"]: r["status"] for r in async_status_rows(store="S0001")}
    for customer in channel_data["valid"]:
        assert statuses[str(customer.async_customer_id)] == "synchronized"


def test_changed_customer_is_distributed_again(channel_data):
    _create_accounts(channel_data)
    run("distribute")
    customer = Customer.objects.get(async_customer_id=channel_data["valid"][0].async_customer_id)
    customer.email = "new@example.com"
    customer.version += 1
    customer.save()

    (houston, seattle) = sorted(run("distribute"), key=lambda r: r.scope)

    assert (houston.succeeded, seattle.succeeded) == (1, 1)
    for alias in ("channel", "channel2"):
        assert ChannelCustomer.objects.using(alias).get(account=customer.account).email == (
            "new@example.com"
        )
