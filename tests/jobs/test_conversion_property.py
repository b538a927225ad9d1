"""Property (README "Record isolation"): store records, well and badly formed, go
through the whole conversion - every run completes, every well-formed record converts,
every bad one is refused at the store or failed at HQ with a reason naming the field.

Records come two ways, as a real store sends them: an import file (records a store
already made: business errors are accepted into the channel database and surface at
HQ) and the store's own edit service. The suite runs it on SQLite and, in CI, again on
PostgreSQL (``.ci/run``). Bounded and derandomized: a fixed cost in CI.
"""

import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from customers.importing import data_import
from customers.selectors import async_status_rows
from customers.services.changes import CustomerChanges
from customers.services.labels import field_label
from customers.services.requests import CustomerEditError, customer_edit_at_store
from customers.services.validation import CustomerValidationError
from tests.factories.customers import CustomerFactory
from tests.fixtures import convert

pytestmark = pytest.mark.django_db(databases="__all__")

# What makes a record bad, and the field HQ names in its reason.
CUSTOMER_FAULTS = {
    "country": ("Address 1: Country", {"address": {"country": "XXL"}}),
    "group": ("Customer group", {"customer_group": "NOPE"}),
    "tier": ("Tier", {"attributes": {"Tier": "Diamond"}}),
    "newsletter": ("Newsletter", {"attributes": {"Newsletter": "maybe"}}),
    "email": ("Email", {"email": "not an email"}),
    "affiliation": ("Affiliations", {"affiliations": ["Nobody"]}),
}
EDIT_FAULTS = {
    "email": {"email": "still@not@an.email"},
    "group": {"customer_group": "NOPE"},
    "first_name": {"first_name": "x" * 5000},  # longer than any column that holds it
    "phone": {"phone": "\x00" * 3},
}

NAMES = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo"), max_codepoint=0x9FFF),
    min_size=1,
    max_size=30,
)
CUSTOMERS = st.lists(
    st.tuples(NAMES, NAMES, st.sampled_from([None, *CUSTOMER_FAULTS])), min_size=1, max_size=5
)
EDITS = st.lists(st.sampled_from([None, *EDIT_FAULTS]), max_size=3)


def async_customer(first: str, last: str, fault: str | None) -> dict:
    guid = str(uuid.uuid4())
    record = {
        "async_id": guid,
        "type": "person",
        "first_name": first,
        "last_name": last,
        "email": f"{guid[:8]}@example.com",
        "customer_group": None,
        "attributes": {"Newsletter": True, "Tier": "Gold"},
        "affiliations": ["Employees"],
    }
    address = {
        "async_id": str(uuid.uuid4()),
        "purpose": "delivery",
        "street": f"{last[:20]} Street 1",
        "city": "Houston",
        "state": "TX",
        "zip": "77001",
        "country": "USA",
        "primary": True,
    }
    if fault:
        changes = CUSTOMER_FAULTS[fault][1]
        address.update(changes.get("address", {}))
        record.update({k: v for k, v in changes.items() if k != "address"})
    record["addresses"] = [address]
    return record


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    # Each example runs the whole conversion: report the first failing one as drawn.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(customers=CUSTOMERS, edits=EDITS)
def test_every_record_converts_or_fails_with_its_reason(organization, customers, edits):
    records = [async_customer(*drawn) for drawn in customers]
    data_import(payload={"channel": [{"store": "S0001", "async_customers": records}]})
    targets = [
        CustomerFactory(
            legal_entity=organization["legal_entity"], account=f"P{uuid.uuid4().hex}"[:10]
        )
        for _ in edits
    ]
    convert()  # the targets reach the store: edits of them travel as channel requests
    requests = {}
    for target, fault in zip(targets, edits, strict=True):
        changes = EDIT_FAULTS[fault] if fault else {"email": f"{target.account}@new.example"}
        try:
            result = customer_edit_at_store(
                store=organization["houston"],
                customer=target.account,
                changes=CustomerChanges(fields=changes),
            )
        except (CustomerEditError, CustomerValidationError) as refused:
            assert fault, f"a well-formed edit was refused at the store: {refused}"
            assert next(iter(changes)) in str(refused)
            continue
        requests[result.request_id] = fault

    runs = convert()

    assert all(run.status in ("succeeded", "completed_with_errors") for run in runs), [
        (run.job, run.status, run.message) for run in runs
    ]
    rows = {row["async_id"]: row for row in async_status_rows(store="S0001")}
    for record, (_first, _last, fault) in zip(records, customers, strict=True):
        row = rows[record["async_id"]]
        if fault is None:
            assert row["status"] == "synchronized", row
        else:
            assert row["status"] == "failed", row
            assert CUSTOMER_FAULTS[fault][0] in row["last_error"], row
    for request_id, fault in requests.items():
        row = rows[str(request_id)]
        if fault is None:
            assert row["status"] == "synchronized", row
        else:
            assert row["status"] == "failed", row
            assert field_label(next(iter(EDIT_FAULTS[fault]))) in row["last_error"], row
