"""Queries answered by set algebra over posting sets and per-document columns.

Engine-neutral: an engine supplies the docnums holding one term (:meth:`DocSets.term_docs`),
the docnums not deleted (:meth:`DocSets.live`) and the per-docnum values of a snapshot
(:class:`Columns`); everything above that — a parsed query's matches, facet filters, year
ranges, the whole-index sort orders — is computed here the same way for every engine, so
the engines match exactly the same records (tests/index runs against each).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TypeVar

from index import querylang as qlang
from index.features import required_terms

#: The year column's value for a record without a year (sorts after every real year).
NO_YEAR = -(2**31)
#: Single-valued facet/sort columns every engine keeps per document.
COLUMN_FIELDS = ("institution", "type", "language", "access", "cluster", "title_sort")

DocSet = set[int] | frozenset[int]
_V = TypeVar("_V", str, int)


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
    """Set algebra over one snapshot. Subclasses provide :meth:`term_docs`, :meth:`live`
    and :meth:`columns`, and call ``DocSets.__init__``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._values: dict[str, dict[str, frozenset[int]]] = {}
        self._years: dict[int, frozenset[int]] | None = None

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        raise NotImplementedError

    def live(self) -> frozenset[int]:
        """Docnums not deleted."""
        raise NotImplementedError

    def columns(self) -> Columns:
        raise NotImplementedError

    def value_docs(self, name: str, value: str) -> frozenset[int]:
        """Docs whose facet ``name`` equals ``value``."""
        if name == "subject":
            return self.term_docs("subject", value)
        table = self._values.get(name)
        if table is None:
            table = self._values[name] = group(self.columns().single[name], self.live())
        return table.get(value, frozenset())

    def year_docs(self, start: int | None, end: int | None) -> set[int]:
        """Docs with a year from ``start`` to ``end`` (None: open-ended)."""
        if self._years is None:
            self._years = group(self.columns().year, self.live())
        out: set[int] = set()
        for y, ds in self._years.items():
            if y != NO_YEAR and (start is None or y >= start) and (end is None or y <= end):
                out |= ds
        return out

    def docs(self, node: qlang.Node) -> DocSet:
        """Matching docnums of a parsed query, by set algebra over cached postings."""
        if isinstance(node, qlang.Words):
            sets = sorted((self.term_docs(f, t) for f, t in required_terms(node)), key=len)
            if not sets:
                return set()
            return sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]
        if isinstance(node, qlang.Ident):
            return self.term_docs(node.kind, node.value)
        if isinstance(node, qlang.YearRange):
            return self.year_docs(node.start, node.end)
        if isinstance(node, qlang.MatchAll):
            return self.live()
        if isinstance(node, qlang.And):
            pos = [self.docs(c) for c in node.children if not isinstance(c, qlang.Not)]
            neg = [self.docs(c.child) for c in node.children if isinstance(c, qlang.Not)]
            base = set(self.live()) if not pos else set(min(pos, key=len))
            for p in pos:
                base &= p
            for n in neg:
                base -= n
            return base
        if isinstance(node, qlang.Or):
            out: set[int] = set()
            for c in node.children:
                out |= self.docs(c)
            return out
        if isinstance(node, qlang.Not):
            return set(self.live()) - self.docs(node.child)
        return set()

    def rank(self, sort: str) -> list[int]:
        """Position of each docnum in the whole-index order ``sort`` (computed once)."""
        cols = self.columns()
        with self.lock:
            if sort not in cols.ranks:
                ts, yr = cols.single["title_sort"], cols.year
                n = len(ts)
                if sort == "newest":
                    order = sorted(range(n), key=lambda d: (yr[d] == NO_YEAR, -yr[d], ts[d]))
                elif sort == "oldest":
                    order = sorted(range(n), key=lambda d: (yr[d] == NO_YEAR, yr[d], ts[d]))
                elif sort == "shortest":  # tie-break of set-based relevance
                    order = sorted(range(n), key=lambda d: (len(ts[d]), -yr[d], ts[d]))
                else:  # title
                    order = sorted(range(n), key=lambda d: (ts[d], -yr[d]))
                rank = [0] * n
                for pos, d in enumerate(order):
                    rank[d] = pos
                cols.ranks[sort] = rank
            return cols.ranks[sort]


def group(column: list[_V], live: frozenset[int] | None = None) -> dict[_V, frozenset[int]]:
    """The (live) docnums holding each value of a column."""
    groups: dict[_V, list[int]] = {}
    for d, v in enumerate(column):
        if live is None or d in live:
            groups.setdefault(v, []).append(d)
    return {v: frozenset(ds) for v, ds in groups.items()}
