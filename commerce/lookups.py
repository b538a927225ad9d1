"""``field__in_values=[...]``: membership in a long list, sent as ONE parameter.

Django's ``__in`` writes one placeholder per value and prepares each through the
lookup machinery; for the thousands of keys a conversion batch looks up (children of
a batch, GUIDs HQ already holds, rows to stamp) that Python work, and on PostgreSQL
the driver's parsing of a statement with thousands of placeholders, cost more than the
query. Here the list travels as one value: an array on PostgreSQL (``= ANY(%s)``), a
JSON array on SQLite (``IN (SELECT value FROM json_each(%s))``). Same rows as
``__in``; an empty list matches nothing.
"""

from __future__ import annotations

import json

from django.db.models import Field, ForeignObject, Lookup

from commerce.bulk import field_is_plain


@Field.register_lookup
@ForeignObject.register_lookup  # relations keep lookups of their own
class InValues(Lookup):
    lookup_name = "in_values"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = self.rhs
        if not field_is_plain(field):
            values = [field.get_db_prep_value(value, connection) for value in values]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, list(values)]
        return (
            f"{lhs} IN (SELECT value FROM json_each(%s))",
            [*lhs_params, json.dumps(list(values))],
        )
