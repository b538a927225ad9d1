"""R2: an HQ customer's title, attributes and affiliations load with import_data and come
out of export_customers, so a store's default customer can be loaded with them."""

import copy
import io
import json

import pytest
from django.core.management import call_command

from customers.importing import ImportFileError, data_import
from customers.models import Customer
from tests.customers.test_importing import setup_sections

pytestmark = pytest.mark.django_db(databases="__all__")


def with_default_customer(**values) -> dict:
    payload = setup_sections()
    payload["customers"][0].update(values)
    return payload


def exported(account="C000001") -> dict:
    out = io.StringIO()
    call_command("export_customers", stdout=out)
    return next(row for row in json.loads(out.getvalue()) if row["account"] == account)


def test_title_attributes_and_affiliations_load_and_export():
    data_import(
        payload=with_default_customer(
            title="Mx.", attributes={"Newsletter": True, "Tier": "Gold"}, affiliations=["Employees"]
        )
    )

    row = exported()
    assert (row["title"], row["attributes"], row["affiliations"]) == (
        "Mx.",
        {"Newsletter": True, "Tier": "Gold"},
        ["Employees"],
    )


def test_reimport_is_idempotent_and_the_file_sets_exactly_its_values():
    payload = with_default_customer(
        title="Mx.", attributes={"Newsletter": True, "Tier": "Gold"}, affiliations=["Employees"]
    )
    data_import(payload=payload)
    data_import(payload=copy.deepcopy(payload))
    customer = Customer.objects.get(account="C000001")
    assert customer.attribute_values.count() == 2 and customer.affiliations.count() == 1

    changed = copy.deepcopy(payload)
    changed["customers"][0].update(attributes={"Tier": "Silver"}, affiliations=[])
    data_import(payload=changed)

    row = exported()
    assert (row["attributes"], row["affiliations"]) == ({"Tier": "Silver"}, [])

    # A record without them leaves the customer's as they are.
    del changed["customers"][0]["attributes"]
    data_import(payload=changed)
    assert exported()["attributes"] == {"Tier": "Silver"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"attributes": {"Shoe size": 42}}, 'unknown customer attribute "Shoe size"'),
        ({"attributes": {"Tier": "Diamond"}}, "is not one of Silver, Gold"),
        ({"affiliations": ["Pirates"]}, 'unknown affiliation "Pirates"'),
    ],
)
def test_unknown_or_bad_references_reject_the_file(values, message):
    with pytest.raises(ImportFileError, match=message):
        data_import(payload=with_default_customer(**values))
    assert not Customer.objects.exists()
