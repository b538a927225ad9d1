"""R5 at HQ: a text attribute has a length limit, a decimal attribute is finite, and a
message shows a long value shortened."""

import pytest

from customers.services.validation import (
    TEXT_ATTRIBUTE_MAX_LENGTH,
    CustomerInput,
    ReferenceData,
    customer_input_errors,
)
from tests.factories.commerce import StoreFactory
from tests.factories.customers import CustomerAttributeFactory

pytestmark = pytest.mark.django_db


def _attribute_errors(attributes: dict) -> list[str]:
    store = StoreFactory()
    data = CustomerInput(
        first_name="Ona",
        last_name="Šimkutė",
        currency="USD",
        customer_group=store.default_customer.customer_group.code,
        attributes=attributes,
    )
    errors = customer_input_errors(
        data=data, legal_entity=store.legal_entity, refs=ReferenceData.load()
    )
    return [error for error in errors if error.startswith("attributes.")]


def test_a_text_attribute_longer_than_the_limit_fails_naming_it_and_the_value_shortened():
    CustomerAttributeFactory(name="Note", type="text")
    value = "x" * (TEXT_ATTRIBUTE_MAX_LENGTH + 1)

    errors = _attribute_errors({"Note": value})

    assert errors == [
        f'attributes.Note: "{"x" * 77}…" is longer than {TEXT_ATTRIBUTE_MAX_LENGTH} characters '
        f"({TEXT_ATTRIBUTE_MAX_LENGTH + 1})"
    ]


def test_a_text_attribute_of_the_limit_is_valid():
    CustomerAttributeFactory(name="Note", type="text")

    assert _attribute_errors({"Note": "x" * TEXT_ATTRIBUTE_MAX_LENGTH}) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [("NaN", '"NaN"'), ("Infinity", '"Infinity"'), ("-inf", '"-inf"'), (float("inf"), "inf")],
)
def test_a_decimal_attribute_must_be_finite(value, shown):
    CustomerAttributeFactory(name="Credit limit", type="decimal")

    errors = _attribute_errors({"Credit limit": value})

    assert errors == [f"attributes.Credit limit: {shown} is not a finite decimal"]


def test_a_finite_decimal_attribute_is_valid():
    CustomerAttributeFactory(name="Credit limit", type="decimal")

    assert _attribute_errors({"Credit limit": "12000.50"}) == []
