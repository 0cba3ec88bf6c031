"""COUNTER reports into the database: one parsed report for one institution and package.

Parsing is pure (:mod:`resolver.usage.counter`); this module is the storage edge. The
figures are kept row by row (:class:`~resolver.usage.models.CounterUsage`) and summed per
month (:class:`~resolver.usage.models.CounterMonth`), which is what reports read.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlalchemy.orm import Session

from resolver.registry.codes import CODE_RE
from resolver.usage.counter import CounterReport
from resolver.usage.models import CounterImport, CounterMonth, CounterUsage

__all__ = ["CounterImportError", "ImportResult", "import_counter", "sum_months"]


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
        # A DELETE's result is a CursorResult (it has a rowcount); Session.execute's
        # signature only says Result.
        deleted = cast(CursorResult[Any], session.execute(
            delete(CounterUsage).where(
                CounterUsage.institution == institution, CounterUsage.package == package,
                CounterUsage.report_id == report.report_id,
                CounterUsage.month >= months[0], CounterUsage.month <= months[-1])))
        replaced = deleted.rowcount or 0
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
        sum_months(session, institution, package, report.report_id, months[0], months[-1])
    return ImportResult(imp.id, imp.report_id, len(report.rows), replaced, tuple(months),
                        tuple(f"{e.code}: {e.message}" for e in report.exceptions))


def sum_months(session: Session, institution: str, package: str, report_id: str,
               first: dt.date, last: dt.date) -> None:
    """Recount :class:`CounterMonth` for one institution, package, report and months (also
    after a bulk load straight into ``counter_usage``, as ``bench/stats.py`` does)."""
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
