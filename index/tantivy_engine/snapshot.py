"""What readers search in a tantivy generation: one committed state, kept fresh per thread.

tantivy's searcher is a snapshot (segments are immutable); a reader checks CURRENT and the
generation's ``meta.json`` (tantivy replaces it atomically at each commit) on every request
and reopens when either changed. A writer killed mid-commit leaves the previous
``meta.json``: the previous commit stays readable.

Docnums: the engine-neutral set algebra (index/docsets.py) works on ints, so each live
document gets ``base of its segment + its segment-local id``, the bases laid end to end in
segment order. Columns come from tantivy's fast fields, in one call per column.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import tantivy

from index import querylang as qlang
from index.discovery import Matches, SearchSnapshot
from index.docsets import COLUMN_FIELDS, Columns, multi_flags
from index.generations import read_current
from index.record import Record
from index.suggestion import suggest as suggest_with
from index.tantivy_engine import query, vocabulary
from index.tantivy_engine.schema import INDEXED, open_dir, stored_record

_OPEN_RETRIES = 20
_TERM_CACHE = 4096
_Stamp = tuple[int, int, int]


def _stamp(gen: Path) -> _Stamp:
    st = os.stat(gen / "meta.json")
    return st.st_ino, st.st_mtime_ns, st.st_size


class Snapshot(SearchSnapshot):
    """One tantivy commit of one generation, and what was cached of it."""

    def __init__(self, gen_dir: str, stamp: _Stamp, ix: tantivy.Index, directory: Path):
        super().__init__()
        self.gen_dir, self.stamp, self.ix, self.directory = gen_dir, stamp, ix, directory
        self.searcher = ix.searcher()
        self.schema = ix.schema
        self.n = self.searcher.num_docs
        # Every live document, in (segment, local id) order.
        hits = self.searcher.search(tantivy.Query.all_query(), limit=max(1, self.n),
                                    count=False).hits if self.n else []
        addrs = sorted((a for _s, a in hits), key=lambda a: (a.segment_ord, a.doc))
        sizes: dict[int, int] = {}
        for a in addrs:
            sizes[a.segment_ord] = max(sizes.get(a.segment_ord, 0), a.doc + 1)
        self._base: dict[int, int] = {}
        total = 0
        for seg in sorted(sizes):
            self._base[seg] = total
            total += sizes[seg]
        self.size = total
        self._addr: list[tantivy.DocAddress | None] = [None] * total
        for a in addrs:
            self._addr[self._base[a.segment_ord] + a.doc] = a
        self._live = frozenset(self._docnum(a) for a in addrs)
        self._columns: Columns | None = None
        self._terms: dict[tuple[str, str], frozenset[int]] = {}

    def _docnum(self, a: tantivy.DocAddress) -> int:
        return self._base[a.segment_ord] + a.doc

    def docnums(self, query: tantivy.Query) -> list[int]:
        """The docnums matching a tantivy query, ascending."""
        if not self.n:
            return []
        hits = self.searcher.search(query, limit=self.n, count=False).hits
        return sorted(self._docnum(a) for _s, a in hits)

    def term_query(self, fieldname: str, text: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, fieldname, text, index_option="basic")

    def live(self) -> frozenset[int]:
        return self._live

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        hit = self._terms.get(key)
        if hit is None:
            hit = frozenset(self.docnums(self.term_query(fieldname, text)))
            if len(self._terms) >= _TERM_CACHE:
                self._terms.pop(next(iter(self._terms)))  # oldest first
            self._terms[key] = hit
        return hit

    def columns(self) -> Columns:
        with self.lock:
            if self._columns is None:
                self._columns = self._build_columns()
            return self._columns

    def _build_columns(self) -> Columns:
        single: dict[str, list[str]] = {}
        everything = tantivy.Query.all_query()
        for name in COLUMN_FIELDS:
            col = [""] * self.size
            if self.n:
                for value, a in self.searcher.search(everything, limit=self.n, count=False,
                                                     order_by_field=name).hits:
                    col[self._docnum(a)] = str(value)
            single[name] = col
        year = [0] * self.size
        live_addrs = [a for a in self._addr if a is not None]
        if live_addrs:
            for a, y in zip(live_addrs,
                            self.searcher.fast_field_values("year", live_addrs), strict=True):
                year[self._docnum(a)] = int(y) if y is not None else 0
        subject: list[list[str]] = [[] for _ in range(self.size)]
        if self.n:
            for value, _count in self.searcher.terms_with_prefix("subject", ""):
                for d in self.term_docs("subject", value):
                    subject[d].append(value)
        multi, multi_set = multi_flags(single["cluster"], self._live)
        return Columns(single, [tuple(s) for s in subject], year, multi, multi_set)

    # -- what discovery search (index/discovery.py) reads besides the set algebra

    def address(self, docnum: int) -> tantivy.DocAddress:
        a = self._addr[docnum]
        if a is None:
            raise KeyError(docnum)
        return a

    def record(self, docnum: int) -> Record:
        return self.record_at(self.address(docnum))

    def record_at(self, a: tantivy.DocAddress) -> Record:
        return stored_record(self.searcher.doc(a))

    def recent_docnums(self, limit: int) -> list[int]:
        """The live docnums with the latest ``indexed`` time, newest first: the top
        ``limit`` by tantivy's fast field, chosen in the engine. An index made before the
        field (its schema lacks it) is listed latest docnum first."""
        if not self.n or limit <= 0:
            return []
        try:
            hits = self.searcher.search(tantivy.Query.all_query(), limit=limit, count=False,
                                        order_by_field=INDEXED, order=tantivy.Order.Desc).hits
        except ValueError:  # no such field in this index's schema
            return sorted(self._live, reverse=True)[:limit]
        stamped = [(int(t) if t is not None else 0, self._docnum(a)) for t, a in hits]
        return [d for _t, d in sorted(stamped, reverse=True)]

    def stored_value(self, docnum: int, fieldname: str) -> str:
        """One stored keyword of a document (``id``, ``cluster``), without its record."""
        value = self.searcher.doc(self.address(docnum)).get_first(fieldname)
        return str(value) if value is not None else ""

    def cluster_docnums(self, cluster: str) -> list[int]:
        return self.docnums(self.term_query("cluster", cluster))

    def matches(self, ast: qlang.Node, filters: dict[str, list[str]] | None,
                year_range: tuple[int | None, int | None] | None,
                features: list[tuple[str, str, int]] | None) -> Matches:
        """Matched and scored by tantivy in one search, facet values counted by a tantivy
        aggregation (index/tantivy_engine/query.py): only the matching documents'
        addresses and scores leave the engine, not every term's postings."""
        if not self.n:
            return Matches(set(), Counter())
        match = query.match_query(self.schema, ast, filters, year_range)
        hits = self.searcher.search(query.scored_query(self.schema, match, features),
                                    limit=self.n, count=False).hits
        base = self._base
        nums = [base[a.segment_ord] + a.doc for _s, a in hits]
        docs = set(nums)
        score: Counter[int] = Counter()
        if features:
            score.update({d: round(s) for d, (s, _a) in zip(nums, hits, strict=True) if s > 0})
        searcher = self.searcher
        return Matches(docs, score, lambda: query.value_counts(searcher, match))

    def doc_frequency(self, fieldname: str, term: str) -> int:
        n: int = self.searcher.doc_freq(fieldname, term)
        return n

    def suggest(self, ast: qlang.Node) -> list[str]:
        return suggest_with(ast, self.doc_frequency,
                            lambda f: vocabulary.tables(self.directory, f))


def open_snapshot(root: Path) -> Snapshot:
    """The live generation's latest commit."""
    last: Exception | None = None
    for attempt in range(_OPEN_RETRIES):
        try:
            name = read_current(root)
            gen = root / name
            stamp = _stamp(gen)
            return Snapshot(name, stamp, open_dir(gen), gen)
        except (OSError, ValueError) as exc:
            # A rebuild may have swapped generations between our reading CURRENT and
            # opening its files: read the new state again.
            last = exc
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"cannot open index at {root}") from last


class Snapshots:
    """Each thread's current snapshot of the index at ``root``, reopened after a commit."""

    def __init__(self, root: Path):
        self.root = root
        self._local = threading.local()

    def current(self) -> Snapshot:
        snap: Snapshot | None = getattr(self._local, "snap", None)
        if snap is not None:
            try:
                fresh = (read_current(self.root) == snap.gen_dir
                         and _stamp(self.root / snap.gen_dir) == snap.stamp)
            except OSError:
                fresh = False
            if fresh:
                return snap
        snap = open_snapshot(self.root)
        self._local.snap = snap
        return snap

    def close(self) -> None:
        self._local.snap = None
