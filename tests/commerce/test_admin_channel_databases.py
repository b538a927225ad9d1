"""The admin's channel database selection (README "Admin"): a channel row is listed,
opened, added, changed, deleted and logged in the channel database the page names."""

import datetime

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from commerce.models import ChannelSalesLine, ChannelSalesTransaction
from tests.commerce.test_admin import admin_url, change_form_post_data, in_channel
from tests.factories.commerce import (
    ChannelDatabaseFactory,
    ChannelSalesLineFactory,
    ChannelSalesTransactionFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")


# --- Channel database selection --------------------------------------------------------


def test_channel_row_is_listed_only_in_its_channel_database(admin_client):
    ChannelDatabaseFactory(alias="channel2")
    ChannelSalesTransactionFactory(transaction_id="IN-CHANNEL")
    ChannelSalesTransactionFactory(transaction_id="IN-CHANNEL2", using="channel2")
    url = admin_url(ChannelSalesTransaction, "changelist")

    default = admin_client.get(url)
    second = admin_client.get(url, {"channel_db": "channel2"})

    assert [t.transaction_id for t in default.context["cl"].result_list] == ["IN-CHANNEL"]
    assert [t.transaction_id for t in second.context["cl"].result_list] == ["IN-CHANNEL2"]
    assert "CHANNEL2 (channel2)" in second.content.decode()


def test_changelist_links_carry_the_channel_database(admin_client):
    txn = ChannelSalesTransactionFactory(using="channel2")

    response = admin_client.get(
        admin_url(ChannelSalesTransaction, "changelist"), {"channel_db": "channel2"}
    )

    change_url = admin_url(ChannelSalesTransaction, "change", txn.pk)
    assert f"{change_url}?_changelist_filters=channel_db%3Dchannel2" in response.content.decode()


def test_unknown_channel_database_is_not_found(admin_client):
    url = admin_url(ChannelSalesTransaction, "changelist")

    assert admin_client.get(url, {"channel_db": "nowhere"}).status_code == 404


def test_channel2_transaction_change_page_saves_into_channel2(admin_client):
    ChannelSalesTransactionFactory(transaction_id="SAME-PK-IN-CHANNEL")
    txn = ChannelSalesTransactionFactory(transaction_id="T2", using="channel2")
    line = ChannelSalesLineFactory(transaction=txn, line_number=1, using="channel2")
    url = in_channel(admin_url(ChannelSalesTransaction, "change", txn.pk), "channel2")

    page = admin_client.get(url)
    assert page.status_code == 200
    assert page.context["original"].transaction_id == "T2"
    data = change_form_post_data(page, customer_account="C000042", **{"lines-0-item": "0042"})
    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert "channel_db%3Dchannel2" in response.url or "channel_db=channel2" in response.url
    txn = ChannelSalesTransaction.objects.using("channel2").get(pk=txn.pk)
    assert txn.customer_account == "C000042"
    assert ChannelSalesLine.objects.using("channel2").get(pk=line.pk).item == "0042"
    untouched = ChannelSalesTransaction.objects.using("channel").get()
    assert untouched.transaction_id == "SAME-PK-IN-CHANNEL" and untouched.customer_account is None


def test_channel2_add_page_creates_in_channel2(admin_client):
    url = in_channel(admin_url(ChannelSalesTransaction, "add"), "channel2")
    page = admin_client.get(url)
    data = change_form_post_data(
        page,
        transaction_id="NEW-2",
        store_number="S0002",
        type="cash_and_carry",
        business_date="2026-11-25",
        **{
            "lines-TOTAL_FORMS": "1",
            "lines-0-line_number": "1",
            "lines-0-item": "0007",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "1.50",
        },
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    txn = ChannelSalesTransaction.objects.using("channel2").get(transaction_id="NEW-2")
    assert txn.business_date == datetime.date(2026, 11, 25)
    assert [(li.item, li.quantity) for li in txn.lines.all()] == [("0007", 2)]
    assert not ChannelSalesTransaction.objects.using("channel").exists()


def test_duplicate_transaction_id_is_a_form_error_in_the_chosen_database(admin_client):
    ChannelSalesTransactionFactory(transaction_id="TAKEN", using="channel2")
    url = in_channel(admin_url(ChannelSalesTransaction, "add"), "channel2")
    page = admin_client.get(url)
    data = change_form_post_data(
        page,
        transaction_id="TAKEN",
        store_number="S0001",  # a transaction id is unique within its store
        type="cash_and_carry",
        business_date="2026-11-25",
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "transaction_id" in response.context["adminform"].form.errors
    assert ChannelSalesTransaction.objects.using("channel2").count() == 1


def test_the_same_transaction_id_at_another_store_is_accepted(admin_client):
    ChannelSalesTransactionFactory(transaction_id="TAKEN", store_number="S0001", using="channel2")
    url = in_channel(admin_url(ChannelSalesTransaction, "add"), "channel2")
    data = change_form_post_data(
        admin_client.get(url),
        transaction_id="TAKEN",
        store_number="S0002",
        type="cash_and_carry",
        business_date="2026-11-25",
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302
    stores = ChannelSalesTransaction.objects.using("channel2").filter(transaction_id="TAKEN")
    assert sorted(stores.values_list("store_number", flat=True)) == ["S0001", "S0002"]


def test_channel2_delete_view_deletes_only_in_channel2(admin_client):
    ChannelSalesTransactionFactory(transaction_id="KEEP")
    txn = ChannelSalesTransactionFactory(transaction_id="DROP", using="channel2")
    ChannelSalesLineFactory(transaction=txn, using="channel2")
    url = in_channel(admin_url(ChannelSalesTransaction, "delete", txn.pk), "channel2")

    confirmation = admin_client.get(url)
    assert confirmation.status_code == 200
    assert "DROP" in confirmation.content.decode()
    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not ChannelSalesTransaction.objects.using("channel2").exists()
    assert not ChannelSalesLine.objects.using("channel2").exists()
    assert ChannelSalesTransaction.objects.using("channel").get().transaction_id == "KEEP"


def test_delete_selected_action_in_channel2(admin_client):
    ChannelSalesTransactionFactory(transaction_id="KEEP")
    txn = ChannelSalesTransactionFactory(transaction_id="DROP", using="channel2")
    url = f"{admin_url(ChannelSalesTransaction, 'changelist')}?channel_db=channel2"
    action = {"action": "delete_selected", "_selected_action": [txn.pk]}

    confirmation = admin_client.post(url, action)
    assert confirmation.status_code == 200
    response = admin_client.post(url, {**action, "post": "yes"})

    assert response.status_code == 302
    assert not ChannelSalesTransaction.objects.using("channel2").exists()
    assert ChannelSalesTransaction.objects.using("channel").exists()


def test_channel_line_raw_id_lookup_opens_the_same_database(admin_client):
    txn = ChannelSalesTransactionFactory(using="channel2")
    line = ChannelSalesLineFactory(transaction=txn, using="channel2")
    url = in_channel(admin_url(ChannelSalesLine, "change", line.pk), "channel2")

    content = admin_client.get(url).content.decode()

    lookup = admin_url(ChannelSalesTransaction, "changelist")
    assert f"{lookup}?_to_field=id&amp;channel_db=channel2" in content
    assert txn.transaction_id in content


def test_history_page_of_a_channel2_row_opens(admin_client):
    txn = ChannelSalesTransactionFactory(using="channel2")
    url = in_channel(admin_url(ChannelSalesTransaction, "history", txn.pk), "channel2")

    assert admin_client.get(url).status_code == 200


def _history(client, txn, alias):
    response = client.get(in_channel(admin_url(ChannelSalesTransaction, "history", txn.pk), alias))
    assert response.status_code == 200
    return [(entry.action_flag, entry.object_repr) for entry in response.context["action_list"]]


def test_history_lists_only_the_log_entries_of_its_channel_database(admin_client):
    houston = ChannelSalesTransactionFactory(id=777, transaction_id="S0001-1-000777")
    seattle = ChannelSalesTransactionFactory(
        id=777, transaction_id="S0002-1-000777", using="channel2"
    )
    url = in_channel(admin_url(ChannelSalesTransaction, "change", houston.pk), "channel")
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, business_date="2026-11-30"))

    assert response.status_code == 302
    assert _history(admin_client, houston, "channel") == [(CHANGE, "[channel] S0001-1-000777")]
    assert _history(admin_client, seattle, "channel2") == []


def test_channel_rows_added_and_deleted_in_the_admin_are_logged_with_their_alias(admin_client):
    url = in_channel(admin_url(ChannelSalesTransaction, "add"), "channel2")
    data = change_form_post_data(
        admin_client.get(url),
        transaction_id="NEW-2",
        store_number="S0002",
        type="cash_and_carry",
        business_date="2026-11-25",
    )
    assert admin_client.post(url, data).status_code == 302
    txn = ChannelSalesTransaction.objects.using("channel2").get(transaction_id="NEW-2")
    ChannelSalesTransactionFactory(id=txn.pk, transaction_id="SAME-ID-IN-CHANNEL")

    changelist = f"{admin_url(ChannelSalesTransaction, 'changelist')}?channel_db=channel2"
    action = {"action": "delete_selected", "_selected_action": [txn.pk], "post": "yes"}
    assert admin_client.post(changelist, action).status_code == 302

    logged = LogEntry.objects.filter(object_id=str(txn.pk)).order_by("pk")
    assert [(e.action_flag, e.object_repr) for e in logged] == [
        (ADDITION, "[channel2] NEW-2"),
        (DELETION, "[channel2] NEW-2"),
    ]
    assert _history(admin_client, txn, "channel") == []
