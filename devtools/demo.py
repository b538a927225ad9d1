"""A believable demo organization, loaded through the import service (README "Import files").

Deterministic: every GUID is ``uuid5`` of a fixed namespace and a readable name, every
timestamp is fixed, so the payload is the same on every run. ``demo_setup()`` only
creates what is missing: setup records already at HQ are left out of the import (an
upsert would undo what HQ changed since, e.g. move a converted customer's primary
address back without a new version), and channel ids already present are skipped by
the import. A second run changes nothing.

Contoso Retail USA (USRT) runs three stores: Houston and Seattle create customers in
async mode, Houston Galleria calls HQ in real time (a few of its customers were
created async while it was offline). Fabrikam Handel (DEMF, EUR) has HQ customers
only, to show a second legal entity in the customer master. Three async customers
break a business rule on purpose, so the conversion shows failed records at HQ, and
three look like existing customers (R12: the same email, the same phone in another
format, the same name and zip in other letter case), so USRT, whose duplicate policy
is "create", creates them and lists them under "Possible duplicates".
"""

from __future__ import annotations

import copy
import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction

from commerce.db import HQ, channel_aliases
from commerce.models import ChannelDatabase, FunctionalityProfile, LegalEntity, Store
from customers.importing import ImportReport, data_import
from customers.models import Affiliation, Customer, CustomerAttribute, CustomerGroup
from customers.services.duplicates import customer_match_keys_refresh

DEMO_NAMESPACE = uuid.UUID("6d3a1c52-8f0e-4f3b-9a51-1c0de5a7c0de")
BUSINESS_DATE = "2026-11-24"
FIRST_CREATED_AT = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"

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
    if organization_name:
        customer["organization_name"] = organization_name
    else:
        customer["first_name"] = first_name
        customer["last_name"] = last_name
    return customer


HQ_CUSTOMERS = [
    # The stores' default customers (R2: group, currency and language come from them).
    _hq_customer(
        "C000001",
        "USRT",
        organization_name="Walk-in customer Houston",
        addresses=[_address("C000001", "1000 Main St", "Houston", "77002", "USA", state="TX")],
    ),
    _hq_customer(
        "C000002",
        "USRT",
        organization_name="Walk-in customer Seattle",
        addresses=[_address("C000002", "400 Pine St", "Seattle", "98101", "USA", state="WA")],
    ),
    _hq_customer(
        "C000003",
        "USRT",
        organization_name="Walk-in customer Houston Galleria",
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


# --- Channel data: async customers, async addresses, transactions -------------------


@dataclass(frozen=True)
class DemoAsyncCustomer:
    store: str
    first_name: str = ""
    last_name: str = ""
    organization_name: str = ""
    email: str = ""
    phone: str = ""
    group: str = "RETAIL"
    language: str = "en-us"
    addresses: tuple[tuple, ...] = ()  # (purpose, street, city, state, zip, country)
    work_email: str = ""
    attributes: tuple[tuple[str, Any], ...] = ()
    affiliations: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.organization_name or f"{self.first_name} {self.last_name}"


def _person(store, first, last, email, phone, *addresses, **extra) -> DemoAsyncCustomer:
    return DemoAsyncCustomer(
        store=store,
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        addresses=addresses,
        **extra,
    )


def _organization(store, name, email, phone, *addresses, **extra) -> DemoAsyncCustomer:
    extra.setdefault("group", "WHOLESALE")
    return DemoAsyncCustomer(
        store=store,
        organization_name=name,
        email=email,
        phone=phone,
        addresses=addresses,
        **extra,
    )


ASYNC_CUSTOMERS = [
    # Houston (S0001, async profile)
    _person(
        "S0001",
        "Ona",
        "Šimkutė",
        "ona.simkute@example.com",
        "+37060000000",
        ("delivery", "Gedimino pr. 1", "Vilnius", "", "01103", "LTU"),
        ("invoice", "1200 McKinney St", "Houston", "TX", "77010", "USA"),
        work_email="ona@work.example.com",
        attributes=(("Newsletter", True), ("Loyalty tier", "Gold")),
        affiliations=("Employees",),
        group="STAFF",
        language="lt",
    ),
    _person(
        "S0001",
        "José",
        "Núñez",
        "jose.nunez@example.com",
        "+1 713 555 0142",
        ("delivery", "3401 Navigation Blvd", "Houston", "TX", "77003", "USA"),
        attributes=(("Birthday", "1985-03-14"), ("Household size", 4)),
        affiliations=("Loyalty club",),
        language="es-us",
    ),
    _person(
        "S0001",
        "Jürgen",
        "Müller",
        "juergen.mueller@example.de",
        "+49 30 1234567",
        ("home", "Unter den Linden 5", "Berlin", "BE", "10117", "DEU"),
        ("delivery", "1600 Smith St", "Houston", "TX", "77002", "USA"),
        attributes=(("Preferred name", "Jürgi"), ("Newsletter", False)),
        language="de-de",
    ),
    _person(
        "S0001",
        "Øyvind",
        "Løvås",
        "oyvind.lovas@example.no",
        "+47 912 34 567",
        ("delivery", "Karl Johans gate 22", "Oslo", "", "0159", "NOR"),
        attributes=(("Credit limit", "1500.00"),),
        language="nb-no",
    ),
    _person(
        "S0001",
        "太郎",
        "山田",
        "taro.yamada@example.jp",
        "+81 3 1234 5678",
        ("delivery", "千代田区丸の内1-1", "東京", "東京都", "100-0005", "JPN"),
        attributes=(("Loyalty tier", "Silver"), ("Household size", 2)),
        language="ja",
    ),
    _person(
        "S0001",
        "Chloé",
        "Lefèvre",
        "chloe.lefevre@example.fr",
        "+33 1 23 45 67 89",
        ("delivery", "12 rue de Rivoli", "Paris", "", "75004", "FRA"),
        attributes=(("Birthday", "1992-07-01"),),
        affiliations=("Students",),
        language="fr-fr",
    ),
    _organization(
        "S0001",
        "Núñez Catering LLC",
        "orders@nunez-catering.example.com",
        "+1 713 555 0199",
        ("business", "2000 Edwards St", "Houston", "TX", "77007", "USA"),
        ("delivery", "4400 Memorial Dr", "Houston", "TX", "77007", "USA"),
        attributes=(("Credit limit", "25000.00"), ("Newsletter", True)),
    ),
    _organization(
        "S0001",
        "Bayou Coffee Roasters",
        "hello@bayoucoffee.example.com",
        "+1 713 555 0177",
        ("business", "310 Travis St", "Houston", "TX", "77002", "USA"),
        attributes=(("Loyalty tier", "Platinum"),),
    ),
    _person(
        "S0001",
        "Đorđe",
        "Petrović",
        "djordje.petrovic@example.rs",
        "+381 11 123 4567",
        ("delivery", "Knez Mihailova 10", "Beograd", "", "11000", "SRB"),
    ),
    _person(
        "S0001",
        "María José",
        "García-Pérez",
        "mj.garcia@example.mx",
        "+52 55 1234 5678",
        ("delivery", "Av. Paseo de la Reforma 222", "Ciudad de México", "CDMX", "06600", "MEX"),
        attributes=(("Household size", 5), ("Newsletter", True)),
        affiliations=("Loyalty club", "Seniors"),
        language="es-mx",
    ),
    _person(
        "S0001",
        "Łukasz",
        "Wójcik",
        "lukasz.wojcik@example.pl",
        "+48 22 123 45 67",
        ("delivery", "ul. Marszałkowska 84", "Warszawa", "", "00-514", "POL"),
        attributes=(("Preferred name", "Łukasz W."),),
    ),
    _person(
        "S0001",
        "Tomás",
        "O'Brien",
        "tomas.obrien@example.com",
        "+1 713 555 0123",
        ("delivery", "5000 Montrose Blvd", "Houston", "TX", "77006", "USA"),
        affiliations=("Students",),
    ),
    _person(
        "S0001",
        "Aoife",
        "Ní Bhriain",
        "aoife.nibhriain@example.ie",
        "+353 1 234 5678",
        ("delivery", "14 Grafton St", "Dublin", "", "D02 VF65", "IRL"),
        attributes=(("Birthday", "1979-12-24"), ("Loyalty tier", "Bronze")),
    ),
    # Invalid on purpose: the store typed a customer group HQ does not know.
    _person(
        "S0001",
        "Harold",
        "Whitaker",
        "harold.whitaker@example.com",
        "+1 713 555 0166",
        ("delivery", "700 Louisiana St", "Houston", "TX", "77002", "USA"),
        group="PLATINUM",
    ),
    # Seattle (S0002, async profile)
    _person(
        "S0002",
        "Søren",
        "Østergaard",
        "soren.ostergaard@example.dk",
        "+45 33 12 34 56",
        ("delivery", "Strøget 18", "København", "", "1160", "DNK"),
        attributes=(("Newsletter", True),),
        language="da-dk",
    ),
    _person(
        "S0002",
        "Björk",
        "Guðmundsdóttir",
        "bjork.g@example.is",
        "+354 555 1234",
        ("delivery", "Laugavegur 30", "Reykjavík", "", "101", "ISL"),
        attributes=(("Loyalty tier", "Gold"), ("Preferred name", "Björk")),
    ),
    _person(
        "S0002",
        "Lan",
        "Nguyễn Thị",
        "lan.nguyen@example.com",
        "+1 206 555 0150",
        ("delivery", "1225 S Jackson St", "Seattle", "WA", "98144", "USA"),
        ("invoice", "PO Box 3344", "Seattle", "WA", "98114", "USA"),
        attributes=(("Household size", 3), ("Birthday", "1990-02-28")),
        affiliations=("Loyalty club",),
    ),
    _person(
        "S0002",
        "민준",
        "김",
        "minjun.kim@example.kr",
        "+82 2 123 4567",
        ("delivery", "세종대로 110", "서울", "", "04524", "KOR"),
        language="ko",
    ),
    _organization(
        "S0002",
        "Rainier Outfitters Inc.",
        "buying@rainier.example.com",
        "+1 206 555 0188",
        ("business", "222 Yale Ave N", "Seattle", "WA", "98109", "USA"),
        ("delivery", "3600 E Marginal Way S", "Seattle", "WA", "98134", "USA"),
        attributes=(("Credit limit", "50000.00"),),
    ),
    _organization(
        "S0002",
        "Café Olé Seattle",
        "manager@cafeole.example.com",
        "+1 206 555 0133",
        ("business", "1912 Pike Pl", "Seattle", "WA", "98101", "USA"),
        attributes=(("Newsletter", False),),
    ),
    _person(
        "S0002",
        "Renée",
        "Dubois",
        "renee.dubois@example.ca",
        "+1 514 555 0100",
        ("delivery", "1455 rue Peel", "Montréal", "QC", "H3A 1T5", "CAN"),
        language="fr-ca",
    ),
    _person(
        "S0002",
        "Siobhán",
        "Kelly",
        "siobhan.kelly@example.com",
        "+1 206 555 0111",
        ("delivery", "401 Broadway E", "Seattle", "WA", "98102", "USA"),
        attributes=(("Birthday", "1958-05-09"),),
        affiliations=("Seniors",),
    ),
    _person(
        "S0002",
        "Ana",
        "Ćosić",
        "ana.cosic@example.hr",
        "+385 1 234 5678",
        ("delivery", "Ilica 15", "Zagreb", "", "10000", "HRV"),
        attributes=(("Loyalty tier", "Silver"),),
    ),
    _person(
        "S0002",
        "Mårten",
        "Åkesson",
        "marten.akesson@example.se",
        "+46 8 123 456 78",
        ("delivery", "Drottninggatan 53", "Stockholm", "", "111 21", "SWE"),
        affiliations=("Employees",),
        group="STAFF",
        language="sv-se",
    ),
    # Invalid on purpose: "XXL" is no ISO 3166-1 alpha-3 country.
    _person(
        "S0002",
        "Zoltán",
        "Kovács",
        "zoltan.kovacs@example.hu",
        "+36 1 234 5678",
        ("delivery", "Andrássy út 60", "Budapest", "", "1062", "XXL"),
        language="hu-hu",
    ),
    # Invalid on purpose: "Diamond" is not among the loyalty tiers.
    _person(
        "S0002",
        "Ayşe",
        "Yılmaz",
        "ayse.yilmaz@example.com.tr",
        "+90 212 555 1234",
        ("delivery", "İstiklal Cd. 100", "İstanbul", "", "34430", "TUR"),
        attributes=(("Loyalty tier", "Diamond"),),
        language="tr-tr",
    ),
    # Possible duplicates of existing customers (R12), one of each kind. Karen Berg
    # (C000101) signs up again in Seattle: the same email in other letter case.
    _person(
        "S0002",
        "Karen",
        "Berg",
        "Karen.Berg@EXAMPLE.com",
        "+1 206 555 0143",
        ("delivery", "1100 Eastlake Ave E", "Seattle", "WA", "98109", "USA"),
    ),
    # Fabrikam Outdoor Supply (C000102) buys in Houston: its phone, typed without the
    # country code (read with the address's country).
    _organization(
        "S0001",
        "Fabrikam Outdoor",
        "store@fabrikam-outdoor.example.com",
        "(206) 555-0102",
        ("business", "1500 4th Ave", "Seattle", "WA", "98101", "USA"),
    ),
    # Ingrid Sørensen (C000103) in Seattle with another email: the same name and zip.
    _person(
        "S0002",
        "INGRID",
        "sørensen",
        "ingrid.s@home.example.com",
        "+1 206 555 0144",
        ("home", "815 Pike St", "Seattle", "WA", "98101", "USA"),
        group="STAFF",
    ),
    # Houston Galleria (S0003, real time): created async while the store was offline.
    _person(
        "S0003",
        "François",
        "Gagné",
        "francois.gagne@example.ca",
        "+1 418 555 0190",
        ("delivery", "5085 Westheimer Rd Apt 12", "Houston", "TX", "77056", "USA"),
        attributes=(("Newsletter", True), ("Loyalty tier", "Bronze")),
        language="fr-ca",
    ),
    _organization(
        "S0003",
        "Müller & Söhne Import GmbH",
        "import@mueller-soehne.example.de",
        "+49 40 765 4321",
        ("business", "Speicherstadt 3", "Hamburg", "HH", "20457", "DEU"),
        ("delivery", "9600 Westheimer Rd", "Houston", "TX", "77063", "USA"),
        attributes=(("Credit limit", "12000.50"),),
    ),
]


def _async_customer_key(customer: DemoAsyncCustomer) -> str:
    return f"async-customer:{customer.store}:{customer.name}"


def _async_address_guid(customer: DemoAsyncCustomer, index: int) -> str:
    return demo_guid(f"{_async_customer_key(customer)}:address:{index}")


def _async_customer_record(customer: DemoAsyncCustomer, index: int) -> dict:
    person = not customer.organization_name
    contacts = [{"type": "phone", "value": customer.phone, "primary": True}]
    if customer.work_email:
        contacts.append({"type": "email", "value": customer.work_email, "primary": False})
    created_at = FIRST_CREATED_AT + datetime.timedelta(minutes=11 * index)
    return {
        "async_id": demo_guid(_async_customer_key(customer)),
        "type": "person" if person else "organization",
        "first_name": customer.first_name if person else None,
        "last_name": customer.last_name if person else None,
        "organization_name": None if person else customer.organization_name,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "customer_group": customer.group,
        "currency": "USD",
        "language": customer.language,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "addresses": [
            {
                "async_id": _async_address_guid(customer, position),
                "purpose": purpose,
                "street": street,
                "city": city,
                "state": state,
                "zip": zip,
                "country": country,
                "primary": position == 0,
            }
            for position, (purpose, street, city, state, zip, country) in enumerate(
                customer.addresses
            )
        ],
        "contacts": contacts,
        "attributes": dict(customer.attributes),
        "affiliations": list(customer.affiliations),
    }


# Addresses stores created in async mode for existing (synchronous) customers (R6).
ASYNC_ADDRESSES = [
    {
        "store": "S0001",
        "async_id": demo_guid("async-address:S0001:C000101:lake-house"),
        "customer": "C000101",
        "purpose": "delivery",
        "street": "18 Lakeshore Dr",
        "city": "Conroe",
        "state": "TX",
        "zip": "77304",
        "country": "USA",
        "primary": False,
    },
    {
        "store": "S0002",
        "async_id": demo_guid("async-address:S0002:C000102:warehouse"),
        "customer": "C000102",
        "purpose": "invoice",
        "street": "4700 Ohio Ave S",
        "city": "Seattle",
        "state": "WA",
        "zip": "98134",
        "country": "USA",
        "primary": False,
    },
    {
        "store": "S0002",
        "async_id": demo_guid("async-address:S0002:C000103:new-home"),
        "customer": "C000103",
        "purpose": "home",
        "street": "5230 Ballard Ave NW",
        "city": "Seattle",
        "state": "WA",
        "zip": "98107",
        "country": "USA",
        "primary": True,
    },
]


def _lines(*lines: tuple[str, str, str]) -> list[dict]:
    return [{"item": item, "quantity": qty, "unit_price": price} for item, qty, price in lines]


def _transactions() -> list[dict]:
    """Cash-and-carry and customer-order sales, several for async customers.

    Every customer a transaction references is valid, so order synchronization and
    statement posting succeed once the conversion has run.
    """
    by_name = {(c.store, c.name): c for c in ASYNC_CUSTOMERS}

    def async_id(store: str, name: str) -> str:
        return demo_guid(_async_customer_key(by_name[(store, name)]))

    def async_address(store: str, name: str, index: int = 0) -> str:
        return _async_address_guid(by_name[(store, name)], index)

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


# --- The payload --------------------------------------------------------------------


def demo_payload() -> dict:
    """The demo organization in the import format (README "Import files"). Deterministic."""
    aliases = channel_aliases()
    channel_databases = [
        {"name": channel_database_name(index), "alias": alias}
        for index, alias in enumerate(aliases)
    ]
    stores = [
        {
            "number": store.number,
            "name": store.name,
            "legal_entity": "USRT",
            "channel_database": channel_databases[store.channel_index % len(aliases)]["name"],
            "functionality_profile": store.profile,
            "default_customer": store.default_customer,
            "offline": False,
        }
        for store in STORES
    ]
    channel = []
    transactions = _transactions()
    for store in STORES:
        customers = [
            _async_customer_record(customer, index)
            for index, customer in enumerate(ASYNC_CUSTOMERS)
            if customer.store == store.number
        ]
        addresses = [
            {key: value for key, value in address.items() if key != "store"}
            for address in ASYNC_ADDRESSES
            if address["store"] == store.number
        ]
        channel.append(
            {
                "store": store.number,
                "async_customers": customers,
                "async_addresses": addresses,
                "transactions": [
                    {key: value for key, value in t.items() if key != "store"}
                    for t in transactions
                    if t["store"] == store.number
                ],
            }
        )
    return copy.deepcopy(
        {
            "legal_entities": LEGAL_ENTITIES,
            "customer_groups": CUSTOMER_GROUPS,
            "customer_attributes": CUSTOMER_ATTRIBUTES,
            "affiliations": AFFILIATIONS,
            "functionality_profiles": FUNCTIONALITY_PROFILES,
            "channel_databases": channel_databases,
            "customers": HQ_CUSTOMERS,
            "stores": stores,
            "channel": channel,
        }
    )


# --- Loading it -----------------------------------------------------------------------

# Setup sections of the payload: the model, its key lookups at HQ and the record's
# fields holding the same key.
SETUP_KEYS: dict[str, tuple[type[models.Model], tuple[str, ...], tuple[str, ...]]] = {
    "legal_entities": (LegalEntity, ("code",), ("code",)),
    "customer_groups": (CustomerGroup, ("legal_entity__code", "code"), ("legal_entity", "code")),
    "customer_attributes": (CustomerAttribute, ("name",), ("name",)),
    "affiliations": (Affiliation, ("name",), ("name",)),
    "functionality_profiles": (FunctionalityProfile, ("code",), ("code",)),
    "channel_databases": (ChannelDatabase, ("name",), ("name",)),
    "customers": (Customer, ("legal_entity__code", "account"), ("legal_entity", "account")),
    "stores": (Store, ("number",), ("number",)),
}


def _missing_only(payload: dict) -> tuple[dict, dict[str, list[str]]]:
    """The payload without the setup records HQ already has, and those records' keys.

    The import upserts setup records; the demo must not, or each ``serve`` would undo
    what HQ changed since (an address made primary by the conversion, R6, would move
    back without a new version, so HQ and the stores would disagree).
    """
    missing = dict(payload)
    existing: dict[str, list[str]] = {}
    for section, (model, lookups, fields) in SETUP_KEYS.items():
        records = payload[section]
        wanted = {record[fields[-1]] for record in records}
        found = set(model.objects.filter(**{f"{lookups[-1]}__in": wanted}).values_list(*lookups))
        missing[section] = []
        for record in records:
            key = tuple(record[name] for name in fields)
            if key in found:
                existing.setdefault(section, []).append("/".join(key))
            else:
                missing[section].append(record)
    return missing, existing


def _match_keys_refresh(customers: list[dict]) -> None:
    """R12 keys of the HQ customers this run imported (the import writes them in bulk,
    without keys), so the demo's possible duplicates are found."""
    if not customers:
        return
    wanted = models.Q()
    for record in customers:
        wanted |= models.Q(legal_entity__code=record["legal_entity"], account=record["account"])
    customer_match_keys_refresh(
        customer_ids=Customer.objects.filter(wanted).values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class DemoReport:
    imported: ImportReport  # setup records already at HQ are counted as skipped
    admin_created: bool


class DemoRefused(Exception):
    """The demo was asked for with ENVIRONMENT=production."""


def demo_refuse_in_production() -> None:
    """Raise DemoRefused in production: the demo's superuser has a published password,
    and its made-up customers and stores must not mix with real ones."""
    if settings.PRODUCTION:
        raise DemoRefused(
            "ENVIRONMENT=production: the demo organization and its admin/admin user are "
            "for development only; create an administrator with manage.py createsuperuser"
        )


def admin_user_ensure() -> bool:
    """Create the development superuser admin/admin unless a user ``admin`` exists.

    An existing ``admin`` is left as it is (its password may have been changed on
    purpose). Returns whether it was created. Development only: refused in production
    (DemoRefused).
    """
    demo_refuse_in_production()
    User = get_user_model()
    with transaction.atomic(using=HQ):
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            return False
        User.objects.create_superuser(
            username=ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD
        )
    return True


def demo_setup() -> DemoReport:
    """Create what is missing of the demo organization and the admin user; leaves
    existing records as they are. Safe to re-run: a second run changes nothing.
    Refused in production (DemoRefused) before anything is written."""
    demo_refuse_in_production()
    payload, existing = _missing_only(demo_payload())
    report = ImportReport()
    for section, keys in existing.items():
        for key in keys:
            report.skip(section, key)
    imported = data_import(payload=payload)
    _match_keys_refresh(payload["customers"])
    for section, counts in imported.counts.items():
        merged = report.section(section)
        merged.created += counts.created
        merged.updated += counts.updated
        merged.unchanged += counts.unchanged
        merged.skipped += counts.skipped
    for section, keys in imported.skipped_ids.items():
        report.skipped_ids.setdefault(section, []).extend(keys)
    return DemoReport(imported=report, admin_created=admin_user_ensure())
