"""Reading the databases in chunks, for both passes of an import: ``__in`` lookups cut
under SQLite's limit of parameters per statement.
"""

from collections.abc import Iterable, Iterator

from django.db import models

# SQLite allows 999 parameters per statement; stay under it for every ``__in``.
QUERY_CHUNK = 900


def chunks(values: Iterable, size: int = QUERY_CHUNK) -> Iterator[list]:
    chunk: list = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def rows(queryset: models.QuerySet, lookup: str, values: Iterable, *fields: str) -> list:
    """``values_list(*fields)`` of the rows whose ``lookup`` is in ``values``, chunked."""
    found: list = []
    for chunk in chunks(sorted(set(values))):
        found.extend(queryset.filter(**{f"{lookup}__in": chunk}).values_list(*fields))
    return found
