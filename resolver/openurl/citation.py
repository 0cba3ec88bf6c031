"""The normalised citation every OpenURL becomes, and the error for input that holds none.

One dataclass for the whole resolver: the parser fills it, the knowledge base checks
coverage against its date, the linking service builds targets from it and the KEV and JSON
writers serialise it. All text is NFC; an empty field means absent (None).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

__all__ = ["FORMATS", "GENRES", "Citation", "CitationError"]

GENRES = (
    "article", "journal", "book", "bookitem", "dissertation",
    "conference", "proceeding", "report", "unknown",
)
FORMATS = ("journal", "book", "dissertation")


class CitationError(ValueError):
    """Raised when the input holds nothing citation-like (no title, no identifier)."""


@dataclass(slots=True)
class Citation:
    """One normalised citation. All text is NFC; empty means absent (None)."""

    genre: str = "unknown"
    format: str = "journal"
    atitle: str | None = None
    jtitle: str | None = None
    btitle: str | None = None
    title: str | None = None  # main title of the whole work: jtitle, btitle or thesis title
    stitle: str | None = None
    authors: list[str] = field(default_factory=list)  # "Last, First" where we can tell
    aulast: str | None = None
    aufirst: str | None = None
    issn: str | None = None
    issn_valid: bool | None = None
    eissn: str | None = None
    eissn_valid: bool | None = None
    isbn: str | None = None  # ISBN-13 digits
    isbn_valid: bool | None = None
    doi: str | None = None
    pmid: str | None = None
    oclcnum: str | None = None
    other_ids: list[str] = field(default_factory=list)  # http(s) rft_id, lccn, oai ...
    date: str | None = None  # as given
    year: int | None = None
    month: int | None = None
    month_end: int | None = None  # a season or quarter spans months
    day: int | None = None
    volume: str | None = None
    issue: str | None = None
    part: str | None = None
    spage: str | None = None
    epage: str | None = None
    pages: str | None = None
    artnum: str | None = None
    edition: str | None = None
    publisher: str | None = None
    place: str | None = None
    degree_inst: str | None = None  # rft.inst of a dissertation (the university)
    inst: str | None = None  # the `inst` parameter: member institution code
    sid: str | None = None
    rfr_id: str | None = None
    version: str = "unknown"  # "1.0", "0.1", "hybrid"
    warnings: list[str] = field(default_factory=list)

    def date_bounds(self) -> tuple[dt.date, dt.date] | None:
        """First and last day the citation date can mean, or None without a year.

        A year-only date spans the whole year, a month (or season) the whole month(s).
        """
        if self.year is None:
            return None
        if self.month is None:
            return dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
        m_end = self.month_end or self.month
        last = calendar.monthrange(self.year, m_end)[1]
        if self.day is not None and self.month_end is None:
            d = dt.date(self.year, self.month, self.day)
            return d, d
        return dt.date(self.year, self.month, 1), dt.date(self.year, m_end, last)

    @property
    def date_precision(self) -> str:
        """'day', 'month', 'year' or 'none'."""
        if self.year is None:
            return "none"
        if self.month is None or self.month_end is not None:
            return "year" if self.month is None else "month"
        return "day" if self.day is not None else "month"

    def iso_date(self) -> str | None:
        """The date as precisely as it is known: YYYY, YYYY-MM or YYYY-MM-DD (a season or
        quarter is only its year, which is what link targets and ILL forms understand)."""
        if self.year is None:
            return None
        if self.month is None or self.month_end is not None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
