"""Pass 2 of an import: writes what pass 1 checked, in batches of BATCH_SIZE records.

The file is read again, section by section in README "Import files" order (one read when the file
holds its sections in that order, as ``json.dumps`` of a dict built in that order
does), and each batch is written with a few queries: ``__in`` reads in chunks,
``bulk_create``/``bulk_update``. Setup records are upserted by key
(``writing_setup``); channel records are keyed by their id, and an id already in the
target channel database is skipped and reported (``writing_channel``). An async
customer's children are written through the one mapping of
``customers.services.children``.

Customer edits (R11) are written last, in a read of their own (``writing_edits``): an
edit may change an async customer anywhere in the same file, which is then already
written.

The caller holds the transactions (see the package docstring); a read whose file
differs from the one checked (``digest``) raises ImportFileError, which rolls back.
"""

import datetime as dt
from typing import Any

from customers.models import ChannelRequest
from customers.services.channel import store_write_announce

from .checks import Plan, Source
from .conversion import parse_record
from .report import ImportFileError, ImportReport
from .schema import CHANNEL_LISTS, CHANNEL_SCHEMAS, SCHEMAS, SECTIONS, Rec
from .writing_channel import write_async_addresses, write_async_customers, write_transactions
from .writing_edits import EDITS, write_customer_edits
from .writing_setup import SETUP_WRITERS

BATCH_SIZE = 1000
# The order of the report's sections, whatever order the file and batches come in: the
# file's sections and channel lists in their order, each followed by what it writes besides.
WRITTEN_WITH = {
    "legal_entities": ("number_sequences",),
    "customers": ("customer_addresses",),
    "async_customers": ("async_customer_addresses",),
}
REPORT_ORDER = tuple(
    name
    for section in (*(s for s in SECTIONS if s != "channel"), *CHANNEL_LISTS)
    for name in (section, *WRITTEN_WITH.get(section, ()))
)


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
            write_async_customers(alias, recs, self.report, self.now)
        elif kind == "async_addresses":
            write_async_addresses(alias, recs, self.report, self.now)
        elif kind == EDITS:
            write_customer_edits(alias, recs, self.report, self.in_place_latest)
            self.edited_aliases.add(alias)
        else:
            write_transactions(alias, recs, self.report)
