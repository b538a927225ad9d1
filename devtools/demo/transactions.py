"""The demo stores' sales transactions, several for async customers."""

from __future__ import annotations

from devtools.demo.async_records import ASYNC_CUSTOMERS, async_address_guid, async_customer_key
from devtools.demo.organization import BUSINESS_DATE, demo_guid


def _lines(*lines: tuple[str, str, str]) -> list[dict]:
    return [{"item": item, "quantity": qty, "unit_price": price} for item, qty, price in lines]


CASH, ORDER = "cash_and_carry", "customer_order"


def _async_customer(store: str, name: str):
    """The demo async customer ``name`` of ``store``."""
    return next(c for c in ASYNC_CUSTOMERS if (c.store, c.name) == (store, name))


def _async_id(store: str, name: str) -> str:
    """The async customer GUID of the demo customer ``name`` of ``store``."""
    return demo_guid(async_customer_key(_async_customer(store, name)))


def _async_address(store: str, name: str, index: int = 0) -> str:
    """The GUID of the demo customer's ``index``-th async address."""
    return async_address_guid(_async_customer(store, name), index)


def _txn(number, store, type, lines, *, customer=None, async_customer=None, delivery=None):
    """One sales transaction as the demo loads it."""
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


def demo_transactions() -> list[dict]:
    """Cash-and-carry and customer-order sales, several for async customers.

    Every customer a transaction references is valid, so order synchronization and
    statement posting succeed once the conversion has run.
    """
    return [*_s0001_transactions(), *_s0002_transactions(), *_s0003_transactions()]


def _s0001_transactions() -> list[dict]:
    """Store S0001's sales."""
    return [
        _txn(1, "S0001", CASH, _lines(("0001", "2", "9.99"), ("0042", "1", "24.50"))),
        _txn(
            2,
            "S0001",
            CASH,
            _lines(("0007", "1", "129.00")),
            async_customer=_async_id("S0001", "Ona Šimkutė"),
        ),
        _txn(
            3,
            "S0001",
            ORDER,
            _lines(("0100", "1", "899.00"), ("0101", "2", "49.95")),
            async_customer=_async_id("S0001", "José Núñez"),
            delivery=_async_address("S0001", "José Núñez"),
        ),
        _txn(
            4,
            "S0001",
            ORDER,
            _lines(("0200", "1", "349.00")),
            customer="C000101",
            delivery=demo_guid("async-address:S0001:C000101:lake-house"),
        ),
        _txn(5, "S0001", CASH, _lines(("0003", "3", "4.25")), customer="C000101"),
        _txn(
            6,
            "S0001",
            CASH,
            _lines(("0042", "6", "24.50")),
            async_customer=_async_id("S0001", "太郎 山田"),
        ),
    ]


def _s0002_transactions() -> list[dict]:
    """Store S0002's sales."""
    return [
        _txn(
            1,
            "S0002",
            CASH,
            _lines(("0011", "1", "59.00")),
            async_customer=_async_id("S0002", "Søren Østergaard"),
        ),
        _txn(
            2,
            "S0002",
            ORDER,
            _lines(("0300", "1", "1299.00")),
            async_customer=_async_id("S0002", "Lan Nguyễn Thị"),
            delivery=_async_address("S0002", "Lan Nguyễn Thị"),
        ),
        _txn(3, "S0002", CASH, _lines(("0001", "1", "9.99"))),
        _txn(
            4,
            "S0002",
            ORDER,
            _lines(("0400", "10", "15.00")),
            async_customer=_async_id("S0002", "Rainier Outfitters Inc."),
            delivery=_async_address("S0002", "Rainier Outfitters Inc.", 1),
        ),
    ]


def _s0003_transactions() -> list[dict]:
    """Store S0003's sales."""
    return [
        _txn(
            1,
            "S0003",
            ORDER,
            _lines(("0500", "1", "2499.00")),
            async_customer=_async_id("S0003", "François Gagné"),
            delivery=_async_address("S0003", "François Gagné"),
        ),
        _txn(2, "S0003", CASH, _lines(("0002", "1", "19.99"), ("0003", "2", "4.25"))),
    ]
