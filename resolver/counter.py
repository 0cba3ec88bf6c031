"""COUNTER Release 5 (and 5.1) reports -> plain rows. Pure: bytes in, dataclasses out.

Reads the title reports (TR and its standard views TR_J1…TR_J4, TR_B1…TR_B3) and the
database reports (DR, DR_D1, DR_D2) in both forms publishers hand out:

* JSON, as a SUSHI server returns it: ``Report_Header`` + ``Report_Items``; R5 items carry
  ``Performance: [{Period, Instance: [{Metric_Type, Count}]}]``, R5.1 items carry
  ``Attribute_Performance: [{…attributes, Performance: {metric: {"YYYY-MM": n}}}]``;
* tabular (TSV or CSV, what the admin pages let librarians download): a header block of
  ``key<TAB>value`` lines (12 in R5, 13 in R5.1) ended by a blank line, then column headings
  and one line per title and metric with one column per month (``Jan-2024``).

Errors carry the line (tabular) or the JSON path, so a librarian can find the bad cell.
Zero counts are dropped: COUNTER files are mostly zeros and they add nothing to any sum.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CounterError",
    "CounterException",
    "CounterReport",
    "Problem",
    "UsageRow",
    "parse_counter",
    "parse_counter_json",
    "parse_counter_tabular",
]

TITLE_REPORTS = ("TR", "TR_J1", "TR_J2", "TR_J3", "TR_J4", "TR_B1", "TR_B2", "TR_B3")
DATABASE_REPORTS = ("DR", "DR_D1", "DR_D2")
SUPPORTED_REPORTS = TITLE_REPORTS + DATABASE_REPORTS

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_MONTH_COL = re.compile(r"^([A-Za-z]{3})-(\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")
_METRIC = re.compile(r"^[A-Z][A-Za-z_]{2,39}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line number or JSON path) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class CounterError(ValueError):
    """The file is not a COUNTER report we can read; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:10]))


@dataclass(frozen=True)
class CounterException:
    """A COUNTER Exception from the header (3030 "No Usage Available", 3031 …)."""

    code: int
    severity: str = ""
    message: str = ""
    data: str = ""


@dataclass(frozen=True)
class UsageRow:
    """One non-zero figure: ``metric`` of one title/database in ``month`` (first day)."""

    title: str
    metric: str
    month: dt.date
    count: int
    platform: str = ""
    publisher: str = ""
    issn: str | None = None
    eissn: str | None = None
    isbn: str | None = None
    doi: str | None = None
    data_type: str | None = None
    access_type: str | None = None
    yop: str | None = None


@dataclass
class CounterReport:
    report_id: str
    release: str
    report_name: str = ""
    created: str = ""
    created_by: str = ""
    customer_id: str = ""
    institution_name: str = ""
    begin: dt.date | None = None
    end: dt.date | None = None
    exceptions: list[CounterException] = field(default_factory=list)
    rows: list[UsageRow] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def months(self) -> list[dt.date]:
        """Every month of the reporting period (or of the rows when the header has none)."""
        begin = self.begin or min((r.month for r in self.rows), default=None)
        end = self.end or max((r.month for r in self.rows), default=None)
        if begin is None or end is None:
            return []
        out, m = [], begin.replace(day=1)
        while m <= end:
            out.append(m)
            m = (m + dt.timedelta(days=32)).replace(day=1)
        return out


def parse_counter(data: bytes | str) -> CounterReport:
    """Parse a COUNTER report, telling JSON from tabular by its first character."""
    text = _decode(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    if text.lstrip()[:1] in ("{", "["):
        return parse_counter_json(text)
    return parse_counter_tabular(text)


def _decode(data: bytes) -> str:
    # Excel's "Unicode text" export is UTF-16 with a BOM; everything else is UTF-8 here
    # (COUNTER requires UTF-8), with or without a BOM.
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CounterError([Problem(f"byte {exc.start}", "the file is not UTF-8")]) from exc


# --- shared helpers ---------------------------------------------------------------------

def _date(value: Any, where: str) -> dt.date:
    s = str(value or "").strip()
    m = _ISO_MONTH.match(s)
    if not m:
        raise CounterError([Problem(where, f"not a date (YYYY-MM-DD or YYYY-MM): {s!r}")])
    try:
        if len(s) == 7:
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
        return dt.date.fromisoformat(s)
    except ValueError as exc:
        raise CounterError([Problem(where, f"not a date: {s!r}")]) from exc


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise CounterError([Problem(where, f"not a count: {value!r}")])
    if isinstance(value, int):
        n = value
    else:
        s = str(value if value is not None else "").strip().replace(",", "")
        if s == "":
            return 0
        if not s.isdigit():
            raise CounterError([Problem(where, f"not a whole non-negative number: {s!r}")])
        n = int(s)
    if n < 0:
        raise CounterError([Problem(where, f"negative count: {n}")])
    return n


def _norm_issn(value: str | None) -> str | None:
    s = re.sub(r"[^0-9Xx]", "", value or "").upper()
    return f"{s[:4]}-{s[4:]}" if len(s) == 8 else None


def _norm_isbn(value: str | None) -> str | None:
    s = re.sub(r"[^0-9Xx]", "", value or "").upper()
    return s if len(s) in (10, 13) else None


def _clean(value: Any) -> str | None:
    s = str(value).strip() if value is not None else ""
    return s or None


def _check_report_id(report_id: str, where: str) -> str:
    rid = report_id.strip().upper()
    if rid not in SUPPORTED_REPORTS:
        raise CounterError([Problem(where, f"unsupported report {report_id!r} (supported: "
                                           f"{', '.join(SUPPORTED_REPORTS)})")])
    return rid


def _check_metric(metric: str, where: str) -> str:
    m = metric.strip()
    if not _METRIC.match(m):
        raise CounterError([Problem(where, f"not a COUNTER metric type: {metric!r}")])
    return m


# --- JSON ---------------------------------------------------------------------------------

def _filters(header: dict[str, Any]) -> dict[str, str]:
    """Report_Filters: a list of {Name, Value} in R5, an object in R5.1."""
    raw = header.get("Report_Filters") or {}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(f.get("Name")): str(f.get("Value")) for f in raw if isinstance(f, dict)}


def _json_exceptions(header: dict[str, Any], payload: Any) -> list[CounterException]:
    raw = list(header.get("Exceptions") or [])
    if isinstance(header.get("Exception"), dict):  # some servers send one, singular
        raw.append(header["Exception"])
    out = []
    for e in raw:
        if isinstance(e, dict) and "Code" in e:
            out.append(exception_from_json(e))
    return out


def exception_from_json(e: dict[str, Any]) -> CounterException:
    try:
        code = int(e.get("Code", 0))
    except (TypeError, ValueError):
        code = 0
    return CounterException(code, str(e.get("Severity") or ""), str(e.get("Message") or ""),
                            str(e.get("Data") or ""))


def _item_ids(raw: Any) -> dict[str, str]:
    """Item_ID: a list of {Type, Value} in R5, an object in R5.1."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items() if v}
    ids: dict[str, str] = {}
    for i in raw or []:
        if isinstance(i, dict) and i.get("Value"):
            ids.setdefault(str(i.get("Type")), str(i["Value"]))
    return ids


def parse_counter_json(text: str | bytes) -> CounterReport:
    """Parse a JSON report (R5 or R5.1). A bare Exceptions list (what SUSHI servers send
    instead of a report) gives an empty report carrying those exceptions."""
    if isinstance(text, bytes):
        text = _decode(text)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CounterError([Problem(f"line {exc.lineno}", f"not JSON: {exc.msg}")]) from exc
    if isinstance(doc, list):  # [ {Code, Message…} ]: an exception, not a report
        exc_list = [exception_from_json(e) for e in doc if isinstance(e, dict)]
        return CounterReport("", "5", exceptions=exc_list)
    if not isinstance(doc, dict) or not isinstance(doc.get("Report_Header"), dict):
        raise CounterError([Problem("$", "no Report_Header: not a COUNTER JSON report")])
    header = doc["Report_Header"]
    rid = _check_report_id(str(header.get("Report_ID") or ""), "Report_Header.Report_ID")
    filters = _filters(header)
    report = CounterReport(
        report_id=rid,
        release=str(header.get("Release") or "5"),
        report_name=str(header.get("Report_Name") or ""),
        created=str(header.get("Created") or ""),
        created_by=str(header.get("Created_By") or ""),
        customer_id=str(header.get("Customer_ID") or ""),
        institution_name=str(header.get("Institution_Name") or ""),
        begin=_date(filters["Begin_Date"], "Report_Header.Report_Filters.Begin_Date")
        if filters.get("Begin_Date") else None,
        end=_date(filters["End_Date"], "Report_Header.Report_Filters.End_Date")
        if filters.get("End_Date") else None,
        exceptions=_json_exceptions(header, doc),
        header=header,
    )
    items = doc.get("Report_Items") or []
    if not isinstance(items, list):
        raise CounterError([Problem("Report_Items", "must be a list")])
    problems: list[Problem] = []
    for n, item in enumerate(items):
        where = f"Report_Items[{n}]"
        try:
            report.rows.extend(_json_item(item, where, rid))
        except CounterError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CounterError(problems)
    return report


def _json_item(item: Any, where: str, rid: str) -> list[UsageRow]:
    if not isinstance(item, dict):
        raise CounterError([Problem(where, "must be an object")])
    ids = _item_ids(item.get("Item_ID"))
    title = str(item.get("Title") or item.get("Database") or item.get("Platform") or "")
    base = {
        "title": title,
        "platform": str(item.get("Platform") or ""),
        "publisher": str(item.get("Publisher") or ""),
        "issn": _norm_issn(ids.get("Print_ISSN")),
        "eissn": _norm_issn(ids.get("Online_ISSN")),
        "isbn": _norm_isbn(ids.get("ISBN")),
        "doi": _clean(ids.get("DOI")),
    }
    rows: list[UsageRow] = []
    if "Attribute_Performance" in item:  # R5.1
        for k, ap in enumerate(item.get("Attribute_Performance") or []):
            w = f"{where}.Attribute_Performance[{k}]"
            attrs = _attrs(ap, base)
            perf = ap.get("Performance") if isinstance(ap, dict) else None
            if not isinstance(perf, dict):
                raise CounterError([Problem(w, "Performance must be an object")])
            for metric, months in perf.items():
                m = _check_metric(str(metric), f"{w}.Performance")
                if not isinstance(months, dict):
                    raise CounterError([Problem(f"{w}.Performance.{m}", "must be an object")])
                for month, cnt in months.items():
                    c = _count(cnt, f"{w}.Performance.{m}.{month}")
                    if c:
                        rows.append(UsageRow(metric=m, month=_date(month, w).replace(day=1),
                                             count=c, **attrs))
        return rows
    attrs = _attrs(item, base)
    for k, perf in enumerate(item.get("Performance") or []):
        w = f"{where}.Performance[{k}]"
        if not isinstance(perf, dict) or not isinstance(perf.get("Period"), dict):
            raise CounterError([Problem(w, "needs a Period")])
        month = _date(perf["Period"].get("Begin_Date"), f"{w}.Period.Begin_Date").replace(day=1)
        for j, inst in enumerate(perf.get("Instance") or []):
            wi = f"{w}.Instance[{j}]"
            if not isinstance(inst, dict):
                raise CounterError([Problem(wi, "must be an object")])
            m = _check_metric(str(inst.get("Metric_Type") or ""), f"{wi}.Metric_Type")
            c = _count(inst.get("Count"), f"{wi}.Count")
            if c:
                rows.append(UsageRow(metric=m, month=month, count=c, **attrs))
    return rows


def _attrs(src: Any, base: dict[str, Any]) -> dict[str, Any]:
    src = src if isinstance(src, dict) else {}
    return {**base, "data_type": _clean(src.get("Data_Type")),
            "access_type": _clean(src.get("Access_Type")), "yop": _clean(src.get("YOP"))}


# --- tabular ------------------------------------------------------------------------------

_EXC_RE = re.compile(r"(\d{4})\s*:\s*([^;(]*)(?:\(Data:\s*([^)]*)\))?")


def _tabular_exceptions(value: str) -> list[CounterException]:
    """``3030: No Usage Available for Requested Dates (Data: …); 3031: …``"""
    return [CounterException(int(c), "", m.strip(), (d or "").strip())
            for c, m, d in _EXC_RE.findall(value or "")]


def _period(value: str) -> tuple[dt.date | None, dt.date | None]:
    parts = dict(p.split("=", 1) for p in re.split(r"\s*;\s*", value or "") if "=" in p)
    b, e = parts.get("Begin_Date", "").strip(), parts.get("End_Date", "").strip()
    return (_date(b, "Reporting_Period") if b else None, _date(e, "Reporting_Period") if e
            else None)


def _month_column(name: str) -> dt.date | None:
    s = name.strip()
    m = _MONTH_COL.match(s)
    if m and m.group(1).lower() in _MONTHS:
        return dt.date(int(m.group(2)), _MONTHS[m.group(1).lower()], 1)
    m = _ISO_MONTH.match(s)
    if m and len(s) == 7 and 1 <= int(m.group(2)) <= 12:
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    return None


def parse_counter_tabular(text: str | bytes) -> CounterReport:
    """Parse a tabular report (TSV, or CSV when the first line has no tab)."""
    if isinstance(text, bytes):
        text = _decode(text)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else ","
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header: dict[str, str] = {}
    n = 0
    # The header block: key/value lines up to the first blank line.
    while n < len(lines) and any(c.strip() for c in lines[n]):
        row = lines[n]
        header[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
        n += 1
        if n > 20:
            break
    if "Report_ID" not in header:
        raise CounterError([Problem("line 2", "no Report_ID in the header block: not a "
                                              "COUNTER tabular report")])
    rid = _check_report_id(header["Report_ID"], "line 2 (Report_ID)")
    begin, end = _period(header.get("Reporting_Period", ""))
    report = CounterReport(
        report_id=rid, release=header.get("Release", "5"),
        report_name=header.get("Report_Name", ""), created=header.get("Created", ""),
        created_by=header.get("Created_By", ""),
        customer_id=_customer_id(header.get("Institution_ID", "")),
        institution_name=header.get("Institution_Name", ""), begin=begin, end=end,
        exceptions=_tabular_exceptions(header.get("Exceptions", "")), header=dict(header),
    )
    while n < len(lines) and not any(c.strip() for c in lines[n]):
        n += 1
    if n >= len(lines):
        return report  # a header and no body: an empty report (usually with 3030)
    headings = [h.strip() for h in lines[n]]
    head_line = n + 1
    col = {h: i for i, h in enumerate(headings)}
    if "Metric_Type" not in col:
        raise CounterError([Problem(f"line {head_line}", "no Metric_Type column")])
    months = [(i, _month_column(h)) for i, h in enumerate(headings)]
    months = [(i, m) for i, m in months if m is not None]
    if not months:
        raise CounterError([Problem(f"line {head_line}",
                                    "no month columns (like Jan-2024)")])
    name_col = "Database" if rid in DATABASE_REPORTS else "Title"

    def cell(row: list[str], name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    problems: list[Problem] = []
    for k, row in enumerate(lines[n + 1:], start=head_line + 1):
        if not any(c.strip() for c in row):
            continue
        try:
            metric = _check_metric(cell(row, "Metric_Type"), f"line {k} (Metric_Type)")
            attrs = {
                "title": cell(row, name_col) or cell(row, "Platform"),
                "platform": cell(row, "Platform"), "publisher": cell(row, "Publisher"),
                "issn": _norm_issn(cell(row, "Print_ISSN")),
                "eissn": _norm_issn(cell(row, "Online_ISSN")),
                "isbn": _norm_isbn(cell(row, "ISBN")), "doi": _clean(cell(row, "DOI")),
                "data_type": _clean(cell(row, "Data_Type")),
                "access_type": _clean(cell(row, "Access_Type")), "yop": _clean(cell(row, "YOP")),
            }
            for i, month in months:
                value = row[i] if i < len(row) else ""
                c = _count(value, f"line {k} ({headings[i]})")
                if c:
                    report.rows.append(UsageRow(metric=metric, month=month, count=c, **attrs))
        except CounterError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CounterError(problems)
    return report


def _customer_id(value: str) -> str:
    """Institution_ID ``Proprietary:ScienceDirect:12345; ISNI:…`` -> the proprietary id."""
    for part in re.split(r"\s*;\s*", value or ""):
        if part.lower().startswith("proprietary:"):
            return part.split(":", 1)[1]
    return value
