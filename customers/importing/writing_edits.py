"""Pass 2 of an import, customer edits (R11): an edit of an async customer not uploaded
yet changes it in place (the latest edit of each field winning, across batches); every
other edit becomes a channel request. Edits are read last, on their own (see
``writing``).
"""

import dataclasses
import datetime as dt
import uuid
from typing import Any

from customers.models import AsyncCustomer, ChannelRequest
from customers.services.changes import CustomerChanges
from customers.services.requests import async_customer_changes_apply
from customers.services.validation import AddressInput

from .conversion import is_guid
from .queries import chunks
from .report import ImportReport
from .schema import Rec
from .writing_channel import BULK_BATCH, existing_address_ids, existing_values

EDITS = "customer_edits"


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


def write_customer_edits(
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
    existing = existing_values(ChannelRequest, alias, "request_id", {rec["id"] for _, rec in recs})
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
    ChannelRequest.objects.using(alias).bulk_create(requests, batch_size=BULK_BATCH)
    counts.created += len(requests)
    if not in_place:
        return
    # An address added by an earlier import of the same edit is there already.
    known_addresses = existing_address_ids(
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
