"""Field paths said as labels (README "Admin"): what a record keeps as its last error and
what a page shows name fields the way an operator does; the value stays as it was."""

import pytest

from customers.match_keys import reasons_in_words
from customers.services.labels import operator_text, path_label
from customers.services.staging import StagedOutcome


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("addresses[0].country", "Address 1: Country"),
        ("addresses[2].zip", "Address 3: ZIP/postal code"),
        ("contacts[1].value", "Contact 2: Value"),
        ("attributes.Loyalty tier", "Loyalty tier"),
        ("attributes", "Attribute name"),
        ("customer_group", "Customer group"),
        ("first_name", "First name"),
        ("store_number", "Store"),
        ("email", "Email"),
    ],
)
def test_a_path_has_a_label(path, label):
    assert path_label(path) == label


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            'addresses[0].country: invalid country code "XXL"',
            'Address 1: Country: invalid country code "XXL"',
        ),
        (
            'attributes.Loyalty tier: "Diamond" is not one of Bronze, Silver; '
            'customer_group: unknown customer group "PLATINUM" in legal entity USRT',
            'Loyalty tier: "Diamond" is not one of Bronze, Silver; '
            'Customer group: unknown customer group "PLATINUM" in legal entity USRT',
        ),
        (
            "changes: addresses[0].street: 5 is not text",
            "Changes: Address 1: Street: 5 is not text",
        ),
        (
            "possible duplicate of C000101 (same email)",
            "possible duplicate of C000101 (same email)",
        ),
        ('email: malformed email "a: b; c"', 'Email: malformed email "a: b; c"'),
        ("", ""),
    ],
)
def test_a_message_names_fields_by_label_and_keeps_the_value(message, shown):
    assert operator_text(message) == shown
    assert operator_text(shown) == shown  # said once, never twice


def test_a_failed_records_reason_is_kept_in_words():
    outcome = StagedOutcome(1, error='addresses[0].country: invalid country code "XXL"')
    assert outcome.error == 'Address 1: Country: invalid country code "XXL"'
    assert not outcome.ok


def test_duplicate_reasons_in_words_never_show_a_match_key():
    reasons = {"name_zip": "ingrid sørensen|98101", "email": "ingrid@example.com", "phone": "+1"}
    assert reasons_in_words(reasons) == "same email, same phone, same name and zip code 98101"
