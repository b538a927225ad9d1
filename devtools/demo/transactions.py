"""The demo stores' sales transactions, several for async customers."""

from __future__ import annotations

from devtools.demo.async_records import ASYNC_CUSTOMERS, async_address_guid, async_customer_key
from devtools.demo.organization import BUSINESS_DATE, demo_guid


def _lines(*lines: tuple[str, str, str]) -> list[dict]:
    return [{"item": item, "quantity": qty, "unit_price": price} for item, qty, price in lines]


def demo_transactions() -> list[dict]:
    """Cash-and-carry and customer-order sales, several for async customers.

    Every customer a transaction references is valid, so order synchronization and
    statement posting succeed once the conversion has run.
    """
    by_name = {(c.store, c.name): c for c in ASYNC_CUSTOMERS}

    def async_id(store: str, name: str) -> str:
        return demo_guid(async_customer_key(by_name[(store, name)]))

    def async_address(store: str, name: str, index: int = 0) -> str:
        return async_address_guid(by_name[(store, name)], index)

    def txn(number, store, type, lines, *, customer=None, async_customer=None, delivery=None):
        return {
            "store": store,
            "id": f"{store}-1-{number:06d}",
            "type": type,
            "business_date": BUSINESS_DATE,
            "customer": customer,
            "async_customer": async_customer,
            "delivery_address": delivery,
            "lines": lines,
        }

    cash, order = "cash_and_carry", "customer_order"
    return [
        txn(1, "S0001", cash, _lines(("0001", "2", "9.99"), ("0042", "1", "24.50"))),
        txn(
            2,
            "S0001",
            cash,
            _lines(("0007", "1", "129.00")),
            async_customer=async_id("S0001", "Ona Šimkutė"),
        ),
        txn(
            3,
            "S0001",
            order,
            _lines(("0100", "1", "899.00"), ("0101", "2", "49.95")),
            async_customer=async_id("S0001", "José Núñez"),
            delivery=async_address("S0001", "José Núñez"),
        ),
        txn(
            4,
            "S0001",
            order,
            _lines(("0200", "1", "349.00")),
            customer="C000101",
            delivery=demo_guid("async-address:S0001:C000101:lake-house"),
        ),
        txn(5, "S0001", cash, _lines(("0003", "3", "4.25")), customer="C000101"),
        txn(
            6,
            "S0001",
            cash,
            _lines(("0042", "6", "24.50")),
            async_customer=async_id("S0001", "太郎 山田"),
        ),
        txn(
            1,
            "S0002",
            cash,
            _lines(("0011", "1", "59.00")),
            async_customer=async_id("S0002", "Søren Østergaard"),
        ),
        txn(
            2,
            "S0002",
            order,
            _lines(("0300", "1", "1299.00")),
            async_customer=async_id("S0002", "Lan Nguyễn Thị"),
            delivery=async_address("S0002", "Lan Nguyễn Thị"),
        ),
        txn(3, "S0002", cash, _lines(("0001", "1", "9.99"))),
        txn(
            4,
            "S0002",
            order,
            _lines(("0400", "10", "15.00")),
            async_customer=async_id("S0002", "Rainier Outfitters Inc."),
            delivery=async_address("S0002", "Rainier Outfitters Inc.", 1),
        ),
        txn(
            1,
            "S0003",
            order,
            _lines(("0500", "1", "2499.00")),
            async_customer=async_id("S0003", "François Gagné"),
            delivery=async_address("S0003", "François Gagné"),
        ),
        txn(2, "S0003", cash, _lines(("0002", "1", "19.99"), ("0003", "2", "4.25"))),
    ]
