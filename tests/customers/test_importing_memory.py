"""import_data streams its input: memory does not grow with the file.

The figures for real files (20,000 and 200,000 async customers, peak RSS) are measured
by hand, not here (no timing or size thresholds of a machine in tests): here a file
ten times longer must not take twice the memory, and no batch may hold more than
BATCH_SIZE records.
"""

import json
import tracemalloc

import pytest

from customers.importing import data_import, data_import_file, writing
from customers.models import AsyncCustomer, AsyncCustomerAddress
from tests.customers.test_importing import async_customer, setup_sections

pytestmark = pytest.mark.django_db(databases="__all__")

BATCH = 50


def _write_file(path, *, first: int, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"channel": [{"store": "S0001", "async_customers": [')
        for n in range(first, first + count):
            handle.write(("" if n == first else ", ") + json.dumps(async_customer(n)))
        handle.write("]}]}")


def _peak_memory(path) -> int:
    tracemalloc.start()
    try:
        data_import_file(path=path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def batches(monkeypatch):
    """The sizes of the async customer batches written, with BATCH_SIZE = BATCH."""
    sizes: list[int] = []
    write = writing.write_async_customers

    def counting(alias, recs, report, now):
        sizes.append(len(recs))
        return write(alias, recs, report, now)

    monkeypatch.setattr(writing, "BATCH_SIZE", BATCH)
    monkeypatch.setattr(writing, "write_async_customers", counting)
    return sizes


def test_a_ten_times_longer_file_takes_less_than_twice_the_memory(tmp_path, batches):
    data_import(payload=setup_sections())
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    _write_file(small, first=10_000, count=150)
    _write_file(large, first=20_000, count=1_500)

    small_peak = _peak_memory(small)
    large_peak = _peak_memory(large)

    assert AsyncCustomer.objects.using("channel").count() == 1_650
    assert AsyncCustomerAddress.objects.using("channel").count() == 1_650
    assert large.stat().st_size > 9 * small.stat().st_size
    assert large_peak < 2 * small_peak, (small_peak, large_peak)


def test_no_batch_holds_more_than_batch_size_records(tmp_path, batches):
    data_import(payload=setup_sections())
    path = tmp_path / "data.json"
    _write_file(path, first=10_000, count=3 * BATCH + 7)

    report = data_import_file(path=path)

    assert batches == [BATCH, BATCH, BATCH, 7]
    assert report.counts["async_customers"].created == 3 * BATCH + 7
