"""``field__in_values=[...]``: membership in a long list, sent as ONE parameter.

Django's ``__in`` writes one placeholder per value and prepares each through the
lookup machinery; for the thousands of keys a conversion batch looks up (children of
a batch, GUIDs HQ already holds, rows to stamp) that Python work, and on PostgreSQL
the driver's parsing of a statement with thousands of placeholders, cost more than the
query. Here the list travels as one value: an array on PostgreSQL (unnested into a subquery), a
JSON array on SQLite (``IN (SELECT value FROM json_each(%s))``). Same rows as
``__in``; an empty list matches nothing.
"""

from __future__ import annotations

from django.db.models import Field, ForeignObject, Lookup

from commerce.bulk import in_values_sql


@Field.register_lookup
@ForeignObject.register_lookup  # relations keep lookups of their own
class InValues(Lookup):
    lookup_name = "in_values"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql, param = in_values_sql(lhs, self.lhs.output_field, self.rhs, connection)
        return sql, [*lhs_params, param]
