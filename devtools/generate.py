"""Synthetic load: an organization and many async customers, written in bulk.

Used by the benchmark command and the scale and concurrency tests. Deterministic for a
given seed. Not business logic: it writes channel rows directly, as a busy store would.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from commerce.db import HQ, channel_aliases
from commerce.models import (
    ChannelDatabase,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers.models import (
    Affiliation,
    AsyncCustomer,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    Party,
)
from customers.services.children import CHANNEL_CHILDREN, children_bulk_create
from customers.services.validation import AddressInput

FIRST = ["Ona", "Jürgen", "José", "Øyvind", "Amélie", "Zoë", "Łukasz", "Saoirse", "Mia", "Noah"]
LAST = ["Šimkutė", "Müller", "Núñez", "Hansen", "Dubois", "Kowalski", "Murphy", "Smith", "Kim"]
CITIES = [("Houston", "TX", "USA"), ("Seattle", "WA", "USA"), ("Vilnius", "", "LTU")]
NAMESPACE = uuid.UUID("0b5c3f7e-6d2a-4a8e-9f1c-2b7d9e4a6c10")


@dataclass(frozen=True)
class GeneratedOrganization:
    legal_entity: str
    stores: list[tuple[str, str]]  # (store number, channel alias)


def organization_generate(
    *, stores: int = 4, channel_databases: int | None = None
) -> GeneratedOrganization:
    """Legal entity LOAD, setup data and ``stores`` async stores spread over the channels."""
    aliases = channel_aliases()[: channel_databases or None]
    with transaction.atomic(using=HQ):
        legal_entity, _ = LegalEntity.objects.get_or_create(
            code="LOAD", defaults={"name": "Load Test Retail", "currency": "USD"}
        )
        NumberSequence.objects.get_or_create(
            legal_entity=legal_entity, defaults={"prefix": "L", "digits": 8}
        )
        group, _ = CustomerGroup.objects.get_or_create(
            legal_entity=legal_entity, code="RETAIL", defaults={"name": "Retail"}
        )
        CustomerAttribute.objects.get_or_create(name="Newsletter", defaults={"type": "boolean"})
        CustomerAttribute.objects.get_or_create(
            name="Tier", defaults={"type": "choice", "choices": ["Silver", "Gold"]}
        )
        Affiliation.objects.get_or_create(name="Employees")
        profile, _ = FunctionalityProfile.objects.get_or_create(
            code="ASYNC", defaults={"create_customer_in_async_mode": True}
        )
        default = Customer.objects.filter(legal_entity=legal_entity, account="L00000000").first()
        if default is None:
            party = Party.objects.create(
                type="person", name="Walk-in Customer", first_name="Walk-in", last_name="Customer"
            )
            default = Customer.objects.create(
                legal_entity=legal_entity,
                account="L00000000",
                party=party,
                customer_group=group,
                currency="USD",
                language="en-us",
            )
        channels = []
        for index, alias in enumerate(aliases):
            channel, _ = ChannelDatabase.objects.get_or_create(
                alias=alias, defaults={"name": f"LOAD{index + 1}"}
            )
            channels.append(channel)
        made = []
        for index in range(stores):
            channel = channels[index % len(channels)]
            store, _ = Store.objects.get_or_create(
                number=f"L{index + 1:03d}",
                defaults={
                    "name": f"Load store {index + 1}",
                    "legal_entity": legal_entity,
                    "channel_database": channel,
                    "functionality_profile": profile,
                    "default_customer": default,
                },
            )
            made.append((store.number, store.channel_database.alias))
    return GeneratedOrganization(legal_entity=legal_entity.code, stores=made)


def async_customers_generate(
    *,
    alias: str,
    store_number: str,
    count: int,
    seed: int = 0,
    invalid_every: int = 0,
    batch_size: int = 1000,
) -> int:
    """Write ``count`` async customers (1-3 addresses, a contact, two attributes, an
    affiliation for one in three) to a channel database in bulk. With ``invalid_every``
    = k, every k-th customer has an invalid country code (HQ will reject it)."""
    rng = random.Random(f"{seed}:{store_number}")
    now = timezone.now()
    written = 0
    while written < count:
        size = min(batch_size, count - written)
        customers, children = [], []
        for offset in range(size):
            n = written + offset
            guid = uuid.uuid5(NAMESPACE, f"{seed}:{store_number}:{n}")
            first, last = rng.choice(FIRST), rng.choice(LAST)
            customer = AsyncCustomer(
                async_customer_id=guid,
                store_number=store_number,
                type="person",
                first_name=first,
                last_name=last,
                email=f"c{n}.{store_number.lower()}@example.com",
                created_at=now,
            )
            customers.append(customer)
            invalid = invalid_every and (n + 1) % invalid_every == 0
            addresses = []
            for a in range(rng.randint(1, 3)):
                city, state, country = rng.choice(CITIES)
                addresses.append(
                    dict(
                        async_address_id=uuid.uuid5(guid, f"address:{a}"),
                        purpose="delivery" if a == 0 else "invoice",
                        street=f"{n % 9999 + 1} Main St",
                        city=city,
                        state=state,
                        zip=f"{10000 + n % 89999}",
                        country="XXL" if invalid and a == 0 else country,
                        is_primary=a == 0,
                    )
                )
            children.append(
                {
                    "addresses": addresses,
                    "contacts": [{"type": "phone", "value": "+15550100", "is_primary": False}],
                    "attribute_values": [
                        {"name": "Newsletter", "value": rng.random() < 0.5},
                        {"name": "Tier", "value": "Gold"},
                    ],
                    "affiliations": [{"name": "Employees"}] if n % 3 == 0 else [],
                }
            )
        with transaction.atomic(using=alias):
            AsyncCustomer.objects.using(alias).bulk_create(customers, batch_size=batch_size)
            children_bulk_create(
                side=CHANNEL_CHILDREN,
                families=zip(customers, children, strict=True),
                using=alias,
                batch_size=batch_size,
            )
        written += size
    return written


def houston_delivery_input(
    street: str, *, async_address_id: uuid.UUID | None = None
) -> AddressInput:
    """A primary delivery address in Houston (77001, USA) for a customer a benchmark or
    a growth round creates at a store."""
    return AddressInput(
        purpose="delivery",
        street=street,
        city="Houston",
        zip="77001",
        country="USA",
        is_primary=True,
        async_address_id=async_address_id,
    )
