"""``field__in_values=[...]``: membership in a long list, sent as ONE parameter.

Django's ``__in`` writes one placeholder per value and prepares each through the
lookup machinery; for the thousands of keys a conversion batch looks up (children of
a batch, GUIDs HQ already holds, rows to stamp) that Python work, and on PostgreSQL
the driver's parsing of a statement with thousands of placeholders, cost more than the
query. Here the list travels as one value: an array on PostgreSQL (unnested into a subquery), a
JSON array on SQLite (``IN (SELECT value FROM json_each(%s))``). Same rows as
``__in``; an empty list matches nothing.

Only integer, UUID and text fields, and relations to them, have it
(``IN_VALUES_FIELDS``): on any other field (a Decimal, a time) the
lookup does not exist, and the query is refused with Django's FieldError.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.core.exceptions import FieldError
from django.db import models
from django.db.models import ForeignObject, Lookup

# Field types whose Python value is what the driver takes on both engines (a foreign key
# is looked at through the field it points to).
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "EmailField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
    }
)


def field_is_plain(field: models.Field) -> bool:
    target = field.target_field if field.is_relation else field
    return target.get_internal_type() in _PLAIN_TYPES


# The field types whose values ``in_values_sql`` sends as one parameter and compares as
# the database stores them: integer keys, UUIDs and text (a relation through the field
# it points to). Not the others: a Decimal is no JSON value, and a time or a number
# written in JSON need not match the stored one.
IN_VALUES_FIELDS = (models.IntegerField, models.UUIDField, models.CharField, models.TextField)


def in_values_target(field: models.Field) -> models.Field:
    """The field whose values ``field`` holds: itself, or for a relation the field it
    points to (through any chain of relations)."""
    while field.is_relation:
        field = field.target_field
    return field


def in_values_supported(field: models.Field) -> bool:
    return isinstance(in_values_target(field), IN_VALUES_FIELDS)


def in_values_sql(column_sql: str, field: models.Field, values: Sequence, connection):
    """``(sql, parameter)`` for ``column IN values`` with the values sent as ONE parameter,
    whatever their count: PostgreSQL an array unnested into a subquery, SQLite a JSON
    array read with ``json_each``. UUIDs are prepared by the field. Only for the
    ``IN_VALUES_FIELDS`` (a TypeError otherwise). The ``__in_values`` lookup
    (``commerce.db.lookups``), ``rows_delete`` and ``rows_update_from`` use it."""
    if not in_values_supported(field):
        raise TypeError(
            f"{field.model.__name__}.{field.name}: a list is sent as one parameter only for "
            f"integer, UUID and text columns, not {type(in_values_target(field)).__name__}"
        )
    if not field_is_plain(field):
        values = [field.get_db_prep_value(value, connection) for value in values]
    if connection.vendor == "postgresql":
        # A set to join, not ``= ANY(array)``: in a filter, ANY searches the array for
        # every row a scan reads (a DELETE of a batch's addresses read the whole table
        # that way, growing with it); a subquery is joined by hash or through an index.
        text = isinstance(in_values_target(field), models.CharField | models.TextField)
        array_type = "text" if text else field.db_type(connection)  # no length: no truncation
        return f"{column_sql} IN (SELECT unnest(%s::{array_type}[]))", list(values)
    return f"{column_sql} IN (SELECT value FROM json_each(%s))", json.dumps(list(values))


class InValues(Lookup):
    lookup_name = "in_values"
    prepare_rhs = False

    def get_prep_lookup(self):
        field = self.lhs.output_field
        if not in_values_supported(field):  # a relation to an unsupported key
            raise FieldError(
                f"Unsupported lookup 'in_values' for {type(field).__name__} to "
                f"{type(in_values_target(field)).__name__}"
            )
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql, param = in_values_sql(lhs, self.lhs.output_field, self.rhs, connection)
        return sql, [*lhs_params, param]


for field_type in (*IN_VALUES_FIELDS, ForeignObject):  # relations keep lookups of their own
    field_type.register_lookup(InValues)
