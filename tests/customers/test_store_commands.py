"""create_customer_at_store and edit_customer_at_store (README "Management commands")."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from customers.models import AsyncCustomer, ChannelRequest, Customer
from tests.fixtures import realtime_store_at

pytestmark = pytest.mark.django_db(databases="__all__")


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_create_at_an_async_store_prints_the_guid(organization):
    result, _ = call(
        "create_customer_at_store", "--store", "S0001", "--first-name", "Ona", "--last-name", "Š"
    )

    assert result["account"] is None
    assert (
        AsyncCustomer.objects.using("channel")
        .get(async_customer_id=result["async_customer_id"])
        .first_name
        == "Ona"
    )


def test_create_at_a_real_time_store_prints_the_account(organization):
    realtime_store_at(organization)

    result, _ = call(
        "create_customer_at_store",
        "--store",
        "S0003",
        "--type",
        "organization",
        "--organization-name",
        "Contoso Ltd",
        "--email",
        "hello@contoso.example",
    )

    assert result["async_customer_id"] is None
    assert Customer.objects.get(account=result["account"]).party.name == "Contoso Ltd"


def test_edit_prints_the_request_and_adds_an_address(organization):
    created, _ = call(
        "create_customer_at_store", "--store", "S0001", "--first-name", "Ona", "--last-name", "Š"
    )
    AsyncCustomer.objects.using("channel").update(upload_session_id=1)  # uploaded: a request

    result, _ = call(
        "edit_customer_at_store",
        "--store",
        "S0001",
        "--customer",
        created["async_customer_id"],
        "--email",
        "ona@new.example",
        "--add-address",
        '{"purpose": "invoice", "street": "2 Side St", "city": "Houston", "zip": "77002",'
        ' "country": "USA", "primary": false}',
    )

    assert result["customer"] == created["async_customer_id"]
    request = ChannelRequest.objects.using("channel").get(request_id=result["request"])
    assert request.changes["fields"] == {"email": "ona@new.example"}
    assert request.changes["addresses"][0]["street"] == "2 Side St"


def test_edit_in_place_prints_no_request(organization):
    created, _ = call(
        "create_customer_at_store", "--store", "S0001", "--first-name", "Ona", "--last-name", "Š"
    )

    result, _ = call(
        "edit_customer_at_store",
        "--store",
        "S0001",
        "--customer",
        created["async_customer_id"],
        "--phone",
        "+15550100",
    )

    assert result == {"customer": created["async_customer_id"], "request": None}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--store", "S9999", "--customer", "C000001", "--email", "x@y.example"], "Unknown store"),
        (
            ["--store", "S0001", "--customer", "C999999", "--email", "x@y.example"],
            "unknown customer",
        ),
        (["--store", "S0001", "--customer", "C000001"], "nothing to change"),
        (["--store", "S0001", "--customer", "C000001", "--add-address", "{"], "not valid JSON"),
        (
            ["--store", "S0001", "--customer", "C000001", "--add-address", '{"street": "x"}'],
            "missing purpose",
        ),
    ],
)
def test_edit_bad_input_is_a_one_line_error(organization, args, message):
    from customers.models import ChannelCustomer

    ChannelCustomer.objects.using("channel").create(
        legal_entity="USRT", account="C000001", type="person", name="Default Customer"
    )
    with pytest.raises(CommandError, match=message) as error:
        call_command("edit_customer_at_store", *args, stdout=io.StringIO())
    assert "\n" not in str(error.value)


LONG_STREET = json.dumps(
    {"purpose": "invoice", "street": "x" * 300, "city": "Houston", "zip": "1", "country": "USA"}
)


@pytest.mark.parametrize(
    "command, args, message",
    [
        (
            "create_customer_at_store",
            ["--first-name", "x" * 5000, "--last-name", "K"],
            'Store S0001 refused the customer: First name: "xxx',
        ),
        (
            "edit_customer_at_store",
            ["--customer", "C000001", "--first-name", "x" * 5000],
            'Store S0001 refused the change: First name: "xxx',
        ),
        (
            "edit_customer_at_store",
            ["--customer", "C000001", "--add-address", LONG_STREET],
            'Store S0001 refused the change: Address 1: Street: "xxx',
        ),
    ],
)
def test_input_longer_than_its_columns_is_refused_at_the_store_in_one_line(
    organization, command, args, message
):
    """R1: a value the columns cannot hold is refused at the store, named and shortened,
    before anything is written (PostgreSQL would raise DataError, SQLite keep it)."""
    from customers.models import ChannelCustomer

    ChannelCustomer.objects.using("channel").create(
        legal_entity="USRT", account="C000001", type="person", name="Default Customer"
    )
    with pytest.raises(CommandError) as error:
        call_command(command, "--store", "S0001", *args, stdout=io.StringIO())

    text = str(error.value)
    assert text.startswith(message) and "longer than" in text
    assert "\n" not in text and len(text) < 300
    assert not AsyncCustomer.objects.using("channel").exists()
    assert not ChannelRequest.objects.using("channel").exists()
    assert ChannelCustomer.objects.using("channel").get().first_name == ""
