"""Pass 2 of an import: writes what pass 1 checked, in batches of BATCH_SIZE records.

The file is read again, section by section in README "Import files" order (one read when the file
holds its sections in that order, as ``json.dumps`` of a dict built in that order
does), and each batch is written with a few queries: ``__in`` reads in chunks,
``bulk_create``/``bulk_update``. Setup records are upserted by key; channel records
are keyed by their id, and an id already in the target channel database is skipped
and reported. An async customer's children are written through the one mapping of
``customers.services.children``.

Customer edits (R11) are written last, in a read of their own: an edit may change an
async customer anywhere in the same file, which is then already written.

The caller holds the transactions (see the package docstring); a read whose file
differs from the one checked (``digest``) raises ImportFileError, which rolls back.
"""

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from django.db import models

from commerce.models import (
    ChannelDatabase,
    ChannelSalesLine,
    ChannelSalesTransaction,
    FunctionalityProfile,
    LegalEntity,
    NumberSequence,
    Store,
)
from customers.models import (
    Address,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    ChannelRequest,
    Customer,
    CustomerAttribute,
    CustomerGroup,
    Party,
    display_name,
)
from customers.services.changes import EDITABLE_FIELDS, CustomerChanges
from customers.services.channel import store_write_announce
from customers.services.children import (
    CHANNEL_CHILDREN,
    CHILD_FIELDS,
    CUSTOMER_FIELDS,
    Children,
    children_bulk_create,
)
from customers.services.duplicates import customer_match_keys_refresh
from customers.services.requests import async_customer_changes_apply
from customers.services.validation import AddressInput

from .checks import Plan, Source, chunks, rows
from .report import ImportFileError, ImportReport, SectionCounts
from .schema import CHANNEL_LISTS, CHANNEL_SCHEMAS, SCHEMAS, SECTIONS, Rec, is_guid, parse_record

BATCH_SIZE = 1000
# The order of the report's sections, whatever order the file and batches come in.
REPORT_ORDER = (
    "legal_entities",
    "number_sequences",
    "customer_groups",
    "customer_attributes",
    "affiliations",
    "functionality_profiles",
    "channel_databases",
    "customers",
    "customer_addresses",
    "stores",
    "async_customers",
    "async_customer_addresses",
    "async_addresses",
    "transactions",
    "customer_edits",
)
# Customer edits are read last, on their own (see the module docstring).
EDITS = "customer_edits"


def import_write(*, source: Source, plan: Plan, report: ImportReport, now: dt.datetime) -> None:
    """Writes the checked file in batches, inside the caller's transactions. Safe to
    re-run: setup records are upserted by key, channel ids already present are skipped."""
    reads = [
        frozenset(kind for section in run for kind in _kinds(section))
        for run in _runs(plan.sections)
    ]
    if plan.has_edits:
        reads.append(frozenset({EDITS}))
    for want in reads:
        batches = _Batches(plan=plan, report=report, now=now)
        for kind, entry, path, value in source.items(want):
            batches.take(kind, entry, path, value)
        batches.flush()
        if source.digest != plan.digest:
            raise ImportFileError(f"{source.name}: the file changed while it was imported")
        for alias in sorted(batches.edited_aliases):
            # Freshness: the conversion picks the edits up once the alias commits.
            store_write_announce(alias=alias, sender=ChannelRequest)
    report.counts = {name: report.counts[name] for name in REPORT_ORDER if name in report.counts}


def _kinds(section: str) -> tuple[str, ...]:
    if section == "channel":
        return tuple(kind for kind in CHANNEL_LISTS if kind != EDITS)
    return (section,)


def _runs(sections: list[str]) -> list[list[str]]:
    """The file's sections in README "Import files" order, cut where the file holds them in another
    order: one read of the file per run."""
    position = {section: index for index, section in enumerate(sections)}
    runs: list[list[str]] = []
    for section in (s for s in SECTIONS if s in position):
        if runs and position[section] > position[runs[-1][-1]]:
            runs[-1].append(section)
        else:
            runs.append([section])
    return runs


class _Batches:
    """Records waiting to be written; a section's batch is written when it is full and
    before the next section's first record (sections are written in README "Import files" order)."""

    def __init__(self, *, plan: Plan, report: ImportReport, now: dt.datetime):
        self.plan = plan
        self.report = report
        self.now = now
        self.section: str | None = None
        self.setup: list[Rec] = []
        self.channel: dict[tuple[str, str], list[tuple[str, Rec]]] = {}
        self.in_place_latest: dict[tuple[str, Any], dict[str, dt.datetime]] = {}
        self.edited_aliases: set[str] = set()

    def take(self, kind: str, entry: int, path: str, value: Any) -> None:
        if kind in CHANNEL_SCHEMAS:
            store, alias = self.plan.entries[entry]
            batch = self.channel.setdefault((kind, alias), [])
            batch.append((store, parse_record(value, path, CHANNEL_SCHEMAS[kind])))
            if len(batch) >= BATCH_SIZE:
                self._write_channel(kind, alias)
            return
        if kind != self.section:
            self._write_setup()
            self.section = kind
        self.setup.append(parse_record(value, path, SCHEMAS[kind]))
        if len(self.setup) >= BATCH_SIZE:
            self._write_setup()

    def flush(self) -> None:
        self._write_setup()
        for kind, alias in sorted(self.channel, key=lambda key: CHANNEL_LISTS.index(key[0])):
            self._write_channel(kind, alias)

    def _write_setup(self) -> None:
        recs, self.setup = self.setup, []
        if recs:
            SETUP_WRITERS[self.section](recs, self.report, self.now)

    def _write_channel(self, kind: str, alias: str) -> None:
        recs = self.channel.pop((kind, alias), [])
        if not recs:
            return
        if kind == "async_customers":
            _write_async_customers(alias, recs, self.report, self.now)
        elif kind == "async_addresses":
            _write_async_addresses(alias, recs, self.report, self.now)
        elif kind == EDITS:
            _write_customer_edits(alias, recs, self.report, self.in_place_latest)
            self.edited_aliases.add(alias)
        else:
            _write_transactions(alias, recs, self.report)


# --- HQ setup records ---------------------------------------------------------------


def _apply(obj: models.Model, values: dict[str, Any]) -> list[str]:
    """Sets ``values`` on ``obj``; returns the names that changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _upsert(
    *,
    model: type[models.Model],
    rows: dict[Hashable, dict[str, Any]],
    lookup: str,
    key: Callable[[Any], Hashable],
    counts: SectionCounts,
) -> dict[Hashable, Any]:
    """Creates or updates HQ rows by key (``lookup`` narrows the read); returns key -> row."""
    found: dict[Hashable, Any] = {}
    for chunk in chunks(sorted({values[lookup] for values in rows.values()})):
        for obj in model.objects.filter(**{f"{lookup}__in": chunk}):
            if key(obj) in rows:
                found[key(obj)] = obj
    new, changed, changed_fields = [], [], set()
    for row_key, values in rows.items():
        obj = found.get(row_key)
        if obj is None:
            found[row_key] = obj = model(**values)
            new.append(obj)
        elif diff := _apply(obj, values):
            changed.append(obj)
            changed_fields.update(diff)
        else:
            counts.unchanged += 1
    model.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if changed:
        model.objects.bulk_update(changed, sorted(changed_fields), batch_size=BATCH_SIZE)
    counts.created += len(new)
    counts.updated += len(changed)
    return found


def _ids(model: type[models.Model], lookup: str, values: Iterable) -> dict[Any, int]:
    return {value: pk for value, pk in rows(model.objects, lookup, values, lookup, "pk")}


def _write_legal_entities(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = _upsert(
        model=LegalEntity,
        rows={
            rec["code"]: rec.present("code", "name", "currency", "duplicate_policy") for rec in recs
        },
        lookup="code",
        key=lambda obj: obj.code,
        counts=report.section("legal_entities"),
    )
    # The customer number sequence: prefix and digits follow the file; next_number is
    # never lowered (accounts may already have been taken from it).
    sequences = {}
    for rec in recs:
        values = {"legal_entity_id": entities[rec["code"]].pk}
        if "customer_account_prefix" in rec.values:
            values["prefix"] = rec["customer_account_prefix"]
        if "customer_account_digits" in rec.values:
            values["digits"] = rec["customer_account_digits"]
        sequences[values["legal_entity_id"]] = values
    _upsert(
        model=NumberSequence,
        rows=sequences,
        lookup="legal_entity_id",
        key=lambda obj: obj.legal_entity_id,
        counts=report.section("number_sequences"),
    )


def _write_customer_groups(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = _ids(LegalEntity, "code", {rec["legal_entity"] for rec in recs})
    groups = {}
    for rec in recs:
        values = {"legal_entity_id": entities[rec["legal_entity"]], **rec.present("code", "name")}
        groups[(values["legal_entity_id"], rec["code"])] = values
    _upsert(
        model=CustomerGroup,
        rows=groups,
        lookup="code",
        key=lambda obj: (obj.legal_entity_id, obj.code),
        counts=report.section("customer_groups"),
    )


def _by_key(section: str, model: type[models.Model], key: str, fields: tuple[str, ...]):
    def write(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
        _upsert(
            model=model,
            rows={rec[key]: rec.present(key, *fields) for rec in recs},
            lookup=key,
            key=lambda obj: getattr(obj, key),
            counts=report.section(section),
        )

    return write


def _write_customers(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = {
        code: (pk, currency)
        for code, pk, currency in rows(
            LegalEntity.objects,
            "code",
            {rec["legal_entity"] for rec in recs},
            "code",
            "pk",
            "currency",
        )
    }
    groups = {
        (le_id, code): pk
        for le_id, code, pk in rows(
            CustomerGroup.objects,
            "code",
            {rec["customer_group"] for rec in recs},
            "legal_entity_id",
            "code",
            "pk",
        )
    }
    wanted = {(entities[rec["legal_entity"]][0], rec["account"]): rec for rec in recs}
    existing: dict[tuple, Customer] = {}
    for chunk in chunks(sorted({rec["account"] for rec in recs})):
        for customer in Customer.objects.filter(account__in=chunk).select_related("party"):
            if (customer.legal_entity_id, customer.account) in wanted:
                existing[(customer.legal_entity_id, customer.account)] = customer

    counts = report.section("customers")
    new_parties, new_customers = [], []
    changed_parties, changed_customers = [], []
    party_fields, customer_fields = set(), set()
    customers: dict[tuple, Customer] = {}
    for key, rec in wanted.items():
        le_id, account = key
        party_values = rec.present("type", "first_name", "last_name", "organization_name")
        customer_values = {
            "customer_group_id": groups[(le_id, rec["customer_group"])],
            **rec.present("currency", "language", "email", "phone"),
        }
        customer = existing.get(key)
        if customer is None:
            party = Party(**party_values)
            party.name = _party_name(party)
            customer = Customer(legal_entity_id=le_id, account=account, **customer_values)
            if "currency" not in rec.values:
                customer.currency = entities[rec["legal_entity"]][1]
            new_parties.append(party)
            new_customers.append(customer)
        else:
            party_diff = _apply(customer.party, party_values)
            party_diff += _apply(customer.party, {"name": _party_name(customer.party)})
            customer_diff = _apply(customer, customer_values)
            if party_diff:
                changed_parties.append(customer.party)
                party_fields.update(party_diff)
            if party_diff or customer_diff:
                # A new version is what makes distribution (1010) send the change.
                customer.version += 1
                customer.modified_at = now
                # R11: a store's edit made before this import keeps the imported values.
                changed = {
                    "customer_group" if name == "customer_group_id" else name
                    for name in (*party_diff, *customer_diff)
                } & set(EDITABLE_FIELDS)
                customer.field_changed_at = {
                    **(customer.field_changed_at or {}),
                    **dict.fromkeys(changed, now.isoformat()),
                }
                customer_fields.update(
                    [*customer_diff, "version", "modified_at", "field_changed_at"]
                )
                changed_customers.append(customer)
            else:
                counts.unchanged += 1
        customers[key] = customer

    Party.objects.bulk_create(new_parties, batch_size=BATCH_SIZE)
    for party, customer in zip(new_parties, new_customers, strict=True):
        customer.party_id = party.pk
    Customer.objects.bulk_create(new_customers, batch_size=BATCH_SIZE)
    if changed_parties:
        Party.objects.bulk_update(changed_parties, sorted(party_fields), batch_size=BATCH_SIZE)
    if changed_customers:
        Customer.objects.bulk_update(
            changed_customers, sorted(customer_fields), batch_size=BATCH_SIZE
        )
    counts.created += len(new_customers)
    counts.updated += len(changed_customers)
    _write_customer_addresses(wanted, customers, report)
    # R12: email, phone, names and the primary address are the customers' match keys.
    customer_match_keys_refresh(customer_ids=[customer.pk for customer in customers.values()])


def _party_name(party: Party) -> str:
    return display_name(
        type=party.type,
        first_name=party.first_name,
        last_name=party.last_name,
        organization_name=party.organization_name,
    )


def _write_customer_addresses(
    wanted: dict[tuple, Rec], customers: dict[tuple, Customer], report: ImportReport
) -> None:
    addresses, primary_of_party = {}, {}
    for key, rec in wanted.items():
        party_id = customers[key].party_id
        for address in rec.get("addresses", []):
            values = {
                "party_id": party_id,
                "location_id": address["location_id"],
                **address.present("purpose", "street", "city", "state", "zip", "country"),
            }
            if "primary" in address.values:
                values["is_primary"] = address["primary"]
                if address["primary"]:
                    primary_of_party[party_id] = address["location_id"]
            addresses[address["location_id"]] = values
    if not addresses:
        return
    # One primary address per party (a constraint): demote the old primary first.
    demote = [
        pk
        for pk, party_id, location_id in rows(
            Address.objects.filter(is_primary=True),
            "party_id",
            primary_of_party,
            "pk",
            "party_id",
            "location_id",
        )
        if location_id != primary_of_party[party_id]
    ]
    for chunk in chunks(demote):
        Address.objects.filter(pk__in=chunk).update(is_primary=False)
    _upsert(
        model=Address,
        rows=addresses,
        lookup="location_id",
        key=lambda obj: obj.location_id,
        counts=report.section("customer_addresses"),
    )


def _write_stores(recs: list[Rec], report: ImportReport, now: dt.datetime) -> None:
    entities = _ids(LegalEntity, "code", {rec["legal_entity"] for rec in recs})
    databases = _ids(ChannelDatabase, "name", {rec["channel_database"] for rec in recs})
    profiles = _ids(FunctionalityProfile, "code", {rec["functionality_profile"] for rec in recs})
    customers = {
        (le_id, account): pk
        for le_id, account, pk in rows(
            Customer.objects,
            "account",
            {rec["default_customer"] for rec in recs},
            "legal_entity_id",
            "account",
            "pk",
        )
    }
    stores = {}
    for rec in recs:
        le_id = entities[rec["legal_entity"]]
        stores[rec["number"]] = {
            **rec.present("number", "name", "offline"),
            "legal_entity_id": le_id,
            "channel_database_id": databases[rec["channel_database"]],
            "functionality_profile_id": profiles[rec["functionality_profile"]],
            "default_customer_id": customers[(le_id, rec["default_customer"])],
        }
    _upsert(
        model=Store,
        rows=stores,
        lookup="number",
        key=lambda obj: obj.number,
        counts=report.section("stores"),
    )


SETUP_WRITERS: dict[str, Callable[[list[Rec], ImportReport, dt.datetime], None]] = {
    "legal_entities": _write_legal_entities,
    "customer_groups": _write_customer_groups,
    "customer_attributes": _by_key(
        "customer_attributes", CustomerAttribute, "name", ("type", "choices")
    ),
    "affiliations": _by_key("affiliations", Affiliation, "name", ("description",)),
    "functionality_profiles": _by_key(
        "functionality_profiles",
        FunctionalityProfile,
        "code",
        ("name", "create_customer_in_async_mode"),
    ),
    "channel_databases": _by_key("channel_databases", ChannelDatabase, "name", ("alias",)),
    "customers": _write_customers,
    "stores": _write_stores,
}


# --- Channel records ----------------------------------------------------------------


def _existing(model: type[models.Model], alias: str, lookup: str, values: Iterable) -> set:
    return {value for (value,) in rows(model.objects.using(alias), lookup, values, lookup)}


def _existing_address_ids(alias: str, ids: set) -> set:
    return _existing(AsyncCustomerAddress, alias, "async_address_id", ids) | _existing(
        AsyncAddress, alias, "async_address_id", ids
    )


def _child(relation: str, rec: Rec) -> dict[str, Any]:
    """One child (or an async address) in the shape of ``CHILD_FIELDS``, from its
    import record: the file says ``async_id`` and ``primary``."""
    values = {}
    for name in CHILD_FIELDS[relation]:
        if name == "async_address_id":
            values[name] = rec["async_id"]
        elif name == "is_primary":
            values[name] = rec.get("primary", False)
        elif name in rec.values:
            values[name] = rec[name]
    return values


def _children(rec: Rec, existing_addresses: set, report: ImportReport) -> Children:
    addresses = []
    for address in rec.get("addresses", []):
        if address["async_id"] in existing_addresses:
            report.skip("async_customer_addresses", address["async_id"])
        else:
            addresses.append(_child("addresses", address))
    return {
        "addresses": addresses,
        "contacts": [_child("contacts", contact) for contact in rec.get("contacts", [])],
        "attribute_values": [
            {"name": name, "value": value} for name, value in rec.get("attributes", {}).items()
        ],
        "affiliations": [{"name": name} for name in rec.get("affiliations", [])],
    }


def _write_async_customers(
    alias: str, recs: list[tuple[str, Rec]], report: ImportReport, now: dt.datetime
) -> None:
    existing = _existing(
        AsyncCustomer, alias, "async_customer_id", {r["async_id"] for _, r in recs}
    )
    address_ids = {a["async_id"] for _, r in recs for a in r.get("addresses", [])}
    existing_addresses = _existing_address_ids(alias, address_ids)
    families = []
    for store, rec in recs:
        if rec["async_id"] in existing:
            report.skip("async_customers", rec["async_id"])
            continue
        customer = AsyncCustomer(
            async_customer_id=rec["async_id"],
            store_number=store,
            created_at=rec.get("created_at", now),
            **rec.present(*CUSTOMER_FIELDS),
        )
        families.append((customer, _children(rec, existing_addresses, report)))
    AsyncCustomer.objects.using(alias).bulk_create([c for c, _ in families], batch_size=BATCH_SIZE)
    created = children_bulk_create(
        side=CHANNEL_CHILDREN, families=families, using=alias, batch_size=BATCH_SIZE
    )
    report.section("async_customers").created += len(families)
    report.section("async_customer_addresses").created += created["addresses"]


def _write_async_addresses(
    alias: str, recs: list[tuple[str, Rec]], report: ImportReport, now: dt.datetime
) -> None:
    existing = _existing_address_ids(alias, {rec["async_id"] for _, rec in recs})
    new = []
    for store, rec in recs:
        if rec["async_id"] in existing:
            report.skip("async_addresses", rec["async_id"])
            continue
        new.append(
            AsyncAddress(
                store_number=store,
                customer_account=rec["customer"],
                created_at=rec.get("created_at", now),
                **_child("addresses", rec),
            )
        )
    AsyncAddress.objects.using(alias).bulk_create(new, batch_size=BATCH_SIZE)
    report.section("async_addresses").created += len(new)


def _write_transactions(alias: str, recs: list[tuple[str, Rec]], report: ImportReport) -> None:
    # A transaction id is unique within a store: one already there for the same store
    # is skipped; the same id at another store is another sale.
    existing = set(
        rows(
            ChannelSalesTransaction.objects.using(alias),
            "transaction_id",
            {rec["id"] for _, rec in recs},
            "store_number",
            "transaction_id",
        )
    )
    new = []
    for store, rec in recs:
        if (store, rec["id"]) in existing:
            report.skip("transactions", rec["id"])
            continue
        txn = ChannelSalesTransaction(
            transaction_id=rec["id"],
            store_number=store,
            type=rec["type"],
            business_date=rec["business_date"],
            customer_account=rec.get("customer") or None,
            async_customer_id=rec.get("async_customer"),
            delivery_address=rec.get("delivery_address", ""),
        )
        new.append((txn, rec))
    ChannelSalesTransaction.objects.using(alias).bulk_create(
        [txn for txn, _ in new], batch_size=BATCH_SIZE
    )
    lines = [
        ChannelSalesLine(
            transaction_id=txn.pk,
            line_number=number,
            item=line["item"],
            quantity=line["quantity"],
            unit_price=line["unit_price"],
        )
        for txn, rec in new
        for number, line in enumerate(rec["lines"], start=1)
    ]
    ChannelSalesLine.objects.using(alias).bulk_create(lines, batch_size=BATCH_SIZE)
    report.section("transactions").created += len(new)


def _edit_changes(rec: Rec) -> CustomerChanges:
    """A customer edit of the file as the one shape of a store's change (R11)."""
    changes = rec.get("changes")
    return CustomerChanges(
        fields=dict(changes.values) if changes is not None else {},
        attributes=dict(rec.get("attributes", {})),
        affiliations=tuple(rec.get("affiliations", [])),
        addresses=tuple(
            AddressInput(
                purpose=a["purpose"],
                street=a["street"],
                city=a["city"],
                state=a.get("state", ""),
                zip=a["zip"],
                country=a["country"],
                is_primary=a.get("primary", False),
                async_address_id=a["async_id"],
            )
            for a in rec.get("addresses", [])
        ),
    )


def _write_customer_edits(
    alias: str,
    recs: list[tuple[str, Rec]],
    report: ImportReport,
    latest: dict[tuple[str, Any], dict[str, dt.datetime]],
) -> None:
    """R11: edits of async customers not uploaded yet change them in place; every other
    edit becomes a channel request. Requests take a constant number of queries per
    batch; in-place edits a few more per edited async customer (its own rows).
    ``latest`` keeps, per customer edited in place, when each field, attribute and the
    primary address were last set, so that the latest edit wins across batches."""
    counts = report.section(EDITS)
    existing = _existing(ChannelRequest, alias, "request_id", {rec["id"] for _, rec in recs})
    guids = {uuid.UUID(rec["customer"]) for _, rec in recs if is_guid(rec["customer"])}
    targets: dict[uuid.UUID, AsyncCustomer] = {}
    for chunk in chunks(sorted(guids)):
        for row in AsyncCustomer.objects.using(alias).filter(async_customer_id__in=chunk):
            targets[row.async_customer_id] = row
    requests: list[ChannelRequest] = []
    in_place: dict[uuid.UUID, list[tuple[dt.datetime, CustomerChanges]]] = {}
    for store, rec in sorted(recs, key=lambda item: item[1]["edited_at"]):
        if rec["id"] in existing:
            report.skip(EDITS, rec["id"])
            continue
        changes = _edit_changes(rec)
        guid = uuid.UUID(rec["customer"]) if is_guid(rec["customer"]) else None
        if guid is not None and targets[guid].upload_session_id is None:
            in_place.setdefault(guid, []).append((rec["edited_at"], changes))
            continue
        requests.append(
            ChannelRequest(
                request_id=rec["id"],
                store_number=store,
                target_async_customer_id=guid,
                target_account="" if guid is not None else rec["customer"],
                edited_at=rec["edited_at"],
                changes=changes.as_json(),
            )
        )
    ChannelRequest.objects.using(alias).bulk_create(requests, batch_size=BATCH_SIZE)
    counts.created += len(requests)
    if not in_place:
        return
    # An address added by an earlier import of the same edit is there already.
    known_addresses = _existing_address_ids(
        alias,
        {a.async_address_id for edits in in_place.values() for _, c in edits for a in c.addresses},
    )
    for guid, edits in in_place.items():
        merged = _merged(edits, latest.setdefault((alias, guid), {}), known_addresses)
        async_customer_changes_apply(alias=alias, row=targets[guid], changes=merged)
        counts.updated += len(edits)


def _merged(
    edits: list[tuple[dt.datetime, CustomerChanges]],
    latest: dict[str, dt.datetime],
    known_addresses: set,
) -> CustomerChanges:
    """One customer's edits (oldest first) as one change: per field, attribute and
    primary address the latest edit wins, also over edits of earlier batches."""
    fields: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    affiliations: dict[str, None] = {}
    addresses: list[AddressInput] = []
    for edited_at, changes in edits:
        for key, value, target in [
            *((name, value, fields) for name, value in changes.fields.items()),
            *((name, value, attributes) for name, value in changes.attributes.items()),
        ]:
            stamp = f"attributes.{key}" if target is attributes else key
            if stamp not in latest or latest[stamp] <= edited_at:
                target[key] = value
                latest[stamp] = edited_at
        affiliations.update(dict.fromkeys(changes.affiliations))
        for address in changes.addresses:
            if address.async_address_id in known_addresses:
                continue
            primary = address.is_primary and latest.get("primary", edited_at) <= edited_at
            if primary:
                latest["primary"] = edited_at
                addresses = [dataclasses.replace(a, is_primary=False) for a in addresses]
            addresses.append(dataclasses.replace(address, is_primary=primary))
    return CustomerChanges(
        fields=fields,
        attributes=attributes,
        affiliations=tuple(affiliations),
        addresses=tuple(addresses),
    )
