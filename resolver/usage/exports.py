"""A table of typed cells as a spreadsheet file: CSV for any program, XLSX for Excel (pure).

What the consortium's accountants open, so two rules hold in both formats:

* **Numbers stay numbers.** CSV writes them in the machine form (a decimal point, no
  thousands separator: ``12000``, ``1234.56``) whatever the interface language, so a
  spreadsheet or a script reads them the same everywhere; XLSX stores them as numbers with
  a display format (VND without decimals, USD with two, shares as percentages).
* **No text becomes a formula.** An institution name is typed by people; one starting with
  ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) would be run by Excel as a
  formula ("CSV injection"). In CSV such a text gets a leading apostrophe, the convention
  spreadsheets show as "this is text"; in XLSX it is stored as a string cell with Excel's
  own quote-prefix flag, so the name is kept exactly and never evaluated.

The CSV has a byte-order mark: without it Excel reads UTF-8 in the machine's legacy code
page and "Đại học Huế" comes out as mojibake (as :func:`resolver.usage.tables.csv_bytes`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "DECIMAL",
    "FRACTION",
    "INTEGER",
    "KINDS",
    "TEXT",
    "USD",
    "VND",
    "Sheet",
    "csv_export",
    "machine_form",
    "neutralise",
    "xlsx_export",
]

#: what a column holds: how CSV writes it and which number format XLSX shows it with
TEXT, INTEGER, VND, USD, FRACTION, DECIMAL = "text", "int", "vnd", "usd", "fraction", "decimal"
#: kind -> (decimals written in CSV, None: as the value has; Excel number format)
KINDS: dict[str, tuple[int | None, str]] = {
    TEXT: (None, "@"),
    INTEGER: (0, "#,##0"),
    VND: (0, "#,##0"),
    USD: (2, "#,##0.00"),
    FRACTION: (4, "0.0%"),       # 0.125 is shown 12.5 %
    DECIMAL: (4, "#,##0.0000"),  # a cost per download
}
#: the first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sheet:
    """A table to export: a title (the XLSX sheet's name), the header row (in the reader's
    language), one kind per column (:data:`KINDS`) and the rows (None: an empty cell)."""

    title: str
    headers: Sequence[str]
    kinds: Sequence[str]
    rows: Sequence[Sequence[Any]]

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or len(self.kinds) != len(self.headers):
            raise ValueError(f"column kinds {list(self.kinds)!r} do not fit the headers")


def neutralise(text: str) -> str:
    """``text`` as CSV may carry it: a leading apostrophe when a spreadsheet would take it
    for a formula, otherwise unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def machine_form(value: Any, kind: str) -> str:
    """A number in the machine form: a point before the decimals, no grouping; VND and
    counts without decimals, USD with two, fractions and ratios with up to four."""
    if value is None:
        return ""
    places = KINDS[kind][0]
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if places is None:
        return str(number)
    quantum = Decimal(1).scaleb(-places)
    return f"{number.quantize(quantum):f}"


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == TEXT or not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        return neutralise(str(value))
    return machine_form(value, kind)


def csv_export(sheet: Sheet) -> bytes:
    """The sheet as CSV bytes, UTF-8 with a byte-order mark, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in sheet.headers])
    for row in sheet.rows:
        writer.writerow([_csv_cell(v, k) for v, k in zip(row, sheet.kinds, strict=True)])
    return buf.getvalue().encode("utf-8-sig")


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet name, and names longer than 31
    clean = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return clean[:31] or "Sheet1"


def xlsx_export(sheet: Sheet) -> bytes:
    """The sheet as an XLSX workbook: a bold header row, numbers as numbers in their
    kind's format, every text a string cell (never a formula)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    ws = book.active
    ws.title = _sheet_title(sheet.title)
    for col, header in enumerate(sheet.headers, start=1):
        _text_cell(ws.cell(row=1, column=col), header).font = Font(bold=True)
    for r, row in enumerate(sheet.rows, start=2):
        for col, (value, kind) in enumerate(zip(row, sheet.kinds, strict=True), start=1):
            cell = ws.cell(row=r, column=col)
            if value is None:
                continue
            if kind == TEXT or not isinstance(value, int | float | Decimal) \
                    or isinstance(value, bool):
                _text_cell(cell, str(value))
                continue
            places = KINDS[kind][0]
            cell.value = int(value) if places == 0 else float(value)
            cell.number_format = KINDS[kind][1]
    ws.freeze_panes = "A2"
    for col, header in enumerate(sheet.headers, start=1):
        widest = max([len(str(header))] + [len(str(row[col - 1])) for row in sheet.rows
                                           if row[col - 1] is not None])
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = \
            min(60, max(10, widest + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(cell: Any, text: str) -> Any:
    """Put ``text`` in ``cell`` as a string, whatever it starts with: openpyxl would store
    "=…" as a formula, so the type is set after the value, and Excel's quote prefix marks
    a formula-looking text as text when someone edits the cell."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell
