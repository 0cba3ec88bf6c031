"""What readers search in a tantivy generation: one committed state, shared by the
threads of a process and replaced after each commit.

tantivy's searcher is a snapshot (segments are immutable); a reader checks CURRENT and the
generation's ``meta.json`` (tantivy replaces it atomically at each commit) on every request
and reopens when either changed. A writer killed mid-commit leaves the previous
``meta.json``: the previous commit stays readable. Every thread uses the same snapshot, so
what it caches (postings, columns, the table of index/tantivy_engine/copies.py) is made
once per commit, under locks.

Docnums: the engine-neutral set algebra (index/docsets.py) works on ints, so each document
gets ``base of its segment + its segment-local id``, the bases laid end to end in segment
order, from the segment sizes in ``meta.json`` (the searcher's segments are its list, in
its order). Discovery search (:meth:`Snapshot.works`) reads only the documents it shows;
the set algebra's columns and list of every live document are made on first use.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import tantivy

from index import querylang as qlang
from index.discovery import Matches, SearchSnapshot, Works, first_per_cluster, work_facets
from index.docsets import COLUMN_FIELDS, NO_YEAR, Columns, multi_flags
from index.facets import filter_years
from index.features import required_terms
from index.generations import read_current
from index.record import Record
from index.results import FacetValue
from index.suggestion import suggest as suggest_with
from index.tantivy_engine import query, ranking, vocabulary
from index.tantivy_engine.beside import beside
from index.tantivy_engine.copies import Copies
from index.tantivy_engine.schema import COPIES, INDEXED, SHORTEST, open_dir, stored_record

_OPEN_RETRIES = 20
#: Relevance searches read score by score (``ranking.Ordered.by_score``) when their words
#: may match more than this many records, for pages up to this many works, reading the
#: top scores while their features reach at most the larger of this many records and
#: this share of the index.
_BY_SCORE_MATCHES = 2048
_BY_SCORE_WANT = 200
_BY_SCORE_BUDGET = 4096
_BY_SCORE_SHARE = 0.1
_TERM_CACHE = 4096
#: Searches whose counts (matches, works, facets) a snapshot keeps: the next page, another
#: order or the same query again skip counting (at 1M records most of a common word's cost).
_COUNTED = 256
_Stamp = tuple[int, int, int]


def _stamp(gen: Path) -> _Stamp:
    st = os.stat(gen / "meta.json")
    return st.st_ino, st.st_mtime_ns, st.st_size


def _segment_bases(meta: dict[str, Any], searcher: tantivy.Searcher) -> dict[int, int] | None:
    """Each segment's first docnum, from ``meta.json``'s segment list, when it describes
    ``searcher`` (same segments, same live documents); else None."""
    segments = meta.get("segments") or []
    if len(segments) != searcher.num_segments:
        return None
    bases: dict[int, int] = {}
    total = live = 0
    for ordinal, seg in enumerate(segments):
        bases[ordinal] = total
        total += int(seg["max_doc"])
        live += int(seg["max_doc"]) - int((seg.get("deletes") or {}).get("num_deleted_docs", 0))
    return bases if live == searcher.num_docs else None


class _Counted(NamedTuple):
    """What a search counted: its matching records, its works and (when asked) facets."""

    matching: int
    total: int
    facets: dict[str, list[FacetValue]] | None


class Snapshot(SearchSnapshot):
    """One tantivy commit of one generation, and what was cached of it."""

    def __init__(self, gen_dir: str, stamp: _Stamp, ix: tantivy.Index, directory: Path,
                 searcher: tantivy.Searcher | None = None, meta: dict[str, Any] | None = None):
        super().__init__()
        self.gen_dir, self.stamp, self.ix, self.directory = gen_dir, stamp, ix, directory
        self.searcher = searcher if searcher is not None else ix.searcher()
        self.schema = ix.schema
        self.n = self.searcher.num_docs
        bases = _segment_bases(meta, self.searcher) if meta is not None else None
        self._addr: list[tantivy.DocAddress | None] | None = None
        self._live: frozenset[int] | None = None
        if bases is None:  # count the segments' documents instead
            bases = self._enumerate()
        self._base = bases
        self.size = sum(int(s["max_doc"]) for s in (meta or {}).get("segments", ())) \
            if self._addr is None else len(self._addr)
        fields = {f.get("name") for f in (meta or {}).get("schema", ())}
        #: Discovery answered inside tantivy (:meth:`works`) needs the fields made for it.
        self.native = SHORTEST in fields and COPIES in fields
        self._columns: Columns | None = None
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._terms_lock = threading.Lock()
        self._counted_lock = threading.Lock()
        self._copies: Copies | None = None
        self._column_counts: dict[str, Any] | None = None
        self._whole: dict[str, Counter[Any]] | None = None
        self._subject_terms: int | None = None
        self._counted: dict[tuple[Any, ...], _Counted] = {}

    def _enumerate(self) -> dict[int, int]:
        """Every live document's address (one search over the whole index), and the
        segment bases when ``meta.json`` did not give them."""
        hits = self.searcher.search(tantivy.Query.all_query(), limit=max(1, self.n),
                                    count=False).hits if self.n else []
        addrs = sorted((a for _s, a in hits), key=lambda a: (a.segment_ord, a.doc))
        sizes: dict[int, int] = {}
        for a in addrs:
            sizes[a.segment_ord] = max(sizes.get(a.segment_ord, 0), a.doc + 1)
        bases: dict[int, int] = {}
        total = 0
        for seg in sorted(sizes):
            bases[seg] = total
            total += sizes[seg]
        table: list[tantivy.DocAddress | None] = [None] * total
        for a in addrs:
            table[bases[a.segment_ord] + a.doc] = a
        self._addr = table
        self._live = frozenset(bases[a.segment_ord] + a.doc for a in addrs)
        return bases

    def _addresses(self) -> list[tantivy.DocAddress | None]:
        """Every docnum's address (None: deleted), read on first use."""
        with self.lock:
            if self._addr is None:
                hits = self.searcher.search(tantivy.Query.all_query(), limit=max(1, self.n),
                                            count=False).hits if self.n else []
                table: list[tantivy.DocAddress | None] = [None] * self.size
                for _s, a in hits:
                    table[self._base[a.segment_ord] + a.doc] = a
                self._live = frozenset(self._base[a.segment_ord] + a.doc for _s, a in hits)
                self._addr = table
            return self._addr

    def docnum(self, a: tantivy.DocAddress) -> int:
        """The docnum of a document's address."""
        return self._base[a.segment_ord] + a.doc

    def docnums(self, query: tantivy.Query) -> list[int]:
        """The docnums matching a tantivy query, ascending."""
        if not self.n:
            return []
        hits = self.searcher.search(tantivy.Query.const_score_query(query, 0.0), limit=self.n,
                                    count=False).hits
        return sorted(self.docnum(a) for _s, a in hits)

    def term_query(self, fieldname: str, text: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, fieldname, text, index_option="basic")

    def live(self) -> frozenset[int]:
        self._addresses()
        assert self._live is not None
        return self._live

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        hit = self._terms.get(key)
        if hit is None:
            hit = frozenset(self.docnums(self.term_query(fieldname, text)))
            with self._terms_lock:
                if len(self._terms) >= _TERM_CACHE:
                    self._terms.pop(next(iter(self._terms)))  # oldest first
                self._terms[key] = hit
        return hit

    def subject_terms(self) -> list[str]:
        """Every subject term, from the term dictionary (not the columns)."""
        return [t for t, _n in self.searcher.terms_with_prefix("subject", "")] \
            if self.n else []

    def columns(self) -> Columns:
        live = self.live()
        with self.lock:
            if self._columns is None:
                self._columns = self._build_columns(live)
            return self._columns

    def _build_columns(self, live: frozenset[int]) -> Columns:
        single: dict[str, list[str]] = {}
        everything = tantivy.Query.all_query()
        for name in COLUMN_FIELDS:
            col = [""] * self.size
            if self.n:
                for value, a in self.searcher.search(everything, limit=self.n, count=False,
                                                     order_by_field=name).hits:
                    col[self.docnum(a)] = str(value)
            single[name] = col
        year = [0] * self.size
        assert self._addr is not None
        live_addrs = [a for a in self._addr if a is not None]
        if live_addrs:
            for a, y in zip(live_addrs,
                            self.searcher.fast_field_values("year", live_addrs), strict=True):
                year[self.docnum(a)] = int(y) if y is not None else 0
        subject: list[list[str]] = [[] for _ in range(self.size)]
        if self.n:
            for value, _count in self.searcher.terms_with_prefix("subject", ""):
                for d in self.term_docs("subject", value):
                    subject[d].append(value)
        multi, multi_set = multi_flags(single["cluster"], live)
        return Columns(single, [tuple(s) for s in subject], year, multi, multi_set)

    # -- what discovery search (index/discovery.py) reads besides the set algebra

    def address(self, docnum: int) -> tantivy.DocAddress:
        seg = max((s for s, b in self._base.items() if b <= docnum), default=None,
                  key=lambda s: self._base[s])
        if seg is None or docnum < 0 or docnum >= self.size:
            raise KeyError(docnum)
        return tantivy.DocAddress(seg, docnum - self._base[seg])

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
            return sorted(self.live(), reverse=True)[:limit]
        stamped = [(int(t) if t is not None else 0, self.docnum(a)) for t, a in hits]
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
        match = query.match_query(self.schema, ast, filters, year_range,
                                  self.subject_spellings)
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

    def works(self, ast: qlang.Node, filters: dict[str, list[str]] | None,
              year_range: tuple[int | None, int | None] | None,
              features: list[tuple[str, str, int]] | None, sort: str, want: int,
              facets: bool) -> Works | None:
        """The page of works inside tantivy: the matches ranked a few at a time
        (index/tantivy_engine/ranking.py), counted by aggregation, works counted once
        from the marked records alone (index/tantivy_engine/copies.py). None for an index
        made before the fields this needs (searched by set algebra)."""
        if not self.native:
            return None
        match = query.match_query(self.schema, ast, filters, year_range,
                                  self.subject_spellings)
        order = ranking.Ordered(self.searcher, self.schema, match, sort, features,
                                self.docnum, want)
        key = (ast, tuple(sorted((k, tuple(v)) for k, v in (filters or {}).items())),
               None if year_range is None else tuple(year_range))
        known = self._counted.get(key)
        if known is not None and (known.facets is not None or not facets):
            by_score = features is not None and want <= _BY_SCORE_WANT \
                and known.matching > _BY_SCORE_MATCHES
            result = Works(known.total, self._ranked(order, features, want, known.total,
                                                     by_score), read=self._reader(order))
            if facets and known.facets is not None:
                result.facets = {name: list(values) for name, values in known.facets.items()}
            return result
        # Many matches ranked by relevance, counted with the facets: read score by score
        # (ranking.Ordered.by_score), not all scored for a first page that also counts them
        # (without facets, counting them apart costs that much again).
        estimate = self._estimate(ast, filters, year_range) \
            if facets and features is not None and want <= _BY_SCORE_WANT else None
        by_score = estimate is not None and estimate > _BY_SCORE_MATCHES
        copies = self.copies()
        if by_score:
            assert estimate is not None
            return self._counted_beside(key, match, order, features, want, estimate, copies)
        page, first_count = order.first()
        whole: dict[str, Counter[Any]] | None = None
        if facets:
            whole = query.value_counts(self.searcher, match, first_count, self.column_counts,
                                       self.subject_vocabulary())
            if whole is None:  # more values than an aggregation returns
                return None
            matching = sum(whole["year"].values())
        else:
            matching = first_count if first_count is not None \
                else query.count(self.searcher, match)
        # Most of the index matching: the marked records NOT matching are fewer to list.
        outside = len(page) < matching and 2 * matching > self.n and copies.marked > 0
        if len(page) == matching:  # every match is on the first page
            marks = self.searcher.fast_field_values(COPIES, page) if page else []
            addrs = [a for a, m in zip(page, marks, strict=True) if m is not None]
            nums = [int(m) for m in marks if m is not None]
        else:
            addrs, nums = copies.matching(match, outside)
        clusters = copies.clusters()
        per_cluster = clusters.matching(nums, outside)
        total = matching - clusters.surplus(per_cluster)
        result = Works(total, self._ranked(order, features, want, total, False),
                       read=self._reader(order))
        if whole is not None:
            extra = copies.table().repeated(per_cluster, addrs, nums, outside) \
                if nums or outside else {}
            result.facets = work_facets(whole, extra)
        self._keep(key, _Counted(matching, total, result.facets))
        return result

    def _counted_beside(self, key: tuple[Any, ...], match: tantivy.Query,
                        order: ranking.Ordered, features: list[tuple[str, str, int]] | None,
                        want: int, estimate: int, copies: Copies) -> Works:
        """Many matches ranked by relevance, with facets: the facets counted beside
        (index/tantivy_engine/beside.py) while this thread lists the copies among the
        matches (the marked records outside them when the words' frequencies say most of
        the index matches; either way gives the same counts) and reads the first works
        score by score, which need no counts; the caller makes the page's hits before
        :attr:`Works.finish` waits for the counts."""
        counted = beside(functools.partial(query.value_counts, self.searcher, match,
                                           estimate, self.column_counts,
                                           self.subject_vocabulary()))
        outside = 2 * estimate > self.n and copies.marked > 0
        addrs, nums = copies.matching(match, outside)
        clusters = copies.clusters()
        per_cluster = clusters.matching(nums, outside)
        result = Works(0, self._ranked(order, features, want, 1, True),
                       read=self._reader(order))

        def finish() -> bool:
            whole = counted()
            if whole is None:  # more values than an aggregation returns
                return False
            matching = sum(whole["year"].values())
            result.total = matching - clusters.surplus(per_cluster)
            if not result.total:
                result.ranked = []
            extra = copies.table().repeated(per_cluster, addrs, nums, outside) \
                if nums or outside else {}
            result.facets = work_facets(whole, extra)
            self._keep(key, _Counted(matching, result.total, result.facets))
            return True

        result.finish = finish
        return result

    def _keep(self, key: tuple[Any, ...], counted: _Counted) -> None:
        with self._counted_lock:
            while self._counted and len(self._counted) >= _COUNTED:
                self._counted.pop(next(iter(self._counted)))  # oldest first
            if _COUNTED > 0:
                self._counted[key] = counted

    def _ranked(self, order: ranking.Ordered, features: list[tuple[str, str, int]] | None,
                want: int, total: int, by_score: bool) -> list[tuple[int, float, str, bool]]:
        """The first ``want`` works of ``order``: docnum, score, cluster, marked."""
        ranked: list[tuple[int, float, str, bool]] = []
        if total and want > 0:
            scored = features is not None  # sort orders score every work 0
            budget = max(_BY_SCORE_BUDGET, int(self.n * _BY_SCORE_SHARE))
            source = order.by_score(budget) if by_score else iter(order)
            ranked = first_per_cluster(
                ((self.docnum(a), float(lead) if scored else 0.0, order.cluster(a), False)
                 for a, lead in source), want)
            marked = self.searcher.fast_field_values(
                COPIES, [self.address(d) for d, *_ in ranked]) if ranked else []
            ranked = [(d, score, cluster, m is not None)
                      for (d, score, cluster, _), m in zip(ranked, marked, strict=True)]
        return ranked

    def _reader(self, order: ranking.Ordered) -> Callable[[int], Record | None]:
        """The stored record of a docnum when the ranking read its document already."""
        docs = order.ranking.docs

        def read(docnum: int) -> Record | None:
            a = self.address(docnum)
            doc = docs.get((a.segment_ord, a.doc))
            return stored_record(doc) if doc is not None else None

        return read

    def _estimate(self, node: qlang.Node, filters: dict[str, list[str]] | None = None,
                  year_range: tuple[int | None, int | None] | None = None) -> int | None:
        """About how many records a search matches, from document frequencies and the
        whole index's facet counts, without searching (None: not known). It only chooses
        how to count (which records to list, which aggregation): any answer is exact."""
        share = self._share(node)
        if share is None:
            return None
        for name, values in (filters or {}).items():
            if values:
                share *= self._filter_share(name, values)
        if year_range is not None and (year_range[0] is not None or year_range[1] is not None):
            share *= self._years_share(*year_range)
        return round(share * self.n)

    def _share(self, node: qlang.Node) -> float | None:
        """The share of the index matching a parsed query: a word group's rarest term (the
        terms of one group go together), the parts of an AND as if independent."""
        n = self.n
        if not n:
            return None
        if isinstance(node, qlang.Words):
            found = [self.doc_frequency(f, t) for f, t in required_terms(node)]
            return min(found) / n if found else None
        if isinstance(node, qlang.Ident):
            return self.doc_frequency(node.kind, node.value) / n
        if isinstance(node, qlang.YearRange):
            return self._years_share(node.start, node.end)
        if isinstance(node, qlang.MatchAll):
            return 1.0
        if isinstance(node, qlang.And):
            share: float | None = None
            for child in node.children:
                part = self._share(child.child if isinstance(child, qlang.Not) else child)
                if part is not None:
                    part = 1.0 - part if isinstance(child, qlang.Not) else part
                    share = part if share is None else share * part
            return share
        if isinstance(node, qlang.Or):
            parts = [self._share(c) for c in node.children]
            return None if None in parts else min(1.0, sum(p for p in parts if p is not None))
        return None

    def _whole_counts(self) -> dict[str, Counter[Any]]:
        """:meth:`column_counts` as counters (made once; every thread makes the same)."""
        if self._whole is None:
            self._whole = {name: Counter({b["key"]: int(b["doc_count"])
                                          for b in agg.get("buckets", ())})
                           for name, agg in self.column_counts().items()}
        return self._whole

    def _years_share(self, start: int | None, end: int | None) -> float:
        years = self._whole_counts().get("year", Counter())
        inside = sum(c for y, c in years.items() if int(y) != NO_YEAR
                     and (start is None or int(y) >= start) and (end is None or int(y) <= end))
        return inside / self.n if self.n else 0.0

    def _filter_share(self, name: str, values: list[str]) -> float:
        if name == "year":
            return min(1.0, sum(self._years_share(*filter_years(v)) for v in values))
        if name == "subject":
            return min(1.0, sum(self.doc_frequency("subject", t) for v in values
                                for t in self.subject_spellings(v)) / max(1, self.n))
        counts = self._whole_counts().get(name)
        if counts is None:
            return 0.0  # an unknown filter keeps nothing
        return min(1.0, sum(counts.get(v, 0) for v in values) / max(1, self.n))

    def subject_vocabulary(self) -> int:
        """How many subject terms this snapshot holds (read once: the term dictionary)."""
        if self._subject_terms is None:
            self._subject_terms = len(self.subject_terms())
        return self._subject_terms

    def column_counts(self) -> dict[str, Any]:
        """The facet aggregation over every record (index/tantivy_engine/query.py)."""
        with self.lock:
            if self._column_counts is None:
                self._column_counts = query.column_counts(self.searcher)
            return self._column_counts

    def copies(self) -> Copies:
        with self.lock:
            if self._copies is None:
                self._copies = Copies(self.searcher, self.schema)
            return self._copies

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
            meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
            ix = open_dir(gen)
            searcher = ix.searcher()
            if _stamp(gen) != stamp:  # a commit in between: which one the searcher saw?
                raise OSError("index changed while opening")
            return Snapshot(name, stamp, ix, gen, searcher, meta)
        except (OSError, ValueError) as exc:
            # A rebuild may have swapped generations between our reading CURRENT and
            # opening its files: read the new state again.
            last = exc
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"cannot open index at {root}") from last


class Snapshots:
    """The current snapshot of the index at ``root``, one for every thread of the process,
    reopened (once) after a commit."""

    def __init__(self, root: Path):
        self.root = root
        self._snap: Snapshot | None = None
        self._lock = threading.Lock()

    def _fresh(self, snap: Snapshot | None) -> bool:
        if snap is None:
            return False
        try:
            return (read_current(self.root) == snap.gen_dir
                    and _stamp(self.root / snap.gen_dir) == snap.stamp)
        except OSError:
            return False

    def current(self) -> Snapshot:
        snap = self._snap
        if self._fresh(snap):
            assert snap is not None
            return snap
        with self._lock:  # one thread opens it; the others wait and share it
            snap = self._snap
            if not self._fresh(snap):
                snap = self._snap = open_snapshot(self.root)
            assert snap is not None
            return snap

    def close(self) -> None:
        self._snap = None
