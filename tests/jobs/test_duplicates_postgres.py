"""R12 under concurrency on PostgreSQL: two workers, two stores, the same email, policy
"review": exactly one account is created and the other record needs review.

Each worker claims one staged record (SKIP LOCKED, batch size 1) and is slowed down
right after matching, while its transaction is open. Matching runs under the legal
entity's number-sequence row lock, so the second worker waits for the first to commit
and then sees its new account. The control test takes the lock away and shows that the
race is real: both workers match nothing and two accounts are created.
"""

import pytest

from tests.support import (
    account_creation_at_once,
    finished,
    manage,
    migrated_postgres_env,
    python,
    python_json,
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

SLOW_MATCHING = """
import customers.services.accounts_staged as accounts

screen = accounts.duplicates_screen
def slow_screen(**kwargs):
    result = screen(**kwargs)
    time.sleep(2)  # the transaction stays open: the other worker is matching meanwhile
    return result
accounts.duplicates_screen = slow_screen
if {without_lock}:
    accounts.sequence_lock = lambda **kwargs: None
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
    with migrated_postgres_env(tmp_path, prefix="dup_test") as env:
        yield env


def _two_workers(env, *, without_lock: bool) -> tuple[list[list[int]], dict]:
    finished(python(env, SEED))
    manage(env, "run_job", "upload", "--sync")
    prelude = SLOW_MATCHING.format(without_lock=without_lock)
    results = account_creation_at_once(env, workers=2, batch_size=1, prelude=prelude)
    return results, python_json(env, CHECK)


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
