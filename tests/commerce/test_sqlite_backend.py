"""commerce.db.sqlite3: bulk statements are sized by the connection's own parameter limit."""

import sqlite3

import pytest
from django.db import connections

from commerce.db.sqlite3.base import DatabaseWrapper, variable_limit
from customers.models import Customer


@pytest.fixture
def probe(tmp_path, django_db_blocker):
    """A fresh wrapper of the project's backend on its own file (not the test database)."""
    wrapper = DatabaseWrapper(
        {**connections["default"].settings_dict, "NAME": str(tmp_path / "probe.sqlite3")},
        alias="probe",
    )
    with django_db_blocker.unblock():
        yield wrapper
        wrapper.close()


def test_max_query_params_is_the_limit_the_connection_reports(probe):
    probe.ensure_connection()
    probe.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 120)

    assert probe.features.max_query_params == 120
    fields = Customer._meta.concrete_fields[:12]
    assert probe.ops.bulk_batch_size(fields, [object()] * 1000) == 10


def test_max_query_params_opens_the_connection_to_ask(probe):
    assert probe.connection is None

    limit = probe.features.max_query_params

    assert limit == probe.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    assert limit > 999


def test_without_getlimit_the_library_default_is_assumed():
    class OldConnection:  # a DB-API connection of Python before 3.11
        pass

    expected = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999

    assert variable_limit(OldConnection()) == expected
