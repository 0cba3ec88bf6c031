"""Dates as repositories write them: a year for facets, W3CDTF trimmed to its day."""

from __future__ import annotations

import re

from harvesters.normalize.text import clean_text

_YEAR = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d)(?!\d)")
_W3CDTF = re.compile(
    r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def extract_year(value: str | None) -> int | None:
    """Return the first plausible year (1400-2099) in a date string.

    >>> extract_year("c2015.")
    2015
    >>> extract_year("Huế, tháng 5 năm 2019")
    2019
    >>> extract_year("05/2021")
    2021
    >>> extract_year("không rõ năm") is None
    True
    """
    match = _YEAR.search(clean_text(value))
    return int(match.group(1)) if match else None


def normalise_date(value: str | None) -> str:
    """Trim W3CDTF timestamps to their date part; leave other date strings as cleaned text.

    >>> normalise_date("2019-05-03T00:00:00Z")
    '2019-05-03'
    >>> normalise_date("[2015]")
    '[2015]'
    """
    text = clean_text(value)
    match = _W3CDTF.match(text)
    return match.group(1) if match else text
