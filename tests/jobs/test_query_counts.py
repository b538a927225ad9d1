"""The conversion issues a number of queries that does not grow with the customers in a
batch: no per-row round trips (what the benchmark's queries-per-customer relies on)."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from commerce.db import bulk
from devtools.generate import async_customers_generate, organization_generate
from jobs import account_creation, distribution, upload
from jobs.services import job_runs_execute, job_runs_request

pytestmark = pytest.mark.django_db(databases="__all__")


class AllQueries:
    def __enter__(self):
        self.contexts = [CaptureQueriesContext(connections[a]) for a in connections]
        for context in self.contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts:
            context.__exit__(*exc)

    @property
    def count(self):
        return sum(len(c.captured_queries) for c in self.contexts)


def stage_queries(customers_per_store: int, *, seed: int) -> dict[str, int]:
    organization = organization_generate(stores=2)
    for number, alias in organization.stores:
        async_customers_generate(
            alias=alias, store_number=number, count=customers_per_store, invalid_every=7, seed=seed
        )
    counts = {}
    for job in ["upload", "async-customers", "distribute"]:
        with AllQueries() as queries:
            runs, _ = job_runs_request(job=job, enqueue=False)
            job_runs_execute(run_ids=[r.pk for r in runs])
        counts[job] = queries.count
    return counts


@pytest.fixture
def one_batch(monkeypatch):
    for module, name in [
        (upload, "UPLOAD_BATCH"),
        (account_creation, "ACCOUNT_BATCH"),
        (distribution, "DISTRIBUTION_BATCH"),
    ]:
        monkeypatch.setattr(module, name, 1000)  # both sizes below fit in one batch
    # Every upsert the same way: up to VALUES_ROWS rows, PostgreSQL writes them in
    # one statement instead of three, so only a smaller batch would make fewer queries.
    monkeypatch.setattr(bulk, "VALUES_ROWS", 0)


def test_queries_do_not_grow_with_customers_in_a_batch(one_batch):
    stage_queries(1, seed=1)  # set-up and first-time work (the default customer) out of the way
    small = stage_queries(10, seed=2)
    large = stage_queries(300, seed=3)

    assert large == small, (small, large)


def requests_queries(organization, customers: int, *, tag: str) -> int:
    """Queries of "Synchronize customers and channel requests" applying one request of
    every new kind (R11 complete) to each of these many customers."""
    from customers.models import Customer, StagedChannelRequest
    from customers.services import async_customer_create
    from customers.services.changes import (
        AddressChange,
        ContactInput,
        ContactLocator,
        CustomerChanges,
    )
    from customers.services.requests import customer_edit_at_store
    from tests.fixtures import convert, person, run

    rows = [
        async_customer_create(
            alias="channel", store_number="S0001", data=person(f"Q{tag}{i}", "Count")
        )
        for i in range(customers)
    ]
    convert()
    for row in rows:
        customer = Customer.objects.get(async_customer_id=row.async_customer_id)
        first, second = (a.location_id for a in customer.party.addresses.order_by("-is_primary"))
        customer_edit_at_store(
            store=organization["seattle"],
            customer=customer.account,
            changes=CustomerChanges(
                attributes={"Tier": None, "Newsletter": False},
                affiliations_removed=("Employees",),
                address_changes=(AddressChange(address=second, values={"is_primary": True}),),
                addresses_retired=(first,),
                contacts=(ContactInput("email", f"q{tag}@example.com", True),),
                contacts_removed=(ContactLocator("", "+1555000"),),
            ),
        )
    run("upload")
    completed = StagedChannelRequest.objects.filter(status="completed")
    before = completed.count()
    with AllQueries() as queries:
        run("async-customers")
    assert completed.count() == before + customers
    return queries.count


def test_requests_of_every_kind_are_applied_in_batches(one_batch, organization):
    requests_queries(organization, 1, tag="a")  # first-time work out of the way
    small = requests_queries(organization, 3, tag="b")
    large = requests_queries(organization, 12, tag="c")

    assert large == small, (small, large)


def distribution_queries(customers_per_store: int, *, seed: int) -> list[int]:
    """Queries of distributing to each of the two channel databases in turn: the first
    builds the payload, the second receives it (README "Distribution")."""
    organization = organization_generate(stores=2)
    for number, alias in organization.stores:
        async_customers_generate(
            alias=alias, store_number=number, count=customers_per_store, seed=seed
        )
    for job in ["upload", "async-customers"]:
        runs, _ = job_runs_request(job=job, enqueue=False)
        job_runs_execute(run_ids=[r.pk for r in runs])
    counts = []
    for name in ["LOAD1", "LOAD2"]:
        with AllQueries() as queries:
            runs, _ = job_runs_request(job="distribute", channel_database=name, enqueue=False)
            job_runs_execute(run_ids=[r.pk for r in runs])
        counts.append(queries.count)
    return counts


def test_a_channel_database_receiving_a_built_payload_reads_it_in_one_query(one_batch):
    distribution_queries(1, seed=1)  # first-time work (reference data, the default customer)
    small = distribution_queries(10, seed=2)
    large = distribution_queries(300, seed=3)

    assert large == small, (small, large)
    built, received = small
    # The receiver skips the build (customers, addresses, links, merged accounts, the
    # payload's id and insert) for one read of the stored text.
    assert received <= built - 5, small
