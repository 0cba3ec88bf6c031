"""The named usage and cost reports: the one list of them, with labels and scope.

:data:`REPORTS` is the only list of reports: the command line (``lienhop usage report``),
the admin pages and the benchmark all read it. Each :class:`ReportSpec` says how to run
the report for everyone or for some institutions only, how it is charted, and whether it
is *consortium-only* (figures of whole packages across the consortium, which an institution
administrator does not see); :func:`reports_for` is what one administrator sees, derived
from it. The figures come from :mod:`resolver.usage.counts` and :mod:`resolver.usage.costs`;
:mod:`resolver.usage.tables` turns rows into tables and CSV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from resolver.usage.costs import cost_per_download_monthly, cost_per_download_yearly
from resolver.usage.counts import clicks, counter_downloads, requests, turnaways
from resolver.usage.rollup import MonthCount
from resolver.usage.tables import Table, make_table

__all__ = ["REPORTS", "ReportSpec", "Runner", "reports_for", "run_report", "to_table"]


class Runner(Protocol):
    """Runs a report over ``start``..``end`` (months): for every institution when
    ``institutions`` is None, else for those only (restricted in the query)."""

    def __call__(self, session: Session, start: dt.date, end: dt.date,
                 institutions: Sequence[str] | None = None, /) -> list[Any]: ...


@dataclass(frozen=True)
class ReportSpec:
    name: str
    label_vi: str
    label_en: str
    run: Runner
    #: the dimension a bar chart draws one series per (None: one total series; "": no chart)
    series: str | None = None
    #: "line": running cost per download, one line per package (and member) and currency
    chart: Literal["bar", "line"] = "bar"
    #: figures of whole packages across the consortium, not one member's: only consortium
    #: administrators see the report (and it cannot be run for some institutions only)
    consortium_only: bool = False


def _counts(count: Callable[..., list[MonthCount]], *by: str) -> Runner:
    """A runner of one of :mod:`resolver.usage.counts`' functions, grouped ``by``."""
    def run(session: Session, start: dt.date, end: dt.date,
            institutions: Sequence[str] | None = None, /) -> list[Any]:
        return count(session, start=start, end=end, by=by, institutions=institutions)
    return run


def _years(start: dt.date, end: dt.date) -> list[int]:
    return list(range(start.year, end.year + 1))


def _cost(*, monthly: bool, by: str) -> Runner:
    """A cost-per-download runner: yearly, or month by month up to ``end``."""
    def run(session: Session, start: dt.date, end: dt.date,
            institutions: Sequence[str] | None = None, /) -> list[Any]:
        if monthly:
            return cost_per_download_monthly(session, years=_years(start, end), by=by,
                                             until=end, institutions=institutions)
        return cost_per_download_yearly(session, years=_years(start, end), by=by,
                                        institutions=institutions)
    return run


REPORTS: dict[str, ReportSpec] = {s.name: s for s in (
    ReportSpec("clicks-by-package", "Lượt truy cập theo gói", "Clicks by package",
               _counts(clicks, "package"), "package"),
    ReportSpec("clicks-by-institution", "Lượt truy cập theo thư viện",
               "Clicks by institution", _counts(clicks, "institution"), "institution"),
    ReportSpec("clicks-by-kind", "Lượt truy cập theo loại liên kết", "Clicks by target kind",
               _counts(clicks, "kind"), "kind"),
    ReportSpec("clicks-detail", "Lượt truy cập: thư viện × gói × loại",
               "Clicks by institution, package and kind",
               _counts(clicks, "institution", "package", "kind"), ""),
    ReportSpec("requests", "Yêu cầu tra cứu theo kết quả", "Requests by outcome",
               _counts(requests, "kind"), "kind"),
    ReportSpec("requests-by-institution", "Yêu cầu tra cứu theo thư viện",
               "Requests by institution", _counts(requests, "institution"), "institution"),
    ReportSpec("turnaways", "Lượt bị từ chối theo gói", "Turnaways by package",
               _counts(turnaways, "package"), "package"),
    ReportSpec("turnaways-by-institution", "Lượt bị từ chối theo thư viện",
               "Turnaways by institution", _counts(turnaways, "institution"), "institution"),
    ReportSpec("downloads-by-package", "Lượt tải (COUNTER) theo gói",
               "Downloads (COUNTER) by package", _counts(counter_downloads, "package"),
               "package"),
    ReportSpec("downloads-by-institution", "Lượt tải (COUNTER) theo thư viện",
               "Downloads (COUNTER) by institution",
               _counts(counter_downloads, "institution"), "institution"),
    ReportSpec("cost-per-download", "Chi phí cho mỗi lượt tải theo gói, theo năm",
               "Cost per download by package, per year",
               _cost(monthly=False, by="package"), "", consortium_only=True),
    ReportSpec("cost-per-download-member", "Chi phí cho mỗi lượt tải theo thư viện thành viên",
               "Cost per download by member, per year",
               _cost(monthly=False, by="institution"), ""),
    ReportSpec("cost-per-download-monthly", "Chi phí cho mỗi lượt tải theo tháng (lũy kế)",
               "Cost per download month by month (running)",
               _cost(monthly=True, by="package"), "", chart="line", consortium_only=True),
    ReportSpec("cost-per-download-member-monthly",
               "Chi phí cho mỗi lượt tải của thành viên theo tháng (lũy kế)",
               "Cost per download by member, month by month (running)",
               _cost(monthly=True, by="institution"), "", chart="line"),
)}


def reports_for(institution: str | None) -> list[ReportSpec]:
    """The reports an administrator sees: every one for the consortium (``None``), every
    one not consortium-only for an institution's administrator."""
    return [s for s in REPORTS.values() if institution is None or not s.consortium_only]


def to_table(name: str, rows: Sequence[Any], *, columns: Sequence[str] | None = None) -> Table:
    """Rows of report ``name`` -> a :class:`~resolver.usage.tables.Table` under the report's
    labels (``columns`` picks and orders; by default the fields set in at least one row)."""
    spec = REPORTS.get(name)
    label_vi, label_en = (spec.label_vi, spec.label_en) if spec else (name, name)
    return make_table(name, label_vi, label_en, rows, columns=columns)


def run_report(session: Session, name: str, start: dt.date, end: dt.date,
               institutions: Sequence[str] | None = None) -> Table:
    """Run a named report over ``start``..``end`` (months) and return it as a table; for
    ``institutions`` only when given."""
    spec = REPORTS.get(name)
    if spec is None:
        raise KeyError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    return to_table(name, spec.run(session, start, end, institutions))
