"""import_data_file against broken files: one line for every file no database can store
or no reader can read; the file streams and is read twice (check, write)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from commerce.models import Store
from customers import importing
from customers.importing import ImportFileError, data_import_file, files
from customers.models import AsyncCustomer, AsyncCustomerAddress, Customer, Party
from tests.customers.test_importing import assert_nothing_written, guid, valid_file

pytestmark = pytest.mark.django_db(databases="__all__")


def _rejected_file(tmp_path, text: str | bytes) -> str:
    path = tmp_path / "data.json"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    with pytest.raises(ImportFileError) as excinfo:
        data_import_file(path=path)
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1, message
    assert message.isprintable(), message
    assert_nothing_written()
    return message.replace(str(path), "FILE")


def _file_text(payload: dict, **replace: str) -> str:
    """JSON text of ``payload`` with each marker string replaced by raw JSON text (for
    what json.dumps cannot write: NaN where it stands, a lone surrogate escape...)."""
    text = json.dumps(payload)
    for marker, raw in replace.items():
        text = text.replace(json.dumps(marker), raw)
    return text


# --- Files: one line for every broken file ----------------------------------------------


def test_a_streamed_file_loads_like_the_payload(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("\ufeff" + json.dumps(valid_file(), indent=2), encoding="utf-8")

    report = data_import_file(path=path)

    assert report.counts["async_customers"].created == 2
    assert report.counts["transactions"].created == 2
    assert AsyncCustomerAddress.objects.using("channel").count() == 2
    assert Customer.objects.get().party.name == "Default Customer"


def test_sections_in_any_order_are_written_in_spec_order(tmp_path):
    payload = valid_file()
    reordered = {name: payload[name] for name in reversed(list(payload))}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(reordered), encoding="utf-8")

    report = data_import_file(path=path)

    assert list(reordered)[0] == "channel"
    assert Store.objects.count() == 2
    assert AsyncCustomer.objects.using("channel").count() == 1
    assert list(report.counts)[:3] == ["legal_entities", "number_sequences", "customer_groups"]
    assert list(report.counts)[-1] == "transactions"


FILE_ERRORS = [
    pytest.param(
        {"customers.0.first_name": '"De\\ud800fault"'},
        "customers[0].first_name: must be valid text, without a lone surrogate "
        '(\\ud800-\\udfff) or U+FFFF, got "De\\ufffffault"',
        id="lone-high-surrogate-escape",
    ),
    pytest.param(
        {"customers.0.first_name": '"\\udc00x"'},
        "customers[0].first_name: must be valid text, without a lone surrogate "
        '(\\ud800-\\udfff) or U+FFFF, got "\\uffffx"',
        id="lone-low-surrogate-escape",
    ),
    pytest.param(
        {"customers.0.first_name": '"\\ud83d\\ud83d\\ude00"'},
        "customers[0].first_name: must be valid text, without a lone surrogate "
        '(\\ud800-\\udfff) or U+FFFF, got "\\uffff😀"',
        id="high-surrogate-before-a-pair",
    ),
    pytest.param(
        {"channel.0.async_customers.0.attributes": '{"Score": NaN}'},
        "channel[0].async_customers[0].attributes.Score: must be a finite number (NaN and "
        "Infinity are not JSON), got NaN",
        id="nan",
    ),
    pytest.param(
        {"legal_entities.0.customer_account_digits": "-Infinity"},
        "legal_entities[0].customer_account_digits: must be a finite number (NaN and Infinity "
        "are not JSON), got -Infinity",
        id="minus-infinity",
    ),
    pytest.param(
        {"legal_entities.0.customer_account_digits": "1e400"},
        "legal_entities[0].customer_account_digits: number out of range, got 1E+400",
        id="float-overflow",
    ),
    pytest.param(
        {"legal_entities.0.customer_account_digits": "9" * 5000},
        "legal_entities[0].customer_account_digits: holds more than 4300 digits in a row, which "
        "no field needs and no number within range has",
        id="integer-of-5000-digits",
    ),
    pytest.param(
        {"channel.0.async_customers.0.attributes": '{"Note": "' + "7" * 5000 + '"}'},
        "channel[0].async_customers[0].attributes.Note: holds more than 4300 digits in a row, "
        "which no field needs and no number within range has",
        id="string-of-5000-digits",
    ),
    pytest.param(
        {"channel.0.async_customers.0.attributes": '{"Deep": ' + "[" * 1500 + "]" * 1500 + "}"},
        "channel[0].async_customers[0].attributes.Deep" + "[0]" * 26 + ": nested more than 32 "
        "levels deep",
        id="nested-1500-levels",
    ),
    pytest.param(
        {"customers.0.last_name": '"Cus\\u0000tomer"'},
        "customers[0].last_name: must not contain NUL (\\u0000), which PostgreSQL cannot store, "
        'got "Cus\\u0000tomer"',
        id="escaped-nul",
    ),
    pytest.param(
        {"channel.1.async_customers.0.created_at": '"0001-01-01T00:00:00+01:00"'},
        "channel[1].async_customers[0].created_at: out of range: must fall within years 1 to "
        '9999 in UTC, got "0001-01-01T00:00:00+01:00"',
        id="created-at-overflow",
    ),
    pytest.param(
        {"channel.1.async_customers.0.async_id": json.dumps(guid(2) + "\n")},
        "channel[1].async_customers[0].async_id: must be a GUID such as "
        f'5f0c2c8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f, got "{guid(2)}\\n"',
        id="guid-and-line-break",
    ),
    pytest.param(
        {"stores.0.name": '"Houston", "name": "Houston again"'},
        'stores[0].name: repeated field, got "name"',
        id="name-repeated-in-an-object",
    ),
]


def _marked(payload: dict, markers: dict[str, str]) -> str:
    """The file text of ``payload`` with the value at each dotted path replaced by raw
    JSON text."""
    replace = {}
    for number, (dotted, raw) in enumerate(markers.items()):
        *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        target = payload
        for step in parents:
            target = target[step]
        marker = f"@@marker{number}@@"
        target[last] = marker
        replace[marker] = raw
    return _file_text(payload, **replace)


@pytest.mark.parametrize(("markers", "message"), FILE_ERRORS)
def test_a_file_the_database_cannot_store_is_one_line(tmp_path, markers, message):
    assert _rejected_file(tmp_path, _marked(valid_file(), markers)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(b"", "FILE: not valid JSON (Expecting value at line 1, column 1)", id="empty"),
        pytest.param(
            b'{"legal_entities": []} []',
            "FILE: not valid JSON (Extra data at line 1, column 24)",
            id="trailing-data",
        ),
        pytest.param(
            b'{"legal_entities": [{"code": "U"',
            "FILE: not valid JSON (Expecting ',' delimiter at line 1, column 33)",
            id="truncated",
        ),
        pytest.param(
            b'{"legal_entities": [{"code": "\xed\xa0\x80"}]}',
            "FILE: not UTF-8 text (invalid continuation byte at byte 30)",
            id="encoded-surrogate",
        ),
        pytest.param(
            b"\xef\xbb\xbf" + b'{"legal_entities": [{"code": "\xff"}]}',
            "FILE: not UTF-8 text (invalid start byte at byte 33)",
            id="bad-byte-after-a-bom",
        ),
        pytest.param(
            b'{"legal_entities": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "legal_entities[0]" + "[0]" * 30 + ": nested more than 32 levels deep",
            id="nested-100000-levels",
        ),
        pytest.param(
            b'[{"legal_entities": []}]',
            'file: must be a JSON object, got [{"legal_entities": []}]',
            id="not-an-object",
        ),
        pytest.param(
            b'{"legal_entities": [], "legal_entities": []}',
            'legal_entities: repeated section "legal_entities"',
            id="repeated-section",
        ),
        pytest.param(
            b'{"legal_entities": [], "\\ud800\\n": []}',
            '"\\uffff\\n": must be valid text, without a lone surrogate (\\ud800-\\udfff) or '
            'U+FFFF, got "\\uffff\\n"',
            id="bad-section-name",
        ),
    ],
)
def test_a_broken_file_is_one_line(tmp_path, text, message):
    assert _rejected_file(tmp_path, text) == message


def test_an_escaped_backslash_before_u_is_not_a_surrogate(tmp_path):
    payload = valid_file()
    payload["customers"][0]["first_name"] = "De\\ud800fault 😀"
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payload), encoding="utf-8")  # ensure_ascii: 😀 is a pair

    data_import_file(path=path)

    assert Party.objects.get().first_name == "De\\ud800fault 😀"


TRICKY_NAME = "\\\\ud800 " + "1" * 50 + " \U0001f600 \\"  # literal, a digit run, a pair


@pytest.mark.parametrize("chunk", [1, 2, 5, 7, 13])
def test_escapes_and_digit_runs_split_across_reads_are_read_whole(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(files, "READ_SIZE", chunk)
    payload = valid_file()
    payload["customers"][0]["first_name"] = TRICKY_NAME
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payload), encoding="utf-8")

    data_import_file(path=path)

    assert Party.objects.get().first_name == TRICKY_NAME


@pytest.mark.parametrize("chunk", [1, 2, 5, 7, 13])
def test_a_lone_surrogate_split_across_reads_is_seen(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(files, "READ_SIZE", chunk)
    payload = valid_file()
    payload["customers"][0]["first_name"] = TRICKY_NAME
    payload["customers"][0]["last_name"] = "Cus\\\ud800tomer"  # a backslash, a lone surrogate
    path = tmp_path / "data.json"
    path.write_text(json.dumps(payload), encoding="utf-8")

    message = _rejected_file(tmp_path, path.read_bytes())

    assert message.startswith("customers[0].last_name: must be valid text"), message
    assert message.endswith('got "Cus\\\\\\ufffftomer"'), message


def test_a_file_changed_between_the_reads_is_rejected(tmp_path, monkeypatch):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(valid_file()), encoding="utf-8")
    check = importing.file_check

    def check_then_change(*, source):
        plan = check(source=source)
        changed = valid_file()
        changed["customers"][0]["last_name"] = "Changed"
        path.write_text(json.dumps(changed), encoding="utf-8")
        return plan

    monkeypatch.setattr(importing, "file_check", check_then_change)

    with pytest.raises(ImportFileError) as excinfo:
        data_import_file(path=path)

    assert str(excinfo.value) == f"{path}: the file changed while it was imported"
    assert_nothing_written()


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nan.json", '{"legal_entities": [{"code": "U", "name": NaN}]}', "legal_entities[0].name"),
        ("surrogate.json", '{"legal_entities": [{"code": "\\udfff"}]}', "legal_entities[0].code"),
        (
            "deep.json",
            '{"channel": [{"store": "S0001", "async_customers": [{"attributes": {"a": '
            + DEEP
            + "}}]}]}",
            "channel[0].async_customers[0].attributes.a[0][0]",
        ),
        ("empty.json", "", "not valid JSON"),
    ],
    ids=["nan", "surrogate", "deep", "empty"],
)
def test_command_rejects_a_hostile_file_in_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), stdout=io.StringIO())

    assert message in str(excinfo.value)
    assert str(excinfo.value).endswith("(nothing imported)")
    assert len(str(excinfo.value).splitlines()) == 1
    assert_nothing_written()
