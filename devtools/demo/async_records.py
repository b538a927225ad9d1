"""What the demo stores created in async mode: async customers (three break a business
rule, three look like existing customers, R12) and async addresses for existing
customers (R6)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from devtools.demo.organization import FIRST_CREATED_AT, demo_address_fields, demo_guid


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
    addresses: tuple[tuple[str, ...], ...] = ()  # (purpose, street, city, state, zip, country)
    work_email: str = ""
    attributes: tuple[tuple[str, Any], ...] = ()
    affiliations: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.organization_name or f"{self.first_name} {self.last_name}"


def _person(identity: tuple[str, ...], *addresses, **extra) -> DemoAsyncCustomer:
    """A person: ``identity`` is (store, first name, last name, email, phone)."""
    store, first_name, last_name, email, phone = identity
    return DemoAsyncCustomer(
        store, first_name, last_name, email=email, phone=phone, addresses=addresses, **extra
    )


def _organization(identity: tuple[str, ...], *addresses, **extra) -> DemoAsyncCustomer:
    """An organization (a wholesale one unless ``group`` says otherwise): ``identity`` is
    (store, organization name, email, phone)."""
    store, name, email, phone = identity
    extra.setdefault("group", "WHOLESALE")
    return DemoAsyncCustomer(
        store, organization_name=name, email=email, phone=phone, addresses=addresses, **extra
    )


ASYNC_CUSTOMERS = [
    # Houston (S0001, async profile)
    _person(
        ("S0001", "Ona", "Šimkutė", "ona.simkute@example.com", "+37060000000"),
        ("delivery", "Gedimino pr. 1", "Vilnius", "", "01103", "LTU"),
        ("invoice", "1200 McKinney St", "Houston", "TX", "77010", "USA"),
        work_email="ona@work.example.com",
        attributes=(("Newsletter", True), ("Loyalty tier", "Gold")),
        affiliations=("Employees",),
        group="STAFF",
        language="lt",
    ),
    _person(
        ("S0001", "José", "Núñez", "jose.nunez@example.com", "+1 713 555 0142"),
        ("delivery", "3401 Navigation Blvd", "Houston", "TX", "77003", "USA"),
        attributes=(("Birthday", "1985-03-14"), ("Household size", 4)),
        affiliations=("Loyalty club",),
        language="es-us",
    ),
    _person(
        ("S0001", "Jürgen", "Müller", "juergen.mueller@example.de", "+49 30 1234567"),
        ("home", "Unter den Linden 5", "Berlin", "BE", "10117", "DEU"),
        ("delivery", "1600 Smith St", "Houston", "TX", "77002", "USA"),
        attributes=(("Preferred name", "Jürgi"), ("Newsletter", False)),
        language="de-de",
    ),
    _person(
        ("S0001", "Øyvind", "Løvås", "oyvind.lovas@example.no", "+47 912 34 567"),
        ("delivery", "Karl Johans gate 22", "Oslo", "", "0159", "NOR"),
        attributes=(("Credit limit", "1500.00"),),
        language="nb-no",
    ),
    _person(
        ("S0001", "太郎", "山田", "taro.yamada@example.jp", "+81 3 1234 5678"),
        ("delivery", "千代田区丸の内1-1", "東京", "東京都", "100-0005", "JPN"),
        attributes=(("Loyalty tier", "Silver"), ("Household size", 2)),
        language="ja",
    ),
    _person(
        ("S0001", "Chloé", "Lefèvre", "chloe.lefevre@example.fr", "+33 1 23 45 67 89"),
        ("delivery", "12 rue de Rivoli", "Paris", "", "75004", "FRA"),
        attributes=(("Birthday", "1992-07-01"),),
        affiliations=("Students",),
        language="fr-fr",
    ),
    _organization(
        ("S0001", "Núñez Catering LLC", "orders@nunez-catering.example.com", "+1 713 555 0199"),
        ("business", "2000 Edwards St", "Houston", "TX", "77007", "USA"),
        ("delivery", "4400 Memorial Dr", "Houston", "TX", "77007", "USA"),
        attributes=(("Credit limit", "25000.00"), ("Newsletter", True)),
    ),
    _organization(
        ("S0001", "Bayou Coffee Roasters", "hello@bayoucoffee.example.com", "+1 713 555 0177"),
        ("business", "310 Travis St", "Houston", "TX", "77002", "USA"),
        attributes=(("Loyalty tier", "Platinum"),),
    ),
    _person(
        ("S0001", "Đorđe", "Petrović", "djordje.petrovic@example.rs", "+381 11 123 4567"),
        ("delivery", "Knez Mihailova 10", "Beograd", "", "11000", "SRB"),
    ),
    _person(
        ("S0001", "María José", "García-Pérez", "mj.garcia@example.mx", "+52 55 1234 5678"),
        ("delivery", "Av. Paseo de la Reforma 222", "Ciudad de México", "CDMX", "06600", "MEX"),
        attributes=(("Household size", 5), ("Newsletter", True)),
        affiliations=("Loyalty club", "Seniors"),
        language="es-mx",
    ),
    _person(
        ("S0001", "Łukasz", "Wójcik", "lukasz.wojcik@example.pl", "+48 22 123 45 67"),
        ("delivery", "ul. Marszałkowska 84", "Warszawa", "", "00-514", "POL"),
        attributes=(("Preferred name", "Łukasz W."),),
    ),
    _person(
        ("S0001", "Tomás", "O'Brien", "tomas.obrien@example.com", "+1 713 555 0123"),
        ("delivery", "5000 Montrose Blvd", "Houston", "TX", "77006", "USA"),
        affiliations=("Students",),
    ),
    _person(
        ("S0001", "Aoife", "Ní Bhriain", "aoife.nibhriain@example.ie", "+353 1 234 5678"),
        ("delivery", "14 Grafton St", "Dublin", "", "D02 VF65", "IRL"),
        attributes=(("Birthday", "1979-12-24"), ("Loyalty tier", "Bronze")),
    ),
    # Invalid on purpose: the store typed a customer group HQ does not know.
    _person(
        ("S0001", "Harold", "Whitaker", "harold.whitaker@example.com", "+1 713 555 0166"),
        ("delivery", "700 Louisiana St", "Houston", "TX", "77002", "USA"),
        group="PLATINUM",
    ),
    # Seattle (S0002, async profile)
    _person(
        ("S0002", "Søren", "Østergaard", "soren.ostergaard@example.dk", "+45 33 12 34 56"),
        ("delivery", "Strøget 18", "København", "", "1160", "DNK"),
        attributes=(("Newsletter", True),),
        language="da-dk",
    ),
    _person(
        ("S0002", "Björk", "Guðmundsdóttir", "bjork.g@example.is", "+354 555 1234"),
        ("delivery", "Laugavegur 30", "Reykjavík", "", "101", "ISL"),
        attributes=(("Loyalty tier", "Gold"), ("Preferred name", "Björk")),
    ),
    _person(
        ("S0002", "Lan", "Nguyễn Thị", "lan.nguyen@example.com", "+1 206 555 0150"),
        ("delivery", "1225 S Jackson St", "Seattle", "WA", "98144", "USA"),
        ("invoice", "PO Box 3344", "Seattle", "WA", "98114", "USA"),
        attributes=(("Household size", 3), ("Birthday", "1990-02-28")),
        affiliations=("Loyalty club",),
    ),
    _person(
        ("S0002", "민준", "김", "minjun.kim@example.kr", "+82 2 123 4567"),
        ("delivery", "세종대로 110", "서울", "", "04524", "KOR"),
        language="ko",
    ),
    _organization(
        ("S0002", "Rainier Outfitters Inc.", "buying@rainier.example.com", "+1 206 555 0188"),
        ("business", "222 Yale Ave N", "Seattle", "WA", "98109", "USA"),
        ("delivery", "3600 E Marginal Way S", "Seattle", "WA", "98134", "USA"),
        attributes=(("Credit limit", "50000.00"),),
    ),
    _organization(
        ("S0002", "Café Olé Seattle", "manager@cafeole.example.com", "+1 206 555 0133"),
        ("business", "1912 Pike Pl", "Seattle", "WA", "98101", "USA"),
        attributes=(("Newsletter", False),),
    ),
    _person(
        ("S0002", "Renée", "Dubois", "renee.dubois@example.ca", "+1 514 555 0100"),
        ("delivery", "1455 rue Peel", "Montréal", "QC", "H3A 1T5", "CAN"),
        language="fr-ca",
    ),
    _person(
        ("S0002", "Siobhán", "Kelly", "siobhan.kelly@example.com", "+1 206 555 0111"),
        ("delivery", "401 Broadway E", "Seattle", "WA", "98102", "USA"),
        attributes=(("Birthday", "1958-05-09"),),
        affiliations=("Seniors",),
    ),
    _person(
        ("S0002", "Ana", "Ćosić", "ana.cosic@example.hr", "+385 1 234 5678"),
        ("delivery", "Ilica 15", "Zagreb", "", "10000", "HRV"),
        attributes=(("Loyalty tier", "Silver"),),
    ),
    _person(
        ("S0002", "Mårten", "Åkesson", "marten.akesson@example.se", "+46 8 123 456 78"),
        ("delivery", "Drottninggatan 53", "Stockholm", "", "111 21", "SWE"),
        affiliations=("Employees",),
        group="STAFF",
        language="sv-se",
    ),
    # Invalid on purpose: "XXL" is no ISO 3166-1 alpha-3 country.
    _person(
        ("S0002", "Zoltán", "Kovács", "zoltan.kovacs@example.hu", "+36 1 234 5678"),
        ("delivery", "Andrássy út 60", "Budapest", "", "1062", "XXL"),
        language="hu-hu",
    ),
    # Invalid on purpose: "Diamond" is not among the loyalty tiers.
    _person(
        ("S0002", "Ayşe", "Yılmaz", "ayse.yilmaz@example.com.tr", "+90 212 555 1234"),
        ("delivery", "İstiklal Cd. 100", "İstanbul", "", "34430", "TUR"),
        attributes=(("Loyalty tier", "Diamond"),),
        language="tr-tr",
    ),
    # Possible duplicates of existing customers (R12), one of each kind. Karen Berg
    # (C000101) signs up again in Seattle: the same email in other letter case.
    _person(
        ("S0002", "Karen", "Berg", "Karen.Berg@EXAMPLE.com", "+1 206 555 0143"),
        ("delivery", "1100 Eastlake Ave E", "Seattle", "WA", "98109", "USA"),
    ),
    # Fabrikam Outdoor Supply (C000102) buys in Houston: its phone, typed without the
    # country code (read with the address's country).
    _organization(
        ("S0001", "Fabrikam Outdoor", "store@fabrikam-outdoor.example.com", "(206) 555-0102"),
        ("business", "1500 4th Ave", "Seattle", "WA", "98101", "USA"),
    ),
    # Ingrid Sørensen (C000103) in Seattle with another email: the same name and zip.
    _person(
        ("S0002", "INGRID", "sørensen", "ingrid.s@home.example.com", "+1 206 555 0144"),
        ("home", "815 Pike St", "Seattle", "WA", "98101", "USA"),
        group="STAFF",
    ),
    # Houston Galleria (S0003, real time): created async while the store was offline.
    _person(
        ("S0003", "François", "Gagné", "francois.gagne@example.ca", "+1 418 555 0190"),
        ("delivery", "5085 Westheimer Rd Apt 12", "Houston", "TX", "77056", "USA"),
        attributes=(("Newsletter", True), ("Loyalty tier", "Bronze")),
        language="fr-ca",
    ),
    _organization(
        (
            "S0003",
            "Müller & Söhne Import GmbH",
            "import@mueller-soehne.example.de",
            "+49 40 765 4321",
        ),
        ("business", "Speicherstadt 3", "Hamburg", "HH", "20457", "DEU"),
        ("delivery", "9600 Westheimer Rd", "Houston", "TX", "77063", "USA"),
        attributes=(("Credit limit", "12000.50"),),
    ),
]


def async_customer_key(customer: DemoAsyncCustomer) -> str:
    return f"async-customer:{customer.store}:{customer.name}"


def async_address_guid(customer: DemoAsyncCustomer, index: int) -> str:
    return demo_guid(f"{async_customer_key(customer)}:address:{index}")


def async_customer_record(customer: DemoAsyncCustomer, index: int) -> dict:
    person = not customer.organization_name
    contacts = [{"type": "phone", "value": customer.phone, "primary": True}]
    if customer.work_email:
        contacts.append({"type": "email", "value": customer.work_email, "primary": False})
    created_at = FIRST_CREATED_AT + datetime.timedelta(minutes=11 * index)
    return {
        "async_id": demo_guid(async_customer_key(customer)),
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
                "async_id": async_address_guid(customer, position),
                **demo_address_fields(address, primary=position == 0),
            }
            for position, address in enumerate(customer.addresses)
        ],
        "contacts": contacts,
        "attributes": dict(customer.attributes),
        "affiliations": list(customer.affiliations),
    }


def existing_customer_address_guid(store: str, customer: str, key: str) -> str:
    """The GUID of the async address ``key`` that ``store`` added for HQ ``customer``."""
    return demo_guid(f"async-address:{store}:{customer}:{key}")


def _existing_customer_address(
    identity: tuple[str, str, str], address: tuple[str, ...], *, primary: bool = False
) -> dict:
    """An async address for an existing customer: ``identity`` is (store, HQ customer,
    the address's key)."""
    store, customer, _key = identity
    return {
        "store": store,
        "async_id": existing_customer_address_guid(*identity),
        "customer": customer,
        **demo_address_fields(address, primary=primary),
    }


# Addresses stores created in async mode for existing (synchronous) customers (R6).
ASYNC_ADDRESSES = [
    _existing_customer_address(
        ("S0001", "C000101", "lake-house"),
        ("delivery", "18 Lakeshore Dr", "Conroe", "TX", "77304", "USA"),
    ),
    _existing_customer_address(
        ("S0002", "C000102", "warehouse"),
        ("invoice", "4700 Ohio Ave S", "Seattle", "WA", "98134", "USA"),
    ),
    _existing_customer_address(
        ("S0002", "C000103", "new-home"),
        ("home", "5230 Ballard Ave NW", "Seattle", "WA", "98107", "USA"),
        primary=True,
    ),
]
