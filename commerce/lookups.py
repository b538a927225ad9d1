"""``field__in_values=[...]``: membership in a long list, sent as ONE parameter.

Django's ``__in`` writes one placeholder per value and prepares each through the
lookup machinery; for the thousands of keys a conversion batch looks up (children of
a batch, GUIDs HQ already holds, rows to stamp) that Python work, and on PostgreSQL
the driver's parsing of a statement with thousands of placeholders, cost more than the
query. Here the list travels as one value: an array on PostgreSQL (unnested into a subquery), a
JSON array on SQLite (``IN (SELECT value FROM json_each(%s))``). Same rows as
``__in``; an empty list matches nothing.

Only integer, UUID and text fields, and relations to them, have it
(``commerce.bulk.IN_VALUES_FIELDS``): on any other field (a Decimal, a time) the
lookup does not exist, and the query is refused with Django's FieldError.
"""

from __future__ import annotations

from django.core.exceptions import FieldError
from django.db.models import ForeignObject, Lookup

from commerce.bulk import IN_VALUES_FIELDS, in_values_sql, in_values_supported, in_values_target


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
