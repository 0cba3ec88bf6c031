"""The host publication (journal, volume, issue, pages, year) in a citation string.

The one home of the rule, pure. A ``dc:source`` (OJS writes one per article) or a
bibliographic citation names the journal, then its enumeration in one of many shapes:

* labelled, in Vietnamese or English: volume ``Tập``, ``T.``, ``Quyển``, ``Vol.``,
  ``Volume``, ``v.``; issue ``Số``, ``S.``, ``Kỳ``, ``No.``, ``Number``, ``Issue``,
  ``Iss.``, ``n°``; pages ``tr.``, ``trang``, ``pp.``, ``p.``, ``pages``;
* unlabelled, APA style: ``12(3)``, then pages ``, 45-52``;
* the year in brackets, alone or as a date: ``(2021)``, ``(3/2021)``, ``(2025-11-18)``;
  after ``năm``/``year``; or after an issue: ``Số 3/2021``.

**A number that is a year is the year, never an issue or a volume**: OJS's Vietnamese
"Tạp chí Khoa học Trà Vinh; Số 40 (2021)" is issue 40 of 2021 (it was once read APA style
as volume 40, issue 2021, and carried into every citation export and OpenURL). A labelled
number is what its label says; an unlabelled ``N (YYYY)`` is a year in brackets.
"""

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


#: a year a citation may carry (the same span as the crosswalks' publication years)
_YEAR_TEXT = r"(?:1[89]\d\d|20\d\d)"
_YEAR_ONLY = re.compile(rf"{_YEAR_TEXT}")
_DASH = r"[-–—]"
#: a label starts a word and is followed by its number (spaces or none: "tr.12")
_START = r"(?<!\w)"

#: a volume: a number, or a Roman one after a word label ("Vol. XII"; not after "T.",
#: which an initial also writes)
_VOLUME = re.compile(
    _START + r"(?:(?:vol(?:ume)?\.?|tập|quyển)\s*(?-i:([IVXLC]+))(?!\w)"
    r"|(?:vol(?:ume)?\.?|v\.|tập|quyển|t\.)\s*(\d+[A-Za-z]?))",
    re.IGNORECASE,
)
#: an issue, maybe double ("1-2", "3+4") or with its year ("3/2021")
_ISSUE = re.compile(
    _START + r"(?:no\.?|nos\.|num(?:ber|\.)|issue|iss\.|số|kỳ|s\.|n[°º]\.?|nr\.?)"
    r"\s*(\d+[A-Za-z]?(?:\s*[-–/+&]\s*\d+[A-Za-z]?)?)",
    re.IGNORECASE,
)
_PAGES_LABELLED = re.compile(
    _START + rf"(?:pp?\.|pages?\b|tr\.|trang\b)\s*(\d+[A-Za-z]?(?:\s*{_DASH}\s*\d+[A-Za-z]?)?)",
    re.IGNORECASE,
)
#: APA's volume(issue), never when the brackets hold a year: "Số 40 (2021)" is no 40(2021)
_APA = re.compile(
    rf"(?<![\w.])(\d{{1,4}})\s*\((?!{_YEAR_TEXT}\b)(\d+[A-Za-z]?(?:[-/]\d+)?)\)"
    rf"(?:\s*[,:]\s*(\d+\s*{_DASH}\s*\d+)(?!\d))?"
)
#: unlabelled pages closing the citation, maybe before a bracketed date: "; 45-58",
#: ", 113-121, (2025-02)"
_PAGES_TRAILING = re.compile(
    rf"[;:,)]\s*(\d+\s*{_DASH}\s*\d+)\s*\.?\s*(?:[,;]?\s*\([^()]*\)\s*\.?)?$"
)
#: a year in brackets, alone or ending a date ("(2021)", "(3/2021)", "(tháng 3, 2021)")
#: or starting one ("(2025-11-18)", "(2021-05)")
_YEAR_PAREN = re.compile(
    rf"\((?:[^()]*?\D)?({_YEAR_TEXT})(?:[-/.]\d{{1,2}}){{0,2}}\)"
)
_YEAR_LABELLED = re.compile(rf"{_START}(?:năm|year)\s+({_YEAR_TEXT})(?!\d)", re.IGNORECASE)
#: after the enumeration began, a year standing alone between commas ("Issue 3, 2020,
#: pp. 12-20") or ending a month ("Kỳ 2 tháng 5/2020")
_YEAR_AFTER = re.compile(
    rf"(?:[,;]\s*|tháng\s*\d{{1,2}}\s*[/-]\s*)({_YEAR_TEXT})(?=\s*(?:[,;:.)]|$))", re.IGNORECASE
)


def _issue_and_year(value: str) -> tuple[str, int | None]:
    """An issue as written, or issue and year when it carries one ("3/2021")."""
    value = re.sub(r"\s+", "", value).replace("–", "-")
    m = re.fullmatch(r"(\d+[A-Za-z]?)[-/](\d+)", value)
    if m and _YEAR_ONLY.fullmatch(m.group(2)) and not _YEAR_ONLY.fullmatch(m.group(1)):
        return m.group(1), int(m.group(2))
    return value, None


def _dash(pages: str) -> str:
    return re.sub(rf"\s*{_DASH}\s*", "-", pages)


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
    >>> parse_source_citation("Tạp chí Khoa học Trà Vinh; Số 40 (2021)")
    SourceCitation(journal='Tạp chí Khoa học Trà Vinh', volume='', issue='40', pages='', year=2021)
    """
    text = clean_text(value)
    if not text:
        return SourceCitation()
    starts: list[int] = []
    volume = issue = pages = ""
    year = None
    if m := _VOLUME.search(text):
        volume = m.group(1) or m.group(2)
        starts.append(m.start())
    if m := _ISSUE.search(text):
        issue, year = _issue_and_year(m.group(1))
        starts.append(m.start())
    if not volume and not issue and (m := _APA.search(text)):
        volume, issue = m.group(1), m.group(2)
        pages = m.group(3) or ""
        starts.append(m.start())
    if m := _PAGES_LABELLED.search(text):
        pages = m.group(1)
        starts.append(m.start())
    elif not pages and (m := _PAGES_TRAILING.search(text)):
        pages = m.group(1)
        starts.append(m.start() + 1)
    if year is None and (m := _YEAR_PAREN.search(text) or _YEAR_LABELLED.search(text)):
        year = int(m.group(1))
        if not starts:
            starts.append(m.start())
    if year is None and starts and (m := _YEAR_AFTER.search(text, min(starts))):
        year = int(m.group(1))
    if not starts:  # no citation: the text is a name, years and all
        return SourceCitation(journal=text)
    journal = re.sub(r"[\s,;:.(\-–]+$", "", text[: min(starts)])
    # "Journal, 2019, 12(3)" leaves the year behind the journal name.
    journal = re.sub(rf"[\s,;]+{_YEAR_TEXT}$", "", journal)
    return SourceCitation(journal=journal, volume=volume, issue=issue, pages=_dash(pages),
                          year=year)
