"""R12 under concurrency on PostgreSQL: two workers, two stores, the same email, policy
"review": exactly one account is created and the other record needs review.

Each worker claims one staged record (SKIP LOCKED, batch size 1) and is slowed down
right after matching, while its transaction is open. Matching runs under the legal
entity's number-sequence row lock, so the second worker waits for the first to commit
and then sees its new account. The control test takes the lock away and shows that the
race is real: both workers match nothing and two accounts are created.
"""

import json
import time
import uuid

import pytest

from tests.support import (
    PG_HOST,
    PG_PORT,
    PostgresDatabases,
    base_env,
    finished,
    manage,
    python,
    require_service,
)

pytestmark = [pytest.mark.postgres]

# Channel rows written as a store's database holds them (no freshness trigger: the
# workers below are the only ones to run the job).
SEED = """
import uuid
from django.utils import timezone
from commerce.models import LegalEntity
from customers.models import AsyncCustomer
from devtools.generate import organization_generate
org = organization_generate(stores=2)
LegalEntity.objects.filter(code=org.legal_entity).update(duplicate_policy="review")
for number, alias in org.stores:
    AsyncCustomer.objects.using(alias).create(
        async_customer_id=uuid.uuid4(), store_number=number, first_name="Ona",
        last_name=f"Store {number}", email="Ona@Example.com", created_at=timezone.now())
"""

WORKER = """
import time
import customers.services.accounts_staged as accounts
from jobs.account_creation import account_creation_run

screen = accounts.duplicates_screen
def slow_screen(**kwargs):
    result = screen(**kwargs)
    time.sleep(2)  # the transaction stays open: the other worker is matching meanwhile
    return result
accounts.duplicates_screen = slow_screen
if {without_lock}:
    accounts.sequence_lock = lambda **kwargs: None

class Counter:
    selected = succeeded = failed = 0
    def add(self, selected=0, succeeded=0, failed=0, skipped=0, held=0, errors=()):
        self.selected += selected; self.succeeded += succeeded; self.failed += failed

while time.time() < {start_at}:
    time.sleep(0.01)
counter = Counter()
account_creation_run(progress=counter, batch_size=1)
print(counter.selected, counter.succeeded, counter.failed)
"""

CHECK = """
import json
from django.db.models import Count
from customers.models import Customer, StagedAsyncCustomer
print(json.dumps({
    "accounts": list(Customer.objects.filter(match_email="ona@example.com")
        .values_list("account", flat=True)),
    "staged": dict(StagedAsyncCustomer.objects.values_list("status").annotate(n=Count("id"))),
    "errors": [e for e in StagedAsyncCustomer.objects.values_list("last_error", flat=True) if e],
}))
"""


@pytest.fixture
def dup_postgres_env(tmp_path):
    """Fresh PostgreSQL databases named dup_test_* (HQ and two channels), dropped after."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    databases = PostgresDatabases()
    databases.prefix = f"dup_test_{uuid.uuid4().hex[:10]}"
    databases.names = [f"{databases.prefix}_{name}" for name in ("hq", "ch1", "ch2")]
    env = base_env(VAR_DIR=str(tmp_path), **databases.create())
    try:
        manage(env, "setup_databases")
        yield env
    finally:
        databases.drop()


def _two_workers(env, *, without_lock: bool) -> tuple[list[list[int]], dict]:
    finished(python(env, SEED))
    manage(env, "run_job", "upload", "--sync")
    start_at = time.time() + 3
    code = WORKER.format(start_at=start_at, without_lock=without_lock)
    workers = [python(env, code) for _ in range(2)]
    results = [list(map(int, finished(w).split())) for w in workers]
    return results, json.loads(finished(python(env, CHECK)))


def test_two_workers_two_stores_same_email_create_one_account(dup_postgres_env):
    results, state = _two_workers(dup_postgres_env, without_lock=False)

    # Each worker claimed one of the two records: they ran at the same time.
    assert sorted(r[0] for r in results) == [1, 1], results
    (account,) = state["accounts"]
    assert state["staged"] == {"completed": 1, "needs_review": 1}
    assert state["errors"] == [f"possible duplicate of {account} (same email)"]


def test_control_without_the_lock_both_workers_create_an_account(dup_postgres_env):
    """Proves the test above can fail: matching outside the lock misses the other
    worker's uncommitted account."""
    results, state = _two_workers(dup_postgres_env, without_lock=True)

    assert sorted(r[0] for r in results) == [1, 1], results
    assert len(state["accounts"]) == 2
    assert state["staged"] == {"completed": 2}
