"""edit_customer_at_store's other changes (README "Management commands", R11): change
and retire addresses, set and clear attributes, add and remove affiliations and
contact info; bad values exit 1 with one line naming field and value."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from customers.models import (
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelRequest,
)
from customers.services import async_customer_create
from tests.fixtures import person

pytestmark = pytest.mark.django_db(databases="__all__")


def edit(*args):
    out = io.StringIO()
    call_command("edit_customer_at_store", "--store", "S0001", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def ona(organization):
    return async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "S"))


def addresses(row):
    return AsyncCustomerAddress.objects.using("channel").filter(async_customer=row)


def test_every_kind_of_change_in_place(ona):
    first, second = (str(a.async_address_id) for a in addresses(ona).order_by("-is_primary"))

    result = edit(
        "--customer",
        str(ona.async_customer_id),
        "--change-address",
        second,
        '{"street": "9 Moved St", "primary": true}',
        "--retire-address",
        first,
        "--set-attribute",
        "Newsletter=false",
        "--clear-attribute",
        "Tier",
        "--remove-affiliation",
        "Employees",
        "--add-contact",
        '{"type": "email", "value": "ona.alt@example.com", "primary": true}',
        "--remove-contact",
        "phone:+1555000",
    )

    assert result == {"customer": str(ona.async_customer_id), "request": None}
    (address,) = addresses(ona)
    assert (address.street, address.is_primary) == ("9 Moved St", True)
    values = dict(AsyncCustomerAttributeValue.objects.using("channel").values_list("name", "value"))
    assert values == {"Newsletter": False}
    assert not AsyncCustomerAffiliation.objects.using("channel").exists()
    contacts = AsyncCustomerContact.objects.using("channel").values_list("type", "value")
    assert list(contacts) == [("email", "ona.alt@example.com")]


def test_after_upload_the_changes_travel_as_one_request(ona):
    first = str(addresses(ona).get(is_primary=True).async_address_id)
    type(ona).objects.using("channel").update(upload_session_id=1)

    result = edit(
        "--customer",
        str(ona.async_customer_id),
        "--retire-address",
        first,
        "--add-affiliation",
        "Employees",
        "--remove-contact",
        "+1555000",
    )

    changes = ChannelRequest.objects.using("channel").get(request_id=result["request"]).changes
    assert changes["addresses_retired"] == [first]
    assert changes["affiliations"] == ["Employees"]
    assert changes["contacts_removed"] == [{"type": "", "value": "+1555000"}]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--change-address", "{first}", '{"country": "XX"}'],
            'country: invalid country code "XX"',
        ),
        (["--change-address", "{first}", '{"floor": "2"}'], "unknown field floor"),
        (["--change-address", "{first}", '{"primary": "yes"}'], 'primary "yes" is not true'),
        (["--change-address", "LOC-NOPE", '{"city": "Austin"}'], 'unknown address "LOC-NOPE"'),
        (["--retire-address", "LOC-NOPE"], 'Retire address: unknown address "LOC-NOPE"'),
        (["--set-attribute", "Tier"], '"Tier" is not NAME=VALUE'),
        (["--add-contact", '{"type": "fax", "value": "1"}'], 'unknown contact type "fax"'),
        (["--add-contact", '{"type": "email", "value": "nope"}'], 'malformed email "nope"'),
        (["--remove-contact", "x" * 300], "contacts_removed[0].value"),
        (["--remove-affiliation", "x" * 300], "Affiliations:"),
    ],
)
def test_bad_values_exit_1_in_one_line_nothing_written(ona, args, message):
    first = str(addresses(ona).get(is_primary=True).async_address_id)
    args = [a.replace("{first}", first) for a in args]
    with pytest.raises(
        CommandError, match=message.replace("[", r"\[").replace("]", r"\]")
    ) as error:
        edit("--customer", str(ona.async_customer_id), *args)

    assert "\n" not in str(error.value)
    assert addresses(ona).get(is_primary=True).country == "USA"
    assert addresses(ona).count() == 2
    assert not ChannelRequest.objects.using("channel").exists()
