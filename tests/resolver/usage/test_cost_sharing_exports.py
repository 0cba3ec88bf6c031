"""CSV and XLSX of a cost-sharing table (resolver/usage/exports.py): numbers in the machine
form or as numbers, Vietnamese kept, and no institution name ever becomes a formula."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from resolver.usage.exports import (
    FRACTION,
    INTEGER,
    TEXT,
    USD,
    VND,
    Sheet,
    csv_export,
    machine_form,
    neutralise,
    xlsx_export,
)

HOSTILE = ["=HYPERLINK(\"http://evil.example/\",\"Bấm\")", "+1+cmd|' /C calc'!A0",
           "-2+3", "@SUM(1+1)", "\tTab", "\rReturn"]


def sheet(names: list[str]) -> Sheet:
    rows = [[f"m{i}", name, Decimal("12000000"), Decimal("480.25"), Decimal("-0.125"), 12]
            for i, name in enumerate(names)]
    return Sheet("Chia sẻ chi phí: sd/2025", ["Mã", "Thành viên", "VND", "USD", "Thay đổi",
                                             "Tháng"],
                 [TEXT, TEXT, VND, USD, FRACTION, INTEGER], rows)


def test_csv_has_a_bom_and_numbers_in_the_machine_form():
    data = csv_export(sheet(["Đại học Huế"]))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Mã", "Thành viên", "VND", "USD", "Thay đổi", "Tháng"],
                    ["m0", "Đại học Huế", "12000000", "480.25", "-0.1250", "12"]]


@pytest.mark.parametrize("name", HOSTILE)
def test_no_name_becomes_a_formula_in_csv(name):
    rows = list(csv.reader(io.StringIO(csv_export(sheet([name])).decode("utf-8-sig")),
                           ))
    cell = rows[1][1]
    assert cell == "'" + name
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert rows[1][4] == "-0.1250"  # a negative number is a number, not text


@pytest.mark.parametrize("name", HOSTILE)
def test_no_name_becomes_a_formula_in_xlsx(name):
    data = xlsx_export(sheet([name, "Đại học Huế"]))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere in the sheet
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.cell(2, 2).value == name  # the name kept exactly, as text
    assert ws.cell(2, 2).data_type == "s"
    assert ws.cell(2, 2).quotePrefix
    assert ws.cell(3, 2).value == "Đại học Huế"


def test_xlsx_numbers_are_numbers_with_their_formats():
    ws = load_workbook(io.BytesIO(xlsx_export(sheet(["Đại học Huế"])))).active
    assert ws.title == "Chia sẻ chi phí  sd 2025"  # ':' and '/' are refused in sheet names
    assert [c.value for c in ws[1]] == ["Mã", "Thành viên", "VND", "USD", "Thay đổi", "Tháng"]
    vnd, usd, change, months = ws.cell(2, 3), ws.cell(2, 4), ws.cell(2, 5), ws.cell(2, 6)
    assert vnd.value == 12000000 and isinstance(vnd.value, int)
    assert vnd.number_format == "#,##0"  # VND without decimals
    assert usd.value == pytest.approx(480.25) and usd.number_format == "#,##0.00"
    assert change.value == pytest.approx(-0.125) and change.number_format == "0.0%"
    assert months.value == 12


def test_machine_form_and_neutralise():
    assert machine_form(Decimal("1234567.5"), VND) == "1234568"
    assert machine_form(Decimal("1234.5"), USD) == "1234.50"
    assert machine_form(None, USD) == ""
    assert neutralise("Đại học Huế") == "Đại học Huế"
    assert neutralise("-1") == "'-1"


def test_a_sheet_refuses_kinds_that_do_not_fit():
    with pytest.raises(ValueError, match="kinds"):
        Sheet("x", ["a", "b"], [TEXT], [])
    with pytest.raises(ValueError, match="kinds"):
        Sheet("x", ["a"], ["money"], [])
