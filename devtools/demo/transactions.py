"""The demo stores' sales transactions, several for async customers."""

from __future__ import annotations

from devtools.demo.async_records import (
    ASYNC_CUSTOMERS,
    async_address_guid,
    async_customer_key,
    existing_customer_address_guid,
)
from devtools.demo.organization import BUSINESS_DATE, HQ_CUSTOMERS, demo_guid

CASH, ORDER = "cash_and_carry", "customer_order"

# Each store's sales, numbered from 1: type, buyer, delivery address, then the lines
# (item, quantity, unit price). The buyer is an HQ account or the name of one of the
# store's async customers (None: no customer); the delivery address is the index of the
# async customer's address, or the key of an async address the store added for the HQ
# customer (ASYNC_ADDRESSES).
SALES = {
    "S0001": [
        (CASH, None, None, ("0001", "2", "9.99"), ("0042", "1", "24.50")),
        (CASH, "Ona Šimkutė", None, ("0007", "1", "129.00")),
        (ORDER, "José Núñez", 0, ("0100", "1", "899.00"), ("0101", "2", "49.95")),
        (ORDER, "C000101", "lake-house", ("0200", "1", "349.00")),
        (CASH, "C000101", None, ("0003", "3", "4.25")),
        (CASH, "太郎 山田", None, ("0042", "6", "24.50")),
    ],
    "S0002": [
        (CASH, "Søren Østergaard", None, ("0011", "1", "59.00")),
        (ORDER, "Lan Nguyễn Thị", 0, ("0300", "1", "1299.00")),
        (CASH, None, None, ("0001", "1", "9.99")),
        (ORDER, "Rainier Outfitters Inc.", 1, ("0400", "10", "15.00")),
    ],
    "S0003": [
        (ORDER, "François Gagné", 0, ("0500", "1", "2499.00")),
        (CASH, None, None, ("0002", "1", "19.99"), ("0003", "2", "4.25")),
    ],
}


def _buyer(store: str, buyer: str | None, delivery: str | int | None) -> dict:
    """The customer fields of a sale: an HQ account or one of ``store``'s async
    customers (see SALES)."""
    if buyer is None or buyer in {customer["account"] for customer in HQ_CUSTOMERS}:
        address = delivery and existing_customer_address_guid(store, buyer, delivery)
        return {"customer": buyer, "async_customer": None, "delivery_address": address}
    customer = next(c for c in ASYNC_CUSTOMERS if (c.store, c.name) == (store, buyer))
    address = None if delivery is None else async_address_guid(customer, delivery)
    return {
        "customer": None,
        "async_customer": demo_guid(async_customer_key(customer)),
        "delivery_address": address,
    }


def _sale(store: str, number: int, type: str, buyer, delivery, *lines) -> dict:
    """One sales transaction as the demo loads it."""
    return {
        "store": store,
        "id": f"{store}-1-{number:06d}",
        "type": type,
        "business_date": BUSINESS_DATE,
        **_buyer(store, buyer, delivery),
        "lines": [
            {"item": item, "quantity": qty, "unit_price": price} for item, qty, price in lines
        ],
    }


def demo_transactions() -> list[dict]:
    """Cash-and-carry and customer-order sales, several for async customers.

    Every customer a transaction references is valid, so order synchronization and
    statement posting succeed once the conversion has run.
    """
    return [
        _sale(store, number, *sale)
        for store, sales in SALES.items()
        for number, sale in enumerate(sales, start=1)
    ]
