"""R11 complete under concurrency on PostgreSQL: several workers applying requests that
set and clear attributes, add and remove affiliations and contact info and change and
retire addresses at once keep, per customer and field, the latest edit."""

import pytest

from tests.jobs.test_requests_postgres import SEED
from tests.support import account_creation_at_once, finished, manage, python, python_json

pytestmark = [pytest.mark.postgres]

EDITS = """
import datetime, json, random
from django.utils import timezone
from commerce.models import Store
from customers.models import Customer
from customers.services.changes import (
    AddressChange, ContactInput, ContactLocator, CustomerChanges,
)
from customers.services.requests import customer_edit_at_store

store = Store.objects.get(number="{store}")
customers = list(
    Customer.objects.exclude(async_customer_id=None).select_related("party")
    .prefetch_related("party__addresses").order_by("pk")[:{customers}]
)
rng = random.Random(5)
base = timezone.now() - datetime.timedelta(hours=1)
latest = {{}}
for i in range({edits}):
    customer = rng.choice(customers)
    location = customer.party.addresses.all()[0].location_id
    at = base + datetime.timedelta(seconds=rng.randint(0, 3000))
    kind = rng.choice(["tier", "employees", "contact", "city"])
    on = rng.random() < 0.5
    if kind == "tier":
        changes = CustomerChanges(attributes={{"Tier": "Gold" if on else None}})
        value = "Gold" if on else None
    elif kind == "employees":
        changes = (
            CustomerChanges(affiliations=("Employees",)) if on
            else CustomerChanges(affiliations_removed=("Employees",))
        )
        value = on
    elif kind == "contact":
        changes = (
            CustomerChanges(contacts=(ContactInput("url", "https://x.example", False),)) if on
            else CustomerChanges(contacts_removed=(ContactLocator("url", "https://x.example"),))
        )
        value = on
    else:
        value = f"City {{i}}"
        changes = CustomerChanges(
            address_changes=(AddressChange(address=location, values={{"city": value}}),)
        )
    customer_edit_at_store(
        store=store, customer=customer.account, changes=changes, edited_at=at
    )
    key = (customer.account, kind)
    if key not in latest or latest[key][0] < at.isoformat():
        latest[key] = (at.isoformat(), value)
print(json.dumps([[a, k, v] for (a, k), (_, v) in latest.items()]))
"""

CHECK = """
import json
from customers.models import Customer, StagedChannelRequest
from django.db.models import Count
out = {{}}
for c in Customer.objects.exclude(async_customer_id=None).prefetch_related(
    "attribute_values__attribute", "affiliations__affiliation", "party__contacts",
    "party__addresses",
):
    tier = [v.value for v in c.attribute_values.all() if v.attribute.name == "Tier"]
    out[c.account] = {{
        "tier": tier[0] if tier else None,
        "employees": any(a.affiliation.name == "Employees" for a in c.affiliations.all()),
        "contact": any(x.type == "url" for x in c.party.contacts.all()),
        "cities": [a.city for a in c.party.addresses.all()],
    }}
print(json.dumps({{
    "customers": out,
    "requests": dict(StagedChannelRequest.objects.values_list("status").annotate(n=Count("id"))),
}}))
"""


def test_workers_applying_every_kind_of_change_at_once_keep_the_latest(jobs_env):
    env = jobs_env
    store = finished(python(env, SEED.format(count=20))).strip().splitlines()[-1]
    manage(env, "convert_async_customers", "--sync")
    latest = python_json(env, EDITS.format(store=store, customers=6, edits=150))
    manage(env, "run_job", "upload", "--sync")

    results = account_creation_at_once(env, workers=3, batch_size=7)

    assert sum(r[1] for r in results) == 150 and sum(r[2] for r in results) == 0, results
    assert sum(1 for r in results if r[0] > 0) >= 2, results  # workers shared the requests
    check = python_json(env, CHECK.format())
    assert check["requests"] == {"completed": 150}
    for account, kind, value in latest:
        got = check["customers"][account]
        if kind == "city":
            assert value in got["cities"], (account, value, got)
        else:
            assert got[kind] == (value if kind == "tier" else bool(value)), (account, kind, got)
