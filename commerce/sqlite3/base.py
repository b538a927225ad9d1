"""Django's SQLite backend, told the real bound-parameter limit of the SQLite it runs on.

Django assumes 999 parameters per query (SQLite before 3.32), which cuts every bulk
insert of a 15-column model into 66-row statements. SQLite 3.32+ allows 32,766, so
batches of hundreds of rows go in one statement, as they do on PostgreSQL.
"""

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self):
        return 32766 if base.Database.sqlite_version_info >= (3, 32) else 999


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
