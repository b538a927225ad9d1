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


def _address(
    key: str,
    street: str,
    city: str,
    zip: str,
    country: str,
    *,
    state: str = "",
    purpose: str = "delivery",
    primary: bool = True,
) -> dict:
    return {
        "location_id": f"DEMO-{key}",
        "purpose": purpose,
        "street": street,
        "city": city,
        "state": state,
        "zip": zip,
        "country": country,
        "primary": primary,
    }


def _hq_customer(
    account: str,
    legal_entity: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    organization_name: str | None = None,
    group: str = "RETAIL",
    currency: str = "USD",
    language: str = "en-us",
    email: str | None = None,
    phone: str | None = None,
    addresses: list[dict] | None = None,
    title: str | None = None,
    affiliations: list[str] | None = None,
) -> dict:
    customer: dict[str, Any] = {
        "account": account,
        "legal_entity": legal_entity,
        "type": "organization" if organization_name else "person",
        "customer_group": group,
        "currency": currency,
        "language": language,
        "email": email,
        "phone": phone,
        "addresses": addresses or [],
    }
    if title is not None:
        customer["title"] = title
    if affiliations is not None:
        customer["affiliations"] = affiliations
    if organization_name:
        customer["organization_name"] = organization_name
    else:
        customer["first_name"] = first_name
        customer["last_name"] = last_name
    return customer


HQ_CUSTOMERS = [
    # The stores' default customers (R2: a new store customer takes their type, group,
    # currency, language, title and affiliations; persons, as most walk-in customers are).
    _hq_customer(
        "C000001",
        "USRT",
        first_name="Walk-in",
        last_name="Customer Houston",
        affiliations=["Loyalty club"],
        addresses=[_address("C000001", "1000 Main St", "Houston", "77002", "USA", state="TX")],
    ),
    _hq_customer(
        "C000002",
        "USRT",
        first_name="Walk-in",
        last_name="Customer Seattle",
        addresses=[_address("C000002", "400 Pine St", "Seattle", "98101", "USA", state="WA")],
    ),
    _hq_customer(
        "C000003",
        "USRT",
        first_name="Walk-in",
        last_name="Customer Houston Galleria",
        affiliations=["Loyalty club"],
        addresses=[
            _address("C000003", "5085 Westheimer Rd", "Houston", "77056", "USA", state="TX")
        ],
    ),
    # Existing synchronous customers; stores add async addresses to some of them (R6).
    _hq_customer(
        "C000101",
        "USRT",
        first_name="Karen",
        last_name="Berg",
        email="karen.berg@example.com",
        phone="+1 713 555 0101",
        addresses=[_address("C000101", "2211 Fannin St", "Houston", "77002", "USA", state="TX")],
    ),
    _hq_customer(
        "C000102",
        "USRT",
        organization_name="Fabrikam Outdoor Supply Inc.",
        group="WHOLESALE",
        email="purchasing@fabrikam.example.com",
        phone="+1 206 555 0102",
        addresses=[
            _address(
                "C000102",
                "1500 4th Ave",
                "Seattle",
                "98101",
                "USA",
                state="WA",
                purpose="business",
            )
        ],
    ),
    _hq_customer(
        "C000103",
        "USRT",
        first_name="Ingrid",
        last_name="Sørensen",
        group="STAFF",
        email="ingrid.sorensen@contoso.example.com",
        addresses=[_address("C000103", "815 Pike St", "Seattle", "98101", "USA", state="WA")],
    ),
    _hq_customer(
        "DE000001",
        "DEMF",
        organization_name="Müller Gartenbau GmbH",
        group="BUSINESS",
        currency="EUR",
        language="de-de",
        email="einkauf@mueller-gartenbau.example.de",
        addresses=[
            _address(
                "DE000001",
                "Gartenstraße 12",
                "München",
                "80331",
                "DEU",
                state="BY",
                purpose="business",
            )
        ],
    ),
    _hq_customer(
        "DE000002",
        "DEMF",
        first_name="Jürgen",
        last_name="Groß",
        currency="EUR",
        language="de-de",
        email="juergen.gross@example.de",
        addresses=[_address("DE000002", "Schloßallee 7", "Köln", "50667", "DEU", state="NW")],
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
