"""The host publication (journal, volume, issue, pages, year) in a citation string."""

from __future__ import annotations

import re
from typing import NamedTuple

from harvesters.normalize.text import clean_text


class SourceCitation(NamedTuple):
    """The host publication parsed out of a citation string such as dc:source."""

    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    year: int | None = None

    @property
    def has_enumeration(self) -> bool:
        """True when volume, issue or pages were found, i.e. this really is a citation."""
        return bool(self.volume or self.issue or self.pages)


_VOLUME = re.compile(r"(?<!\w)(?:vol(?:ume)?\.?|v\.|tập|t\.)\s*(\d+[A-Za-z]?)", re.IGNORECASE)
_ISSUE = re.compile(
    r"(?<!\w)(?:no\.?|num(?:ber|\.)?|issue|iss\.|số|n[°º]\.?|nr\.?)\s*(\d+[A-Za-z]?(?:\s*[-/]\s*\d+)?)",
    re.IGNORECASE,
)
_PAGES_LABELLED = re.compile(
    r"(?<!\w)(?:pp?\.|pages?|tr\.|trang)\s*(\d+\s*[-–—]\s*\d+|\d+)", re.IGNORECASE
)
_PAGES_TRAILING = re.compile(r"[;:,)]\s*(\d+\s*[-–—]\s*\d+)\s*\.?$")
_APA = re.compile(r"(?<![\w.])(\d{1,4})\s*\((\d+[A-Za-z]?(?:[-/]\d+)?)\)")
_YEAR_PAREN = re.compile(r"\((?:[^()]*?\b)?(1[89]\d\d|20\d\d)\)")


def parse_source_citation(value: str | None) -> SourceCitation:
    """Parse a journal citation string into journal, volume, issue, pages and year.

    Without any volume/issue/pages the whole string is returned as the journal and
    ``has_enumeration`` is False, so callers can decide whether to trust it.

    >>> parse_source_citation("Tạp chí Khoa học, Tập 12, Số 3, tr. 45-52")
    SourceCitation(journal='Tạp chí Khoa học', volume='12', issue='3', pages='45-52', year=None)
    >>> parse_source_citation("Journal X; Vol 5, No 2 (2019); 10-20")
    SourceCitation(journal='Journal X', volume='5', issue='2', pages='10-20', year=2019)
    >>> parse_source_citation("Journal of Hydrology, 12(3), 45-52")
    SourceCitation(journal='Journal of Hydrology', volume='12', issue='3', pages='45-52', year=None)
    """
    text = clean_text(value)
    if not text:
        return SourceCitation()
    starts: list[int] = []
    volume = issue = pages = ""
    if m := _VOLUME.search(text):
        volume = m.group(1)
        starts.append(m.start())
    if m := _ISSUE.search(text):
        issue = re.sub(r"\s+", "", m.group(1))
        starts.append(m.start())
    if not volume and (m := _APA.search(text)):
        volume, issue = m.group(1), m.group(2)
        starts.append(m.start())
    if m := _PAGES_LABELLED.search(text):
        pages = m.group(1)
        starts.append(m.start())
    elif m := _PAGES_TRAILING.search(text):
        pages = m.group(1)
        starts.append(m.start() + 1)
    year = None
    if m := _YEAR_PAREN.search(text):
        year = int(m.group(1))
        if not starts:
            starts.append(m.start())
    pages = re.sub(r"\s*[-–—]\s*", "-", pages)
    journal = text[: min(starts)] if starts else text
    journal = re.sub(r"[\s,;:.(\-–]+$", "", journal)
    # "Journal, 2019, 12(3)" leaves the year behind the journal name.
    journal = re.sub(r"[\s,;]+(?:1[89]\d\d|20\d\d)$", "", journal)
    return SourceCitation(journal=journal, volume=volume, issue=issue, pages=pages, year=year)
