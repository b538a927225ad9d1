"""Fuzz import_data: random mutations of a valid file (keys dropped or added, values
replaced by other types, odd strings with surrogates, NUL and line breaks, huge and
non-finite numbers, deep nesting, repeated records) are either loaded or rejected with
one line, never another exception, never a partial write. The file and the payload
forms of the same mutation agree.

Bounded and derandomized (the same examples every run), so it is a fixed cost in CI.
"""

import json
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.importing import ImportFileError, data_import, data_import_file
from tests.customers.test_importing import guid, row_counts, valid_file

pytestmark = pytest.mark.django_db(databases="__all__")


class Huge:
    """An integer of ``digits`` digits (past Python's int/str conversion limit)."""

    def __init__(self, digits: int):
        self.digits = digits


class Deep:
    """A list nested ``levels`` deep."""

    def __init__(self, levels: int):
        self.levels = levels


ODD_STRINGS = [
    "",
    "  ",
    "\x00",
    "Go\x00ld",
    "\ud800",
    "x\udfff",
    "\uffff",
    "\u2028",
    "S0001\n",
    "٣",
    "٢٠٢٦-11-24",
    "-1",
    "0",
    "1e5",
    "NaN",
    "Infinity",
    "9" * 4400,
    "a" * 300,
    "😀",
    guid(1),
    guid(101),
    guid(1) + "\n",
    "2026-11-24T10:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-02-30",
    "C000001",
    "S0001",
    "S0002",
    "USRT",
    "RETAIL",
    "HOUSTON",
    "channel",
    "customer_order",
    "person",
    "organization",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(ODD_STRINGS)
    | st.text(max_size=12)
    | st.sampled_from([Huge(5000), Deep(40), Deep(1200)])
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(ODD_STRINGS) | st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(["colour", "\ud800", "\x00", "id", "async_id", "store", "lines"])


def _nodes(value, path=()):
    """Every (container, key) of the tree, with the path to it."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield value, key
            yield from _nodes(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield value, index
            yield from _nodes(item)


def _mutate(payload: dict, data) -> None:
    nodes = list(_nodes(payload))
    operation = data.draw(
        st.sampled_from(["delete", "replace", "add-key", "repeat", "string", "attribute"]),
        label="operation",
    )
    if operation == "string":  # often a business error, loaded as a store sent it
        nodes = [(c, k) for c, k in nodes if isinstance(c[k], str)] or nodes
    if operation == "attribute":
        customers = [
            record
            for entry in payload.get("channel") or []
            if isinstance(entry, dict) and isinstance(entry.get("async_customers"), list)
            for record in entry["async_customers"]
            if isinstance(record, dict) and isinstance(record.get("attributes"), dict)
        ]
        if customers:
            customer = customers[data.draw(st.integers(0, len(customers) - 1), label="customer")]
            name = data.draw(st.sampled_from(["Tier", "Newsletter", "Note", "\x00"]), label="name")
            customer["attributes"][name] = data.draw(VALUES, label="value")
            return
    container, key = nodes[data.draw(st.integers(0, len(nodes) - 1), label="node")]
    if operation == "delete":
        del container[key]
    elif operation == "string":
        container[key] = data.draw(st.sampled_from(ODD_STRINGS) | st.text(max_size=12))
    elif operation == "add-key" and isinstance(container, dict):
        container[data.draw(KEYS, label="key")] = data.draw(VALUES, label="value")
    elif operation == "repeat" and isinstance(container, list):  # repeated ids
        item = container[key]
        container.append(json.loads(json.dumps(item)) if _plain(item) else item)
    else:
        container[key] = data.draw(VALUES, label="value")


def _plain(value) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return False
    return True


def _python(value):
    if isinstance(value, Huge):
        return 10 ** (value.digits - 1)
    if isinstance(value, Deep):
        deep: list = []
        for _ in range(value.levels):
            deep = [deep]
        return deep
    if isinstance(value, dict):
        return {key: _python(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_python(item) for item in value]
    return value


def _text(value) -> str:
    """JSON text as a store's file would hold it (NaN, escaped lone surrogates...)."""
    if isinstance(value, Huge):
        return "1" + "0" * (value.digits - 1)
    if isinstance(value, Deep):
        return "[" * value.levels + "]" * value.levels
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return json.dumps(value)


@contextmanager
def _rolled_back():
    """Every database as it was, whatever the import did."""
    with ExitStack() as stack:
        for alias in django_settings.DATABASES:
            stack.enter_context(transaction.atomic(using=alias))
        yield
        for alias in django_settings.DATABASES:
            transaction.set_rollback(True, using=alias)


def _outcome(load) -> str:
    """ "loaded" or the one-line message; any other exception fails the test. A
    rejection writes nothing; a load is idempotent."""
    before = row_counts()
    try:
        load()
    except ImportFileError as exc:
        message = str(exc)
        assert message and len(message.splitlines()) == 1 and message.isprintable(), message
        assert row_counts() == before, message
        return message
    loaded = row_counts()
    load()
    assert row_counts() == loaded
    return "loaded"


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_mutated_file_loads_or_is_rejected_in_one_line(data):
    mutated = valid_file()
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if isinstance(mutated, dict) and mutated:
            _mutate(mutated, data)

    with _rolled_back():
        from_payload = _outcome(lambda: data_import(payload=_python(mutated)))
    with tempfile.TemporaryDirectory() as folder, _rolled_back():
        path = Path(folder) / "mutated.json"
        path.write_text(_text(mutated), encoding="utf-8")
        from_file = _outcome(lambda: data_import_file(path=path))

    assert (from_payload == "loaded") == (from_file == "loaded"), (from_payload, from_file)
