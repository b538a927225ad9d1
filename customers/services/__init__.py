"""Customer writes: creation at a store (R1, R2), HQ account creation (R4, R5, R6) and
applying HQ customers to a channel database (R1 real time, 1010).

Every function that writes names its database; channel rows are always written with
``using=alias``. Creation is batched: one call creates many customers with a fixed
number of queries, which is what lets the jobs run at the speed of bulk inserts.
"""

from __future__ import annotations

import datetime
import traceback
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from commerce.db import HQ, require_channel_alias
from commerce.models import ChannelSalesTransaction, LegalEntity, NumberSequence, Store
from customers.countries import ISO3166_ALPHA3
from customers.models import (
    ADDRESS_FIELDS,
    Address,
    AddressPurpose,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    AttributeType,
    ChannelCustomer,
    ChannelCustomerAddress,
    ContactInfo,
    ContactType,
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    CustomerGroup,
    CustomerType,
    Party,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagingStatus,
    address_values,
    display_name,
)

BULK_BATCH = settings.CONVERSION_BATCH_SIZE


class CustomerValidationError(Exception):
    """Business validation (R5) failed; ``errors`` name each field and value."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class NumberSequenceExhausted(Exception):
    pass


# --- Input shapes -----------------------------------------------------------------


@dataclass(frozen=True)
class AddressInput:
    purpose: str
    street: str
    city: str
    zip: str
    country: str
    state: str = ""
    is_primary: bool = False
    async_address_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ContactInput:
    type: str
    value: str
    is_primary: bool = False


@dataclass(frozen=True)
class CustomerInput:
    """One customer to create, whether typed at a store or staged from a channel."""

    type: str = CustomerType.PERSON
    first_name: str = ""
    last_name: str = ""
    organization_name: str = ""
    email: str = ""
    phone: str = ""
    customer_group: str = ""
    currency: str = ""
    language: str = ""
    addresses: tuple[AddressInput, ...] = ()
    contacts: tuple[ContactInput, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    affiliations: tuple[str, ...] = ()
    async_customer_id: uuid.UUID | None = None

    @property
    def name(self) -> str:
        return display_name(
            type=self.type,
            first_name=self.first_name,
            last_name=self.last_name,
            organization_name=self.organization_name,
        )


@dataclass
class ReferenceData:
    """Setup rows that validation needs, loaded once per batch (no per-row queries)."""

    groups: dict[tuple[int, str], CustomerGroup]
    attributes: dict[str, CustomerAttribute]
    affiliations: dict[str, Affiliation]

    @classmethod
    def load(cls) -> ReferenceData:
        return cls(
            groups={(g.legal_entity_id, g.code): g for g in CustomerGroup.objects.all()},
            attributes={a.name: a for a in CustomerAttribute.objects.all()},
            affiliations={a.name: a for a in Affiliation.objects.all()},
        )


# --- R2 defaults ------------------------------------------------------------------


def customer_input_with_store_defaults(*, store: Store, data: CustomerInput) -> CustomerInput:
    """R2: fill customer group, currency and language from the store's default customer."""
    default = store.default_customer
    return replace(
        data,
        type=data.type or CustomerType.PERSON,
        customer_group=data.customer_group or default.customer_group.code,
        currency=data.currency or default.currency or store.legal_entity.currency,
        language=data.language or default.language,
    )


# --- R5 validation ----------------------------------------------------------------


def _quoted(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _attribute_error(attribute: CustomerAttribute, value: Any) -> str | None:
    kind = attribute.type
    if value is None:
        return None
    if kind == AttributeType.BOOLEAN:
        return None if isinstance(value, bool) else "is not a boolean"
    if kind == AttributeType.TEXT:
        return None if isinstance(value, str) else "is not text"
    if kind == AttributeType.INTEGER:
        if isinstance(value, bool):
            return "is not an integer"
        if isinstance(value, int):
            return None
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return None
        return "is not an integer"
    if kind == AttributeType.DECIMAL:
        if isinstance(value, bool):
            return "is not a decimal"
        try:
            Decimal(str(value))
        except InvalidOperation:
            return "is not a decimal"
        return None
    if kind == AttributeType.DATE:
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            return "is not a date (YYYY-MM-DD)"
        return None
    if kind == AttributeType.CHOICE:
        if value in (attribute.choices or []):
            return None
        return "is not one of " + ", ".join(str(c) for c in attribute.choices or [])
    return f"has unknown attribute type {kind}"


def _email_is_valid(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def customer_input_errors(
    *, data: CustomerInput, legal_entity: LegalEntity, refs: ReferenceData
) -> list[str]:
    """R5: every business rule the input breaks, each naming the field and the value."""
    errors: list[str] = []
    if data.type not in CustomerType.values:
        errors.append(f"type: {_quoted(data.type)} is not person or organization")
    elif data.type == CustomerType.PERSON:
        if not data.first_name.strip():
            errors.append(f"first_name: empty name {_quoted(data.first_name)}")
        if not data.last_name.strip():
            errors.append(f"last_name: empty name {_quoted(data.last_name)}")
    elif not data.organization_name.strip():
        errors.append(f"organization_name: empty name {_quoted(data.organization_name)}")
    if (legal_entity.pk, data.customer_group) not in refs.groups:
        errors.append(
            f"customer_group: unknown customer group {_quoted(data.customer_group)} "
            f"in legal entity {legal_entity.code}"
        )
    if len(data.currency) != 3 or not data.currency.isalpha():
        errors.append(f"currency: invalid currency code {_quoted(data.currency)}")
    if data.email and not _email_is_valid(data.email):
        errors.append(f"email: malformed email {_quoted(data.email)}")
    for index, address in enumerate(data.addresses):
        errors.extend(address_input_errors(address=address, prefix=f"addresses[{index}]."))
    for index, contact in enumerate(data.contacts):
        where = f"contacts[{index}]"
        if contact.type not in ContactType.values:
            errors.append(f"{where}.type: unknown contact type {_quoted(contact.type)}")
        elif contact.type == ContactType.EMAIL and not _email_is_valid(contact.value):
            errors.append(f"{where}.value: malformed email {_quoted(contact.value)}")
        elif not contact.value.strip():
            errors.append(f"{where}.value: empty contact {_quoted(contact.value)}")
    for name, value in data.attributes.items():
        attribute = refs.attributes.get(name)
        if attribute is None:
            errors.append(f"attributes.{name}: unknown attribute {_quoted(name)}")
            continue
        problem = _attribute_error(attribute, value)
        if problem:
            errors.append(f"attributes.{name}: {_quoted(value)} {problem}")
    for name in data.affiliations:
        if name not in refs.affiliations:
            errors.append(f"affiliations: unknown affiliation {_quoted(name)}")
    return errors


def address_input_errors(*, address: AddressInput, prefix: str = "") -> list[str]:
    errors = []
    if address.purpose not in AddressPurpose.values:
        errors.append(f"{prefix}purpose: unknown address purpose {_quoted(address.purpose)}")
    for name in ("street", "city", "zip"):
        value = getattr(address, name)
        if not (value or "").strip():
            errors.append(f"{prefix}{name}: empty {name} {_quoted(value)}")
    if address.country not in ISO3166_ALPHA3:
        errors.append(f"{prefix}country: invalid country code {_quoted(address.country)}")
    return errors


# --- Account numbers (R4) ---------------------------------------------------------


def account_numbers_allocate(*, legal_entity_id: int, count: int) -> list[str]:
    """Take ``count`` account numbers from the legal entity's sequence.

    Locks the sequence row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE
    write lock), skips numbers an existing account already uses (one imported with
    the same prefix), and advances the sequence. Numbers not used by the caller are
    simply lost: the sequence is non-continuous. Safe under concurrency.
    """
    if count <= 0:
        return []
    with transaction.atomic(using=HQ):
        sequence = NumberSequence.objects.select_for_update().get(legal_entity_id=legal_entity_id)
        limit = 10**sequence.digits
        numbers: list[str] = []
        next_number = sequence.next_number
        while len(numbers) < count:
            wanted = count - len(numbers)
            if next_number + wanted > limit:
                raise NumberSequenceExhausted(
                    f"customer number sequence of legal entity {legal_entity_id} is exhausted "
                    f"({sequence.format(limit - 1)})"
                )
            candidates = [sequence.format(n) for n in range(next_number, next_number + wanted)]
            taken = set(
                Customer.objects.filter(legal_entity_id=legal_entity_id, account__in=candidates)
                .order_by()
                .values_list("account", flat=True)
            )
            numbers.extend(c for c in candidates if c not in taken)
            next_number += wanted
        sequence.next_number = next_number
        sequence.save(update_fields=["next_number"])
    return numbers


def location_id_for(async_address_id: uuid.UUID | None) -> str:
    """Location ids of converted addresses derive from their GUID, so a re-run agrees."""
    source = async_address_id or uuid.uuid4()
    return f"LOC-{source.hex[:20].upper()}"


# --- HQ creation (R1 real time, R4) -------------------------------------------------


def customers_create(
    *,
    legal_entity: LegalEntity,
    inputs: Sequence[CustomerInput],
    refs: ReferenceData,
    accounts: Sequence[str] | None = None,
) -> list[Customer]:
    """Create party, customer, addresses, contacts, attributes and affiliations for
    already-validated inputs, with a fixed number of queries per batch.

    Runs in one HQ transaction: all of the batch or nothing. Not idempotent by itself:
    the unique async GUID makes a second creation of the same async customer fail
    with IntegrityError, which callers treat as "already created".
    """
    if not inputs:
        return []
    with transaction.atomic(using=HQ):
        if accounts is None:
            accounts = account_numbers_allocate(legal_entity_id=legal_entity.pk, count=len(inputs))
        parties = Party.objects.bulk_create(
            [
                Party(
                    type=data.type,
                    name=data.name,
                    first_name=data.first_name,
                    last_name=data.last_name,
                    organization_name=data.organization_name,
                )
                for data in inputs
            ],
            batch_size=BULK_BATCH,
        )
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    legal_entity=legal_entity,
                    account=account,
                    party=party,
                    customer_group=refs.groups[(legal_entity.pk, data.customer_group)],
                    currency=data.currency,
                    language=data.language,
                    email=data.email,
                    phone=data.phone,
                    async_customer_id=data.async_customer_id,
                )
                for data, party, account in zip(inputs, parties, accounts, strict=True)
            ],
            batch_size=BULK_BATCH,
        )
        addresses, contacts, values, affiliations = [], [], [], []
        for data, party, customer in zip(inputs, parties, customers, strict=True):
            primary_index = next(
                (i for i, a in enumerate(data.addresses) if a.is_primary),
                0 if data.addresses else None,
            )
            for index, address in enumerate(data.addresses):
                addresses.append(
                    Address(
                        party=party,
                        location_id=location_id_for(address.async_address_id),
                        purpose=address.purpose,
                        street=address.street,
                        city=address.city,
                        state=address.state or "",
                        zip=address.zip,
                        country=address.country,
                        is_primary=index == primary_index,
                        async_address_id=address.async_address_id,
                    )
                )
            seen_contacts = set()
            for contact in data.contacts:
                key = (contact.type, contact.value)
                if key not in seen_contacts:
                    seen_contacts.add(key)
                    contacts.append(
                        ContactInfo(
                            party=party,
                            type=contact.type,
                            value=contact.value,
                            is_primary=contact.is_primary,
                        )
                    )
            for name, value in data.attributes.items():
                values.append(
                    CustomerAttributeValue(
                        customer=customer, attribute=refs.attributes[name], value=value
                    )
                )
            for name in dict.fromkeys(data.affiliations):
                affiliations.append(
                    CustomerAffiliation(customer=customer, affiliation=refs.affiliations[name])
                )
        Address.objects.bulk_create(addresses, batch_size=BULK_BATCH)
        ContactInfo.objects.bulk_create(contacts, batch_size=BULK_BATCH)
        CustomerAttributeValue.objects.bulk_create(values, batch_size=BULK_BATCH)
        CustomerAffiliation.objects.bulk_create(affiliations, batch_size=BULK_BATCH)
    return customers


# --- Channel side: async creation and applying HQ customers -------------------------


def async_customer_create(
    *, alias: str, store_number: str, data: CustomerInput, created_at=None
) -> AsyncCustomer:
    """R1 async path: the customer exists only in the channel database, "Pending sync"."""
    require_channel_alias(alias)
    with transaction.atomic(using=alias):
        customer = AsyncCustomer.objects.using(alias).create(
            async_customer_id=data.async_customer_id or uuid.uuid4(),
            store_number=store_number,
            type=data.type,
            first_name=data.first_name,
            last_name=data.last_name,
            organization_name=data.organization_name,
            email=data.email,
            phone=data.phone,
            customer_group=data.customer_group,
            currency=data.currency,
            language=data.language,
            created_at=created_at or timezone.now(),
        )
        AsyncCustomerAddress.objects.using(alias).bulk_create(
            [
                AsyncCustomerAddress(
                    async_customer=customer,
                    async_address_id=a.async_address_id or uuid.uuid4(),
                    **address_values(a),
                )
                for a in data.addresses
            ]
        )
        AsyncCustomerContact.objects.using(alias).bulk_create(
            [
                AsyncCustomerContact(
                    async_customer=customer, type=c.type, value=c.value, is_primary=c.is_primary
                )
                for c in data.contacts
            ]
        )
        AsyncCustomerAttributeValue.objects.using(alias).bulk_create(
            [
                AsyncCustomerAttributeValue(async_customer=customer, name=name, value=value)
                for name, value in data.attributes.items()
            ]
        )
        AsyncCustomerAffiliation.objects.using(alias).bulk_create(
            [
                AsyncCustomerAffiliation(async_customer=customer, name=name)
                for name in dict.fromkeys(data.affiliations)
            ]
        )
    return customer


def _chunks(items: Sequence, size: int = BULK_BATCH) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


CHANNEL_CUSTOMER_FIELDS = [
    "type",
    "name",
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "customer_group",
    "currency",
    "language",
    "async_customer_id",
    "hq_version",
]


def channel_customers_apply(*, alias: str, payloads: Sequence[dict]) -> dict[str, int]:
    """Write HQ customers (``customers.selectors.customer_payloads``) to a channel database.

    Upserts the store's copies and their addresses, links async customers and async
    addresses to their account numbers and location ids, and gives transactions that
    referenced an async customer its account number. Idempotent (applying the same
    payloads again writes the same rows). Runs in one channel transaction; callers
    apply a channel's payloads in order (1010 runs one session at a time per channel).
    """
    require_channel_alias(alias)
    counts = {"customers": 0, "addresses": 0, "linked_customers": 0, "linked_addresses": 0}
    if not payloads:
        return counts
    now = timezone.now()
    with transaction.atomic(using=alias):
        # One upsert on (legal entity, account). Payloads never go backwards: a
        # channel's download sessions are applied one at a time and once each.
        copies = ChannelCustomer.objects.using(alias).bulk_create(
            [
                ChannelCustomer(
                    legal_entity=p["legal_entity"],
                    account=p["account"],
                    hq_version=p["version"],
                    **{name: p[name] for name in CHANNEL_CUSTOMER_FIELDS if name != "hq_version"},
                )
                for p in payloads
            ],
            batch_size=BULK_BATCH,
            update_conflicts=True,
            unique_fields=["legal_entity", "account"],
            update_fields=CHANNEL_CUSTOMER_FIELDS,
        )
        changed = list(zip(copies, payloads, strict=True))
        addresses = ChannelCustomerAddress.objects.using(alias)
        new_addresses = [
            ChannelCustomerAddress(
                customer=row,
                location_id=a["location_id"],
                async_address_id=a.get("async_address_id"),
                **{name: a[name] for name in ADDRESS_FIELDS},
            )
            for row, payload in changed
            for a in payload["addresses"]
        ]
        # Replace the copies' addresses; a location id may also have moved between
        # customers, so free those too. One DELETE for both.
        addresses.filter(
            Q(customer_id__in=[row.pk for row in copies])
            | Q(location_id__in=[a.location_id for a in new_addresses])
        ).delete()
        addresses.bulk_create(new_addresses, batch_size=BULK_BATCH)
        counts["customers"] = len(changed)
        counts["addresses"] = len(new_addresses)
        counts.update(_channel_link_async(alias=alias, copies=copies, now=now))
    return counts


def _update_from_copies(
    *,
    alias: str,
    target,
    key: str,
    source,
    source_ids: Sequence[int],
    id_column: str,
    assignments: dict[str, str],
    null_column: str,
    now=None,
) -> int:
    """UPDATE target FROM source: one statement joining on the GUID column ``key``,
    restricted to the source rows just written (``id_column`` in ``source_ids``), only
    where ``null_column`` is still empty. ``assignments`` maps target column -> source
    column; ``now`` also sets ``synchronized_at``. A join, not a correlated subquery
    per row: PostgreSQL and SQLite (3.33+) both plan it as one pass."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    t, src = quote(target._meta.db_table), quote(source._meta.db_table)
    sets = [f"{quote(column)} = s.{quote(value)}" for column, value in assignments.items()]
    params: list = []
    if now is not None:
        sets.append(f"{quote('synchronized_at')} = %s")
        params.append(target._meta.get_field("synchronized_at").get_db_prep_value(now, connection))
    if connection.vendor == "postgresql":
        restrict, restrict_params = f"s.{quote(id_column)} = ANY(%s)", [list(source_ids)]
    else:
        restrict = f"s.{quote(id_column)} IN ({', '.join(['%s'] * len(source_ids))})"
        restrict_params = list(source_ids)
    sql = (
        f"UPDATE {t} SET {', '.join(sets)} FROM {src} AS s "
        f"WHERE s.{quote(key)} = {t}.{quote(key)} AND {t}.{quote(null_column)} IS NULL "
        f"AND {restrict}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + restrict_params)
        return cursor.rowcount


def _channel_link_async(*, alias: str, copies: Sequence[ChannelCustomer], now) -> dict[str, int]:
    """Link async customers, their transactions and async addresses to the copies just
    written: four set-based UPDATEs joined on the GUIDs (no per-row round trips)."""
    copy_ids = [copy.pk for copy in copies if copy.async_customer_id]
    linked_customers = linked_addresses = 0
    if copy_ids:
        linked_customers = _update_from_copies(
            alias=alias,
            target=AsyncCustomer,
            key="async_customer_id",
            source=ChannelCustomer,
            source_ids=copy_ids,
            id_column="id",
            assignments={"account": "account"},
            null_column="account",
            now=now,
        )
        _update_from_copies(
            alias=alias,
            target=ChannelSalesTransaction,
            key="async_customer_id",
            source=ChannelCustomer,
            source_ids=copy_ids,
            id_column="id",
            assignments={"customer_account": "account"},
            null_column="customer_account",
        )
    all_ids = [copy.pk for copy in copies]
    for target, now_or_none in ((AsyncCustomerAddress, None), (AsyncAddress, now)):
        linked_addresses += _update_from_copies(
            alias=alias,
            target=target,
            key="async_address_id",
            source=ChannelCustomerAddress,
            source_ids=all_ids,
            id_column="customer_id",
            assignments={"location_id": "location_id"},
            null_column="location_id",
            now=now_or_none,
        )
    return {"linked_customers": linked_customers, "linked_addresses": linked_addresses}


# --- R1: creating a customer at a store ----------------------------------------------


@dataclass(frozen=True)
class StoreCustomerResult:
    mode: str  # "async" or "real_time"
    async_customer: AsyncCustomer | None = None
    customer: Customer | None = None

    @property
    def account(self) -> str | None:
        return self.customer.account if self.customer else None


def customer_create_at_store(*, store: Store, data: CustomerInput) -> StoreCustomerResult:
    """R1: create a customer the way the store's profile and connectivity say.

    Async (profile flag, or the store is offline): an async customer with a GUID in
    the store's channel database. Otherwise a real-time call: the HQ account is
    created at once (R5 validation applies; CustomerValidationError on failure) and
    written to the store's channel database. R2 defaults apply on both paths.
    """
    from customers.selectors import customer_payloads

    store = Store.objects.select_related(
        "legal_entity",
        "channel_database",
        "functionality_profile",
        "default_customer__customer_group",
    ).get(pk=store.pk)
    data = customer_input_with_store_defaults(store=store, data=data)
    alias = store.channel_database.alias
    if store.creates_customers_async:
        customer = async_customer_create(alias=alias, store_number=store.number, data=data)
        return StoreCustomerResult(mode="async", async_customer=customer)
    refs = ReferenceData.load()
    errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=refs)
    if errors:
        raise CustomerValidationError(errors)
    (customer,) = customers_create(legal_entity=store.legal_entity, inputs=[data], refs=refs)
    channel_customers_apply(alias=alias, payloads=customer_payloads(customer_ids=[customer.pk]))
    return StoreCustomerResult(mode="real_time", customer=customer)


# --- R4, R5, R6: creating HQ records from staging ------------------------------------


@dataclass
class StagedOutcome:
    staged_id: int
    account: str = ""
    location_id: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def staged_customer_input(*, staged: StagedAsyncCustomer, store: Store) -> CustomerInput:
    """The staged record (children prefetched) as creation input, with R2 defaults."""
    data = CustomerInput(
        type=staged.type,
        first_name=staged.first_name,
        last_name=staged.last_name,
        organization_name=staged.organization_name,
        email=staged.email,
        phone=staged.phone,
        customer_group=staged.customer_group,
        currency=staged.currency,
        language=staged.language,
        addresses=tuple(
            AddressInput(
                **address_values(a),
                async_address_id=a.async_address_id,
            )
            for a in staged.addresses.all()
        ),
        contacts=tuple(
            ContactInput(type=c.type, value=c.value, is_primary=c.is_primary)
            for c in staged.contacts.all()
        ),
        attributes={v.name: v.value for v in staged.attribute_values.all()},
        affiliations=tuple(a.name for a in staged.affiliations.all()),
        async_customer_id=staged.async_customer_id,
    )
    return customer_input_with_store_defaults(store=store, data=data)


STAGED_CUSTOMER_PREFETCH = ["addresses", "contacts", "attribute_values", "affiliations"]


def _stores_by_number(numbers: Iterable[str]) -> dict[str, Store]:
    return {
        s.number: s
        for s in Store.objects.filter(number__in=set(numbers)).select_related(
            "legal_entity", "default_customer__customer_group"
        )
    }


def _create_or_fall_back(
    *,
    legal_entity: LegalEntity,
    pending: list[tuple[StagedAsyncCustomer, CustomerInput]],
    refs: ReferenceData,
    outcomes: dict[int, StagedOutcome],
) -> None:
    """Create a legal entity's valid records in one savepoint; if the batch fails (a
    GUID created meanwhile, an unexpected row), retry record by record so one bad
    record never stops the others."""
    try:
        with transaction.atomic(using=HQ):
            created = customers_create(
                legal_entity=legal_entity, inputs=[data for _, data in pending], refs=refs
            )
        for (staged, _), customer in zip(pending, created, strict=True):
            outcomes[staged.pk] = StagedOutcome(staged.pk, account=customer.account)
        return
    except Exception:
        if len(pending) > 1:
            for item in pending:
                _create_or_fall_back(
                    legal_entity=legal_entity, pending=[item], refs=refs, outcomes=outcomes
                )
            return
    staged, _data = pending[0]
    existing = Customer.objects.filter(async_customer_id=staged.async_customer_id).first()
    if existing is not None:
        outcomes[staged.pk] = StagedOutcome(staged.pk, account=existing.account)
        return
    outcomes[staged.pk] = StagedOutcome(
        staged.pk,
        error=f"unexpected error: {traceback.format_exc(limit=1).strip().splitlines()[-1]}",
    )


def staged_customers_create(
    *, staged_rows: Sequence[StagedAsyncCustomer], refs: ReferenceData | None = None
) -> list[StagedOutcome]:
    """R4/R5: create the HQ customer of each staged async customer and mark the staged
    row completed (with the account) or failed (with the reason); attempts counted.

    Call inside an HQ transaction that holds the staged rows' locks, with the children
    prefetched (``STAGED_CUSTOMER_PREFETCH``). Safe to re-run: a GUID that already has
    an HQ customer is completed with that account, never created twice.
    """
    if not staged_rows:
        return []
    refs = refs or ReferenceData.load()
    stores = _stores_by_number(s.store_number for s in staged_rows)
    existing = dict(
        Customer.objects.filter(async_customer_id__in=[s.async_customer_id for s in staged_rows])
        .order_by()
        .values_list("async_customer_id", "account")
    )
    outcomes: dict[int, StagedOutcome] = {}
    by_legal_entity: dict[int, tuple[LegalEntity, list]] = {}
    for staged in staged_rows:
        if staged.async_customer_id in existing:
            outcomes[staged.pk] = StagedOutcome(
                staged.pk, account=existing[staged.async_customer_id]
            )
            continue
        store = stores.get(staged.store_number)
        if store is None:
            outcomes[staged.pk] = StagedOutcome(
                staged.pk, error=f'store_number: unknown store "{staged.store_number}"'
            )
            continue
        data = staged_customer_input(staged=staged, store=store)
        errors = customer_input_errors(data=data, legal_entity=store.legal_entity, refs=refs)
        if errors:
            outcomes[staged.pk] = StagedOutcome(staged.pk, error="; ".join(errors))
            continue
        by_legal_entity.setdefault(store.legal_entity_id, (store.legal_entity, []))[1].append(
            (staged, data)
        )
    for legal_entity, pending in by_legal_entity.values():
        _create_or_fall_back(
            legal_entity=legal_entity, pending=pending, refs=refs, outcomes=outcomes
        )
    _staged_mark(model=StagedAsyncCustomer, rows=staged_rows, outcomes=outcomes)
    return [outcomes[s.pk] for s in staged_rows]


def _staged_mark(*, model, rows: Sequence, outcomes: dict[int, StagedOutcome]) -> None:
    """Record outcomes with set-based UPDATEs: completed rows take their account (or
    location id) from the HQ record just created, matched on the GUID's unique index;
    only failed rows, each with its own message, are updated one by one in bulk."""
    now = timezone.now()
    completed = [row.pk for row in rows if outcomes[row.pk].ok]
    failed = [row for row in rows if not outcomes[row.pk].ok]
    # .order_by(): the models' default ordering would add a join and a sort to every
    # correlated lookup; the GUID is unique, so there is nothing to order.
    address_by_guid = Address.objects.filter(async_address_id=OuterRef("async_address_id"))
    address_by_guid = Subquery(address_by_guid.order_by().values("location_id")[:1])
    if model is StagedAsyncCustomer:
        source = Customer.objects.filter(async_customer_id=OuterRef("async_customer_id"))
        result = {"account": Subquery(source.order_by().values("account")[:1])}
    else:
        result = {"location_id": address_by_guid}
    if completed:
        model.objects.filter(pk__in=completed).update(
            status=StagingStatus.COMPLETED,
            last_error="",
            attempts=F("attempts") + 1,
            processed_at=now,
            **result,
        )
        if model is StagedAsyncCustomer:
            StagedAsyncCustomerAddress.objects.filter(staged_customer_id__in=completed).update(
                location_id=address_by_guid
            )
    for row in failed:
        row.status = StagingStatus.FAILED
        row.last_error = outcomes[row.pk].error
        row.attempts += 1
        row.processed_at = now
    model.objects.bulk_update(
        failed, ["status", "last_error", "attempts", "processed_at"], batch_size=BULK_BATCH
    )
    for row in rows:
        if outcomes[row.pk].ok:
            row.status = StagingStatus.COMPLETED
            row.attempts += 1
            row.processed_at = now
            if model is StagedAsyncCustomer:
                row.account = outcomes[row.pk].account
            else:
                row.location_id = outcomes[row.pk].location_id


def staged_addresses_create(*, staged_rows: Sequence[StagedAsyncAddress]) -> list[StagedOutcome]:
    """R6: each staged async address becomes an HQ address of its existing customer
    (primary if the store asked so); the customer's version rises so 1010 sends it.

    Call inside an HQ transaction holding the rows' locks. Safe to re-run: an address
    whose GUID HQ already has is completed with its location id.
    """
    if not staged_rows:
        return []
    stores = _stores_by_number(s.store_number for s in staged_rows)
    accounts = {s.customer_account for s in staged_rows}
    customers = {
        (c.legal_entity_id, c.account): c
        for c in Customer.objects.filter(account__in=accounts)
        .order_by()
        .only("pk", "legal_entity_id", "account", "party_id")
    }
    existing = dict(
        Address.objects.filter(async_address_id__in=[s.async_address_id for s in staged_rows])
        .order_by()
        .values_list("async_address_id", "location_id")
    )
    outcomes: dict[int, StagedOutcome] = {}
    new_addresses: list[Address] = []
    primary_for_party: dict[int, Address] = {}
    touched_customers: set[int] = set()
    for staged in staged_rows:
        if staged.async_address_id in existing:
            outcomes[staged.pk] = StagedOutcome(
                staged.pk, location_id=existing[staged.async_address_id]
            )
            continue
        store = stores.get(staged.store_number)
        if store is None:
            outcomes[staged.pk] = StagedOutcome(
                staged.pk, error=f'store_number: unknown store "{staged.store_number}"'
            )
            continue
        customer = customers.get((store.legal_entity_id, staged.customer_account))
        errors = []
        if customer is None:
            errors.append(
                f'customer_account: unknown customer "{staged.customer_account}" '
                f"in legal entity {store.legal_entity.code}"
            )
        errors += address_input_errors(
            address=AddressInput(
                purpose=staged.purpose,
                street=staged.street,
                city=staged.city,
                zip=staged.zip,
                country=staged.country,
            )
        )
        if errors:
            outcomes[staged.pk] = StagedOutcome(staged.pk, error="; ".join(errors))
            continue
        address = Address(
            party_id=customer.party_id,
            location_id=location_id_for(staged.async_address_id),
            purpose=staged.purpose,
            street=staged.street,
            city=staged.city,
            state=staged.state,
            zip=staged.zip,
            country=staged.country,
            is_primary=False,
            async_address_id=staged.async_address_id,
        )
        if staged.is_primary:
            primary_for_party[customer.party_id] = address  # the latest request wins
        new_addresses.append(address)
        touched_customers.add(customer.pk)
        outcomes[staged.pk] = StagedOutcome(staged.pk, location_id=address.location_id)
    with transaction.atomic(using=HQ):
        if primary_for_party:
            Address.objects.filter(party_id__in=list(primary_for_party), is_primary=True).update(
                is_primary=False
            )
            for address in primary_for_party.values():
                address.is_primary = True
        Address.objects.bulk_create(new_addresses, batch_size=BULK_BATCH)
        if touched_customers:
            Customer.objects.filter(pk__in=list(touched_customers)).update(
                version=F("version") + 1, modified_at=timezone.now()
            )
        _staged_mark(model=StagedAsyncAddress, rows=staged_rows, outcomes=outcomes)
    return [outcomes[s.pk] for s in staged_rows]


def staged_records_retry(*, model, ids: Sequence[int]) -> int:
    """Put failed staged records back to pending so the next job run tries them again."""
    return model.objects.filter(pk__in=list(ids), status=StagingStatus.FAILED).update(
        status=StagingStatus.PENDING
    )


# --- Resolving what a transaction references (R8, R9 receivers) ---------------------


class TransactionResolutionError(Exception):
    pass


def async_customer_resolve(*, async_customer_id: uuid.UUID) -> str:
    """The account of an async customer, creating it now from staging if HQ has not.

    Locks the staged row (waiting for a job that holds it), so the customer is created
    exactly once whoever gets there first. Uses ``staged_customers_create``, the job's
    own service. Raises TransactionResolutionError with the reason.
    """
    with transaction.atomic(using=HQ):
        staged = (
            StagedAsyncCustomer.objects.select_for_update()
            .prefetch_related(*STAGED_CUSTOMER_PREFETCH)
            .filter(async_customer_id=async_customer_id)
            .first()
        )
        if staged is None:
            existing = Customer.objects.filter(async_customer_id=async_customer_id).first()
            if existing is not None:
                return existing.account
            raise TransactionResolutionError(
                f"async customer {async_customer_id} has not been uploaded to HQ yet"
            )
        if staged.status == StagingStatus.COMPLETED:
            return staged.account
        (outcome,) = staged_customers_create(staged_rows=[staged])
    if not outcome.ok:
        raise TransactionResolutionError(f"async customer {async_customer_id}: {outcome.error}")
    return outcome.account


def async_address_resolve(*, async_address_id: uuid.UUID) -> str:
    """The location id of an async address, creating it now from staging if needed."""
    existing = Address.objects.filter(async_address_id=async_address_id).first()
    if existing is not None:
        return existing.location_id
    with transaction.atomic(using=HQ):
        staged = (
            StagedAsyncAddress.objects.select_for_update()
            .filter(async_address_id=async_address_id)
            .first()
        )
        if staged is not None:
            if staged.status == StagingStatus.COMPLETED:
                return staged.location_id
            (outcome,) = staged_addresses_create(staged_rows=[staged])
            if not outcome.ok:
                raise TransactionResolutionError(
                    f"async address {async_address_id}: {outcome.error}"
                )
            return outcome.location_id
    owner = (
        StagedAsyncCustomerAddress.objects.filter(async_address_id=async_address_id)
        .values_list("staged_customer__async_customer_id", flat=True)
        .first()
    )
    if owner is None:
        raise TransactionResolutionError(
            f"async address {async_address_id} has not been uploaded to HQ yet"
        )
    async_customer_resolve(async_customer_id=owner)
    return Address.objects.get(async_address_id=async_address_id).location_id


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def transaction_customer_resolve(*, transaction, delivery: bool) -> None:
    """Give an HQ sales transaction real HQ references: the account of its (async)
    customer and, with ``delivery``, the location id of its delivery address. Saves
    the transaction. Raises TransactionResolutionError naming what is missing."""
    txn = transaction
    if txn.async_customer_id and not txn.customer_account:
        txn.customer_account = async_customer_resolve(async_customer_id=txn.async_customer_id)
    elif txn.customer_account:
        if not Customer.objects.filter(
            legal_entity_id=txn.store.legal_entity_id, account=txn.customer_account
        ).exists():
            raise TransactionResolutionError(
                f'customer_account: unknown customer "{txn.customer_account}"'
            )
    if delivery and txn.delivery_address and not txn.delivery_location_id:
        guid = _as_uuid(txn.delivery_address)
        if guid is not None:
            txn.delivery_location_id = async_address_resolve(async_address_id=guid)
        elif Address.objects.filter(location_id=txn.delivery_address).exists():
            txn.delivery_location_id = txn.delivery_address
        else:
            raise TransactionResolutionError(
                f'delivery_address: unknown address "{txn.delivery_address}"'
            )
    txn.save(update_fields=["customer_account", "delivery_location_id"])
