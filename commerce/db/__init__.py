"""Database plumbing shared by every app: which alias is HQ, which are channels, and
how a channel database that cannot be reached is told apart from an HQ failure."""

import contextlib
import hashlib
from collections import deque
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, models

HQ = "default"
# How many rows a reader takes per query when it streams, and how many keys one query
# looks up at a time (one number for every reader).
CHUNK = 1000


class ChannelModel(models.Model):
    """Base for models that live in a channel (store-side) database, never in HQ."""

    is_channel_model = True

    class Meta:
        abstract = True


def channel_aliases() -> list[str]:
    return list(settings.CHANNEL_DATABASES)


def is_channel_alias(alias: str) -> bool:
    return alias in settings.CHANNEL_DATABASES


def require_channel_alias(alias: str) -> str:
    if not is_channel_alias(alias):
        configured = ", ".join(channel_aliases())
        raise ImproperlyConfigured(
            f"{alias!r} is not a configured channel database alias (configured: {configured})"
        )
    return alias


def is_channel_model(model) -> bool:
    return bool(getattr(model, "is_channel_model", False))


class ChannelDatabaseUnreachable(Exception):
    """A channel database that could not be read or migrated: which one, and why."""

    def __init__(self, alias: str, reason: str, *, name: str | None = None):
        super().__init__(alias, reason)
        self.alias = alias
        self.name = name or alias
        self.reason = reason

    def __str__(self) -> str:
        label = self.alias if self.name == self.alias else f"{self.name} (alias {self.alias})"
        return f"channel database {label} unreachable: {self.reason}"

    @property
    def cannot_be_reached(self) -> str:
        """The one line a page banner or a store command shows."""
        return f"channel database {self.name} cannot be reached: {self.reason}"


@contextlib.contextmanager
def channel_database_errors(alias: str, *, name: str | None = None) -> Iterator[None]:
    """A database error inside the block, which works on channel ``alias`` only, becomes
    ChannelDatabaseUnreachable: monitoring skips that database and reports the others.
    Kept around the channel queries alone, so an HQ failure is never blamed on a store."""
    try:
        yield
    except DatabaseError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ChannelDatabaseUnreachable(alias, reason, name=name) from exc


def channel_database_check(alias: str, *, name: str | None = None) -> None:
    """Raise ChannelDatabaseUnreachable unless channel ``alias`` accepts a connection:
    asked before a page or a store command works on that database, so a store server
    that is down is named in one line instead of failing halfway."""
    with channel_database_errors(alias, name=name):
        connections[alias].ensure_connection()


@contextlib.contextmanager
def sql_log_shortened(kept: int) -> Iterator[None]:
    """With DEBUG on, Django keeps each connection's last 9,000 SQL statements in
    memory; a long bulk load (an import's batches of rows) would hold hundreds of MB
    of SQL text. Inside the block, each connection keeps only its last ``kept``,
    unless queries are being captured on purpose (``force_debug_cursor``: tests)."""
    swapped = []
    for connection in connections.all():
        if not connection.force_debug_cursor:
            swapped.append((connection, connection.queries_log))
            connection.queries_log = deque(maxlen=kept)
    try:
        yield
    finally:
        for connection, log in swapped:
            connection.queries_log = log


def key_lock(key: str, *, using: str) -> None:
    """Hold a lock on ``key`` until the caller's transaction on ``using`` ends, so that
    of two processes doing the same work for the same key, the second waits for the
    first's result instead of doing it again. PostgreSQL: a transaction-level advisory
    lock on a 63-bit number drawn from the key; SQLite: nothing more is needed, since
    its transactions begin ``IMMEDIATE`` (settings), so the transaction already holds
    the database's one write lock. Call inside ``transaction.atomic(using=using)``."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])
