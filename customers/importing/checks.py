"""Pass 1 of an import: everything the file must satisfy before anything is written.

Reads the file once, record by record (reader.py), and the databases in batches;
writes nothing. Checks each record's structure and limits (schema.py, conversion.py), the rules
across records that the file alone decides (an id repeated inside the file, names a
customer's type needs, one primary address), and every reference against the file
and HQ (legal entity, customer group, channel database, functionality profile,
default customer, store; ``checks_references``, at the end of the read). A structural
error rejects the file with one line naming the section, index, field and offending
value.

Memory holds only the keys the checks need (codes, accounts, GUIDs as integers, the
first place each referenced key is used), never the records: an id repeated inside
the file is found by its key, and the place of its first occurrence by reading the
file again up to it, only then.
"""

import uuid
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from commerce.db import channel_aliases, is_channel_alias
from commerce.models import ACCOUNT_MAX_LENGTH
from customers.models import AttributeType, CustomerType, display_name
from customers.services.validation import EDIT_CLOCK_SKEW, NAME_MAX_LENGTH, edited_at_error

from .checks_references import _ReferenceChecks
from .conversion import convert, is_guid, parse_record
from .queries import QUERY_CHUNK
from .reader import Item
from .report import ImportFileError, invalid, show, unknown
from .schema import CHANNEL_ENTRY, CHANNEL_SCHEMAS, SCHEMAS, Rec


class Source(Protocol):
    name: str
    digest: bytes | None

    def items(self, want: frozenset[str] | None = None) -> Iterator[Item]: ...


@dataclass
class Plan:
    """What pass 1 learned that pass 2 (writing) needs."""

    sections: list[str]  # the sections holding records, in file order
    entries: list[tuple[str, str]]  # each channel entry's store number and channel alias
    digest: bytes | None  # of the file as checked
    has_edits: bool = False  # customer edits are written in a read of their own (R11)

    @property
    def aliases(self) -> list[str]:
        return sorted({alias for _, alias in self.entries})


class _Repeated(Exception):
    def __init__(self, what: str, key: Hashable, path: str, shown: Any):
        self.what, self.key, self.path, self.shown = what, key, path, shown


class _Found(Exception):
    def __init__(self, path: str):
        self.path = path


def file_check(*, source: Source) -> Plan:
    """Pass 1: checks the whole file and its references; writes nothing. Raises
    ImportFileError naming the first problem."""
    state = _FileState()
    try:
        for item in source.items():
            state.take(*item)
    except _Repeated as repeated:
        first = _first_occurrence(source, repeated.what, repeated.key)
        raise ImportFileError(
            f"{repeated.path}: repeated {repeated.what} {show(repeated.shown)} (first at {first})"
        ) from None
    state.flush_locations()
    entries = state.check_references()
    return Plan(
        sections=state.sections,
        entries=entries,
        digest=source.digest,
        has_edits=bool(state.edit_refs),
    )


def _first_occurrence(source: Source, what: str, key: Hashable) -> str:
    """Reads the file again up to the first occurrence of a key found repeated."""
    state = _FileState(find=(what, key))
    try:
        for item in source.items():
            state.take(*item)
    except _Found as found:
        return found.path
    return "an earlier record"  # the file changed between the reads


@dataclass
class _Wanted:
    """Keys a file refers to, each with the first place it is referred to."""

    what: str
    first: dict[Hashable, str] = field(default_factory=dict)

    def add(self, key: Hashable, path: str) -> None:
        self.first.setdefault(key, path)

    def require(self, known: set, shown=lambda key: key) -> None:
        for key, path in self.first.items():
            if key not in known:
                raise unknown(path, self.what, shown(key))


class _FileState(_ReferenceChecks):
    """Keys seen so far in pass 1 and the references to check at its end."""

    def __init__(self, find: tuple[str, Hashable] | None = None):
        self.find = find
        self.sections: list[str] = []
        self.seen: dict[str, set] = {}
        self.legal_entities: list[Rec] = []  # few: their account lengths need the DB
        self.channel_databases: dict[str, tuple[str, str]] = {}  # name -> (alias, path)
        self.stores: dict[str, str] = {}  # number -> channel database name
        self.store_entities: dict[str, str] = {}  # number -> legal entity code
        self.store_paths: dict[str, str] = {}
        self.entries: list[tuple[str, str]] = []  # (store, path) per channel entry
        self.entry_store: str | None = None
        self.pending_transactions: list[tuple[str, str]] = []  # (id, path) before the store
        self.location_batch: list[tuple[str, str, str, str]] = []
        self.legal_entity_refs = _Wanted("legal entity")
        self.group_refs = _Wanted("customer group")
        # R2: the attributes and affiliations HQ customers carry (a store's default
        # customer), and the attribute types the file itself defines.
        self.attribute_refs = _Wanted("customer attribute")
        self.affiliation_refs = _Wanted("affiliation")
        self.attribute_setups: dict[str, tuple[str, list]] = {}
        self.customer_attribute_values: list[tuple[str, Any, str]] = []
        self.profile_refs = _Wanted("functionality profile")
        self.database_refs = _Wanted("channel database")
        self.default_customer_refs: dict[tuple[str, str], str] = {}
        # R11: the async customers of each channel entry (GUID as integer -> entry) and
        # the customers edits refer to: (entry, GUID as integer or account) -> first path.
        self.async_customer_entries: dict[int, int] = {}
        self.edit_refs: dict[tuple[int, int | str], str] = {}

    # --- Records --------------------------------------------------------------------

    def take(self, kind: str, entry: int, path: str, value: Any) -> None:
        if kind in SCHEMAS and kind != "channel":
            if not self.sections or self.sections[-1] != kind:
                self.sections.append(kind)
            getattr(self, f"_{kind}")(parse_record(value, path, SCHEMAS[kind]))
            return
        if "channel" not in self.sections:
            self.sections.append("channel")
        if kind == "channel.store":
            if value is not None:
                self._entry_store(convert(value, path, CHANNEL_ENTRY["store"]))
        elif kind == "channel":
            header = parse_record(value, path, CHANNEL_ENTRY)
            self.entries.append((header["store"], header.at("store")))
            self.entry_store = None
        else:
            rec = parse_record(value, path, CHANNEL_SCHEMAS[kind])
            if kind in ("async_customers", "customer_edits"):
                getattr(self, f"_{kind}")(rec, entry)
            else:
                getattr(self, f"_{kind}")(rec)

    def _add(self, what: str, key: Hashable, path: str, shown: Any) -> None:
        if self.find is not None:
            if self.find == (what, key):
                raise _Found(path)
            return
        seen = self.seen.setdefault(what, set())
        if key in seen:
            raise _Repeated(what, key, path, shown)
        seen.add(key)

    def _legal_entities(self, rec: Rec) -> None:
        self._add("legal entity code", rec["code"], rec.at("code"), rec["code"])
        self.legal_entities.append(rec)

    def _customer_groups(self, rec: Rec) -> None:
        key = (rec["legal_entity"], rec["code"])
        self._add("customer group", key, rec.at("code"), rec["code"])
        self.legal_entity_refs.add(rec["legal_entity"], rec.at("legal_entity"))

    def _customer_attributes(self, rec: Rec) -> None:
        self._add("attribute name", rec["name"], rec.at("name"), rec["name"])
        self.attribute_setups[rec["name"]] = (rec["type"], list(rec.get("choices") or []))
        if rec["type"] == AttributeType.CHOICE and not rec.get("choices"):
            raise invalid(
                rec.at("choices"), "must list the values of a choice attribute", rec.get("choices")
            )

    def _affiliations(self, rec: Rec) -> None:
        self._add("affiliation name", rec["name"], rec.at("name"), rec["name"])

    def _functionality_profiles(self, rec: Rec) -> None:
        self._add("functionality profile code", rec["code"], rec.at("code"), rec["code"])

    def _channel_databases(self, rec: Rec) -> None:
        self._add("channel database name", rec["name"], rec.at("name"), rec["name"])
        if not is_channel_alias(rec["alias"]):
            raise invalid(
                rec.at("alias"),
                "not a configured channel database alias "
                f"(configured: {', '.join(channel_aliases())})",
                rec["alias"],
            )
        self._add("channel database alias", rec["alias"], rec.at("alias"), rec["alias"])
        self.channel_databases[rec["name"]] = (rec["alias"], rec.at("alias"))

    def _customers(self, rec: Rec) -> None:
        self._add(
            "customer account",
            (rec["legal_entity"], rec["account"]),
            rec.at("account"),
            rec["account"],
        )
        # HQ holds a party name for every customer (a database constraint).
        _require_names(rec, blank=False)
        self.legal_entity_refs.add(rec["legal_entity"], rec.at("legal_entity"))
        self.group_refs.add((rec["legal_entity"], rec["customer_group"]), rec.at("customer_group"))
        for name, value in (rec.get("attributes") or {}).items():
            path = f"{rec.at('attributes')}.{name}"
            self.attribute_refs.add(name, path)
            self.customer_attribute_values.append((name, value, path))
        for name in rec.get("affiliations") or []:
            self.affiliation_refs.add(name, rec.at("affiliations"))
        primary = None
        for address in rec.get("addresses", []):
            location = address["location_id"]
            self._add("location id", location, address.at("location_id"), location)
            self.location_batch.append(
                (location, rec["legal_entity"], rec["account"], address.at("location_id"))
            )
            if address.get("primary"):
                if primary is not None:
                    raise invalid(
                        address.at("primary"),
                        f"a second primary address (first at {primary})",
                        True,
                    )
                primary = address.path
        if len(self.location_batch) >= QUERY_CHUNK:
            self.flush_locations()

    def _stores(self, rec: Rec) -> None:
        self._add("store number", rec["number"], rec.at("number"), rec["number"])
        self.legal_entity_refs.add(rec["legal_entity"], rec.at("legal_entity"))
        self.database_refs.add(rec["channel_database"], rec.at("channel_database"))
        self.profile_refs.add(rec["functionality_profile"], rec.at("functionality_profile"))
        self.default_customer_refs.setdefault(
            (rec["legal_entity"], rec["default_customer"]), rec.at("default_customer")
        )
        self.stores[rec["number"]] = rec["channel_database"]
        self.store_entities[rec["number"]] = rec["legal_entity"]
        self.store_paths[rec["number"]] = rec.path

    def _async_customers(self, rec: Rec, entry: int) -> None:
        self._add(
            "async customer id", rec["async_id"].int, rec.at("async_id"), str(rec["async_id"])
        )
        self.async_customer_entries[rec["async_id"].int] = entry
        _require_names(rec, blank=True)
        self._children(rec)

    def _children(self, rec: Rec) -> None:
        """The added addresses (GUIDs unique in the file) and affiliations of an async
        customer or a customer edit."""
        for address in rec.get("addresses", []):
            guid = address["async_id"]
            self._add("async address id", guid.int, address.at("async_id"), str(guid))
        names: dict[str, str] = {}
        for i, name in enumerate(rec.get("affiliations", [])):
            path = f"{rec.at('affiliations')}[{i}]"
            if name in names:
                raise ImportFileError(
                    f"{path}: repeated affiliation {show(name)} (first at {names[name]})"
                )
            names[name] = path

    def _customer_edits(self, rec: Rec, entry: int) -> None:
        """R11: a store's edit; its customer is checked against the file and the
        databases at the end (``_check_edit_customers``)."""
        self._add("customer edit id", rec["id"].int, rec.at("id"), str(rec["id"]))
        if edited_at_error(rec["edited_at"]):
            minutes = int(EDIT_CLOCK_SKEW.total_seconds() // 60)
            raise invalid(
                rec.at("edited_at"),
                f"is in the future (more than {minutes} minutes ahead of now)",
                rec["edited_at"].isoformat(),
            )
        self._children(rec)
        customer = rec["customer"]
        if is_guid(customer):
            key: int | str = uuid.UUID(customer).int
        elif len(customer) > ACCOUNT_MAX_LENGTH:
            raise invalid(
                rec.at("customer"),
                "must be an async customer GUID or an account of at most "
                f"{ACCOUNT_MAX_LENGTH} characters",
                customer,
            )
        else:
            key = customer
        self.edit_refs.setdefault((entry, key), rec.at("customer"))

    def _async_addresses(self, rec: Rec) -> None:
        guid = rec["async_id"]
        self._add("async address id", guid.int, rec.at("async_id"), str(guid))

    def _transactions(self, rec: Rec) -> None:
        if rec.get("customer") and rec.get("async_customer"):
            raise invalid(
                rec.at("async_customer"),
                f'set together with customer "{rec["customer"]}"; use one of them',
                str(rec["async_customer"]),
            )
        if self.entry_store is None:  # the entry names its store after its transactions
            self.pending_transactions.append((rec["id"], rec.at("id")))
        else:
            self._transaction_id(rec["id"], rec.at("id"))

    def _transaction_id(self, transaction_id: str, path: str) -> None:
        # A transaction id is unique within a store: the same id at two stores is two sales.
        key = (self.entry_store, transaction_id)
        self._add("transaction id", key, path, transaction_id)

    def _entry_store(self, store: str) -> None:
        self.entry_store = store
        for transaction_id, path in self.pending_transactions:
            self._transaction_id(transaction_id, path)
        self.pending_transactions = []


def _require_names(rec: Rec, *, blank: bool) -> None:
    """The names a customer's type needs must be given (first and last name of a person,
    the organization name of an organization); ``blank`` lets them be empty strings."""
    needed = (
        ("organization_name",)
        if rec["type"] == CustomerType.ORGANIZATION
        else ("first_name", "last_name")
    )
    for name in needed:
        if not rec.given(name):
            raise invalid(rec.at(name), f"is required for a {rec['type']}", None)
        if not blank and not rec[name].strip():
            raise invalid(rec.at(name), f"is required for a {rec['type']}", rec[name])
    if blank:
        return  # an async customer's name is checked at HQ (R5), as a store's would be
    # HQ stores the party's name, the names joined: it must fit its column too.
    name = display_name(
        type=rec["type"],
        first_name=rec.get("first_name", ""),
        last_name=rec.get("last_name", ""),
        organization_name=rec.get("organization_name", ""),
    )
    if len(name) > NAME_MAX_LENGTH:
        raise invalid(
            rec.at(needed[-1]), f"makes a name longer than {NAME_MAX_LENGTH} characters", name
        )
