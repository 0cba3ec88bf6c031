"""COUNTER Release 5 (and 5.1) reports -> plain rows. Pure: bytes in, dataclasses out.

Reads the title reports (TR and its standard views TR_J1…TR_J4, TR_B1…TR_B3) and the
database reports (DR, DR_D1, DR_D2) in both forms publishers hand out:

* JSON, as a SUSHI server returns it: ``Report_Header`` + ``Report_Items``; R5 items carry
  ``Performance: [{Period, Instance: [{Metric_Type, Count}]}]``, R5.1 items carry
  ``Attribute_Performance: [{…attributes, Performance: {metric: {"YYYY-MM": n}}}]``;
* tabular (TSV or CSV, what the admin pages let librarians download): a header block of
  ``key<TAB>value`` lines (12 in R5, 13 in R5.1) ended by a blank line, then column headings
  and one line per title and metric with one column per month (``Jan-2024``).

Errors carry the line (tabular) or the JSON path, so a librarian can find the bad cell, in
English and Vietnamese. Whatever the bytes (another encoding, an image, JSON nested 100k
deep, a count of 1e30, a month 9999-12), the answer is a :class:`CounterError`: counts are
whole numbers up to :data:`MAX_COUNT` (also summed over a month), months lie between
:data:`FIRST_MONTH` and the end of next year.
Zero counts are dropped: COUNTER files are mostly zeros and they add nothing to any sum.

Why one module of about 670 lines: it is one parser of one standard. The JSON and the
tabular readers are two spellings of the same report and must give the same rows, so they
share the dataclasses, the limits and every check (dates, months, counts and their sums,
report and metric names, identifiers) written once above them; split apart, those shared
rules would sit in a third module that both import and no reader could be read alone.
Storage is elsewhere (:mod:`resolver.usage.counter_import`), SUSHI fetching too
(:mod:`resolver.usage.sushi`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from index.identifiers import normalise_doi, normalise_isbn, normalise_issn
from resolver.kb.kbart import binary_kind, decode_problem

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

#: The largest count one figure may have, and one month's figures of a metric together:
#: what the database's integer columns hold (no real report comes near it).
MAX_COUNT = 2_147_483_647
#: The first month a report may cover (COUNTER Release 1 dates from 2003).
FIRST_MONTH = dt.date(2000, 1, 1)
#: How deep a report's header may nest: the header is stored, and real ones nest 3 deep.
MAX_HEADER_DEPTH = 20
#: A JSON string escape of half a character (a UTF-16 surrogate without its partner):
#: Python reads it, but no database stores it.
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def last_month(today: dt.date | None = None) -> dt.date:
    """The last month a report may cover: December of next year (a report dated ahead of
    time is a mistake, but one year of slack spares a clock or time zone)."""
    return dt.date((today or dt.date.today()).year + 1, 12, 1)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line number or JSON path) and what, in English
    and Vietnamese."""

    where: str
    message: str
    message_vi: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def text(self, lang: str) -> str:
        """The problem in ``lang`` (``vi`` or ``en``)."""
        if lang == "en":
            return str(self)
        where = re.sub(r"^line (\d+)", r"dòng \1", self.where)
        return f"{where}: {self.message_vi or self.message}"


class CounterError(ValueError):
    """The file is not a COUNTER report we can read; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:10]))


def _error(where: str, en: str, vi: str) -> CounterError:
    return CounterError([Problem(where, en, vi)])


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
        # Counted in whole months: adding days ran past year 9999 for a December 9999.
        first, last = begin.year * 12 + begin.month - 1, end.year * 12 + end.month - 1
        return [dt.date(m // 12, m % 12 + 1, 1) for m in range(first, last + 1)]


def parse_counter(data: bytes | str, *, today: dt.date | None = None) -> CounterReport:
    """Parse a COUNTER report, telling JSON from tabular by its first character.

    ``today`` dates the last month a report may cover (:func:`last_month`).
    """
    text = _decode(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    if text.lstrip()[:1] in ("{", "["):
        return parse_counter_json(text, today=today)
    return parse_counter_tabular(text, today=today)


def _decode(data: bytes) -> str:
    kind = binary_kind(data[:65536])
    if kind is not None:
        raise _error("byte 0", f"the file is {kind[0]}, not a COUNTER report "
                               "(JSON, TSV or CSV)",
                     f"tệp là {kind[1]}, không phải báo cáo COUNTER (JSON, TSV hoặc CSV)")
    # Excel's "Unicode text" export is UTF-16 with a BOM; everything else is UTF-8 here
    # (COUNTER requires UTF-8), with or without a BOM.
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        if utf16:
            en, vi = decode_problem(exc)
        else:
            en, vi = "the file is not UTF-8", "tệp không phải UTF-8"
        raise _error(f"byte {exc.start}", en, vi) from None
    if "\x00" in text:
        raise _error(f"byte {text.index(chr(0))}", "the file holds NUL characters (binary data)",
                     "tệp chứa ký tự NUL (dữ liệu nhị phân)")
    return text


# --- shared helpers ---------------------------------------------------------------------

def _quote(value: Any) -> str:
    """``value`` quoted for a message, cut short: a cell may be a megabyte."""
    s = value if isinstance(value, str) else str(value)
    return repr(s if len(s) <= 40 else s[:40] + "…")


def _date(value: Any, where: str) -> dt.date:
    s = value.strip() if isinstance(value, str) else ""
    m = _ISO_MONTH.match(s)
    if not m:
        raise _error(where, f"not a date (YYYY-MM-DD or YYYY-MM): {_quote(value)}",
                     f"không phải ngày (YYYY-MM-DD hoặc YYYY-MM): {_quote(value)}")
    try:
        if len(s) == 7:
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
        return dt.date.fromisoformat(s)
    except ValueError:
        raise _error(where, f"not a date: {s!r}", f"không phải ngày hợp lệ: {s!r}") from None


def _in_range(month: dt.date, where: str, last: dt.date) -> dt.date:
    """``month`` (its first day) when a report may cover it; CounterError otherwise."""
    month = month.replace(day=1)
    if not FIRST_MONTH <= month <= last:
        raise _error(where, f"{month:%Y-%m} is outside the months a report may cover "
                            f"({FIRST_MONTH:%Y-%m} … {last:%Y-%m})",
                     f"{month:%Y-%m} nằm ngoài khoảng tháng mà báo cáo có thể có "
                     f"({FIRST_MONTH:%Y-%m} … {last:%Y-%m})")
    return month


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise _error(where, f"not a count: {value!r}", f"không phải số lượt: {value!r}")
    if isinstance(value, int):
        n = value
    else:
        s = (value if isinstance(value, str) else "" if value is None else str(value))
        s = s.strip().replace(",", "")
        if s == "":
            return 0
        if s[:1] == "-" and s[1:].isascii() and s[1:].isdigit():
            n = -1
        elif not (s.isascii() and s.isdigit()):  # not "1e30", "NaN", "2.5", "²"
            raise _error(where, f"not a whole non-negative number: {_quote(s)}",
                         f"không phải số nguyên không âm: {_quote(s)}")
        elif len(s.lstrip("0")) > len(str(MAX_COUNT)):
            n = MAX_COUNT + 1  # too many digits to even convert (Python stops at 4300)
        else:
            n = int(s)
    if n < 0:
        raise _error(where, f"negative count: {_quote(value)}", f"số lượt âm: {_quote(value)}")
    if n > MAX_COUNT:
        raise _error(where, f"count {_quote(value)} is larger than {MAX_COUNT:,}",
                     f"số lượt {_quote(value)} lớn hơn {MAX_COUNT:,}")
    return n


def _check_sums(rows: list[UsageRow], where: str) -> None:
    """One month's figures of a metric are summed into one integer: keep that in range."""
    sums: Counter[tuple[str, dt.date]] = Counter()
    for r in rows:
        sums[r.metric, r.month] += r.count
    for (metric, month), total in sums.items():
        if total > MAX_COUNT:
            raise _error(where, f"the counts of {metric} in {month:%Y-%m} add up to {total:,}, "
                                f"more than {MAX_COUNT:,}",
                         f"tổng số lượt {metric} của tháng {month:%Y-%m} là {total:,}, "
                         f"lớn hơn {MAX_COUNT:,}")


def _check_period(report: CounterReport, where: str, last: dt.date) -> None:
    """The reporting period must be months a report may cover, begin before end, and hold
    every row (an import replaces exactly those months)."""
    if report.begin is not None:
        _in_range(report.begin, where, last)
    if report.end is not None:
        _in_range(report.end, where, last)
    if report.begin and report.end and report.begin > report.end:
        raise _error(where, f"the reporting period begins ({report.begin}) after it ends "
                            f"({report.end})",
                     f"kỳ báo cáo bắt đầu ({report.begin}) sau khi kết thúc ({report.end})")
    first = report.begin.replace(day=1) if report.begin else None
    for r in report.rows:
        if (first and r.month < first) or (report.end and r.month > report.end):
            raise _error(where, f"{r.title[:60]!r} has figures for {r.month:%Y-%m}, outside "
                                f"the reporting period {report.begin} … {report.end}",
                         f"{r.title[:60]!r} có số liệu tháng {r.month:%Y-%m}, ngoài kỳ báo cáo "
                         f"{report.begin} … {report.end}")


def _norm_issn(value: str | None) -> str | None:
    """``1234-567X`` by ``index.identifiers``' rules; a wrong check digit drops the number
    (the figures stay): usage is matched to titles by it, and a wrong one matches nothing."""
    return normalise_issn(value)


def _norm_doi(value: Any) -> str | None:
    """The DOI in lienhop's one canonical form (index/identifiers.py); junk is dropped, the
    figures stay."""
    text = _clean(value)
    return normalise_doi(text) if text else None


def _norm_isbn(value: str | None) -> str | None:
    """The ISBN-13 (an ISBN-10 converted), the form the resolver records and the knowledge
    base holds, by ``index.identifiers``' rules; None when invalid, as for the ISSN."""
    return normalise_isbn(value)


def _clean(value: Any) -> str | None:
    s = str(value).strip() if value is not None else ""
    return s or None


def _check_report_id(report_id: str, where: str) -> str:
    rid = report_id.strip().upper()
    if rid not in SUPPORTED_REPORTS:
        raise _error(where, f"unsupported report {_quote(report_id)} (supported: "
                            f"{', '.join(SUPPORTED_REPORTS)})",
                     f"loại báo cáo {_quote(report_id)} không được hỗ trợ (hỗ trợ: "
                     f"{', '.join(SUPPORTED_REPORTS)})")
    return rid


def _check_metric(metric: str, where: str) -> str:
    m = metric.strip()
    if not _METRIC.match(m):
        raise _error(where, f"not a COUNTER metric type: {_quote(metric)}",
                     f"không phải loại chỉ số COUNTER: {_quote(metric)}")
    return m


#: Problems one file reports before the rest are left unread (a broken 20 MB file could
#: otherwise give a million).
MAX_PROBLEMS = 1000


# --- JSON ---------------------------------------------------------------------------------

def _filters(header: dict[str, Any]) -> dict[str, str]:
    """Report_Filters: a list of {Name, Value} in R5, an object in R5.1."""
    raw = header.get("Report_Filters") or {}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if not isinstance(raw, list):
        return {}
    return {str(f.get("Name")): str(f.get("Value")) for f in raw if isinstance(f, dict)}


def _json_exceptions(header: dict[str, Any], payload: Any) -> list[CounterException]:
    raw = header.get("Exceptions")
    raw = list(raw) if isinstance(raw, list) else []
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
    except (TypeError, ValueError, OverflowError):  # "abc", 1e400, a 5000-digit number
        code = 0
    return CounterException(code, str(e.get("Severity") or ""), str(e.get("Message") or ""),
                            str(e.get("Data") or ""))


def _item_ids(raw: Any) -> dict[str, str]:
    """Item_ID: a list of {Type, Value} in R5, an object in R5.1."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items() if v}
    ids: dict[str, str] = {}
    for i in raw if isinstance(raw, list) else ():
        if isinstance(i, dict) and i.get("Value"):
            ids.setdefault(str(i.get("Type")), str(i["Value"]))
    return ids


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` levels deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return False
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return True


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _error(where, "must be a list", "phải là một danh sách")
    return value


def parse_counter_json(text: str | bytes, *, today: dt.date | None = None) -> CounterReport:
    """Parse a JSON report (R5 or R5.1). A bare Exceptions list (what SUSHI servers send
    instead of a report) gives an empty report carrying those exceptions."""
    if isinstance(text, bytes):
        text = _decode(text)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(f"line {exc.lineno}", f"not JSON: {exc.msg}",
                     f"không phải JSON: {exc.msg}") from None
    except RecursionError:
        raise _error("$", "the JSON nests too deeply to be a COUNTER report",
                     "JSON lồng nhau quá sâu, không thể là báo cáo COUNTER") from None
    except ValueError:  # an integer of more than 4300 digits
        raise _error("$", "the JSON holds a number too long to read",
                     "JSON chứa một số quá dài, không đọc được") from None
    if "\x00" in text or "\\u0000" in text or _LONE_SURROGATE.search(text):
        raise _error("$", "the JSON holds NUL characters or half characters (lone surrogates)",
                     "JSON chứa ký tự NUL hoặc nửa ký tự (surrogate đơn lẻ)")
    if isinstance(doc, list):  # [ {Code, Message…} ]: an exception, not a report
        exc_list = [exception_from_json(e) for e in doc if isinstance(e, dict)]
        return CounterReport("", "5", exceptions=exc_list)
    if not isinstance(doc, dict) or not isinstance(doc.get("Report_Header"), dict):
        raise _error("$", "no Report_Header: not a COUNTER JSON report",
                     "không có Report_Header: không phải báo cáo COUNTER dạng JSON")
    header = doc["Report_Header"]
    if not _depth(header, MAX_HEADER_DEPTH):
        raise _error("Report_Header", f"nests more than {MAX_HEADER_DEPTH} levels deep",
                     f"lồng nhau sâu hơn {MAX_HEADER_DEPTH} tầng")
    try:
        return _json_report(doc, header, last_month(today))
    except RecursionError:  # a title or a value nested 900 deep, turned into text
        raise _error("Report_Items", "a value nests too deeply",
                     "một giá trị lồng nhau quá sâu") from None


def _json_report(doc: dict[str, Any], header: dict[str, Any], last: dt.date) -> CounterReport:
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
    items = _list(doc.get("Report_Items") or None, "Report_Items")
    problems: list[Problem] = []
    for n, item in enumerate(items):
        where = f"Report_Items[{n}]"
        try:
            report.rows.extend(_json_item(item, where, rid, last))
        except CounterError as exc:
            problems.extend(exc.problems)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise CounterError(problems)
    _check_period(report, "Report_Header.Report_Filters", last)
    _check_sums(report.rows, "Report_Items")
    return report


def _json_item(item: Any, where: str, rid: str, last: dt.date) -> list[UsageRow]:
    if not isinstance(item, dict):
        raise _error(where, "must be an object", "phải là một đối tượng")
    ids = _item_ids(item.get("Item_ID"))
    title = str(item.get("Title") or item.get("Database") or item.get("Platform") or "")
    base = {
        "title": title,
        "platform": str(item.get("Platform") or ""),
        "publisher": str(item.get("Publisher") or ""),
        "issn": _norm_issn(ids.get("Print_ISSN")),
        "eissn": _norm_issn(ids.get("Online_ISSN")),
        "isbn": _norm_isbn(ids.get("ISBN")),
        "doi": _norm_doi(ids.get("DOI")),
    }
    rows: list[UsageRow] = []
    if "Attribute_Performance" in item:  # R5.1
        aps = _list(item.get("Attribute_Performance"), f"{where}.Attribute_Performance")
        for k, ap in enumerate(aps):
            w = f"{where}.Attribute_Performance[{k}]"
            attrs = _attrs(ap, base)
            perf = ap.get("Performance") if isinstance(ap, dict) else None
            if not isinstance(perf, dict):
                raise _error(w, "Performance must be an object",
                             "Performance phải là một đối tượng")
            for metric, months in perf.items():
                m = _check_metric(str(metric), f"{w}.Performance")
                if not isinstance(months, dict):
                    raise _error(f"{w}.Performance.{m}", "must be an object",
                                 "phải là một đối tượng")
                for month, cnt in months.items():
                    wm = f"{w}.Performance.{m}.{_quote(month)}"
                    c = _count(cnt, wm)
                    if c:
                        rows.append(UsageRow(metric=m, month=_in_range(_date(month, wm), wm, last),
                                             count=c, **attrs))
        return rows
    attrs = _attrs(item, base)
    for k, perf in enumerate(_list(item.get("Performance"), f"{where}.Performance")):
        w = f"{where}.Performance[{k}]"
        if not isinstance(perf, dict) or not isinstance(perf.get("Period"), dict):
            raise _error(w, "needs a Period", "thiếu Period")
        wb = f"{w}.Period.Begin_Date"
        month = _in_range(_date(perf["Period"].get("Begin_Date"), wb), wb, last)
        for j, inst in enumerate(_list(perf.get("Instance"), f"{w}.Instance")):
            wi = f"{w}.Instance[{j}]"
            if not isinstance(inst, dict):
                raise _error(wi, "must be an object", "phải là một đối tượng")
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


def _month_column(name: str, where: str, last: dt.date) -> dt.date | None:
    """The month a column heading names (``Jan-2024``, ``2024-01``), None when it names no
    month; CounterError for a month no report may cover (``Jan-0000``, ``Dec-9999``)."""
    s = name.strip()
    m = _MONTH_COL.match(s)
    if m and m.group(1).lower() in _MONTHS:
        year, month = int(m.group(2)), _MONTHS[m.group(1).lower()]
    else:
        m = _ISO_MONTH.match(s)
        if not (m and len(s) == 7 and 1 <= int(m.group(2)) <= 12):
            return None
        year, month = int(m.group(1)), int(m.group(2))
    if not FIRST_MONTH.year <= year <= last.year:  # dt.date cannot even hold year 0
        raise _error(where, f"{_quote(s)} is outside the months a report may cover "
                            f"({FIRST_MONTH:%Y-%m} … {last:%Y-%m})",
                     f"{_quote(s)} nằm ngoài khoảng tháng mà báo cáo có thể có "
                     f"({FIRST_MONTH:%Y-%m} … {last:%Y-%m})")
    return _in_range(dt.date(year, month, 1), where, last)


#: The longest cell a tabular report may have (the csv module's own limit).
MAX_CELL = csv.field_size_limit()


def parse_counter_tabular(text: str | bytes, *, today: dt.date | None = None) -> CounterReport:
    """Parse a tabular report (TSV, or CSV when the first line has no tab)."""
    if isinstance(text, bytes):
        text = _decode(text)
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise _error("$", "the file holds NUL characters (binary data)",
                     "tệp chứa ký tự NUL (dữ liệu nhị phân)")
    last = last_month(today)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as exc:  # a cell over MAX_CELL characters, a broken quote
        raise _error(f"line {reader.line_num}", f"cannot be read as {_delimited(delimiter)} "
                                                f"({exc})",
                     f"không đọc được dưới dạng {_delimited(delimiter, 'vi')} "
                     f"(ô dài hơn {MAX_CELL:,} ký tự?)") from None
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
        raise _error("line 2", "no Report_ID in the header block: not a COUNTER tabular report",
                     "không có Report_ID trong phần đầu: không phải báo cáo COUNTER dạng bảng")
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
    _check_period(report, "Reporting_Period", last)
    while n < len(lines) and not any(c.strip() for c in lines[n]):
        n += 1
    if n >= len(lines):
        return report  # a header and no body: an empty report (usually with 3030)
    headings = [h.strip() for h in lines[n]]
    head_line = n + 1
    col = {h: i for i, h in enumerate(headings)}
    if "Metric_Type" not in col:
        raise _error(f"line {head_line}", "no Metric_Type column", "thiếu cột Metric_Type")
    columns = [(i, _month_column(h, f"line {head_line} ({_quote(h)})", last))
               for i, h in enumerate(headings)]
    months = [(i, m) for i, m in columns if m is not None]
    if not months:
        raise _error(f"line {head_line}", "no month columns (like Jan-2024)",
                     "không có cột tháng nào (như Jan-2024)")
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
            attrs: dict[str, Any] = {
                "title": cell(row, name_col) or cell(row, "Platform"),
                "platform": cell(row, "Platform"), "publisher": cell(row, "Publisher"),
                "issn": _norm_issn(cell(row, "Print_ISSN")),
                "eissn": _norm_issn(cell(row, "Online_ISSN")),
                "isbn": _norm_isbn(cell(row, "ISBN")), "doi": _norm_doi(cell(row, "DOI")),
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
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise CounterError(problems)
    _check_period(report, "Reporting_Period", last)
    _check_sums(report.rows, "Reporting_Period")
    return report


def _delimited(delimiter: str, lang: str = "en") -> str:
    if lang == "vi":
        return "TSV (phân cách bằng tab)" if delimiter == "\t" else "CSV"
    return "TSV (tab-separated)" if delimiter == "\t" else "CSV"


def _customer_id(value: str) -> str:
    """Institution_ID ``Proprietary:ScienceDirect:12345; ISNI:…`` -> the proprietary id."""
    for part in re.split(r"\s*;\s*", value or ""):
        if part.lower().startswith("proprietary:"):
            return part.split(":", 1)[1]
    return value
