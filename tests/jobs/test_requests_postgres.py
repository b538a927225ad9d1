"""R11 under concurrency on PostgreSQL: store edits are never lost, whatever runs at once."""

import json
import time

import pytest

from tests.support import account_creation_at_once, finished, manage, python, python_json

pytestmark = [pytest.mark.postgres]

SEED = """
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores=1)
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count={count})
print(org.stores[0][0])
"""

EDITS = """
import datetime, json, random
from django.utils import timezone
from commerce.models import Store
from customers.models import AsyncCustomer
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store

store = Store.objects.get(number="{store}")
alias = store.channel_database.alias
guids = list(
    AsyncCustomer.objects.using(alias).order_by("pk")
    .values_list("async_customer_id", flat=True)[:{customers}]
)
rng = random.Random(7)
base = timezone.now() - datetime.timedelta(hours=1)
latest = {{}}
for i in range({edits}):
    guid = rng.choice(guids)
    at = base + datetime.timedelta(seconds=rng.randint(0, 3000))
    email = f"edit{{i}}@example.com"
    customer_edit_at_store(
        store=store, customer=str(guid), changes=CustomerChanges(fields={{"email": email}}),
        edited_at=at,
    )
    if str(guid) not in latest or latest[str(guid)][0] < at.isoformat():
        latest[str(guid)] = (at.isoformat(), email)
print(json.dumps({{g: e for g, (_, e) in latest.items()}}))
"""

EDIT_DURING_UPLOAD = """
import json, time, random
from commerce.models import Store
from customers.models import AsyncCustomer
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store

store = Store.objects.get(number="{store}")
alias = store.channel_database.alias
guids = list(AsyncCustomer.objects.using(alias).values_list("async_customer_id", flat=True))
rng = random.Random(11)
while time.time() < {start_at}:
    time.sleep(0.005)
edited, modes = {{}}, {{}}
deadline = time.time() + {seconds}
i = 0
while time.time() < deadline:
    guid = str(rng.choice(guids))
    phone = f"+1555{{i:07d}}"
    result = customer_edit_at_store(
        store=store, customer=guid, changes=CustomerChanges(fields={{"phone": phone}})
    )
    edited[guid] = phone
    modes[result.mode] = modes.get(result.mode, 0) + 1
    i += 1
print(json.dumps({{"edited": edited, "modes": modes}}))
"""

CHECK_FIELD = """
import json
from customers.models import Customer, StagedChannelRequest
from django.db.models import Count
values = dict(
    Customer.objects.exclude(async_customer_id=None).values_list("async_customer_id", "{field}")
)
print(json.dumps({{
    "values": {{str(k): v for k, v in values.items()}},
    "requests": dict(StagedChannelRequest.objects.values_list("status").annotate(n=Count("id"))),
}}))
"""


def test_two_workers_applying_requests_of_the_same_customers_keep_the_latest_edit(jobs_env):
    postgres_env = jobs_env
    store = finished(python(postgres_env, SEED.format(count=20))).strip().splitlines()[-1]
    manage(postgres_env, "convert_async_customers", "--sync")
    latest = python_json(postgres_env, EDITS.format(store=store, customers=8, edits=120))
    manage(postgres_env, "run_job", "upload", "--sync")

    results = account_creation_at_once(postgres_env, workers=2, batch_size=7)

    assert sum(r[1] for r in results) == 120 and sum(r[2] for r in results) == 0
    assert all(r[0] > 0 for r in results), results  # both workers took requests
    check = python_json(postgres_env, CHECK_FIELD.format(field="email"))
    assert check["requests"] == {"completed": 120}
    for guid, email in latest.items():
        assert check["values"][guid] == email


def test_edits_made_while_an_upload_runs_are_never_lost(jobs_env):
    postgres_env = jobs_env
    store = finished(python(postgres_env, SEED.format(count=1500))).strip().splitlines()[-1]
    env = {**postgres_env, "CONVERSION_BATCH_SIZE": "100"}

    start_at = time.time() + 2
    editor = python(env, EDIT_DURING_UPLOAD.format(store=store, start_at=start_at, seconds=6))
    while time.time() < start_at:
        time.sleep(0.01)
    manage(env, "run_job", "upload", "--sync")
    edits = json.loads(finished(editor).strip().splitlines()[-1])
    manage(env, "convert_async_customers", "--sync")
    manage(env, "run_job", "async-customers", "--sync")  # requests of late in-place edits

    check = python_json(env, CHECK_FIELD.format(field="phone"))
    assert edits["modes"].get("in_place") and edits["modes"].get("request"), edits["modes"]
    lost = {g: p for g, p in edits["edited"].items() if check["values"].get(g) != p}
    assert not lost, f"{len(lost)} edits lost, e.g. {list(lost.items())[:3]}"
    assert set(check["requests"]) <= {"completed"}
