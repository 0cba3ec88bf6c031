"""Usage counts per month: followed links, resolver requests, turnaways, COUNTER downloads.

Every function is ``(session, *, start, end, by=…, filters…) -> list[MonthCount]``, one row
per month and group; ``institutions`` restricts the query itself (an institution
administrator's reports are this filter, not rows hidden afterwards).

Sources:

* **clicks**: the resolver's click log (a followed link: ``fulltext`` = subscription,
  ``open``, ``catalogue``, ``delivery``);
* **requests**: the resolve log (every resolution, by outcome; turnaways are the requests a
  subscription package could have served had the institution been entitled);
* **COUNTER**: the publishers' own reports, imported per institution and package
  (:mod:`resolver.usage.counter_import`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resolver.usage import rollup
from resolver.usage.models import SOURCE_CLICK, SOURCE_RESOLVE, TURNAWAY, CounterMonth
from resolver.usage.rollup import MonthCount, add_months, month_start

__all__ = [
    "DOWNLOAD_METRIC",
    "DOWNLOAD_REPORTS",
    "MonthCount",
    "clicks",
    "counter_downloads",
    "requests",
    "turnaways",
]

#: What a COUNTER "download" is: Total_Item_Requests of the journal and book views
#: (``TR_J1`` + ``TR_B1`` are disjoint, so nothing is counted twice).
DOWNLOAD_METRIC = "Total_Item_Requests"
DOWNLOAD_REPORTS = ("TR_J1", "TR_B1")


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
    """Resolver requests per month; ``kind`` is the outcome
    (:data:`resolver.usage.models.OUTCOMES`)."""
    _refresh(session)
    where: dict[str, Sequence[str | None]] = {}
    if institutions is not None:
        where["institution"] = institutions
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
    out: list[MonthCount] = []
    for month, *groups, total in session.execute(stmt):
        named = {d: str(v) for d, v in zip(by, groups, strict=True)}  # NOT NULL columns
        out.append(MonthCount(rollup.month_of(month), int(total),
                              institution=named.get("institution"), package=named.get("package")))
    return sorted(out, key=lambda r: (r.month, r.institution or "", r.package or ""))
