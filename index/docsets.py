"""Queries answered by set algebra over posting sets and per-document columns.

Engine-neutral: an engine supplies the docnums holding one term (:meth:`DocSets.term_bits`
or :meth:`DocSets.term_docs`), the docnums not deleted (:meth:`DocSets.live_bits` or
:meth:`DocSets.live`) and the per-docnum values of a snapshot (:class:`Columns`);
everything above that — a parsed query's matches, facet filters, year ranges, ranking
features, the whole-index sort orders — is computed here the same way for every engine, so
the engines match exactly the same records (tests/index runs against each).

The algebra runs on bitmaps: an int whose bit ``d`` is set when docnum ``d`` is in the set
(:func:`bitmap`, :func:`members`). A bitmap costs one bit per document of the index
whatever it holds — 12.5 kB at 100k records, where a frozenset of half of them costs
~3.5 MB in ints and hash slots — and intersecting, joining and counting bitmaps are single
C calls; only a search's final matches become a set of ints. (Measured at 100k records:
the posting sets a worker cached as frozensets grew past 900 MB over 200 queries.)
"""

from __future__ import annotations

import sys
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import and_, itemgetter
from typing import Any, TypeVar

from index import querylang as qlang
from index.facets import FACET_FIELDS, facet_key, filter_years
from index.features import required_terms

#: The year column's value for a record without a year (sorts after every real year).
NO_YEAR = -(2**31)
#: Single-valued facet/sort columns every engine keeps per document.
COLUMN_FIELDS = ("institution", "type", "language", "access", "cluster", "title_sort")

#: The facets counted from the single-valued columns (the others: subject, year).
COLUMN_FACETS = ("institution", "type", "language", "access")

DocSet = set[int] | frozenset[int]
_V = TypeVar("_V", str, int)

# Bitmaps to and from a flag byte per docnum (byte d is 1 when d is in the set), through
# the binary digits of the int: every step is one C call.
_TO_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_TO_FLAGS = bytes.maketrans(b"01", b"\x00\x01")
#: Fewer docnums than this are set bit by bit (each step copies the int); more go through
#: a flag per docnum (measured break-even ~600 at any index size).
_FEW = 512
#: array typecode of an unsigned counter of each width in bytes.
_COUNTER_TYPES = {array(t).itemsize: t for t in "BHIQ"}


def bitmap(docnums: Iterable[int]) -> int:
    """The bitmap of ``docnums`` (non-negative ints, any order)."""
    ds = docnums if isinstance(docnums, Sequence | set | frozenset) else list(docnums)
    if len(ds) < _FEW:
        bits = 0
        for d in ds:
            bits |= 1 << d
        return bits
    flags = bytearray(max(ds) + 1)
    for d in ds:
        flags[d] = 1
    return from_flags(flags)


def from_flags(flags: bytes | bytearray) -> int:
    """The bitmap of a flag byte per docnum (byte ``d`` is 1 when ``d`` is in the set)."""
    return int(flags.translate(_TO_DIGITS)[::-1], 2) if flags else 0


def flags_of(bits: int) -> bytes:
    """A flag byte per docnum up to the last one of ``bits`` (1: in the set)."""
    return bin(bits)[:1:-1].encode("ascii").translate(_TO_FLAGS)


def members(bits: int) -> Iterator[int]:
    """The docnums of a bitmap, ascending: in work proportional to how many there are
    when they are few (a 64-bit word at a time), else to the bitmap's length (a flag per
    docnum, in C; measured break-even about one docnum in eight)."""
    if bits.bit_count() * 8 < bits.bit_length():
        return iter(_few_members(bits))
    flags = flags_of(bits)
    return compress(range(len(flags)), flags)


def _few_members(bits: int) -> list[int]:
    words = array(_COUNTER_TYPES[8])
    words.frombytes(bits.to_bytes((bits.bit_length() + 63) // 64 * 8, "little"))
    if sys.byteorder != "little":
        words.byteswap()
    out: list[int] = []
    for i in compress(range(len(words)), words):
        word, base = words[i], i * 64
        while word:
            low = word & -word
            out.append(base + low.bit_length() - 1)
            word ^= low
    return out


def group_bits(column: Sequence[_V], live: int) -> dict[_V, int]:
    """The live docnums holding each value of a column, as bitmaps."""
    groups: dict[_V, list[int]] = {}
    for d in members(live):
        if d < len(column):
            groups.setdefault(column[d], []).append(d)
    return {v: bitmap(ds) for v, ds in groups.items()}


def _counters(bits: int, width: int) -> int:
    """``bits`` with each bit ``d`` moved to bit ``8 * width * d``: a counter of ``width``
    bytes per docnum, which adding such ints adds up without carrying into the next."""
    flags: bytes | bytearray = flags_of(bits)
    if width > 1:
        spread = bytearray(len(flags) * width)
        spread[::width] = flags
        flags = spread
    return int.from_bytes(flags, "little")


@dataclass
class Columns:
    """Per-docnum values of one snapshot (a deleted docnum holds defaults; ``live`` says
    which docnums exist)."""

    single: dict[str, list[str]]  # one value per doc, for each of COLUMN_FIELDS
    subject: list[tuple[str, ...]]
    year: list[int]  # NO_YEAR when the record has none
    multi: bytearray  # 1 when the doc's cluster has other members
    multi_set: frozenset[int] = frozenset()
    ranks: dict[str, list[int]] = field(default_factory=dict)  # sort → rank of each docnum


def multi_flags(clusters: list[str], live: frozenset[int]) -> tuple[bytearray, frozenset[int]]:
    """Which docnums share their cluster with another live docnum (as a flag per docnum and
    as a set)."""
    sizes: dict[str, int] = {}
    for d in live:
        sizes[clusters[d]] = sizes.get(clusters[d], 0) + 1
    multi = bytearray(1 if d in live and sizes.get(c, 0) > 1 else 0
                      for d, c in enumerate(clusters))
    return multi, frozenset(d for d, m in enumerate(multi) if m)


class DocSets:
    """Set algebra over one snapshot. Subclasses provide the docnums of a term and the live
    docnums — as bitmaps (:meth:`term_bits`, :meth:`live_bits`) or as sets
    (:meth:`term_docs`, :meth:`live`): each has the other as its default, so a subclass
    overrides one of each pair — and :meth:`columns`, and call ``DocSets.__init__``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._values: dict[str, dict[str, int]] = {}
        self._years: dict[int, int] | None = None
        self._spellings: dict[str, list[str]] | None = None

    def term_bits(self, fieldname: str, text: str) -> int:
        """The docnums holding one term, deleted ones possibly among them (callers keep
        the live ones)."""
        return bitmap(self.term_docs(fieldname, text))

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        """:meth:`term_bits` as a set."""
        return frozenset(members(self.term_bits(fieldname, text)))

    def live_bits(self) -> int:
        """Docnums not deleted."""
        return bitmap(self.live())

    def live(self) -> frozenset[int]:
        """:meth:`live_bits` as a set."""
        return frozenset(members(self.live_bits()))

    def columns(self) -> Columns:
        raise NotImplementedError

    def _value_table(self, name: str) -> dict[str, int]:
        table = self._values.get(name)
        if table is None:  # two threads may both build it: the same table either way
            table = self._values[name] = group_bits(self.columns().single[name],
                                                    self.live_bits())
        return table

    def _year_table(self) -> dict[int, int]:
        if self._years is None:
            self._years = group_bits(self.columns().year, self.live_bits())
        return self._years

    def subject_terms(self) -> Iterable[str]:
        """Every subject value indexed (as a term), deleted records' possibly among them."""
        return {v for values in self.columns().subject for v in values}

    def subject_spellings(self, value: str) -> list[str]:
        """The subject terms of this snapshot written like ``value`` (the same
        :func:`~index.facets.facet_key`): what a subject filter matches. The table of every
        term by key is made on first use, once per snapshot."""
        table = self._spellings
        if table is None:  # two threads may both build it: the same table either way
            table = {}
            for term in self.subject_terms():
                table.setdefault(facet_key(term), []).append(term)
            for terms in table.values():
                terms.sort()
            self._spellings = table
        return table.get(facet_key(value), [])

    def value_bits(self, name: str, value: str) -> int:
        """Docs whose facet ``name`` equals ``value`` (a subject: is written like it,
        index/facets.py)."""
        if name == "subject":
            out = 0
            for term in self.subject_spellings(value):
                out |= self.term_bits("subject", term)
            return out
        return self._value_table(name).get(value, 0)

    def value_docs(self, name: str, value: str) -> frozenset[int]:
        """:meth:`value_bits` as a set."""
        return frozenset(members(self.value_bits(name, value)))

    def year_bits(self, start: int | None, end: int | None) -> int:
        """Docs with a year from ``start`` to ``end`` (None: open-ended)."""
        out = 0
        for y, bits in self._year_table().items():
            if y != NO_YEAR and (start is None or y >= start) and (end is None or y <= end):
                out |= bits
        return out

    def year_docs(self, start: int | None, end: int | None) -> set[int]:
        """:meth:`year_bits` as a set."""
        return set(members(self.year_bits(start, end)))

    def bits(self, node: qlang.Node) -> int:
        """Matching docnums of a parsed query (deleted ones possibly among them)."""
        if isinstance(node, qlang.Words):
            terms = required_terms(node)
            if not terms:
                return 0
            out = self.term_bits(*terms[0])
            for f, t in terms[1:]:
                if not out:
                    break
                out &= self.term_bits(f, t)
            return out
        if isinstance(node, qlang.Ident):
            return self.term_bits(node.kind, node.value)
        if isinstance(node, qlang.YearRange):
            return self.year_bits(node.start, node.end)
        if isinstance(node, qlang.MatchAll):
            return self.live_bits()
        if isinstance(node, qlang.And):
            pos = [self.bits(c) for c in node.children if not isinstance(c, qlang.Not)]
            neg = [self.bits(c.child) for c in node.children if isinstance(c, qlang.Not)]
            out = pos[0] if pos else self.live_bits()
            for p in pos[1:]:
                out &= p
            for n in neg:
                out &= ~n
            return out
        if isinstance(node, qlang.Or):
            out = 0
            for c in node.children:
                out |= self.bits(c)
            return out
        if isinstance(node, qlang.Not):
            return self.live_bits() & ~self.bits(node.child)
        return 0

    def docs(self, node: qlang.Node) -> DocSet:
        """Matching docnums of a parsed query (deleted ones possibly among them)."""
        return set(members(self.bits(node)))

    def filtered_bits(self, node: qlang.Node, filters: dict[str, list[str]] | None,
                      year_range: tuple[int | None, int | None] | None) -> int:
        """The live docnums matching ``node`` within the facet filters (values of one facet
        OR-ed, facets AND-ed; a facet this index does not filter on matches nothing) and
        the year range."""
        bits = self.bits(node)
        for name, values in (filters or {}).items():
            if not values:
                continue
            allowed = 0
            for v in values:
                if name == "year":
                    allowed |= self.year_bits(*filter_years(v))
                elif name in FACET_FIELDS:
                    allowed |= self.value_bits(name, v)
            bits &= allowed
        if year_range and (year_range[0] is not None or year_range[1] is not None):
            bits &= self.year_bits(year_range[0], year_range[1])
        return bits & self.live_bits()

    def feature_scores(self, bits: int, features: list[tuple[str, str, int]]
                       ) -> Counter[int]:
        """The coordination score of the docs of ``bits`` holding any ranking feature: the
        sum of the weights of the features they hold.

        Added up for every doc at once: each feature's matches become a counter per
        docnum (:func:`_counters`, as wide as the largest possible score needs), so a
        feature costs a few C calls whatever it matches, where adding its matches to a
        Counter costs a step per match and weight (measured: ~5x less time at 100k
        records for a common syllable)."""
        if bits.bit_count() * 64 < bits.bit_length():
            return self._few_scores(bits, features)
        top = sum(w for _f, _t, w in features if w > 0)
        width = min(w for w in _COUNTER_TYPES if top < 1 << (8 * w))
        total = 0
        for fieldname, term, weight in features:
            if weight > 0 and (hit := bits & self.term_bits(fieldname, term)):
                total += weight * _counters(hit, width)
        if not total:
            return Counter()
        n = bits.bit_length()
        scores = array(_COUNTER_TYPES[width])
        scores.frombytes(total.to_bytes(n * width, "little"))
        if sys.byteorder != "little":
            scores.byteswap()
        return Counter(dict(zip(compress(range(n), scores), filter(None, scores),
                                strict=True)))

    def _few_scores(self, bits: int, features: list[tuple[str, str, int]]) -> Counter[int]:
        """:meth:`feature_scores` of few docs, counted one by one (less work than a counter
        per docnum of the index below ~1,500 docs at 100k records): each feature's hit
        is read at the docs' bytes, in C."""
        docs = list(members(bits))
        size = (bits.bit_length() + 7) // 8
        at = [d >> 3 for d in docs]
        fetch = itemgetter(*at) if len(at) > 1 else (lambda raw: (raw[at[0]],))
        masks = [1 << (d & 7) for d in docs]
        score: Counter[int] = Counter()
        for fieldname, term, weight in features:
            if weight > 0 and (hit := bits & self.term_bits(fieldname, term)):
                held = list(compress(docs, map(and_, fetch(hit.to_bytes(size, "little")),
                                               masks)))
                for _ in range(weight):
                    score.update(held)
        return score

    def value_counts(self, bits: int) -> dict[str, Counter[Any]]:
        """For each of :data:`COLUMN_FACETS` and ``year``, how many docs of ``bits`` (live
        docs) hold each value: one intersection and count per value of the facet."""
        out: dict[str, Counter[Any]] = {}
        for name in COLUMN_FACETS:
            out[name] = Counter({v: n for v, vbits in self._value_table(name).items()
                                 if (n := (vbits & bits).bit_count())})
        out["year"] = Counter({y: n for y, ybits in self._year_table().items()
                               if (n := (ybits & bits).bit_count())})
        return out

    def rank(self, sort: str) -> list[int]:
        """Position of each docnum in the whole-index order ``sort`` (computed once)."""
        cols = self.columns()
        with self.lock:
            if sort not in cols.ranks:
                ts, yr = cols.single["title_sort"], cols.year
                # The cluster key breaks the last ties: it is made from the records, not
                # from where an engine stored them, so both engines order alike.
                cl = cols.single["cluster"]
                n = len(ts)
                if sort == "newest":
                    order = sorted(range(n),
                                   key=lambda d: (yr[d] == NO_YEAR, -yr[d], ts[d], cl[d]))
                elif sort == "oldest":
                    order = sorted(range(n),
                                   key=lambda d: (yr[d] == NO_YEAR, yr[d], ts[d], cl[d]))
                elif sort == "shortest":  # tie-break of set-based relevance
                    order = sorted(range(n), key=lambda d: (len(ts[d]), -yr[d], ts[d], cl[d]))
                else:  # title
                    order = sorted(range(n), key=lambda d: (ts[d], -yr[d], cl[d]))
                rank = [0] * n
                for pos, d in enumerate(order):
                    rank[d] = pos
                cols.ranks[sort] = rank
            return cols.ranks[sort]

