"""An HQ fix reaches every store with only a cluster running (no schedules): the fix
chain (jobs.fix_chain) is queued as "Synchronize again" queues it, and a real qcluster
process on SQLite files runs account creation and 1010 to both channel databases."""

import pytest

from tests.support import (
    TWO_STORES_SEED,
    finished,
    manage,
    python,
    python_json,
    qcluster_running,
    wait_for,
)

pytestmark = [pytest.mark.cluster]

# A customer the first store makes with a customer group HQ does not know: HQ fails it.
FAILING = """
import json
from commerce.models import Store
from customers.services import async_customer_create
from customers.services.validation import CustomerInput
store = Store.objects.order_by("number").first()
customer = async_customer_create(
    alias=store.channel_database.alias, store_number=store.number,
    data=CustomerInput(first_name="Harold", last_name="Whitaker", customer_group="PLATINUM"),
)
print(json.dumps(str(customer.async_customer_id)))
"""

# The operator's fix and "Synchronize again", through the same services as the admin.
FIX = """
import json
from django.db import transaction
from customers.models import StagedAsyncCustomer
from customers.services.staging import staged_records_retry
from jobs.fix_chain import fix_chain_request
staged = StagedAsyncCustomer.objects.get(async_customer_id="{guid}")
assert staged.status == "failed", staged.status
StagedAsyncCustomer.objects.filter(pk=staged.pk).update(customer_group="")
with transaction.atomic():
    staged_records_retry(model=StagedAsyncCustomer, ids=[staged.pk])
    runs, following = fix_chain_request(customer_ids=[staged.pk], via="admin")
print(json.dumps([[r.job, r.scope] for r in runs]))
"""

STATE = """
import json
from django_q.models import Schedule
from customers.models import AsyncCustomer, ChannelCustomer
account = AsyncCustomer.objects.using("channel").get(async_customer_id="{guid}").account
print(json.dumps({{
    "account": account,
    "copies": [a for a in ("channel", "channel2")
               if account and ChannelCustomer.objects.using(a).filter(account=account).exists()],
    "schedules": Schedule.objects.count(),
}}))
"""


def test_a_fixed_record_reaches_every_store_with_only_a_cluster_running(sqlite_files_env, tmp_path):
    env = sqlite_files_env
    finished(python(env, TWO_STORES_SEED))
    guid = python_json(env, FAILING)
    manage(env, "convert_async_customers", "--sync", check=False)  # HQ fails it
    queued = python_json(env, FIX.format(guid=guid))
    assert queued == [
        ["async-customers", queued[0][1]],
        ["distribute", "channel_database=LOAD1"],
        ["distribute", "channel_database=LOAD2"],
    ]
    log = tmp_path / "qcluster.log"
    with qcluster_running(env, log=log):
        seen = {}

        def everywhere() -> bool:
            seen.update(python_json(env, STATE.format(guid=guid)))
            return seen["copies"] == ["channel", "channel2"]

        assert wait_for(everywhere, timeout=60, poll=0.5), (seen, log.read_text()[-3000:])
    assert seen["account"] and seen["schedules"] == 0  # no schedule did it
