"""Monthly roll-up of the click and resolve logs, so reports never scan millions of rows.

A month is *closed* an hour after it ends (a click or a request is written within seconds of
happening, :mod:`resolver.usage.logbuffer`, so nothing lands in a closed month afterwards).
Closed months are counted once into :class:`~resolver.usage.models.UsageMonth`; the open
month (and a closed one not yet rolled up) is counted from the log itself through its ``at``
index. :func:`monthly_counts` merges both, so a report is exact whatever the roll-up's state.

Rows written into the past later (a restored backup, the benchmark's bulk load) are seen
after :func:`rebuild` (``lienhop usage rollup --rebuild``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    Select,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from resolver.db.base import utcnow
from resolver.usage import logbuffer
from resolver.usage.models import (
    SOURCE_CLICK,
    SOURCE_RESOLVE,
    ClickLog,
    ResolveLog,
    UsageMonth,
    UsageRollupState,
)

log = logging.getLogger("lienhop.usage")

GRACE = dt.timedelta(hours=1)
DIMENSIONS = ("institution", "package", "kind")
SOURCES = (SOURCE_CLICK, SOURCE_RESOLVE)


def month_start(d: dt.date | dt.datetime) -> dt.date:
    return dt.date(d.year, d.month, 1)


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every first-of-month from ``start``'s month to ``end``'s month, both included."""
    out, m = [], month_start(start)
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out


def closed_before(now: dt.datetime) -> dt.date:
    """The first month that is not closed yet at ``now`` (UTC)."""
    return month_start(now - GRACE)


#: A log's model and its columns: at, institution, package, kind (a click's kind, a
#: request's outcome).
_LogColumns = tuple[type[ClickLog] | type[ResolveLog], InstrumentedAttribute[dt.datetime],
                    InstrumentedAttribute[str | None], InstrumentedAttribute[str | None],
                    InstrumentedAttribute[str]]


def _log_columns(source: str) -> _LogColumns:
    if source == SOURCE_CLICK:
        return ClickLog, ClickLog.at, ClickLog.institution, ClickLog.package, ClickLog.kind
    if source == SOURCE_RESOLVE:
        return (ResolveLog, ResolveLog.at, ResolveLog.institution, ResolveLog.package,
                ResolveLog.outcome)
    raise ValueError(f"unknown usage source {source!r}")


def month_key(session: Session, column: ColumnExpressionArgument[Any]) -> ColumnElement[str]:
    """A ``'YYYY-MM'`` text expression of a DateTime column, on SQLite and PostgreSQL.

    SQLite keeps SQLAlchemy DateTimes as ISO text, so the month is a prefix (``substr`` is
    several times cheaper than ``strftime`` there); PostgreSQL formats its timestamp.
    Literal arguments for the same reason as in :func:`_live_query`.
    """
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, literal_column("1"), literal_column("7"))
    return func.to_char(column, literal_column("'YYYY-MM'"))


def month_of(key: str | dt.date) -> dt.date:
    """The month of a stored value: a date (PostgreSQL) or ``YYYY-MM…`` text (SQLite)."""
    if isinstance(key, dt.date):
        return month_start(key)
    return dt.date(int(key[:4]), int(key[5:7]), 1)


@dataclass(frozen=True)
class MonthCount:
    """A count in one month; dimensions not asked for are None."""

    month: dt.date
    count: int
    institution: str | None = None
    package: str | None = None
    kind: str | None = None


def _live_query(session: Session, source: str, start: dt.date, stop: dt.date,
                by: Sequence[str], where: dict[str, Sequence[str | None]]
                ) -> Select[*tuple[Any, ...]]:
    table, at, inst, pkg, kind = _log_columns(source)
    cols = {"institution": inst, "package": pkg, "kind": kind}
    mk = month_key(session, at).label("m")
    # Literals, not bound parameters: PostgreSQL sees ``coalesce(x, $1)`` in SELECT and
    # ``coalesce(x, $2)`` in GROUP BY as different expressions and refuses the query.
    dims = [func.coalesce(cols[d], literal_column("''")).label(d) for d in by]
    stmt = (select(mk, *dims, func.count().label("n"))
            .where(at >= dt.datetime.combine(start, dt.time()),
                   at < dt.datetime.combine(stop, dt.time())))
    for d, values in where.items():
        stmt = stmt.where(_in(cols[d], values))
    return stmt.group_by(mk, *dims)


def _in(column: InstrumentedAttribute[Any], values: Sequence[str | None]) -> ColumnElement[bool]:
    """``column IN values``, where None (or "") also matches NULL and the empty code."""
    named = [v for v in values if v]
    cond: ColumnElement[bool] | None = column.in_(named) if named else None
    if any(not v for v in values):
        blank = column.is_(None) | (column == "")
        cond = blank if cond is None else cond | blank
    return cond if cond is not None else column.in_([])


def monthly_counts(
    session: Session,
    source: str,
    start: dt.date,
    end: dt.date,
    *,
    by: Sequence[str] = (),
    where: dict[str, Sequence[str | None]] | None = None,
) -> list[MonthCount]:
    """Counts of ``source`` per month from ``start``'s month to ``end``'s month, grouped by
    the dimensions in ``by``, filtered by ``where`` (dimension -> allowed codes).

    Reads the roll-up for rolled-up months and the log for the rest. Months without any
    count are absent (see :func:`resolver.usage.tables.pivot` to fill them).
    """
    for d in (*by, *(where or {})):
        if d not in DIMENSIONS:
            raise ValueError(f"unknown dimension {d!r}")
    where = where or {}
    first, stop = month_start(start), add_months(month_start(end), 1)
    through = _through(session, source) or first
    through = min(max(through, first), stop)
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    if first < through:  # the rolled-up part
        cols = {d: getattr(UsageMonth, d) for d in DIMENSIONS}
        stmt = (select(UsageMonth.month, *[cols[d] for d in by],
                       func.sum(UsageMonth.count))
                .where(UsageMonth.source == source, UsageMonth.month >= first,
                       UsageMonth.month < through))
        for d, values in where.items():
            stmt = stmt.where(_in(cols[d], values))
        stmt = stmt.group_by(UsageMonth.month, *[cols[d] for d in by])
        for row in session.execute(stmt):
            totals[(month_of(row[0]), *row[1:-1])] += int(row[-1])
    if through < stop:  # the live part
        for row in session.execute(_live_query(session, source, through, stop, by, where)):
            totals[(month_of(row[0]), *row[1:-1])] += int(row[-1])
    out = [MonthCount(key[0], n, **dict(zip(by, (v or None for v in key[1:]), strict=True)))
           for key, n in totals.items()]
    out.sort(key=lambda r: (r.month, r.institution or "", r.package or "", r.kind or ""))
    return out


def _through(session: Session, source: str) -> dt.date | None:
    value = session.execute(select(UsageRollupState.through)
                            .where(UsageRollupState.source == source)).scalar()
    return month_of(value) if value is not None else None


def refresh(session: Session, *, now: dt.datetime | None = None,
            sources: Iterable[str] = SOURCES) -> dict[str, int]:
    """Roll up every closed month not rolled up yet; commits. Returns months added per source.

    Cheap when there is nothing to do (one small query per source), so pages may call it
    before every report. Two processes refreshing at once: the loser's insert hits the
    unique key, it rolls back, and the winner's work stands. The rows this process still
    holds in its request-log buffer are written first, so every report (they all refresh)
    sees them.
    """
    logbuffer.flush_all()
    now = now or utcnow()
    target = closed_before(now)
    done: dict[str, int] = {}
    for source in sources:
        table, at, inst, pkg, kind = _log_columns(source)
        state = session.get(UsageRollupState, source)
        start = month_of(state.through) if state else None
        if start is None:
            first = session.execute(select(func.min(at))).scalar()
            start = month_start(_as_datetime(first)) if first is not None else target
        if start >= target:
            if state is None:
                session.add(UsageRollupState(source=source, through=target))
                _commit(session)
            done[source] = 0
            continue
        rows = session.execute(_live_query(session, source, start, target,
                                           ("institution", "package", "kind"), {})).all()
        session.execute(delete(UsageMonth).where(UsageMonth.source == source,
                                                 UsageMonth.month >= start,
                                                 UsageMonth.month < target))
        if rows:
            session.execute(insert(UsageMonth), [
                {"source": source, "month": month_of(r[0]), "institution": r[1] or "",
                 "package": r[2] or "", "kind": r[3] or "", "count": int(r[4])}
                for r in rows])
        if state is None:
            session.add(UsageRollupState(source=source, through=target))
        else:
            state.through = target
        if _commit(session):
            done[source] = len(months_between(start, add_months(target, -1)))
            log.info("usage roll-up: source=%s months=%s..%s groups=%d", source, start,
                     target, len(rows))
        else:
            done[source] = 0
    return done


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _commit(session: Session) -> bool:
    try:
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def rebuild(session: Session, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Forget the roll-up and count every closed month again from the logs."""
    session.execute(delete(UsageMonth))
    session.execute(delete(UsageRollupState))
    session.commit()
    return refresh(session, now=now)
