"""The facets a search counts and filters by, and what a facet filter value means.

Engine-neutral rules with one home: every engine counts the same facets, buckets years the
same way and lists values in the same order, so a page of results reads alike whichever
engine answered it.
"""

from __future__ import annotations

from collections import Counter

from index.collation import sort_key
from index.querylang import year_range
from index.results import FacetValue

#: Facets counted from one value per record (``subject``: several), in display order; the
#: year facet (:data:`YEAR_BUCKETS`) comes after them.
FACET_FIELDS = ("institution", "type", "language", "access", "subject")
#: Year facet buckets: (label, first year, last year); None is open-ended.
YEAR_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("2020-", 2020, None), ("2010-2019", 2010, 2019), ("2000-2009", 2000, 2009),
    ("1990-1999", 1990, 1999), ("-1989", None, 1989),
)
#: Values listed per facet.
FACET_LIMIT = 30
#: An empty year range (first year after the last): what a year value naming no years
#: filters to.
NO_YEARS: tuple[int, int] = (1, 0)


def filter_years(value: str) -> tuple[int | None, int | None]:
    """The years of a ``year`` filter value: a bucket label, or a range as ``year:`` reads
    it ("2010-2020"); a value that names no years matches none (:data:`NO_YEARS`)."""
    for label, lo, hi in YEAR_BUCKETS:
        if value == label:
            return lo, hi
    years = year_range(value)
    return NO_YEARS if years is None else years


def top_values(counts: Counter[str]) -> list[FacetValue]:
    """The :data:`FACET_LIMIT` most frequent values, count descending, then in Vietnamese
    alphabetical order (index/collation.py; the value itself last): equal counts list in a
    fixed order people can read ("Đại học" before "Trường")."""
    ranked = sorted(counts.items(),
                    key=lambda kv: (-kv[1], sort_key(kv[0]), kv[0]))[:FACET_LIMIT]
    return [FacetValue(v, n) for v, n in ranked]


def year_buckets(year_counts: Counter[int]) -> list[FacetValue]:
    """The year facet from counts per year (records without a year left out): the
    non-empty buckets of :data:`YEAR_BUCKETS`, in that order."""
    out = []
    for label, lo, hi in YEAR_BUCKETS:
        n = sum(c for y, c in year_counts.items()
                if (lo is None or y >= lo) and (hi is None or y <= hi))
        if n:
            out.append(FacetValue(label, n))
    return out
