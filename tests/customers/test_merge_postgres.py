"""R13 under concurrency on PostgreSQL: three operators merging overlapping accounts at
once (A<-B, B<-A and C<-B on the same three accounts, for four sets of accounts).

Each merge locks every account it names in id order and is slowed down inside its
transaction, so the three collide on every set. Whoever locks first merges; the others
then see what it committed and are refused (an account already merged) or merge what
is left (C<-B after B<-A, B's alias A following to C). Never a cycle, never a child
lost, and every child on a live account.
"""

import pytest

from tests.support import finished, json_outputs_at_once, manage, python, python_json

pytestmark = [pytest.mark.postgres]

SEED = """
from devtools.generate import organization_generate, async_customers_generate
org = organization_generate(stores=2)
for number, alias in org.stores:
    async_customers_generate(alias=alias, store_number=number, count=8, invalid_every=1000)
"""

WORKER = """
import json, time
import customers.services.merge as merge
from customers.models import Customer

children_move = merge._children_move
def slow_children_move(**kwargs):
    children_move(**kwargs)
    time.sleep(0.5)  # the transaction stays open while the others try
merge._children_move = slow_children_move

ids = sorted(Customer.objects.exclude(async_customer_id=None).values_list("pk", flat=True))[:12]
sets = [ids[i : i + 3] for i in range(0, 12, 3)]
results = []
while time.time() < {start_at}:
    time.sleep(0.01)
for a, b, c in sets:
    survivor, merged = {{"AB": (a, b), "BA": (b, a), "CB": (c, b)}}["{role}"]
    try:
        merge.customers_merge(survivor_id=survivor, merged_ids=[merged], merger="{role}")
        results.append("ok")
    except merge.MergeError as error:
        results.append(str(error))
print(json.dumps(results))
"""

STATE = """
import json
from customers.models import Address, ContactInfo, Customer, CustomerAttributeValue
ids = sorted(Customer.objects.exclude(async_customer_id=None).values_list("pk", flat=True))[:12]
print(json.dumps({
    "sets": [ids[i : i + 3] for i in range(0, 12, 3)],
    "addresses": Address.objects.count(),
    "addresses_on_aliases": Address.objects.filter(
        party__customer__merged_into__isnull=False).count(),
    "contacts_on_aliases": ContactInfo.objects.filter(
        party__customer__merged_into__isnull=False).count(),
    "values_on_aliases": CustomerAttributeValue.objects.filter(
        customer__merged_into__isnull=False).count(),
    "chains": Customer.objects.filter(merged_into__merged_into__isnull=False).count(),
    "merged_into": dict(Customer.objects.exclude(merged_into=None)
        .values_list("pk", "merged_into_id")),
}))
"""

ROLES = ["AB", "BA", "CB"]
# Whoever locks first wins; what may follow it: after A<-B nothing (B is merged), after
# C<-B nothing, after B<-A also C<-B (B is still live, and A follows it to C).
OUTCOMES = [{"AB"}, {"CB"}, {"BA", "CB"}]


def test_three_operators_merging_overlapping_accounts_at_once(postgres_env):
    finished(python(postgres_env, SEED))
    manage(postgres_env, "convert_async_customers", "--sync")
    before = python_json(postgres_env, STATE)
    assert before["addresses"] > 0 and not before["merged_into"]

    outputs = json_outputs_at_once(postgres_env, WORKER, [{"role": role} for role in ROLES])
    results = dict(zip(ROLES, outputs, strict=True))
    after = python_json(postgres_env, STATE)

    merged_into = {int(k): v for k, v in after["merged_into"].items()}
    for index, (a, b, c) in enumerate(after["sets"]):
        won = {role for role in ROLES if results[role][index] == "ok"}
        assert won in OUTCOMES, (index, results)
        for role in set(ROLES) - won:
            assert "is already merged into account" in results[role][index]
        if won == {"AB"}:
            assert merged_into.get(b) == a and a not in merged_into and c not in merged_into
        elif won == {"CB"}:
            assert merged_into.get(b) == c and a not in merged_into
        else:
            assert merged_into.get(a) == c and merged_into.get(b) == c
    # No cycle, no child lost, none left on an alias.
    assert after["chains"] == 0
    assert after["addresses"] == before["addresses"]
    assert after["addresses_on_aliases"] == after["contacts_on_aliases"] == 0
    assert after["values_on_aliases"] == 0
