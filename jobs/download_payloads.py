"""Download payloads (1010, README "Distribution"): what a set of customer versions is
sent as, built once and received by every channel database that needs it.

A distribution batch is the customers one channel database needs in a window, each at
its current version (``customers.selectors.versions_to_distribute``). Every channel
database serving the same legal entities sees the same windows and, as a rule, needs
the same set, so the first run that needs a set reads and encodes its payload
(``payloads_read``, ``JSONText``) and stores it as text under the set's key
(``payload_key``: its customers' ids and versions); every other run reads that text
instead of building it again. Nothing queries inside a payload, so it is a text column
(PostgreSQL's ``jsonb`` would parse every payload on its way in).

A run looks for the stored set first, without a lock. Two runs that need a set not
stored yet at once: the first builds it under a lock on the key (``commerce.db.key_lock``),
the second waits for its commit and reads it. A customer
changed while its payload was built is sent as read: the version inside the payload is
the one recorded as distributed, and its new version makes a new set for the next run.
A payload is written in its own short HQ transaction; a crash after it leaves a payload
that the next run with the same set uses, and retention deletes the ones no session
points to (``jobs.services.retention``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from commerce.db import HQ, key_lock
from commerce.db.bulk import JSONText, ids_reserve, rows_insert
from customers.models import Customer
from customers.selectors import payloads_read
from jobs.models import DownloadPayload

# (customer pk, what a channel database receives for it), in pk order.
Entries = list[tuple[int, dict]]


@dataclass(frozen=True)
class SharedPayload:
    """A stored payload and its entries, parsed once per run."""

    pk: int
    checksum: str
    entries: Entries


def payload_key(versions: Sequence[tuple[int, int]]) -> str:
    """The key of a set of customer versions (``(pk, version)`` in pk order)."""
    text = ",".join(f"{pk}:{version}" for pk, version in versions)
    return hashlib.sha256(text.encode()).hexdigest()


def payload_checksum(text: str) -> str:
    """A payload's checksum: the SHA-256 of its stored canonical JSON text."""
    return hashlib.sha256(text.encode()).hexdigest()


def payload_entries(value: dict) -> Entries:
    """``(customer pk, entry)`` of a payload's value (``DownloadPayload.value``); the
    payloads written before ``ids`` carried ``versions`` by pk instead."""
    customers = value.get("customers", [])
    if "ids" in value:
        return list(zip(value["ids"], customers, strict=True))
    by_version = {int(pk): version for pk, version in value.get("versions", {}).items()}
    ids = sorted(by_version)
    return list(zip(ids, customers, strict=True)) if len(ids) == len(customers) else []


def _parsed(pk: int, text: str, checksum: str) -> SharedPayload:
    return SharedPayload(pk=pk, checksum=checksum, entries=payload_entries(json.loads(text)))


def _stored(*, key: str, entries: Entries) -> SharedPayload:
    """Write the payload of ``entries`` under ``key`` (in the caller's transaction)."""
    text = JSONText.dumps(
        {"customers": [entry for _, entry in entries], "ids": [pk for pk, _ in entries]}
    ).text
    checksum = payload_checksum(text)
    [pk] = ids_reserve(model=DownloadPayload, count=1, using=HQ)
    rows_insert(
        model=DownloadPayload,
        columns=["id", "key", "text", "checksum", "customers", "created_at"],
        rows=[(pk, key, text, checksum, len(entries), timezone.now())],
        using=HQ,
    )
    return SharedPayload(pk=pk, checksum=checksum, entries=entries)


def _found(key: str) -> SharedPayload | None:
    """The payload stored under ``key``, parsed, or None (one query)."""
    found = DownloadPayload.objects.filter(key=key).values_list("pk", "text", "checksum")
    row = next(iter(found), None)
    return _parsed(*row) if row is not None else None


def _shared(*, key: str, build: Callable[[], Entries]) -> SharedPayload:
    """The payload stored under ``key``, or the one ``build`` gives, stored under it.

    Looked for first without a lock or a transaction: a stored payload never changes
    (retention deletes it only once no session points to it), so a run receiving a set
    another run built (every channel database but the first) costs one query, and on
    SQLite takes no write lock on HQ. Only a set not found is built, under the key's
    lock, after a second look (another run may have stored it meanwhile)."""
    shared = _found(key)
    if shared is not None:
        return shared
    with transaction.atomic(using=HQ):
        key_lock(key, using=HQ)
        return _found(key) or _stored(key=key, entries=build())


def download_payload_for(versions: Sequence[tuple[int, int]]) -> SharedPayload:
    """The payload of these customer versions (``(pk, version)`` in pk order): read if a
    run built it already, else built from HQ (``payloads_read``: four queries) and
    stored for the runs of the other channel databases. One query when shared."""

    def build() -> Entries:
        ids = [pk for pk, _ in versions]
        return payloads_read(Customer.objects.filter(pk__in_values=ids).order_by("pk"))

    return _shared(key=payload_key(versions), build=build)


def download_payload_of(entries: Entries) -> SharedPayload:
    """The payload of entries at hand (a part of a batch sent alone, ``records_isolated``):
    stored once under the key of their versions, as ``download_payload_for``."""
    key = payload_key([(pk, entry["version"]) for pk, entry in entries])
    return _shared(key=key, build=lambda: list(entries))
