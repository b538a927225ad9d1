"""Time the customer synchronization status page at a given number of async customers
(README "Performance": flat in the number of records, 100,000 within 1.5x of 1,000).

    .venv/bin/python -m devtools.status_page_timing --customers 1000 --dir /tmp/sp1k

Makes fresh SQLite files in ``--dir`` (HQ and two channel databases), writes the async
customers in bulk with a realistic mix (most synchronized; some pending upload,
uploaded, failed, held for review, created at HQ), one async address per ten customers,
then times ``client.get`` of the first page, a filtered page and a deep page. Prints one
JSON object. Not business logic: it writes rows directly, as the pipeline would leave them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

# Out of every 100 customers: the rest are synchronized.
MIX = {"pending_upload": 5, "uploaded": 2, "failed": 1, "needs_review": 1, "created": 2}


def _configure(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("hq", "channel", "channel2"):
        (directory / f"{name}.sqlite3").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'hq.sqlite3'}"
    os.environ["CHANNEL_DATABASE_URLS"] = (
        f"channel=sqlite:///{directory / 'channel.sqlite3'},"
        f"channel2=sqlite:///{directory / 'channel2.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _status_of(n: int) -> str:
    slot = n % 100
    for status, share in MIX.items():
        if slot < share:
            return status
        slot -= share
    return "synchronized"


def _write(*, customers: int) -> None:
    from django.utils import timezone

    from commerce.models import ChannelDatabase
    from devtools.generate import organization_generate

    organization = organization_generate(stores=2, channel_databases=2)
    start = timezone.now() - datetime.timedelta(days=7)
    per_store = customers // len(organization.stores)
    for store, alias in organization.stores:
        name = ChannelDatabase.objects.get(alias=alias).name
        for batch in range(0, per_store, 5000):
            _batch_write(
                store=store,
                alias=alias,
                channel_database=name,
                start=start,
                numbers=range(batch, min(per_store, batch + 5000)),
            )


def _batch_write(*, store: str, alias: str, channel_database: str, start, numbers) -> None:
    """Customers ``numbers`` of ``store`` in its channel database (every tenth with an
    async address) and, for those uploaded, their staged copies at HQ, in bulk."""
    from customers.models import (
        AsyncAddress,
        AsyncCustomer,
        StagedAsyncAddress,
        StagedAsyncCustomer,
        StagingStatus,
    )

    staging = {
        "uploaded": StagingStatus.PENDING,
        "failed": StagingStatus.FAILED,
        "needs_review": StagingStatus.NEEDS_REVIEW,
    }
    rows, addresses, staged, staged_addresses = [], [], [], []
    for n in numbers:
        status = _status_of(n)
        guid = uuid.uuid4()
        at = start + datetime.timedelta(seconds=n)
        uploaded, linked = status != "pending_upload", status == "synchronized"
        rows.append(
            AsyncCustomer(
                async_customer_id=guid,
                store_number=store,
                first_name=f"Load {n}",
                last_name=status,
                created_at=at,
                upload_session_id=1 if uploaded else None,
                account=f"T{store}{n:08d}" if linked else None,
                synchronized_at=at if linked else None,
            )
        )
        common = {
            "channel_database": channel_database,
            "store_number": store,
            "status": staging.get(status, StagingStatus.COMPLETED),
            "created_at_store": at,
            "last_error": "country: 'XXL' is not a country" if status == "failed" else "",
        }
        if uploaded:
            staged.append(
                StagedAsyncCustomer(
                    async_customer_id=guid,
                    type="person",
                    first_name=f"Load {n}",
                    account=f"T{store}{n:08d}" if status in ("created", "synchronized") else "",
                    **common,
                )
            )
        if n % 10 == 0:
            address, staged_address = _address_rows(
                n, store=store, at=at, uploaded=uploaded, linked=linked, common=common
            )
            addresses.append(address)
            if staged_address is not None:
                staged_addresses.append(staged_address)
    AsyncCustomer.objects.using(alias).bulk_create(rows)
    AsyncAddress.objects.using(alias).bulk_create(addresses)
    StagedAsyncCustomer.objects.bulk_create(staged)
    StagedAsyncAddress.objects.bulk_create(staged_addresses)


def _address_rows(n: int, *, store: str, at, uploaded: bool, linked: bool, common: dict):
    """Customer ``n``'s async address, and its staged copy when uploaded (else None)."""
    from customers.models import AsyncAddress, StagedAsyncAddress

    address = uuid.uuid4()
    fields = {
        "purpose": "invoice",
        "street": f"{n} Load St",
        "city": "Houston",
        "zip": "77001",
        "country": "USA",
        "customer_account": "L00000001",
    }
    row = AsyncAddress(
        async_address_id=address,
        store_number=store,
        created_at=at,
        upload_session_id=1 if uploaded else None,
        location_id=f"LT{store}{n:08d}" if linked else None,
        **fields,
    )
    staged = StagedAsyncAddress(async_address_id=address, **fields, **common) if uploaded else None
    return row, staged


def _time(client, url: str, *, repeat: int) -> dict:
    client.get(url)  # warm-up
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return {"median_ms": round(statistics.median(seconds) * 1000, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/status_page_timing"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    _configure(args.dir)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("setup_databases", verbosity=0)
    written = time.perf_counter()
    _write(customers=args.customers)
    written = time.perf_counter() - written
    user = get_user_model().objects.create_superuser("timing", "timing@example.com", "x")
    client = Client()
    client.force_login(user)
    base = "/admin/customers/stagedasynccustomer/sync-status/"
    pages = {
        "first_page": base,
        "failed": f"{base}?status=failed",
        "synchronized_page_5": f"{base}?status=synchronized&page=5",
        "one_store_pending": f"{base}?store={_first_store()}&status=pending_upload",
    }
    result = {
        "customers": args.customers,
        "write_seconds": round(written, 1),
        **{label: _time(client, url, repeat=args.repeat) for label, url in pages.items()},
    }
    sys.stdout.write(json.dumps(result) + "\n")


def _first_store() -> str:
    from commerce.models import Store

    return Store.objects.order_by("number").values_list("number", flat=True).first()


if __name__ == "__main__":
    main()
