"""KBART coverage ranges and embargoes, and whether a citation falls inside them.

Semantics follow KBART (NISO RP-9-2014), summarised in ``docs/reference/kbart.md``, and
deliberately *not* the shortcut some resolvers take of treating ``P1Y`` as twelve rolling
months:

* The unit sets how the moving wall moves: ``Y`` on 1 January, ``M`` on the first of the
  month, ``D`` every day. "The most recent N units" are the current unit and the N-1
  before it, so ``P1Y`` hides the current calendar year and ``R2Y`` shows the current and
  the previous one.
* ``P`` = the most recent N units are NOT available (access ends at the wall).
* ``R`` = only the most recent N units are available (access starts at the wall).
* ``R10Y;P30D`` applies both.

Every decision carries a reason in Vietnamese and in English for the user interface.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from resolver.openurl import Citation

__all__ = [
    "Coverage",
    "CoverageDecision",
    "Embargo",
    "EmbargoError",
    "EmbargoPart",
    "covers",
    "covers_citation",
    "parse_embargo",
    "parse_kbart_date",
    "period_bounds",
]

_UNIT_VI = {"Y": "năm", "M": "tháng", "D": "ngày"}
_UNIT_EN = {"Y": "year", "M": "month", "D": "day"}
_PART_RE = re.compile(r"([RP])(\d{1,4})([DMY])")


class EmbargoError(ValueError):
    """The embargo_info string does not follow ``[RP]<n>[DMY](;[RP]<n>[DMY])``."""


@dataclass(frozen=True, slots=True)
class EmbargoPart:
    """One moving wall: kind 'R' (recent only) or 'P' (recent withheld), N units."""

    kind: str
    n: int
    unit: str

    def wall(self, today: date) -> date:
        """First day of the most recent N units (the current unit counts as one)."""
        if self.unit == "D":
            return today - timedelta(days=self.n - 1)
        if self.unit == "M":
            months = today.year * 12 + (today.month - 1) - (self.n - 1)
            return date(months // 12, months % 12 + 1, 1)
        return date(today.year - (self.n - 1), 1, 1)

    def text(self) -> tuple[str, str]:
        """(vi, en) description, e.g. ('embargo 1 năm', 'embargo 1 year')."""
        en_unit = _UNIT_EN[self.unit] + ("s" if self.n != 1 else "")
        if self.kind == "P":
            return f"embargo {self.n} {_UNIT_VI[self.unit]}", f"embargo {self.n} {en_unit}"
        return (
            f"chỉ {self.n} {_UNIT_VI[self.unit]} gần nhất",
            f"only the most recent {self.n} {en_unit}",
        )


@dataclass(frozen=True, slots=True)
class Embargo:
    """A parsed ``embargo_info``; ``window(today)`` gives the accessible date range."""

    parts: tuple[EmbargoPart, ...]
    raw: str = ""

    def window(self, today: date) -> tuple[date | None, date | None]:
        """(first accessible day or None, last accessible day or None), inclusive."""
        start: date | None = None
        end: date | None = None
        for p in self.parts:
            w = p.wall(today)
            if p.kind == "R":
                start = w if start is None else max(start, w)
            else:
                last = w - timedelta(days=1)
                end = last if end is None else min(end, last)
        return start, end

    def text(self) -> tuple[str, str]:
        """(vi, en) description of all parts."""
        texts = [p.text() for p in self.parts]
        return "; ".join(t[0] for t in texts), "; ".join(t[1] for t in texts)


def parse_embargo(raw: str | None) -> Embargo | None:
    """Parse KBART ``embargo_info`` ("P1Y", "R6M", "R10Y;P30D"); None when empty.

    Lower case and stray spaces are tolerated; anything else raises EmbargoError so the
    KBART importer can reject the row with a reason rather than guess.
    """
    if raw is None:
        return None
    s = re.sub(r"\s+", "", raw).upper()
    if not s:
        return None
    tokens = [t for t in s.split(";") if t]
    parts: list[EmbargoPart] = []
    for t in tokens:
        m = _PART_RE.fullmatch(t)
        if not m or int(m.group(2)) == 0:
            raise EmbargoError(f"embargo {raw!r}: {t!r} is not [R|P]<number>[D|M|Y]")
        parts.append(EmbargoPart(m.group(1), int(m.group(2)), m.group(3)))
    kinds = [p.kind for p in parts]
    if len(parts) > 2 or len(set(kinds)) != len(kinds):
        raise EmbargoError(f"embargo {raw!r}: at most one R and one P part")
    return Embargo(tuple(parts), raw.strip())


def period_bounds(year: int, month: int | None = None, day: int | None = None,
                  month_end: int | None = None) -> tuple[date, date]:
    """First and last day of a year, a month (or month range) or a single day."""
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if day is not None and month_end is None:
        d = date(year, month, day)
        return d, d
    last_month = month_end or month
    return date(year, month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])


def parse_kbart_date(raw: str | None, *, end: bool) -> date | None:
    """KBART date (YYYY, YYYY-MM, YYYY-MM-DD, with optional time) as a day; None if empty.

    A year-only or month-only bound means its first day for a start and its last day for
    an end, so "1995" to "2000" covers 1 Jan 1995 - 31 Dec 2000. Raises ValueError.
    """
    if raw is None or not raw.strip():
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?",
                     raw.strip())
    if not m:
        raise ValueError(f"not a KBART date: {raw!r}")
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else None
    d = int(m.group(3)) if m.group(3) else None
    if not 1000 <= y <= 2999:
        raise ValueError(f"year out of range: {raw!r}")
    first, last = period_bounds(y, mo, d)  # raises ValueError on month 13 / 31 Feb
    return last if end else first


def _num(s: str | None) -> int | None:
    """Leading number of a volume/issue ("12", "2-3" -> 2); None for "Suppl" etc."""
    if s is None:
        return None
    m = re.fullmatch(r"\s*(\d{1,6})\s*(?:[-/–]\s*\d{1,6})?\s*", s)
    return int(m.group(1)) if m else None


@dataclass(frozen=True, slots=True)
class Coverage:
    """One KBART coverage row: dates (inclusive), volumes/issues, embargo, depth."""

    start: date | None = None
    end: date | None = None  # None = to present
    first_volume: str | None = None
    first_issue: str | None = None
    last_volume: str | None = None
    last_issue: str | None = None
    embargo: Embargo | None = None
    depth: str = "fulltext"
    start_label: str | None = None  # the dates as the file wrote them, for reasons
    end_label: str | None = None

    @classmethod
    def from_kbart(
        cls,
        date_first: str | None = None,
        date_last: str | None = None,
        *,
        first_volume: str | None = None,
        first_issue: str | None = None,
        last_volume: str | None = None,
        last_issue: str | None = None,
        embargo: str | None = None,
        depth: str | None = "fulltext",
    ) -> Coverage:
        """Build from KBART column strings (raises ValueError/EmbargoError when malformed)."""
        return cls(
            start=parse_kbart_date(date_first, end=False),
            end=parse_kbart_date(date_last, end=True),
            first_volume=first_volume or None,
            first_issue=first_issue or None,
            last_volume=last_volume or None,
            last_issue=last_issue or None,
            embargo=parse_embargo(embargo),
            depth=depth or "fulltext",
            start_label=(date_first or "").strip()[:10] or None,
            end_label=(date_last or "").strip()[:10] or None,
        )

    def range_text(self) -> tuple[str, str]:
        """('Gói bao phủ 1995–nay', 'covers 1995–present') plus the embargo if any."""
        first = self.start_label or (self.start.isoformat() if self.start else None)
        last = self.end_label or (self.end.isoformat() if self.end else None)
        first_en: str | None = first
        if first is None and self.first_volume:
            first = f"tập {self.first_volume}"
            first_en = f"vol. {self.first_volume}"
        vi = f"Gói bao phủ {first or '…'}–{last or 'nay'}"
        en = f"covers {first_en or '…'}–{last or 'present'}"
        if self.embargo:
            evi, een = self.embargo.text()
            vi, en = f"{vi}, {evi}", f"{en}, {een}"
        return vi, en


@dataclass(frozen=True, slots=True)
class CoverageDecision:
    """Outcome of a coverage check. ``partial`` = only part of a year/month is covered."""

    covered: bool
    reason_vi: str
    reason_en: str
    partial: bool = False
    coverage: Coverage | None = field(default=None, compare=False)

    @property
    def reason(self) -> str:
        """English reason (logs); the UI picks reason_vi or reason_en."""
        return self.reason_en

    def coverage_text(self) -> tuple[str, str]:
        """(vi, en) range text of the coverage that decided, e.g. 'covers 1995–present'."""
        if self.coverage is None:
            return "Gói không có dữ liệu bao phủ", "no coverage data"
        return self.coverage.range_text()


def _vol_cmp(cv: int | None, ci: int | None, v: str | None, i: str | None) -> int | None:
    """Compare citation (cv, ci) with bound (v, i): -1, 0, 1, or None when not comparable."""
    bv = _num(v)
    if cv is None or bv is None:
        return None
    if cv != bv:
        return -1 if cv < bv else 1
    bi = _num(i)
    if ci is None or bi is None:
        return 0
    return (ci > bi) - (ci < bi)


def _one(
    cov: Coverage,
    bounds: tuple[date, date] | None,
    volume: str | None,
    issue: str | None,
    today: date,
) -> CoverageDecision:
    rvi, ren = cov.range_text()

    def no(vi: str, en: str) -> CoverageDecision:
        return CoverageDecision(False, f"{rvi}: {vi}", f"{ren}: {en}", coverage=cov)

    cv, ci = _num(volume), _num(issue)
    partial = False
    if bounds is not None:
        a, b = bounds
        if cov.start and b < cov.start:
            return no("bài trước thời điểm bắt đầu", "citation is before the range")
        if cov.end and a > cov.end:
            return no("bài sau thời điểm kết thúc", "citation is after the range")
        if cov.embargo:
            es, ee = cov.embargo.window(today)
            if ee and a > ee:
                return no("bài còn trong thời gian embargo", "citation is still under embargo")
            if es and b < es:
                return no("bài cũ hơn khoảng thời gian được truy cập",
                          "citation is older than the moving wall")
            partial |= bool((ee and b > ee) or (es and a < es))
        partial |= bool((cov.start and a < cov.start) or (cov.end and b > cov.end))
    # Volumes decide when the date cannot: no date, or the citation sits in a boundary year.
    at_start = bounds is None or cov.start is None or bounds[0].year <= cov.start.year
    at_end = bounds is None or cov.end is None or bounds[1].year >= cov.end.year
    if at_start and _vol_cmp(cv, ci, cov.first_volume, cov.first_issue) == -1:
        return no("tập/số trước tập/số đầu tiên", "volume/issue before the first one held")
    if at_end and _vol_cmp(cv, ci, cov.last_volume, cov.last_issue) == 1:
        return no("tập/số sau tập/số cuối cùng", "volume/issue after the last one held")
    if partial and (
        (at_start and _vol_cmp(cv, ci, cov.first_volume, cov.first_issue) is not None)
        or (at_end and _vol_cmp(cv, ci, cov.last_volume, cov.last_issue) is not None)
    ):
        partial = False  # the volume settled what the coarse date could not
    if cov.depth != "fulltext":
        return no(f"chỉ có {cov.depth}, không có toàn văn", f"{cov.depth} only, no full text")
    if bounds is None:
        if cv is None:
            return CoverageDecision(
                True, f"{rvi} (không có năm/tập để kiểm tra)",
                f"{ren} (no date or volume to check)", True, cov,
            )
        if cov.embargo:
            partial = True
    if partial:
        return CoverageDecision(
            True, f"{rvi} — chỉ bao phủ một phần năm/tháng này, hãy kiểm tra số cụ thể",
            f"{ren} — only part of this year/month is covered, check the issue", True, cov,
        )
    return CoverageDecision(True, rvi, ren, False, cov)


def covers(
    coverage: Coverage | Sequence[Coverage],
    *,
    year: int | None = None,
    month: int | None = None,
    day: int | None = None,
    month_end: int | None = None,
    volume: str | None = None,
    issue: str | None = None,
    today: date,
) -> CoverageDecision:
    """Is a citation (date known to year/month/day, and/or volume/issue) covered?

    Several rows (gaps in coverage) are allowed: the first full match wins, then a
    partial match, else the reason of the first row.
    """
    rows = [coverage] if isinstance(coverage, Coverage) else list(coverage)
    if not rows:
        return CoverageDecision(False, "Không có dữ liệu bao phủ", "no coverage data")
    bounds = period_bounds(year, month, day, month_end) if year is not None else None
    decisions = [_one(c, bounds, volume, issue, today) for c in rows]
    for want_partial in (False, True):
        for d in decisions:
            if d.covered and d.partial == want_partial:
                return d
    return decisions[0]


def covers_citation(coverage: Coverage | Sequence[Coverage], citation: Citation, today: date
                    ) -> CoverageDecision:
    """:func:`covers` for a :class:`resolver.openurl.parse.Citation`."""
    return covers(
        coverage,
        year=citation.year,
        month=citation.month,
        day=citation.day,
        month_end=citation.month_end,
        volume=citation.volume,
        issue=citation.issue,
        today=today,
    )
