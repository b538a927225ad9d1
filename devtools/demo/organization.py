"""The demo's fixed GUIDs and clock, and its HQ side: legal entities, customer groups,
attributes, affiliations, functionality profiles, HQ customers and stores."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

DEMO_NAMESPACE = uuid.UUID("6d3a1c52-8f0e-4f3b-9a51-1c0de5a7c0de")
BUSINESS_DATE = "2026-11-24"
FIRST_CREATED_AT = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)

# Channel database names by position of the configured alias.
CHANNEL_DATABASE_NAMES = ["HOUSTON", "SEATTLE"]


def demo_guid(name: str) -> str:
    """A fixed GUID for a demo record: the same name gives the same GUID on every run."""
    return str(uuid.uuid5(DEMO_NAMESPACE, name))


def channel_database_name(index: int) -> str:
    if index < len(CHANNEL_DATABASE_NAMES):
        return CHANNEL_DATABASE_NAMES[index]
    return f"CHANNEL{index + 1}"


# --- Setup ------------------------------------------------------------------------

LEGAL_ENTITIES = [
    {
        "code": "USRT",
        "name": "Contoso Retail USA",
        "currency": "USD",
        "customer_account_prefix": "C",
        "customer_account_digits": 6,
    },
    {
        "code": "DEMF",
        "name": "Fabrikam Handel Deutschland",
        "currency": "EUR",
        "customer_account_prefix": "DE",
        "customer_account_digits": 6,
    },
]

CUSTOMER_GROUPS = [
    {"legal_entity": "USRT", "code": "RETAIL", "name": "Retail customers"},
    {"legal_entity": "USRT", "code": "STAFF", "name": "Employees"},
    {"legal_entity": "USRT", "code": "WHOLESALE", "name": "Business customers"},
    {"legal_entity": "DEMF", "code": "RETAIL", "name": "Privatkunden"},
    {"legal_entity": "DEMF", "code": "BUSINESS", "name": "Geschäftskunden"},
]

LOYALTY_TIERS = ["Bronze", "Silver", "Gold", "Platinum"]

CUSTOMER_ATTRIBUTES = [
    {"name": "Newsletter", "type": "boolean"},
    {"name": "Preferred name", "type": "text"},
    {"name": "Household size", "type": "integer"},
    {"name": "Credit limit", "type": "decimal"},
    {"name": "Birthday", "type": "date"},
    {"name": "Loyalty tier", "type": "choice", "choices": LOYALTY_TIERS},
]

AFFILIATIONS = [
    {"name": "Employees"},
    {"name": "Students"},
    {"name": "Seniors"},
    {"name": "Loyalty club"},
]

FUNCTIONALITY_PROFILES = [
    {"code": "ASYNC", "create_customer_in_async_mode": True},
    {"code": "REALTIME", "create_customer_in_async_mode": False},
]


def demo_address_fields(address: tuple[str, ...], *, primary: bool) -> dict:
    """An address's fields in the import format, from a demo address row (purpose,
    street, city, state, zip, country)."""
    purpose, street, city, state, zip, country = address
    return {
        "purpose": purpose,
        "street": street,
        "city": city,
        "state": state,
        "zip": zip,
        "country": country,
        "primary": primary,
    }


def _hq_customer(
    identity: tuple[str, ...],
    address: tuple[str, ...],
    *,
    group: str = "RETAIL",
    currency: str = "USD",
    language: str = "en-us",
    email: str | None = None,
    phone: str | None = None,
    affiliations: list[str] | None = None,
) -> dict:
    """An HQ customer in the import format, with its one (primary) address. ``identity``
    is (account, legal entity, first name, last name) for a person, (account, legal
    entity, organization name) for an organization."""
    account, legal_entity, *names = identity
    customer: dict[str, Any] = {
        "account": account,
        "legal_entity": legal_entity,
        "type": "person" if len(names) == 2 else "organization",
        "customer_group": group,
        "currency": currency,
        "language": language,
        "email": email,
        "phone": phone,
        "addresses": [
            {"location_id": f"DEMO-{account}", **demo_address_fields(address, primary=True)}
        ],
    }
    if affiliations is not None:
        customer["affiliations"] = affiliations
    if len(names) == 2:
        customer["first_name"], customer["last_name"] = names
    else:
        customer["organization_name"] = names[0]
    return customer


HQ_CUSTOMERS = [
    # The stores' default customers (R2: a new store customer takes their type, group,
    # currency, language, title and affiliations; persons, as most walk-in customers are).
    _hq_customer(
        ("C000001", "USRT", "Walk-in", "Customer Houston"),
        ("delivery", "1000 Main St", "Houston", "TX", "77002", "USA"),
        affiliations=["Loyalty club"],
    ),
    _hq_customer(
        ("C000002", "USRT", "Walk-in", "Customer Seattle"),
        ("delivery", "400 Pine St", "Seattle", "WA", "98101", "USA"),
    ),
    _hq_customer(
        ("C000003", "USRT", "Walk-in", "Customer Houston Galleria"),
        ("delivery", "5085 Westheimer Rd", "Houston", "TX", "77056", "USA"),
        affiliations=["Loyalty club"],
    ),
    # Existing synchronous customers; stores add async addresses to some of them (R6).
    _hq_customer(
        ("C000101", "USRT", "Karen", "Berg"),
        ("delivery", "2211 Fannin St", "Houston", "TX", "77002", "USA"),
        email="karen.berg@example.com",
        phone="+1 713 555 0101",
    ),
    _hq_customer(
        ("C000102", "USRT", "Fabrikam Outdoor Supply Inc."),
        ("business", "1500 4th Ave", "Seattle", "WA", "98101", "USA"),
        group="WHOLESALE",
        email="purchasing@fabrikam.example.com",
        phone="+1 206 555 0102",
    ),
    _hq_customer(
        ("C000103", "USRT", "Ingrid", "Sørensen"),
        ("delivery", "815 Pike St", "Seattle", "WA", "98101", "USA"),
        group="STAFF",
        email="ingrid.sorensen@contoso.example.com",
    ),
    _hq_customer(
        ("DE000001", "DEMF", "Müller Gartenbau GmbH"),
        ("business", "Gartenstraße 12", "München", "BY", "80331", "DEU"),
        group="BUSINESS",
        currency="EUR",
        language="de-de",
        email="einkauf@mueller-gartenbau.example.de",
    ),
    _hq_customer(
        ("DE000002", "DEMF", "Jürgen", "Groß"),
        ("delivery", "Schloßallee 7", "Köln", "NW", "50667", "DEU"),
        currency="EUR",
        language="de-de",
        email="juergen.gross@example.de",
    ),
]


@dataclass(frozen=True)
class DemoStore:
    number: str
    name: str
    profile: str
    default_customer: str
    channel_index: int  # position among the configured channel aliases (wraps around)


STORES = [
    DemoStore("S0001", "Houston", "ASYNC", "C000001", 0),
    DemoStore("S0002", "Seattle", "ASYNC", "C000002", 1),
    DemoStore("S0003", "Houston Galleria", "REALTIME", "C000003", 0),
]
