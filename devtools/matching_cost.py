"""What duplicate detection (R12) costs account creation as the customer master grows.

``matching_cost_run`` runs, for each size N of the customer master, a child process on
fresh databases of the configured engine (``manage.py benchmark_matching --phase``):
it generates the same async customers, bulk-inserts N existing HQ customers with
their match keys (a fixed number of them sharing an email with an async customer, so
every run lists the same possible duplicates), uploads, then times "Synchronize
customers and channel requests" alone and counts its queries. Matching looks keys up
through the (legal entity, key) indexes, so the time should not grow with N.
"""

from __future__ import annotations

import time

from django.db import transaction

from commerce.db import HQ
from devtools.benchmark.measure import BATCH, counting_queries, load_generate
from devtools.benchmark.run import fresh, fresh_child_report, manage_arguments

# Existing customers that share an email with an async customer of the first store.
OVERLAP = 100


def existing_customers_insert(*, count: int, overlap: int) -> None:
    """``count`` HQ customers of the LOAD legal entity, with an address and match keys;
    the first ``overlap`` have the email of an async customer of store L001."""
    from commerce.models import LegalEntity
    from customers.match_keys import match_keys
    from customers.models import Address, Customer, CustomerGroup, Party

    legal_entity = LegalEntity.objects.get(code="LOAD")
    group = CustomerGroup.objects.get(legal_entity=legal_entity, code="RETAIL")
    for start in range(0, count, BATCH):
        numbers = range(start, min(start + BATCH, count))
        with transaction.atomic(using=HQ):
            parties = Party.objects.bulk_create(
                [
                    Party(
                        type="person",
                        name=f"Existing{n} Customer",
                        first_name=f"Existing{n}",
                        last_name="Customer",
                    )
                    for n in numbers
                ],
                batch_size=BATCH,
            )
            addresses = [
                Address(
                    party=party,
                    location_id=f"EXIST-{n:09d}",
                    purpose="delivery",
                    street=f"{n} Old Rd",
                    city="Houston",
                    zip=f"{n % 100000:05d}",
                    country="USA",
                    is_primary=True,
                )
                for n, party in zip(numbers, parties, strict=True)
            ]
            customers = []
            for n, party, address in zip(numbers, parties, addresses, strict=True):
                email = f"c{n}.l001@example.com" if n < overlap else f"e{n}@existing.example.com"
                phone = f"+1 206 {n // 10000 % 1000:03d} {n % 10000:04d}"
                keys = match_keys(
                    email=email,
                    phone=phone,
                    name=party.name,
                    addresses=[address],
                    fallback_country="USA",
                )
                customers.append(
                    Customer(
                        legal_entity=legal_entity,
                        account=f"X{n:09d}",
                        party=party,
                        customer_group=group,
                        currency="USD",
                        email=email,
                        phone=phone,
                        **keys.columns(),
                    )
                )
            Customer.objects.bulk_create(customers, batch_size=BATCH)
            Address.objects.bulk_create(addresses, batch_size=BATCH)


def _analyze() -> None:
    """The tables just filled as a database in service has them: planner statistics, and
    on PostgreSQL vacuumed (hint bits and visibility map set), which autovacuum would
    otherwise do in the middle of the clock, or the first scan after the insert."""
    from django.db import connections

    connection = connections[HQ]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def phase_matching(*, customers: int, stores: int, existing: int) -> dict:
    """In a child on fresh databases: account creation timed with ``existing`` customers."""
    from customers.models import Customer, PossibleDuplicate
    from jobs.models import JobRun
    from jobs.services import job_runs_execute, job_runs_request

    load_generate(customers=customers, stores=stores)
    started = time.perf_counter()
    existing_customers_insert(count=existing, overlap=min(OVERLAP, customers // stores))
    insert_seconds = time.perf_counter() - started
    _analyze()
    runs, _ = job_runs_request(job="upload", enqueue=False, via="benchmark")
    job_runs_execute(run_ids=[r.pk for r in runs])
    with counting_queries() as counter:
        started = time.perf_counter()
        runs, _ = job_runs_request(job="async-customers", enqueue=False, via="benchmark")
        job_runs_execute(run_ids=[r.pk for r in runs])
        seconds = time.perf_counter() - started
    failed = JobRun.objects.filter(pk__in=[r.pk for r in runs], status="failed").first()
    if failed is not None:
        raise RuntimeError(f"account creation failed: {failed.message}")
    return {
        "existing": existing,
        "customers": customers,
        "created": Customer.objects.exclude(async_customer_id=None).count(),
        "possible_duplicates": PossibleDuplicate.objects.count(),
        "account_creation_seconds": round(seconds, 3),
        "customers_per_second": round(customers / seconds, 1) if seconds else None,
        "queries": counter.count,
        "existing_insert_seconds": round(insert_seconds, 3),
    }


def _child(*, customers: int, stores: int, existing: int, log) -> dict:
    """One matching run in a child process on fresh databases."""
    log(f"matching: {customers} async customers, {existing} existing customers")
    return fresh_child_report(
        fresh(channel_count=2, label=f"match{existing}", prefix="bench_match"),
        manage_arguments(
            "benchmark_matching", phase=True, customers=customers, stores=stores, existing=existing
        ),
        what="matching phase",
    )


def matching_cost_run(*, customers: int, stores: int, existing: list[int], log=print) -> dict:
    """Account creation of the same ``customers`` with each size of the customer master;
    ``ratio`` is the largest size's time over the smallest's."""
    runs = [
        _child(customers=customers, stores=stores, existing=n, log=log) for n in sorted(existing)
    ]
    first, last = runs[0]["account_creation_seconds"], runs[-1]["account_creation_seconds"]
    return {"runs": runs, "ratio": round(last / first, 2) if first else None}
