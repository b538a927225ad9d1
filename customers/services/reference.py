"""R16: HQ's reference data reaches a channel database (called by distribution, 1010).

``reference_data_apply`` brings channel database ``alias`` to a snapshot
(``customers.selectors.reference.reference_snapshot``): it writes only the records that
differ (new or changed groups, attributes, affiliations, store defaults: one upsert per
kind) and removes the ones HQ no longer has, in one channel transaction, then records
the snapshot's version (its checksum). The same version again reads one row and writes
nothing.

Record isolation (README "Record isolation"): each record passes
``record_checkpoint("reference_data", key)``; one the channel database cannot take
fails alone, named, the others are written, and the version is not recorded, so the
next run tries the failed one again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from commerce.db import require_channel_alias
from commerce.db.bulk import rows_upsert
from commerce.isolation import error_summary, record_checkpoint, records_isolated
from customers.models import ChannelReferenceVersion
from customers.selectors.reference import (
    REFERENCE_KINDS,
    ReferenceSnapshot,
    channel_reference_records,
)


@dataclass
class ReferenceApplied:
    written: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


def reference_key_text(key: tuple) -> str:
    """A record as a job run names it: ``customer group USRT/RETAIL``, ``store S0001``."""
    kind, *parts = key
    label = {"group": "customer group", "store": "store defaults"}.get(kind, kind)
    return f"{label} {'/'.join(str(p) for p in parts)}"


def _records_write(*, alias: str, changes: list[tuple[tuple, dict | None]]) -> None:
    """Write ``changes`` (key, values; None: removed) to channel database ``alias``: the
    new and changed records of each kind in one upsert, each removed one deleted."""
    written: dict[str, list[tuple]] = {}
    for key, values in changes:
        model, key_fields, fields = REFERENCE_KINDS[key[0]]
        if values is None:
            lookup = dict(zip(key_fields, key[1:], strict=True))
            model.objects.using(alias).filter(**lookup).delete()
        else:
            written.setdefault(key[0], []).append((*key[1:], *(values[f] for f in fields)))
    for kind, rows in written.items():
        model, key_fields, fields = REFERENCE_KINDS[kind]
        rows_upsert(
            model=model,
            columns=[*key_fields, *fields],
            rows=rows,
            unique=key_fields,
            using=alias,
        )


def reference_data_apply(*, alias: str, snapshot: ReferenceSnapshot) -> ReferenceApplied:
    """Bring channel database ``alias`` to ``snapshot`` (R16). Idempotent: applying the
    same snapshot again changes nothing."""
    require_channel_alias(alias)
    checksum = snapshot.checksum
    result = ReferenceApplied()
    held = ChannelReferenceVersion.objects.using(alias).only("checksum").first()
    if held is not None and held.checksum == checksum:
        return result  # the usual case: one read, no transaction, no lock
    with transaction.atomic(using=alias):
        held = ChannelReferenceVersion.objects.using(alias).select_for_update().first()
        if held is not None and held.checksum == checksum:
            return result
        current = channel_reference_records(alias=alias)
        changes = [
            (key, values)
            for key, values in sorted(snapshot.records.items())
            if current.get(key) != values
        ] + [(key, None) for key in sorted(current) if key not in snapshot.records]

        def write(chunk: list[tuple[tuple, dict | None]]) -> None:
            for key, _values in chunk:
                record_checkpoint("reference_data", reference_key_text(key))
            _records_write(alias=alias, changes=chunk)

        failures: list[tuple] = []

        def failed(change: tuple[tuple, dict | None], error: Exception) -> None:
            failures.append(change[0])
            result.errors.append(
                f"{reference_key_text(change[0])}: not distributed ({error_summary(error)}); "
                "it is sent again by the next run"
            )

        records_isolated(changes, write, on_failure=failed, using=[alias])
        done = [(key, values) for key, values in changes if key not in failures]
        result.removed = sum(1 for _, values in done if values is None)
        result.written = len(done) - result.removed
        if not result.errors:
            rows_upsert(
                model=ChannelReferenceVersion,
                columns=["key", "checksum", "applied_at"],
                rows=[("reference_data", checksum, timezone.now())],
                unique=["key"],
                using=alias,
            )
    return result
