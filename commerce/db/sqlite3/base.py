"""Django's SQLite backend, told the real bound-parameter limit of the SQLite it runs on.

Django assumes 999 parameters per query (SQLite before 3.32), which cuts every bulk
insert of a 15-column model into 66-row statements. The connection knows its own
limit (``SQLITE_LIMIT_VARIABLE_NUMBER``: 32,766 by default since SQLite 3.32, more where
the build raises it), so batches of hundreds of rows go in one statement, as they do on
PostgreSQL. The statement cache stays small (``cached_statements`` in the settings)
because such statements are large.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


def variable_limit(connection) -> int:
    """The most bound parameters one statement may carry on this DB-API connection."""
    getlimit = getattr(connection, "getlimit", None)  # Connection.getlimit: Python 3.11+
    if getlimit is not None:
        return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    # Without getlimit, the compiled-in default of the library's version.
    return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self):
        self.connection.ensure_connection()
        return variable_limit(self.connection.connection)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
