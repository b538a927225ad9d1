"""R1 and R5 are one validator: the same record captured at a store never fails at HQ
for a reason the store could have checked (README "Store checks and edit times").

The store's checks (``customer_input_at_store``, fed with its own channel database's
reference data, R16) and HQ's (``customer_input_errors`` after HQ's defaults, fed with
HQ's tables) see the same generated cases over the same reference data: whatever the
store accepts, HQ accepts.
"""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commerce.models import Store
from customers.selectors.reference import store_reference_data
from customers.services.validation import (
    AddressInput,
    ContactInput,
    CustomerInput,
    ReferenceData,
    StoreInputError,
    customer_input_at_store,
    customer_input_errors,
    customer_input_with_store_defaults,
)
from tests.factories.customers import CustomerAttributeFactory, CustomerGroupFactory
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")

text = st.one_of(
    st.sampled_from(["", " ", "Ona", " Šimkutė ", "山田", "x" * 101, "a\nb"]),
    st.text(max_size=12),
)
emails = st.one_of(
    st.sampled_from(
        [
            "",
            "ona@example.com",
            " JONAS.NEW@example.com ",
            "jurgen@bücher.de",
            "notanemail",
            "a@b",
            "ona@@example.com",
            " ",
        ]
    ),
    st.emails().map(str),
    st.text(max_size=20),
)
phones = st.one_of(
    st.sampled_from(["", "+37060000000", "713 555 0100", "+1 713 555 0199", "12", "abc"]),
    st.text(alphabet="+0123456789 -()", max_size=16),
)
attribute_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["Silver", "Gold", "Diamond", "2026-11-24", "1.5", "NaN", "yes"]),
    st.text(max_size=8),
)
addresses = st.builds(
    AddressInput,
    purpose=st.sampled_from(["", "home", "delivery", "business", "bogus"]),
    street=text,
    city=text,
    zip=st.sampled_from(["", "77001", " 77002 "]),
    country=st.sampled_from(["USA", "LTU", " USA ", "XXL", "usa", ""]),
    state=st.sampled_from(["", "TX"]),
    is_primary=st.booleans(),
)
cases = st.builds(
    CustomerInput,
    type=st.sampled_from(["", "person", "organization", "robot"]),
    first_name=text,
    last_name=text,
    organization_name=text,
    email=emails,
    phone=phones,
    customer_group=st.sampled_from(["", "RETAIL", "STAFF", "NOPE", " RETAIL "]),
    language=st.sampled_from(["", "en-us", "lt", "x" * 11]),
    title=st.sampled_from(["", "Dr.", "x" * 51]),
    addresses=st.lists(addresses, max_size=2).map(tuple),
    contacts=st.lists(
        st.builds(
            ContactInput,
            type=st.sampled_from(["email", "phone", "fax"]),
            value=st.one_of(emails, phones),
        ),
        max_size=2,
    ).map(tuple),
    attributes=st.dictionaries(
        st.sampled_from(["Tier", "Newsletter", "Visits", "Born", "Unknown"]),
        attribute_values,
        max_size=3,
    ),
    affiliations=st.lists(st.sampled_from(["Employees", "Pirates"]), max_size=2).map(tuple),
)


def test_whatever_the_store_accepts_hq_accepts(organization):
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="STAFF")
    CustomerAttributeFactory(name="Visits", type="integer")
    CustomerAttributeFactory(name="Born", type="date")
    run("distribute")
    store = Store.objects.select_related(
        "legal_entity", "channel_database", "default_customer__customer_group"
    ).get(number="S0001")
    store_refs = store_reference_data(store=store)
    hq_refs = ReferenceData.load()
    outcomes = {"accepted": 0, "refused": 0}

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(cases)
    # One record the store accepts and one it refuses, whatever the draw brings: random
    # records are mostly refused somewhere, and both sides must be exercised.
    @example(CustomerInput(first_name="Ona", last_name="Šimkutė", email=" ona@example.com "))
    @example(CustomerInput(first_name="Ona", last_name="Šimkutė", email="notanemail"))
    def store_then_hq(case):
        try:
            captured = customer_input_at_store(
                data=case, legal_entity=store.legal_entity, refs=store_refs
            )
        except StoreInputError:
            outcomes["refused"] += 1
            return
        outcomes["accepted"] += 1
        # What HQ does with the uploaded record: its defaults, then R5.
        at_hq = customer_input_with_store_defaults(store=store, data=captured)
        assert at_hq == captured  # the store left nothing for HQ to fill
        assert (
            customer_input_errors(data=at_hq, legal_entity=store.legal_entity, refs=hq_refs) == []
        )

    store_then_hq()
    # Both sides of the property were exercised.
    assert outcomes["accepted"] and outcomes["refused"]
