"""The facets a search counts and filters by, and what a facet filter value means.

Engine-neutral rules with one home: every engine counts the same facets, buckets years the
same way and lists values in the same order, so a page of results reads alike whichever
engine answered it.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

from index.analysis import nfc, normalise_tones
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


#: Facets whose values are free text as catalogued (the others are codes the crosswalks
#: normalise, or years): values differing only in how they are written are one value
#: (:func:`facet_key`).
TEXT_FACETS = ("subject",)
_SPACES = re.compile(r"\s+")
#: What a value may end with that is cataloguing punctuation, not part of the value (ISBD
#: and MARC subject headings end in "." or carry a trailing " :" / " ;" / " /").
_TRAILING = " .,;:/"


def clean_value(value: str) -> str:
    """A text facet value as indexed and shown: NFC, commas as spaces (both engines' keyword
    fields keep one value per term, commas separating values in Whoosh's), runs of white
    space as one space, no surrounding space or trailing cataloguing punctuation. Case,
    diacritics and tone placement are kept: that is how it is shown."""
    return _SPACES.sub(" ", nfc(value).replace(",", " ")).strip().rstrip(_TRAILING)


def facet_key(value: str) -> str:
    """What two spellings of one text facet value share: :func:`clean_value`, lowercase,
    one tone placement ("Thuỷ sản" and "thủy sản" are one value). Diacritics are never
    folded away: "Lý" and "Ly" are different words."""
    return _spelling(value)[0]


@lru_cache(maxsize=1 << 16)  # a search groups every subject of its matches: they repeat
def _spelling(value: str) -> tuple[str, str]:
    """(:func:`facet_key`, :func:`clean_value`) of a value."""
    clean = clean_value(value)
    return normalise_tones(clean.lower()), clean


def same_facet_value(name: str, a: str, b: str) -> bool:
    """Do ``a`` and ``b`` name the same value of facet ``name`` (what a filter on either
    matches)? For the text facets (:data:`TEXT_FACETS`), the same :func:`facet_key`."""
    return a == b or (name in TEXT_FACETS and facet_key(a) == facet_key(b))


def subject_values(subjects: Iterable[str]) -> list[str]:
    """The subject values a record is indexed under (every engine): each cleaned
    (:func:`clean_value`), one spelling per :func:`facet_key` (the first), so that a record
    holding "Thư viện" and "thư viện." counts once for that value."""
    seen: dict[str, str] = {}
    for s in subjects:
        if s:
            key, clean = _spelling(s)
            if clean:
                seen.setdefault(key, clean)
    return list(seen.values())


def grouped(spellings: Mapping[str, int]) -> tuple[Counter[str], dict[str, str]]:
    """Counts of the spellings of a text facet (records holding each, as indexed) as counts
    per :func:`facet_key`, and each key's label: its most frequent spelling, cleaned
    (:func:`clean_value`; ties: the first in Vietnamese order, index/collation.py, then by
    code point)."""
    counts: Counter[str] = Counter()
    forms: dict[str, dict[str, int]] = {}
    for v, n in spellings.items():
        if n > 0 and v:
            key, clean = _spelling(v)
            if clean:
                counts[key] += n
                seen = forms.setdefault(key, {})
                seen[clean] = seen.get(clean, 0) + n
    labels: dict[str, str] = {}
    for key, seen in forms.items():
        if len(seen) == 1:
            labels[key] = next(iter(seen))
        else:
            labels[key] = min(seen, key=lambda v: (-seen[v], sort_key(v), v))
    return counts, labels


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
    fixed order people can read ("Đại học" before "Trường"). Only the values that can be
    listed are sorted (a search may count thousands of subjects)."""
    items = list(counts.items()) if len(counts) <= FACET_LIMIT else _contenders(counts)
    ranked = sorted(items, key=lambda kv: (-kv[1], _sort_key(kv[0]), kv[0]))[:FACET_LIMIT]
    return [FacetValue(v, n) for v, n in ranked]


def _contenders(counts: Counter[str]) -> list[tuple[str, int]]:
    """The values counted at least as often as the :data:`FACET_LIMIT`-th most frequent."""
    least = heapq.nlargest(FACET_LIMIT, counts.values())[-1]
    return [(v, n) for v, n in counts.items() if n >= least]


#: Facet values repeat from search to search.
_sort_key = lru_cache(maxsize=1 << 14)(sort_key)


def year_period(year: int) -> str:
    """The label of the :data:`YEAR_BUCKETS` period holding ``year`` (the periods cover
    every year; a record without a year is left out by the caller)."""
    for label, lo, hi in YEAR_BUCKETS:
        if (lo is None or year >= lo) and (hi is None or year <= hi):
            return label
    raise AssertionError("YEAR_BUCKETS covers every year")  # pragma: no cover


def year_buckets(period_counts: Counter[str]) -> list[FacetValue]:
    """The year facet from counts per period (:func:`year_period`; works are counted per
    period, so a work whose copies carry two years of one period counts once there): the
    non-empty periods, in the order of :data:`YEAR_BUCKETS`."""
    return [FacetValue(label, period_counts[label]) for label, _lo, _hi in YEAR_BUCKETS
            if period_counts.get(label, 0) > 0]
