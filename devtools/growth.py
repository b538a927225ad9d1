"""R15 growth (README, Retention): rounds of conversions and store edits with `purge`
between them; after each round, the rows and bytes per HQ customer of HQ and of the
channel databases. With retention they stay flat from the second round on.

``growth_rounds`` runs on the databases Django is configured with (a test's, or fresh
ones), in this process, through the real job runs; ``RETENTION_DAYS`` is taken as 0
(everything done is old enough), so one round stands for a retention period.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.apps import apps
from django.db import router

from commerce.db import HQ, channel_aliases
from commerce.models import Store
from customers.models import Customer
from customers.services import CustomerInput, async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from devtools.generate import houston_delivery_input
from jobs.services import job_runs_execute, job_runs_request
from jobs.services.retention import purge_run

PRODUCT_APPS = ("commerce", "customers", "jobs")


def database_size(alias: str) -> tuple[int, int]:
    """(rows, bytes) of the product's tables in ``alias``: bytes are the length of every
    column's value as text, a measure that is the same on every engine."""
    rows = size = 0
    for model in apps.get_models():
        if model._meta.app_label not in PRODUCT_APPS or model._meta.proxy:
            continue
        if not router.allow_migrate_model(alias, model):
            continue
        columns = [f.attname for f in model._meta.concrete_fields]
        for values in model._default_manager.using(alias).values_list(*columns).iterator():
            rows += 1
            size += sum(len(str(v)) for v in values if v is not None)
    return rows, size


def _run(job: str) -> None:
    runs, _refused = job_runs_request(job=job, enqueue=False)
    job_runs_execute(run_ids=[r.pk for r in runs])


def _convert() -> None:
    for job in ("upload", "async-customers", "distribute"):
        _run(job)


def _new_customer(round_no: int, n: int) -> CustomerInput:
    return CustomerInput(
        first_name=f"Grow{round_no}x{n}",
        last_name="Round",
        email=f"grow{round_no}x{n}@example.com",
        phone=f"+1555{round_no:02d}{n:05d}",
        addresses=(houston_delivery_input(f"{n} Growth Way", async_address_id=uuid.uuid4()),),
    )


def growth_rounds(
    *, rounds: int = 5, customers: int = 20, log: Callable[[str], None] = lambda _: None
) -> list[dict]:
    """Each round: ``customers`` new async customers at every async store, the store
    edits every customer created in earlier rounds (a channel request each), the
    conversion, then ``purge --days 0``. Returns per round the HQ customers, and the
    rows and bytes per customer of HQ and of all channel databases together."""
    stores = list(
        Store.objects.filter(functionality_profile__create_customer_in_async_mode=True)
        .select_related("channel_database", "legal_entity")
        .order_by("number")
    )
    figures = []
    for round_no in range(1, rounds + 1):
        earlier = list(
            Customer.objects.filter(party__last_name="Round").values_list(
                "account", "legal_entity_id"
            )
        )
        for store in stores:
            for n in range(customers):
                async_customer_create(
                    alias=store.channel_database.alias,
                    store_number=store.number,
                    data=_new_customer(round_no, n + 1000 * stores.index(store)),
                )
        for account, legal_entity_id in earlier:
            store = next(s for s in stores if s.legal_entity_id == legal_entity_id)
            customer_edit_at_store(
                store=store,
                customer=account,
                changes=CustomerChanges(fields={"email": f"r{round_no}.{account}@example.com"}),
            )
        _convert()
        purge_run(days=0, event_log_days=0)
        count = Customer.objects.count()
        hq_rows, hq_bytes = database_size(HQ)
        channel = [database_size(alias) for alias in channel_aliases()]
        figure = {
            "round": round_no,
            "customers": count,
            "hq_rows_per_customer": round(hq_rows / count, 2),
            "hq_bytes_per_customer": round(hq_bytes / count),
            "channel_rows_per_customer": round(sum(r for r, _ in channel) / count, 2),
            "channel_bytes_per_customer": round(sum(b for _, b in channel) / count),
        }
        log(str(figure))
        figures.append(figure)
    return figures
