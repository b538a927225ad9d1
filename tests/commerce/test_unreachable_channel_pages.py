"""A channel database that cannot be reached: every admin page of a channel model
answers with a banner naming it (no rows, HTTP 200; a row's own pages lead back to
that list), and the store commands exit 1 with one line, no traceback."""

import io

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.urls import reverse

from commerce.admin_channel import ChannelModelAdmin
from customers.models import AsyncCustomer, Customer
from tests.commerce.test_unreachable_channel import unreachable
from tests.support import base_env, manage, python_json

pytestmark = pytest.mark.django_db(databases="__all__")

SEATTLE_CANNOT = "channel database SEATTLE cannot be reached: "

CHANNEL_ADMINS = sorted(
    (
        model_admin
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, ChannelModelAdmin)
    ),
    key=lambda model_admin: model_admin.opts.label,
)


def changelist_url(model_admin, alias: str) -> str:
    opts = model_admin.opts
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + f"?channel_db={alias}"


def test_every_channel_model_admin_is_covered():
    assert {a.opts.model_name for a in CHANNEL_ADMINS} >= {
        "asynccustomer",
        "asyncaddress",
        "channelcustomer",
        "channelsalestransaction",
        "channelrequest",
    }


@pytest.mark.parametrize("model_admin", CHANNEL_ADMINS, ids=lambda a: a.opts.label)
def test_list_page_of_an_unreachable_channel_database_shows_a_banner_and_no_rows(
    admin_client, channel_data, tmp_path, model_admin
):
    with unreachable("channel2", tmp_path):
        response = admin_client.get(changelist_url(model_admin, "channel2"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    page = response.content.decode()
    assert page.count('class="errornote channel-unreachable"') == 1
    assert f"Not shown: {SEATTLE_CANNOT}" in page


def test_list_page_of_the_reachable_database_is_untouched(admin_client, channel_data, tmp_path):
    async_customers = admin.site.get_model_admin(AsyncCustomer)

    with unreachable("channel2", tmp_path):
        response = admin_client.get(changelist_url(async_customers, "channel"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 4  # Houston's async customers
    assert "channel-unreachable" not in response.content.decode()


def test_searching_and_filtering_an_unreachable_list_still_answers(
    admin_client, channel_data, tmp_path
):
    url = changelist_url(admin.site.get_model_admin(AsyncCustomer), "channel2")

    with unreachable("channel2", tmp_path):
        response = admin_client.get(f"{url}&q=Hansen&store_status=uploaded&store_number=S0002")

    assert response.status_code == 200 and response.context["cl"].result_count == 0
    assert SEATTLE_CANNOT in response.content.decode()


@pytest.mark.parametrize("page", ["change", "history", "delete"])
def test_a_rows_page_in_an_unreachable_database_leads_back_to_its_list(
    admin_client, channel_data, tmp_path, page
):
    seattle = channel_data["seattle"]
    url = reverse(f"admin:customers_asynccustomer_{page}", args=[seattle.pk])

    with unreachable("channel2", tmp_path):
        response = admin_client.get(f"{url}?channel_db=channel2", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("?channel_db=channel2")
    assert response.context["cl"].result_count == 0
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and messages[0].startswith(SEATTLE_CANNOT)


def test_add_customer_at_a_store_whose_database_cannot_be_reached_says_so(
    admin_client, organization, tmp_path
):
    data = {
        "store": organization["seattle"].pk,
        "type": "person",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "address_purpose": "delivery",
        "address_street": "1 Main St",
        "address_city": "Seattle",
        "address_zip": "98101",
        "address_country": "USA",
        "address_primary": "on",
    }

    with unreachable("channel2", tmp_path):
        response = admin_client.post(reverse("admin:customers_customer_add_at_store"), data)

    assert response.status_code == 200
    assert f"Nothing created: {SEATTLE_CANNOT}" in response.content.decode()
    assert not Customer.objects.filter(party__last_name="Lovelace").exists()


def test_create_customer_at_store_names_the_unreachable_database(channel_data, tmp_path):
    with unreachable("channel2", tmp_path), pytest.raises(CommandError) as raised:
        call_command(
            "create_customer_at_store",
            "--store",
            "S0002",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            stdout=io.StringIO(),
        )

    assert str(raised.value).startswith(SEATTLE_CANNOT) and "\n" not in str(raised.value)
    assert not Customer.objects.filter(party__last_name="Lovelace").exists()
    assert not AsyncCustomer.objects.using("channel").filter(last_name="Lovelace").exists()


def test_edit_customer_at_store_names_the_unreachable_database(channel_data, tmp_path):
    guid = str(channel_data["seattle"].async_customer_id)

    with unreachable("channel2", tmp_path), pytest.raises(CommandError) as raised:
        call_command(
            "edit_customer_at_store",
            "--store",
            "S0002",
            "--customer",
            guid,
            "--email",
            "new@example.com",
            stdout=io.StringIO(),
        )

    assert str(raised.value).startswith(SEATTLE_CANNOT) and "\n" not in str(raised.value)
    assert AsyncCustomer.objects.using("channel2").get().email != "new@example.com"


@pytest.mark.django_db(databases=[])
def test_store_commands_exit_1_with_one_line_and_no_traceback(tmp_path):
    """Through manage.py, as an operator runs them: the store's database is a SQLite
    file in a directory that does not exist."""
    env = base_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'hq.sqlite3'}",
        CHANNEL_DATABASE_URLS=(
            f"channel=sqlite:///{tmp_path / 'channel.sqlite3'},"
            f"channel2=sqlite:///{tmp_path / 'no-such-dir' / 'channel2.sqlite3'}"
        ),
    )
    manage(env, "setup_databases", check=False)  # HQ and Houston migrated
    python_json(
        env,
        "from tests.factories.commerce import ChannelDatabaseFactory, StoreFactory\n"
        "StoreFactory(number='S0002', channel_database=ChannelDatabaseFactory("
        "name='SEATTLE', alias='channel2'))\n"
        "print('{}')",
    )
    commands = [
        ("create_customer_at_store", "--store", "S0002", "--last-name", "Lovelace"),
        ("edit_customer_at_store", "--store", "S0002", "--customer", "C000001", "--phone", "1"),
    ]

    for command in commands:
        result = manage(env, *command, check=False)

        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            "CommandError: channel database SEATTLE cannot be reached: unable to open database file"
        ]
        assert "Traceback" not in result.stderr
