"""Record isolation by construction (README "Record isolation").

Every stage that processes records (upload, account creation, channel requests, staged
addresses, distribution, order sync, statement posting) hands its batch to
``records_isolated``: the batch is processed in one savepoint; when that raises, the
batch is split in halves, each tried again in its own savepoint, down to the single
records that fail. Each of those fails alone, named with its reason, and the rest
commits. Whatever the exception is - a value the database refuses, a ``KeyError`` in
a mapping, a bug - it belongs to the record being processed.

Only a fault of the run itself is not a record's: the database is down or refuses
the connection (``RUN_FAULTS``). That fails the run as a whole, to be run again; no
record is marked failed for it. A process that dies (a ``BaseException``, a kill)
leaves its transactions uncommitted, which each job's own docstring covers.

``record_checkpoint`` is the one seam where tests put a fault into one chosen record
of one stage (the fault-injection test); it does nothing in production.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from django.db import InterfaceError, OperationalError, transaction

from commerce.db import ChannelDatabaseUnreachable

T = TypeVar("T")
R = TypeVar("R")


class RunAborted(Exception):
    """The run cannot go on, whatever record it is at: no record is failed for it. The
    crash seams of the jobs' tests (``fault_hook``) raise subclasses of it to stand for
    the worker dying at that point."""


# Faults of the run, not of a record: the database (or a channel database) cannot be
# reached, a connection dropped, a lock timed out. On SQLite "database is locked" is an
# OperationalError too: the run is retried, nothing is marked failed.
RUN_FAULTS = (OperationalError, InterfaceError, ChannelDatabaseUnreachable, RunAborted)


def is_run_fault(error: BaseException) -> bool:
    """True for an error that no record caused (see ``RUN_FAULTS``)."""
    return isinstance(error, RUN_FAULTS)


def error_summary(error: BaseException, *, limit: int = 300) -> str:
    """``Type: first line of the message``, short enough for a job run's error list."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {(lines[0] if lines else '')[:limit]}"


def _no_fault(stage: str, key: object) -> None:
    return None


_checkpoint: Callable[[str, object], None] = _no_fault


def record_checkpoint(stage: str, key: object) -> None:
    """Called once for each record a stage processes (``stage`` names the stage, ``key``
    the record's business key). Tests install a fault here (``faults_injected``)."""
    _checkpoint(stage, key)


@contextlib.contextmanager
def faults_injected(fault: Callable[[str, object], None]):
    """Install ``fault`` as the record checkpoint for the block (tests only)."""
    global _checkpoint
    previous, _checkpoint = _checkpoint, fault
    try:
        yield
    finally:
        _checkpoint = previous


@contextlib.contextmanager
def _savepoints(using: Sequence[str]):
    with contextlib.ExitStack() as stack:
        for alias in using:
            stack.enter_context(transaction.atomic(using=alias))
        yield


def records_isolated(
    items: Iterable[T],
    process: Callable[[list[T]], R],
    *,
    on_failure: Callable[[T, Exception], None],
    using: Sequence[str] = (),
) -> list[R]:
    """Run ``process`` over ``items`` so that one record's exception never stops the
    others: the whole list first, in a savepoint on each database of ``using``; if it
    raises, each half again, down to single records; ``on_failure(item, error)`` for
    each record that fails alone. Returns what each successful call returned, in item
    order. A run fault (``is_run_fault``) is raised at once.

    With ``using`` empty, ``process`` owns its transactions (it must leave nothing of a
    call that raised). One bad record costs about 2·log2(n) extra calls, not n.
    """
    results: list[R] = []
    pending: list[list[T]] = [list(items)]
    while pending:
        chunk = pending.pop()
        if not chunk:
            continue
        try:
            with _savepoints(using):
                result = process(chunk)
        except Exception as error:
            if is_run_fault(error):
                raise
            if len(chunk) == 1:
                on_failure(chunk[0], error)
                continue
            middle = len(chunk) // 2
            # Last in, first out: the first half is tried first, so records keep their
            # order (channel requests are applied oldest first).
            pending.extend((chunk[middle:], chunk[:middle]))
        else:
            results.append(result)
    return results
