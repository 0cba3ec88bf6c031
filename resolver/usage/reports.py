"""Usage and cost reports: plain rows from the logs, COUNTER figures and package costs.

Every report is a function ``(session, *, start, end, …) -> list[row dataclass]``; pages
turn rows into tables (:func:`pivot`, :func:`to_table`), charts (:mod:`resolver.usage.charts`)
and CSV (:func:`csv_bytes`). :data:`REPORTS` names them, with Vietnamese and English labels.

Sources:

* **clicks**: the resolver's click log (a followed link: ``fulltext`` = subscription,
  ``open``, ``catalogue``, ``delivery``);
* **requests**: the resolve log (every resolution, by outcome; turnaways are the requests a
  subscription package could have served had the institution been entitled);
* **COUNTER**: the publishers' own reports, imported per institution and package.

Cost per download (:func:`cost_per_download_yearly`, :func:`cost_per_download_monthly`):

* a package's cost for a year is the sum of its :class:`PackageCost` rows of that year in
  one currency: the consortium-wide amount plus every member's own amount;
* *downloads* are COUNTER ``Total_Item_Requests`` from the journal and book views
  (``TR_J1`` + ``TR_B1``: disjoint, so nothing is counted twice; a package that only sends
  ``TR`` or ``DR`` is reported with ``reports=("TR",)`` or ``("DR",)``), or, with
  ``source="clicks"``, the resolver's subscription full-text clicks;
* **yearly**: cost of the year / downloads in the year;
* **monthly, running**: the yearly cost accrues evenly, one twelfth a month, so in month
  *m* ``cost to date = cost × m / 12`` and the running figure is cost to date / downloads
  from January to *m*. December's running figure equals the yearly one, and the same month
  of two years compares like with like (year over year);
* **monthly, in the month**: (cost / 12) / downloads in that month;
* **per member**: the member's own cost rows over the member's own downloads of that
  package. A consortium-wide cost is not shared out among members (any key would be a
  policy choice); it shows in the per-package figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from resolver.usage import rollup
from resolver.usage.counter import CounterReport
from resolver.usage.models import (
    CURRENCIES,
    SOURCE_CLICK,
    SOURCE_RESOLVE,
    TURNAWAY,
    CounterImport,
    CounterMonth,
    CounterUsage,
    PackageCost,
)
from resolver.usage.rollup import MonthCount, add_months, month_start, months_between

__all__ = [
    "CostMonth",
    "CostYear",
    "CounterImportError",
    "MonthCount",
    "REPORTS",
    "Table",
    "clicks",
    "cost_per_download_monthly",
    "cost_per_download_yearly",
    "counter_downloads",
    "csv_bytes",
    "import_counter",
    "pivot",
    "requests",
    "set_cost",
    "to_table",
    "turnaways",
]

DOWNLOAD_METRIC = "Total_Item_Requests"
DOWNLOAD_REPORTS = ("TR_J1", "TR_B1")
#: what a click's target kind is called in reports (the issue's words)
KIND_LABELS = {
    "fulltext": ("Toàn văn (thuê bao)", "Full text (subscription)"),
    "open": ("Bản truy cập mở", "Open copy"),
    "delivery": ("Cung cấp tài liệu", "Document delivery"),
    "catalogue": ("Mục lục thư viện", "Library catalogue"),
}
OUTCOME_LABELS = {
    "fulltext": ("Có toàn văn", "Full text available"),
    "open": ("Chỉ có bản mở", "Open copy only"),
    "turnaway": ("Bị từ chối (chưa mua)", "Turnaway (not subscribed)"),
    "nomatch": ("Không tìm thấy", "No match"),
}


# --- counts -------------------------------------------------------------------------------

def _refresh(session: Session) -> None:
    # In its own session: a report must not commit (or roll back) the caller's work.
    with Session(bind=session.get_bind()) as s:
        rollup.refresh(s)


def clicks(
    session: Session, *, start: dt.date, end: dt.date,
    by: Sequence[str] = ("package",), kinds: Sequence[str] | None = None,
    institutions: Sequence[str] | None = None, packages: Sequence[str] | None = None,
) -> list[MonthCount]:
    """Followed links per month, grouped by any of ``institution``, ``package``, ``kind``."""
    _refresh(session)
    where: dict[str, Sequence[str | None]] = {}
    if kinds is not None:
        where["kind"] = kinds
    if institutions is not None:
        where["institution"] = institutions
    if packages is not None:
        where["package"] = packages
    return rollup.monthly_counts(session, SOURCE_CLICK, start, end, by=by, where=where)


def requests(
    session: Session, *, start: dt.date, end: dt.date, by: Sequence[str] = ("kind",),
    institutions: Sequence[str] | None = None,
) -> list[MonthCount]:
    """Resolver requests per month; ``kind`` is the outcome (see :data:`OUTCOMES`)."""
    _refresh(session)
    where = {"institution": institutions} if institutions is not None else {}
    return rollup.monthly_counts(session, SOURCE_RESOLVE, start, end, by=by, where=where)


def turnaways(
    session: Session, *, start: dt.date, end: dt.date, by: Sequence[str] = ("package",),
    institutions: Sequence[str] | None = None,
) -> list[MonthCount]:
    """Turnaways per month: requests a subscription package held but the institution was not
    entitled to (``package`` is that package) — the evidence for buying more."""
    _refresh(session)
    where: dict[str, Sequence[str | None]] = {"kind": [TURNAWAY]}
    if institutions is not None:
        where["institution"] = institutions
    return rollup.monthly_counts(session, SOURCE_RESOLVE, start, end, by=by, where=where)


def counter_downloads(
    session: Session, *, start: dt.date, end: dt.date, by: Sequence[str] = ("package",),
    metric: str = DOWNLOAD_METRIC, reports: Sequence[str] = DOWNLOAD_REPORTS,
    institutions: Sequence[str] | None = None, packages: Sequence[str] | None = None,
) -> list[MonthCount]:
    """COUNTER figures (``metric`` summed over ``reports``) per month, by institution and/or
    package."""
    cols = {"institution": CounterMonth.institution, "package": CounterMonth.package}
    for d in by:
        if d not in cols:
            raise ValueError(f"COUNTER figures are grouped by institution or package, not {d}")
    stmt = (select(CounterMonth.month, *[cols[d] for d in by], func.sum(CounterMonth.count))
            .where(CounterMonth.report_id.in_(list(reports)), CounterMonth.metric == metric,
                   CounterMonth.month >= month_start(start),
                   CounterMonth.month < add_months(month_start(end), 1)))
    if institutions is not None:
        stmt = stmt.where(CounterMonth.institution.in_(list(institutions)))
    if packages is not None:
        stmt = stmt.where(CounterMonth.package.in_(list(packages)))
    stmt = stmt.group_by(CounterMonth.month, *[cols[d] for d in by])
    out = [MonthCount(rollup._month_of(r[0]), int(r[-1]),
                      **dict(zip(by, r[1:-1], strict=True)))
           for r in session.execute(stmt)]
    return sorted(out, key=lambda r: (r.month, r.institution or "", r.package or ""))


# --- COUNTER import -----------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    import_id: int
    report_id: str
    rows: int
    replaced: int
    months: tuple[dt.date, ...]
    exceptions: tuple[str, ...]


class CounterImportError(ValueError):
    """A parsed report that cannot be stored as asked; nothing was changed. The message is
    English, ``message_vi`` the same in Vietnamese."""

    def __init__(self, message: str, message_vi: str) -> None:
        super().__init__(message)
        self.message_vi = message_vi


#: What an institution or package code looks like (as the registry and the KB have them).
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def import_counter(session: Session, report: CounterReport, *, institution: str,
                   package: str, source: str = "") -> ImportResult:
    """Store a parsed report for one institution and package (the caller commits).

    Idempotent: the figures this institution and package already had for the same report
    and months are replaced, so a corrected report (or a SUSHI re-fetch) never counts twice.
    Raises :class:`CounterImportError` before changing anything when it cannot.
    """
    for what, code in (("institution", institution), ("package", package)):
        if not CODE_RE.match(code or ""):
            raise CounterImportError(
                f"{what} code {code[:70]!r}: use lower-case letters, digits, '.', '_', '-'",
                f"mã {'cơ quan' if what == 'institution' else 'gói'} {code[:70]!r}: chỉ dùng "
                "chữ thường, chữ số, '.', '_', '-'")
    months = report.months
    if not months and not report.exceptions:
        raise CounterImportError("the report has neither a reporting period nor any usage",
                                 "báo cáo không có kỳ báo cáo và cũng không có số liệu nào")
    begin = months[0] if months else dt.date.today().replace(day=1)
    end = months[-1] if months else begin
    replaced = 0
    if months:
        replaced = session.execute(
            delete(CounterUsage).where(
                CounterUsage.institution == institution, CounterUsage.package == package,
                CounterUsage.report_id == report.report_id,
                CounterUsage.month >= months[0], CounterUsage.month <= months[-1])
        ).rowcount or 0
    imp = CounterImport(
        source=source[:500], report_id=report.report_id or "?", release=report.release[:8],
        created=report.created[:40], created_by=report.created_by[:200],
        customer_id=report.customer_id[:200], institution_name=report.institution_name[:300],
        institution=institution, package=package, begin=begin, end=end, rows=len(report.rows),
        exceptions=[{"Code": e.code, "Severity": e.severity, "Message": e.message,
                     "Data": e.data} for e in report.exceptions],
        header=_jsonable(report.header),
    )
    session.add(imp)
    session.flush()
    if report.rows:
        session.execute(insert(CounterUsage), [
            {"import_id": imp.id, "institution": institution, "package": package,
             "report_id": report.report_id, "metric": r.metric, "title": r.title[:1000],
             "platform": r.platform[:200], "publisher": r.publisher[:300], "issn": r.issn,
             "eissn": r.eissn, "isbn": r.isbn, "doi": r.doi and r.doi[:300],
             "data_type": r.data_type and r.data_type[:40],
             "access_type": r.access_type and r.access_type[:40], "yop": r.yop and r.yop[:8],
             "month": r.month, "count": r.count}
            for r in report.rows])
    if months:
        _sum_months(session, institution, package, report.report_id, months[0], months[-1])
    return ImportResult(imp.id, imp.report_id, len(report.rows), replaced, tuple(months),
                        tuple(f"{e.code}: {e.message}" for e in report.exceptions))


def _sum_months(session: Session, institution: str, package: str, report_id: str,
                first: dt.date, last: dt.date) -> None:
    """Recount :class:`CounterMonth` for one institution, package, report and months."""
    session.execute(delete(CounterMonth).where(
        CounterMonth.institution == institution, CounterMonth.package == package,
        CounterMonth.report_id == report_id, CounterMonth.month >= first,
        CounterMonth.month <= last))
    sums = select(CounterUsage.institution, CounterUsage.package, CounterUsage.report_id,
                  CounterUsage.metric, CounterUsage.month, func.sum(CounterUsage.count)).where(
        CounterUsage.institution == institution, CounterUsage.package == package,
        CounterUsage.report_id == report_id, CounterUsage.month >= first,
        CounterUsage.month <= last).group_by(
        CounterUsage.institution, CounterUsage.package, CounterUsage.report_id,
        CounterUsage.metric, CounterUsage.month)
    session.execute(insert(CounterMonth).from_select(
        ["institution", "package", "report_id", "metric", "month", "count"], sums))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # Python reads NaN and Infinity; JSON (and PostgreSQL) has neither
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- costs --------------------------------------------------------------------------------

def set_cost(session: Session, package: str, year: int, amount: Decimal | str | float, *,
             institution: str | None = None, currency: str = "USD", note: str = "") -> None:
    """Set (insert or replace) a package's cost for a year (the caller commits)."""
    currency = currency.upper()
    if currency not in CURRENCIES:
        raise ValueError(f"currency must be one of {', '.join(CURRENCIES)}")
    value = Decimal(str(amount))
    if value < 0:
        raise ValueError("a cost cannot be negative")
    row = session.execute(select(PackageCost).where(
        PackageCost.package == package, PackageCost.year == year,
        PackageCost.currency == currency,
        PackageCost.institution.is_(None) if institution is None
        else PackageCost.institution == institution)).scalar_one_or_none()
    if row is None:
        session.add(PackageCost(package=package, year=year, amount=value, currency=currency,
                                institution=institution, note=note))
    else:
        row.amount, row.note = value, note or row.note


@dataclass(frozen=True)
class CostYear:
    year: int
    package: str
    institution: str | None  # None: the package as a whole (per-package report)
    currency: str
    cost: Decimal
    downloads: int
    cost_per_download: Decimal | None
    #: change of cost per download from the year before (fraction, 0.1 = +10 %)
    change: Decimal | None = None


@dataclass(frozen=True)
class CostMonth:
    month: dt.date
    package: str
    institution: str | None
    currency: str
    downloads: int
    downloads_to_date: int
    cost_to_date: Decimal
    cost_per_download_to_date: Decimal | None
    cost_per_download_in_month: Decimal | None


_PLACES = Decimal("0.0001")


def _div(a: Decimal, b: int) -> Decimal | None:
    return (a / b).quantize(_PLACES, ROUND_HALF_UP) if b else None


def _costs(session: Session, years: Iterable[int], by: str,
           packages: Sequence[str] | None) -> dict[tuple[int, str, str | None, str], Decimal]:
    """(year, package, institution or None, currency) -> amount, as the report groups."""
    stmt = select(PackageCost.year, PackageCost.package, PackageCost.institution,
                  PackageCost.currency, PackageCost.amount).where(
        PackageCost.year.in_(list(years)))
    if packages is not None:
        stmt = stmt.where(PackageCost.package.in_(list(packages)))
    out: dict[tuple[int, str, str | None, str], Decimal] = defaultdict(Decimal)
    for year, pkg, inst, cur, amount in session.execute(stmt):
        if by == "package":
            out[(year, pkg, None, cur)] += Decimal(amount)
        elif inst is not None:  # per member: only the member's own cost
            out[(year, pkg, inst, cur)] += Decimal(amount)
    return out


def _downloads(session: Session, start: dt.date, end: dt.date, by: str, source: str,
               metric: str, reports: Sequence[str],
               packages: Sequence[str] | None) -> list[MonthCount]:
    dims = ("package",) if by == "package" else ("institution", "package")
    if source == "clicks":
        return clicks(session, start=start, end=end, by=dims, kinds=["fulltext"],
                      packages=packages)
    if source != "counter":
        raise ValueError("source is 'counter' or 'clicks'")
    return counter_downloads(session, start=start, end=end, by=dims, metric=metric,
                             reports=reports, packages=packages)


def cost_per_download_yearly(
    session: Session, *, years: Sequence[int], by: str = "package", source: str = "counter",
    metric: str = DOWNLOAD_METRIC, reports: Sequence[str] = DOWNLOAD_REPORTS,
    packages: Sequence[str] | None = None,
) -> list[CostYear]:
    """Cost per download per package (``by="package"``) or per member and package
    (``by="institution"``) for each year, with the change from the year before.
    Definitions in the module docstring."""
    if by not in ("package", "institution"):
        raise ValueError("by is 'package' or 'institution'")
    years = sorted(set(years))
    if not years:
        return []
    costs = _costs(session, years, by, packages)
    if not costs:
        return []
    counts: dict[tuple[int, str, str | None], int] = defaultdict(int)
    for r in _downloads(session, dt.date(years[0], 1, 1), dt.date(years[-1], 12, 1), by,
                        source, metric, reports, sorted({k[1] for k in costs})):
        if r.month.year in years:
            counts[(r.month.year, r.package or "", r.institution)] += r.count
    out: list[CostYear] = []
    previous: dict[tuple[str, str | None, str], Decimal | None] = {}
    for (year, pkg, inst, cur), cost in sorted(costs.items(), key=lambda kv: (
            kv[0][1], kv[0][2] or "", kv[0][3], kv[0][0])):
        n = counts.get((year, pkg, inst), 0)
        cpd = _div(cost, n)
        prev = previous.get((pkg, inst, cur)) if (year - 1) in years else None
        change = ((cpd - prev) / prev).quantize(_PLACES, ROUND_HALF_UP) if (
            cpd is not None and prev) else None
        out.append(CostYear(year, pkg, inst, cur, cost, n, cpd, change))
        previous[(pkg, inst, cur)] = cpd
    return sorted(out, key=lambda r: (r.year, r.package, r.institution or "", r.currency))


def cost_per_download_monthly(
    session: Session, *, years: Sequence[int], by: str = "package", source: str = "counter",
    metric: str = DOWNLOAD_METRIC, reports: Sequence[str] = DOWNLOAD_REPORTS,
    packages: Sequence[str] | None = None, until: dt.date | None = None,
) -> list[CostMonth]:
    """Month by month, for each year in ``years``: downloads, running cost per download and
    cost per download in the month (definitions in the module docstring). Months after
    ``until`` (default: this month) are left out; several years give the year-over-year
    view."""
    if by not in ("package", "institution"):
        raise ValueError("by is 'package' or 'institution'")
    years = sorted(set(years))
    if not years:
        return []
    until = month_start(until or dt.date.today())
    costs = _costs(session, years, by, packages)
    if not costs:
        return []
    counts: dict[tuple[dt.date, str, str | None], int] = defaultdict(int)
    for r in _downloads(session, dt.date(years[0], 1, 1), dt.date(years[-1], 12, 1), by,
                        source, metric, reports, sorted({k[1] for k in costs})):
        counts[(r.month, r.package or "", r.institution)] += r.count
    out: list[CostMonth] = []
    for (year, pkg, inst, cur), cost in sorted(costs.items(), key=lambda kv: (
            kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])):
        to_date = 0
        for m in range(1, 13):
            month = dt.date(year, m, 1)
            if month > until:
                break
            n = counts.get((month, pkg, inst), 0)
            to_date += n
            cost_to_date = (cost * m / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)
            out.append(CostMonth(month, pkg, inst, cur, n, to_date, cost_to_date,
                                 _div(cost * m / 12, to_date), _div(cost / 12, n)))
    return out


# --- tables, pivots, CSV ------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label_vi: str
    label_en: str


@dataclass
class Table:
    """A report as a table: what pages render and CSV downloads write."""

    name: str
    label_vi: str
    label_en: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)

    def labels(self, lang: str = "vi") -> list[str]:
        return [c.label_en if lang == "en" else c.label_vi for c in self.columns]


_COLUMN_LABELS = {
    "month": ("Tháng", "Month"),
    "count": ("Số lượt", "Count"),
    "institution": ("Thư viện", "Institution"),
    "package": ("Gói", "Package"),
    "kind": ("Loại", "Kind"),
    "year": ("Năm", "Year"),
    "currency": ("Tiền tệ", "Currency"),
    "cost": ("Chi phí", "Cost"),
    "downloads": ("Lượt tải", "Downloads"),
    "cost_per_download": ("Chi phí/lượt tải", "Cost per download"),
    "change": ("Thay đổi so với năm trước", "Change from the year before"),
    "downloads_to_date": ("Lượt tải lũy kế", "Downloads to date"),
    "cost_to_date": ("Chi phí lũy kế", "Cost to date"),
    "cost_per_download_to_date": ("Chi phí/lượt tải lũy kế", "Cost per download to date"),
    "cost_per_download_in_month": ("Chi phí/lượt tải trong tháng",
                                   "Cost per download in the month"),
}


def to_table(name: str, rows: Sequence[Any], *, columns: Sequence[str] | None = None) -> Table:
    """Rows of any report dataclass -> a :class:`Table` (``columns`` picks and orders;
    by default the fields that are set in at least one row)."""
    spec = REPORTS.get(name)
    label_vi, label_en = (spec.label_vi, spec.label_en) if spec else (name, name)
    if columns is None:
        keys = [f.name for f in fields(rows[0])] if rows else ["month", "count"]
        columns = [k for k in keys if any(getattr(r, k) is not None for r in rows)] or keys
        if "month" in columns:  # month first: the way people read these tables
            columns = ["month", *[c for c in columns if c != "month"]]
    cols = [Column(k, *_COLUMN_LABELS.get(k, (k, k))) for k in columns]
    return Table(name, label_vi, label_en, cols,
                 [[getattr(r, k) for k in columns] for r in rows])


def pivot(rows: Sequence[MonthCount], series: str | None, start: dt.date, end: dt.date
          ) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Month series for charts and month-by-column tables: every month from ``start`` to
    ``end`` (missing months count 0), one series per value of the ``series`` dimension
    (None: a single series ``"total"``)."""
    months = months_between(start, end)
    index = {m: i for i, m in enumerate(months)}
    out: dict[str, list[int]] = {}
    for r in rows:
        key = (getattr(r, series) or "—") if series else "total"
        values = out.setdefault(key, [0] * len(months))
        if r.month in index:
            values[index[r.month]] += r.count
    return months, dict(sorted(out.items()))


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if value.day == 1 else value.isoformat()
    if value is None:
        return ""
    return value


def write_csv(table: Table, fp: io.TextIOBase, *, lang: str = "vi") -> None:
    """Write a table as CSV to a text stream (header of labels in ``lang``)."""
    w = csv.writer(fp, lineterminator="\r\n")
    w.writerow(table.labels(lang))
    for row in table.rows:
        w.writerow([_cell(v) for v in row])


def csv_bytes(table: Table, *, lang: str = "vi") -> bytes:
    """A table as CSV bytes, UTF-8 *with a byte-order mark*.

    Excel (still what most member libraries open reports with) reads a CSV without a BOM
    in the machine's legacy code page, which turns "Đại học Huế" into mojibake; the BOM is
    how it recognises UTF-8. Other tools ignore it.
    """
    buf = io.StringIO()
    write_csv(table, buf, lang=lang)
    return buf.getvalue().encode("utf-8-sig")


# --- the named reports --------------------------------------------------------------------

@dataclass(frozen=True)
class ReportSpec:
    name: str
    label_vi: str
    label_en: str
    #: (session, start, end) -> rows
    run: Callable[[Session, dt.date, dt.date], list[Any]]
    #: the dimension a chart draws one series per (None: one total series; "" no chart)
    series: str | None = None


def _years(start: dt.date, end: dt.date) -> list[int]:
    return list(range(start.year, end.year + 1))


REPORTS: dict[str, ReportSpec] = {s.name: s for s in (
    ReportSpec("clicks-by-package", "Lượt truy cập theo gói", "Clicks by package",
               lambda s, a, b: clicks(s, start=a, end=b, by=("package",)), "package"),
    ReportSpec("clicks-by-institution", "Lượt truy cập theo thư viện",
               "Clicks by institution",
               lambda s, a, b: clicks(s, start=a, end=b, by=("institution",)), "institution"),
    ReportSpec("clicks-by-kind", "Lượt truy cập theo loại liên kết", "Clicks by target kind",
               lambda s, a, b: clicks(s, start=a, end=b, by=("kind",)), "kind"),
    ReportSpec("clicks-detail", "Lượt truy cập: thư viện × gói × loại",
               "Clicks by institution, package and kind",
               lambda s, a, b: clicks(s, start=a, end=b,
                                      by=("institution", "package", "kind")), ""),
    ReportSpec("requests", "Yêu cầu tra cứu theo kết quả", "Requests by outcome",
               lambda s, a, b: requests(s, start=a, end=b, by=("kind",)), "kind"),
    ReportSpec("requests-by-institution", "Yêu cầu tra cứu theo thư viện",
               "Requests by institution",
               lambda s, a, b: requests(s, start=a, end=b, by=("institution",)),
               "institution"),
    ReportSpec("turnaways", "Lượt bị từ chối theo gói", "Turnaways by package",
               lambda s, a, b: turnaways(s, start=a, end=b, by=("package",)), "package"),
    ReportSpec("turnaways-by-institution", "Lượt bị từ chối theo thư viện",
               "Turnaways by institution",
               lambda s, a, b: turnaways(s, start=a, end=b, by=("institution",)),
               "institution"),
    ReportSpec("downloads-by-package", "Lượt tải (COUNTER) theo gói",
               "Downloads (COUNTER) by package",
               lambda s, a, b: counter_downloads(s, start=a, end=b, by=("package",)),
               "package"),
    ReportSpec("downloads-by-institution", "Lượt tải (COUNTER) theo thư viện",
               "Downloads (COUNTER) by institution",
               lambda s, a, b: counter_downloads(s, start=a, end=b, by=("institution",)),
               "institution"),
    ReportSpec("cost-per-download", "Chi phí cho mỗi lượt tải theo gói, theo năm",
               "Cost per download by package, per year",
               lambda s, a, b: cost_per_download_yearly(s, years=_years(a, b)), ""),
    ReportSpec("cost-per-download-member", "Chi phí cho mỗi lượt tải theo thư viện thành viên",
               "Cost per download by member, per year",
               lambda s, a, b: cost_per_download_yearly(s, years=_years(a, b),
                                                        by="institution"), ""),
    ReportSpec("cost-per-download-monthly", "Chi phí cho mỗi lượt tải theo tháng (lũy kế)",
               "Cost per download month by month (running)",
               lambda s, a, b: cost_per_download_monthly(s, years=_years(a, b), until=b), ""),
    ReportSpec("cost-per-download-member-monthly",
               "Chi phí cho mỗi lượt tải của thành viên theo tháng (lũy kế)",
               "Cost per download by member, month by month (running)",
               lambda s, a, b: cost_per_download_monthly(s, years=_years(a, b),
                                                         by="institution", until=b), ""),
)}


def run_report(session: Session, name: str, start: dt.date, end: dt.date) -> Table:
    """Run a named report over ``start``..``end`` (months) and return it as a table."""
    spec = REPORTS.get(name)
    if spec is None:
        raise KeyError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    return to_table(name, spec.run(session, start, end))

