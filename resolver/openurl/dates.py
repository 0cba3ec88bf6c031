"""Citation dates as OpenURLs write them: years, months, seasons, quarters, EBSCO's YYYYMMDD.

A date narrows which coverage ranges of the knowledge base apply, so a guess must never be
more precise than the source: month and day are kept only when unambiguous, and every
guess leaves a note.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

__all__ = ["MONTHS", "QUARTERS", "SEASONS", "ParsedDate", "parse_date"]

#: month names and abbreviations (English) → month number
MONTHS = {
    name.lower(): i
    for i in range(1, 13)
    for name in (calendar.month_name[i], calendar.month_abbr[i])
}
MONTHS["sept"] = 9
# Seasons and quarters become a month range inside the stated year.
SEASONS = {
    "spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11),
    "winter": (1, 3), "xuân": (1, 3), "hạ": (4, 6), "hè": (4, 6), "thu": (7, 9),
    "đông": (10, 12),
}
QUARTERS = {1: (1, 3), 2: (4, 6), 3: (7, 9), 4: (10, 12)}
_YEAR_RE = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d|2100)(?!\d)")
_YYYYMMDD = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:t[\d:.z+\-]*)?\.?")
_WORDS = re.compile(r"[^\W\d_]+")
_QUARTER = re.compile(r"\bq([1-4])\b")
_THANG = re.compile(r"tháng\s*(\d{1,2})")
_DAY = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A citation date: year, optional month (or month range) and day."""

    year: int | None
    month: int | None = None
    month_end: int | None = None
    day: int | None = None
    note: str | None = None  # set when the parse had to guess


def _valid_ymd(y: int, m: int, d: int | None) -> bool:
    if not 1 <= m <= 12:
        return False
    return d is None or 1 <= d <= calendar.monthrange(y, m)[1]


def parse_date(raw: str | None) -> ParsedDate:
    """Parse the date shapes found in real OpenURLs.

    Handles YYYY, YYYY-MM, YYYY-MM-DD (also unpadded), YYYYMMDD (EBSCO), "July 28, 2012",
    "24 October 2019", seasons ("Spring 2019"), "1994; 1998" (first year, noted), "1982.".
    Month and day are kept only when unambiguous.
    """
    if not raw:
        return ParsedDate(None)
    s = raw.strip().lower()
    m = _YYYYMMDD.fullmatch(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if mo == 0 or (mo, d) == (1, 1):
            # EBSCO pads year-only dates to YYYY0101: January 1st is not really known.
            return ParsedDate(y)
        if d == 0 and 1 <= mo <= 12:
            return ParsedDate(y, mo)
        if _valid_ymd(y, mo, d):
            return ParsedDate(y, mo, None, d)
        return ParsedDate(y, note=f"date {raw!r}: only the year is usable")
    m = _ISO_DATE.fullmatch(s)
    if m:
        y = int(m.group(1))
        if not m.group(2):
            return ParsedDate(y)
        given_month = int(m.group(2))
        given_day = int(m.group(3)) if m.group(3) else None
        if _valid_ymd(y, given_month, given_day):
            return ParsedDate(y, given_month, None, given_day)
        return ParsedDate(y, note=f"date {raw!r}: only the year is usable")
    years = _YEAR_RE.findall(s)
    if not years:
        return ParsedDate(None, note=f"date {raw!r} has no year")
    y = int(years[0])
    note = None
    if len(set(years)) > 1:
        note = f"date {raw!r} names several years; using {y}"
    words = _WORDS.findall(s)
    for w in words:
        if w in SEASONS:
            a, b = SEASONS[w]
            return ParsedDate(y, a, b, None, note or f"season {w!r} read as months {a}-{b}")
    qm = _QUARTER.search(s)
    if qm:
        a, b = QUARTERS[int(qm.group(1))]
        return ParsedDate(y, a, b, None, note)
    tm = _THANG.search(s)
    month = int(tm.group(1)) if tm and 1 <= int(tm.group(1)) <= 12 else None
    if month is None:
        for w in words:
            if w in MONTHS:
                month = MONTHS[w]
                break
    day = None
    if month is not None and tm is None:
        # "July 28, 2012" / "24 October 2019": a 1-2 digit number next to the month name.
        dm = _DAY.search(_YEAR_RE.sub(" ", s))
        if dm and _valid_ymd(y, month, int(dm.group(1))):
            day = int(dm.group(1))
    return ParsedDate(y, month, None, day, note)
