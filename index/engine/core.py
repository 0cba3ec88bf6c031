"""The Whoosh engine behind the ``index`` API (private: nothing outside ``index`` imports it).

Layout of an index directory::

    <path>/CURRENT        name of the live generation directory (replaced atomically)
    <path>/writer.lock    flock held by the one writer (and by rebuild for its whole run)
    <path>/g-<ns>/        a Whoosh index, and beside each segment its spelling tables
                          (``<segment>.sugg_<field>``, index/suggest.py), written at commit

Readers are thread-local Whoosh searchers; each request checks CURRENT + the Whoosh TOC
generation (a file read and a listdir) and reopens when either changed, so the web layer
sees every commit. Whoosh writes a commit's segments first and its TOC last (rename), so
a writer killed mid-commit leaves the previous TOC — the previous commit — readable.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex
from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.searching import Searcher

from index import querylang as qlang
from index.api import SORTS, FacetValue, Hit, IndexLocked, SearchResult
from index.dedup import key_term, match_keys, normalised_title, resolve_clusters
from index.engine import fastwrite
from index.engine.schema import FACET_FIELDS, build_schema, nfc_record, to_document, unpack_record
from index.engine.whoosh_query import (
    is_match_all,
    query_terms,
    ranking_features,
    required_terms,
    to_whoosh,
    word_groups,
)
from index.highlight import highlight, snippet
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn, normalise_issn
from index.record import Record
from index.suggest import suggest as suggest_spelling
from index.suggest import write_tables

log = logging.getLogger("lienhop.index")

_CURRENT = "CURRENT"
_LOCK = "writer.lock"
_OPEN_RETRIES = 20
_FACET_LIMIT = 30
_TERM_CACHE = 4096
_MAX_DEPTH = 10_000  # results a search may page through
# Year facet buckets: (label, first year, last year).
YEAR_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("2020-", 2020, None), ("2010-2019", 2010, 2019), ("2000-2009", 2000, 2009),
    ("1990-1999", 1990, 1999), ("-1989", None, 1989),
)
_NO_YEAR = -(2**31)
_NO_YEARS = (1, 0)  # an empty range


# ---------------------------------------------------------------------------- locking


@contextlib.contextmanager
def _flock(path: Path, timeout: float) -> Iterator[None]:
    """Exclusive advisory lock, waiting up to ``timeout`` seconds. The kernel drops it
    when the holder dies, so a killed writer never leaves the index locked."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"index writer lock busy: {path}") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _write_current(root: Path, name: str) -> None:
    tmp = root / f".{_CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(name)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / _CURRENT)
    dfd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _read_current(root: Path) -> str:
    return (root / _CURRENT).read_text(encoding="ascii").strip()


def _new_generation_dir(root: Path) -> Path:
    gen = root / f"g-{time.time_ns()}"
    gen.mkdir()
    windex.create_in(str(gen), build_schema())
    return gen


# ---------------------------------------------------------------------------- reading


@dataclass
class _Columns:
    """Per-docnum values of one snapshot, for facet counts, sorting and collapsing."""

    single: dict[str, list[str]]
    subject: list[tuple[str, ...]]
    year: list[int]
    multi: bytearray  # 1 when the doc's cluster has other members
    multi_set: frozenset[int] = frozenset()
    ranks: dict[str, list[int]] = field(default_factory=dict)


_SEG_CACHE: dict[str, dict] = {}
_SEG_LOCK = threading.Lock()


def _segment_columns(reader) -> dict:
    """Column values of one immutable segment (cached by segment id across snapshots)."""
    n = reader.doc_count_all()
    cols: dict = {}
    for name in ("institution", "type", "language", "access", "cluster", "title_sort"):
        cols[name] = list(reader.column_reader(name)) if reader.has_column(name) else [""] * n
    years = list(reader.column_reader("year")) if reader.has_column("year") else [0] * n
    has_year = bytearray(n)
    if ("has_year", "y") in reader:
        for d in reader.postings("has_year", "y").all_ids():
            has_year[d] = 1
    cols["year"] = [y if has_year[i] else _NO_YEAR for i, y in enumerate(years)]
    subjects: list[list[str]] = [[] for _ in range(n)]
    if "subject" in reader.indexed_field_names():
        for term in reader.lexicon("subject"):
            value = term.decode("utf-8") if isinstance(term, bytes) else term
            for d in reader.postings("subject", value).all_ids():
                subjects[d].append(value)
    cols["subject"] = [tuple(s) for s in subjects]
    return cols


def _build_columns(searcher: Searcher) -> _Columns:
    single: dict[str, list] = {k: [] for k in ("institution", "type", "language", "access",
                                                "cluster", "title_sort")}
    subject: list[tuple[str, ...]] = []
    year: list[int] = []
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        seg = reader.segment() if hasattr(reader, "segment") else None
        seg_id = seg.segment_id() if seg is not None else None
        with _SEG_LOCK:
            cols = _SEG_CACHE.get(seg_id) if seg_id else None
        if cols is None:
            cols = _segment_columns(reader)
            if seg_id:
                with _SEG_LOCK:
                    if len(_SEG_CACHE) > 512:  # merged-away segments: start afresh
                        _SEG_CACHE.clear()
                    _SEG_CACHE[seg_id] = cols
        for k in single:
            single[k].extend(cols[k])
        subject.extend(cols["subject"])
        year.extend(cols["year"])
    sizes = Counter(c for i, c in enumerate(single["cluster"])
                    if not searcher.reader().is_deleted(i))
    multi = bytearray(1 if sizes[c] > 1 else 0 for c in single["cluster"])
    return _Columns(single, subject, year, multi,
                    frozenset(d for d, m in enumerate(multi) if m))


def _posting_ids(reader, fieldname: str, text: str) -> list[int]:
    """Docnums of one term in one segment, read a block at a time (deletions included:
    callers intersect with the live set). Whoosh's per-posting iterator costs ~1 µs a
    posting in Python; whole blocks are ~20x cheaper."""
    if (fieldname, text) not in reader:
        return []
    m = reader.postings(fieldname, text)
    if isinstance(m, FilterMatcher):
        m = m.child
    if not all(hasattr(m, a) for a in ("_read_ids", "_next_block", "_ids", "_i")):
        return list(m.all_ids())  # another codec or an inlined list: the slow, public way
    out: list[int] = []
    while m.is_active():
        if m._ids is None:
            m._read_ids()
        out.extend(m._ids[m._i:])
        m._next_block()
    return out


@dataclass
class _Snapshot:
    gen_dir: str
    generation: int
    ix: windex.Index
    searcher: Searcher
    lock: threading.Lock = field(default_factory=threading.Lock)
    _columns: _Columns | None = None
    _live: frozenset[int] | None = None
    _terms: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    _values: dict[str, dict] = field(default_factory=dict)

    def live(self) -> frozenset[int]:
        if self._live is None:
            r = self.searcher.reader()
            n = r.doc_count_all()
            self._live = frozenset(d for d in range(n) if not r.is_deleted(d)) \
                if r.has_deletions() else frozenset(range(n))
        return self._live

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        hit = self._terms.get(key)
        if hit is None:
            ids: list[int] = []
            for sub, offset in self.searcher.leaf_searchers():
                ids.extend(d + offset for d in _posting_ids(sub.reader(), fieldname, text))
            hit = frozenset(ids)
            if len(self._terms) >= _TERM_CACHE:
                self._terms.pop(next(iter(self._terms)))  # oldest first
            self._terms[key] = hit
        return hit

    def value_docs(self, name: str, value: str) -> frozenset[int]:
        """Docs whose facet ``name`` (or year, as int) equals ``value``."""
        if name == "subject":
            return self.term_docs("subject", value)
        table = self._values.get(name)
        if table is None:
            cols = self.columns()
            col = cols.year if name == "year" else cols.single[name]
            groups: dict = {}
            for d, v in enumerate(col):
                groups.setdefault(v, []).append(d)
            table = {v: frozenset(ds) for v, ds in groups.items()}
            self._values[name] = table
        return table.get(value, frozenset())

    def year_docs(self, start: int | None, end: int | None) -> set[int]:
        self.value_docs("year", 0)
        out: set[int] = set()
        for y, ds in self._values["year"].items():
            if y != _NO_YEAR and (start is None or y >= start) and (end is None or y <= end):
                out |= ds
        return out

    def docs(self, node: qlang.Node) -> set[int] | frozenset[int]:
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

    def columns(self) -> _Columns:
        with self.lock:
            if self._columns is None:
                self._columns = _build_columns(self.searcher)
            return self._columns

    def rank(self, sort: str) -> list[int]:
        """Position of each docnum in the whole-index order ``sort`` (computed once)."""
        cols = self.columns()
        with self.lock:
            if sort not in cols.ranks:
                ts, yr = cols.single["title_sort"], cols.year
                n = len(ts)
                if sort == "newest":
                    order = sorted(range(n), key=lambda d: (yr[d] == _NO_YEAR, -yr[d], ts[d]))
                elif sort == "oldest":
                    order = sorted(range(n), key=lambda d: (yr[d] == _NO_YEAR, yr[d], ts[d]))
                elif sort == "shortest":  # tie-break of set-based relevance
                    order = sorted(range(n), key=lambda d: (len(ts[d]), -yr[d], ts[d]))
                else:  # title
                    order = sorted(range(n), key=lambda d: (ts[d], -yr[d]))
                rank = [0] * n
                for pos, d in enumerate(order):
                    rank[d] = pos
                cols.ranks[sort] = rank
            return cols.ranks[sort]


# ---------------------------------------------------------------------------- writing


class _Writer:
    """Buffers upserts and deletes; at commit resolves clusters and writes them to Whoosh.

    Buffering (instead of writing each add at once) is needed because Whoosh cannot update
    a document added earlier in the same writer session, and a later record may merge an
    earlier one's cluster.
    """

    def __init__(self, whoosh_writer):
        self._w = whoosh_writer
        self._base: Searcher = whoosh_writer.searcher()
        self._pending: dict[str, Record] = {}
        self._deleted: set[str] = set()

    def add(self, records: Iterable[Record]) -> int:
        n = 0
        for rec in records:
            rec = nfc_record(rec)
            self._pending[rec.id] = rec
            self._deleted.discard(rec.id)
            n += 1
        return n

    def delete(self, ids: Iterable[str]) -> int:
        """Delete by record id; returns how many of the ids existed."""
        n = 0
        for rid in ids:
            existed = rid in self._pending or (
                rid not in self._deleted and self._base.document_number(id=rid) is not None)
            self._pending.pop(rid, None)
            if existed:
                self._deleted.add(rid)
                n += 1
        return n

    # -- cluster resolution

    def _base_doc(self, docnum: int) -> dict:
        return self._base.stored_fields(docnum)

    def _resolve(self) -> tuple[dict[str, str], dict[str, dict]]:
        """New cluster key of every record whose cluster may change → (clusters, base docs)."""
        removed = self._deleted | set(self._pending)
        members: dict[str, list[str]] = {}
        base_docs: dict[str, dict] = {}
        pending_keys = {rid: match_keys(r) for rid, r in self._pending.items()}
        by_key: dict[str, list[str]] = {}
        for rid, keys in pending_keys.items():
            for k in keys:
                by_key.setdefault(k, []).append(rid)
        frontier: list[str] = []
        members.update(pending_keys)
        for keys in pending_keys.values():
            frontier.extend(keys)
        # Cluster mates of replaced or deleted records may have to split or be re-keyed.
        old_clusters = set()
        for rid in removed:
            dn = self._base.document_number(id=rid)
            if dn is not None:
                old_clusters.add(self._base_doc(dn)["cluster"])

        def visit_base(docnum: int) -> None:
            stored = self._base_doc(docnum)
            rid = stored["id"]
            if rid in removed or rid in members:
                return
            # Keys from the stored record, not the stored mkey: indexes written before
            # key_term hold space-split fragments there, which would chain unrelated
            # records into one cluster.
            keys = match_keys(unpack_record(stored["rec"]))
            members[rid] = keys
            base_docs[rid] = stored
            frontier.extend(keys)

        for c in old_clusters:
            for dn in self._base.document_numbers(cluster=c):
                visit_base(dn)
        seen: set[str] = set()
        while frontier:
            k = frontier.pop()
            if k in seen:
                continue
            seen.add(k)
            for dn in self._base.document_numbers(mkey=key_term(k)):
                visit_base(dn)
        return resolve_clusters(members), base_docs

    def commit(self, *, merge: bool = True) -> None:
        clusters, base_docs = self._resolve()
        w = self._w
        # Delete through our one snapshot searcher: Whoosh's update_document and
        # delete_by_term open a new searcher over every segment per call (measured: minutes
        # per 10k records once the index has a few segments).
        for rid in self._deleted | set(self._pending):
            dn = self._base.document_number(id=rid)
            if dn is not None:
                w.delete_document(dn)
        for rid, rec in self._pending.items():
            w.add_document(**to_document(rec, clusters[rid]))
        for rid, stored in base_docs.items():
            if clusters[rid] != stored["cluster"]:
                w.delete_document(self._base.document_number(id=rid))
                w.add_document(**to_document(unpack_record(stored["rec"]), clusters[rid]))
        self._base.close()
        if merge:
            w.commit(mergetype=fastwrite.tiered_merge)
        else:
            w.commit(merge=False)

    def cancel(self) -> None:
        self._base.close()
        self._w.cancel()


# ---------------------------------------------------------------------------- the index


class WhooshIndex:
    """See :class:`index.api.SearchIndex` for the contract."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if not (self.path / _CURRENT).exists():
            if readonly:
                raise FileNotFoundError(f"no index at {self.path}")
            self.path.mkdir(parents=True, exist_ok=True)
            with _flock(self.path / _LOCK, 30.0):
                if not (self.path / _CURRENT).exists():
                    gen = _new_generation_dir(self.path)
                    _write_current(self.path, gen.name)
        self._local = threading.local()

    # -- snapshots

    def _open_snapshot(self) -> _Snapshot:
        last: Exception | None = None
        for attempt in range(_OPEN_RETRIES):
            try:
                name = _read_current(self.path)
                ix = windex.open_dir(str(self.path / name), readonly=True)
                searcher = ix.searcher()
                return _Snapshot(name, ix.latest_generation(), ix, searcher)
            except (OSError, windex.EmptyIndexError, EOFError) as exc:
                # A writer may have swapped generations or merged segments away between
                # our reading the TOC and opening its files: read the new state again.
                last = exc
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"cannot open index at {self.path}") from last

    def _snapshot(self) -> _Snapshot:
        snap: _Snapshot | None = getattr(self._local, "snap", None)
        if snap is not None:
            try:
                fresh = (_read_current(self.path) == snap.gen_dir
                         and snap.ix.latest_generation() == snap.generation)
            except OSError:
                fresh = False
            if fresh:
                return snap
            snap.searcher.close()
        snap = self._open_snapshot()
        self._local.snap = snap
        return snap

    def close(self) -> None:
        snap = getattr(self._local, "snap", None)
        if snap is not None:
            snap.searcher.close()
            self._local.snap = None

    # -- writing

    @contextlib.contextmanager
    def writer(self, timeout: float = 30.0) -> Iterator[_Writer]:
        if self.readonly:
            raise PermissionError("index opened read-only")
        with _flock(self.path / _LOCK, timeout):
            gen_dir = self.path / _read_current(self.path)
            ix = windex.open_dir(str(gen_dir))
            try:
                ww = fastwrite.writer(ix, timeout=timeout, delay=0.05, limitmb=256)
            except windex.LockError as exc:  # pragma: no cover - our flock comes first
                raise IndexLocked(str(exc)) from exc
            w = _Writer(ww)
            try:
                yield w
            except BaseException:
                w.cancel()
                raise
            w.commit()
            _write_suggestion_tables(gen_dir, ix)

    # -- reading

    def count(self) -> int:
        return self._snapshot().searcher.doc_count()

    def get(self, record_id: str) -> Record | None:
        s = self._snapshot().searcher
        stored = s.document(id=record_id)
        return unpack_record(stored["rec"]) if stored else None

    def cluster(self, cluster_key: str) -> list[Record]:
        s = self._snapshot().searcher
        return [unpack_record(s.stored_fields(d)["rec"])
                for d in s.document_numbers(cluster=cluster_key)]

    def _records(self, s: Searcher, q: wq.Query, limit: int | None = None) -> list[Record]:
        return [unpack_record(s.stored_fields(d)["rec"]) for d in sorted(set(s.docs_for_query(q)))][
            :limit]

    def lookup(self, *, doi: str | None = None, isbn: str | None = None,
               issn: str | None = None, handle: str | None = None, title: str | None = None,
               year: int | None = None, author: str | None = None,
               limit: int = 10) -> list[Record]:
        """Known-item lookup for the resolver: identifiers first, then title (+year, author)."""
        s = self._snapshot().searcher
        idq: list[wq.Query] = []
        if doi and (n := normalise_doi(doi)):
            idq.append(wq.Term("doi", n))
        if isbn and (n := normalise_isbn(isbn)):
            idq.append(wq.Term("isbn", n))
        if handle and (n := normalise_handle(handle)):
            idq.append(wq.Term("handle", n))
        if idq:
            found = self._records(s, wq.Or(idq), limit)
            if found or not title:
                return found
        issn_q = wq.Term("issn", normalise_issn(issn) or issn.strip().upper()) if issn else None
        if not title:
            return self._records(s, issn_q, limit) if issn_q is not None else []
        scored = to_whoosh(qlang.Words(title, field="title"))
        parts = [scored]
        if year is not None:
            parts.append(wq.NumericRange("year", year, year))
        if issn_q is not None:
            parts.append(issn_q)
        if author:
            parts = [wq.AndMaybe(wq.And(parts) if len(parts) > 1 else parts[0],
                                 to_whoosh(qlang.Words(author, field="author")))]
        final = wq.And(parts) if len(parts) > 1 else parts[0]
        res = s.search(final, limit=max(limit * 3, 10))
        recs = [unpack_record(h["rec"]) for h in res]
        want = normalised_title(title)
        # Exact normalised-title matches first; the engine's order otherwise.
        recs.sort(key=lambda r: normalised_title(r.title) != want)
        return recs[:limit]

    def suggest(self, q: str) -> list[str]:
        """Spelling alternatives built from the index's own vocabulary."""
        snap = self._snapshot()
        return suggest_spelling(snap.searcher, qlang.parse(q), self.path / snap.gen_dir)

    def search(self, q: str, *, filters: dict[str, list[str]] | None = None,
               year_range: tuple[int | None, int | None] | None = None,
               sort: str = "relevance", page: int = 1, size: int = 20,
               facets: bool = True) -> SearchResult:
        snap = self._snapshot()
        s = snap.searcher
        sort = sort if sort in SORTS else "relevance"
        page, size = max(1, int(page)), max(1, min(int(size), 200))
        # Ranking costs grow with page * size: past the first _MAX_DEPTH results a reader
        # refines the search; the page stays the last one that can be reached.
        page = min(page, max(1, _MAX_DEPTH // size))
        ast = qlang.parse(q)
        if sort == "relevance" and is_match_all(ast):
            sort = "newest"  # nothing to rank by: browsing lists the newest first
        text_docs = snap.docs(ast)
        docs = _filtered_docs(snap, text_docs, filters, year_range)
        cols = snap.columns()
        multi = cols.multi
        cl = cols.single["cluster"]
        multi_docs = list(docs.intersection(cols.multi_set))
        total = len(docs) - len(multi_docs) + len({cl[d] for d in multi_docs})

        want = page * size
        ranked: list[tuple[int, float]] = []  # (docnum, score) of cluster representatives
        if docs:
            if sort == "relevance":
                ranked = _top_features(snap, ast, docs, cl, want)
            else:
                ranked = _top_sorted(snap.rank(sort), docs, cl, want)
        terms = query_terms(ast)
        hits = [_make_hit(s, d, score, cl[d], bool(multi[d]), terms)
                for d, score in ranked[(page - 1) * size: want]]
        result = SearchResult(query=q, total=total, page=page, size=size, hits=hits, sort=sort)
        if facets:
            result.facets = _facet_counts(cols, docs, multi_docs)
        if total == 0 or (total < 3 and word_groups(ast)):
            result.suggestions = suggest_spelling(s, ast, self.path / snap.gen_dir)
        return result


# ---------------------------------------------------------------------------- search parts


def _filtered_docs(snap: _Snapshot, text_docs: set[int] | frozenset[int],
                   filters: dict[str, list[str]] | None,
                   year_range: tuple[int | None, int | None] | None) -> set[int]:
    docs = set(text_docs)
    for name, values in (filters or {}).items():
        if not values:
            continue
        allowed: set[int] = set()
        for v in values:
            if name == "year":
                allowed |= snap.year_docs(*_bucket(v))
            elif name in FACET_FIELDS:
                allowed |= snap.value_docs(name, v)
        docs &= allowed
    if year_range and (year_range[0] is not None or year_range[1] is not None):
        docs &= snap.year_docs(year_range[0], year_range[1])
    return docs & snap.live()


def _bucket(value: str) -> tuple[int | None, int | None]:
    """The years of a ``year`` filter value; a value that names no years matches none."""
    for label, lo, hi in YEAR_BUCKETS:
        if value == label:
            return lo, hi
    years = qlang.year_range(value)
    if years is None:
        return _NO_YEARS
    return years


def _top_features(snap: _Snapshot, ast: qlang.Node, docs: set[int], cl: list[str],
                  want: int) -> list[tuple[int, float]]:
    """Coordination-level relevance: the weighted count of signals a document holds
    (adjacent syllables, title matches, exact accents); among equals the shorter title
    (more of it matched), then the newest.

    Not Whoosh's BM25F: its matchers score every posting of every optional clause in Python
    (measured ~80 ms for 300 hits with the ~10 clauses a 3-syllable query has, seconds for a
    common syllable at 100k records); these are C-level set intersections over cached
    posting sets."""
    score: Counter[int] = Counter()
    for fieldname, term, weight in ranking_features(ast):
        hit = docs.intersection(snap.term_docs(fieldname, term))
        for _ in range(weight):
            score.update(hit)
    levels: dict[int, list[int]] = {}
    for d, sc in score.items():
        levels.setdefault(sc, []).append(d)
    rest = docs.difference(score) if len(score) < len(docs) else ()
    rank = snap.rank("shortest")
    out: list[tuple[int, float]] = []
    seen: set[str] = set()
    for sc in sorted(levels, reverse=True) + [0]:
        band = levels.get(sc, rest if sc == 0 else [])
        need = want - len(out)
        cand = heapq.nsmallest(need * 4 + 20, band, key=rank.__getitem__) \
            if len(band) > need * 4 + 20 else sorted(band, key=rank.__getitem__)
        for d in cand:
            if cl[d] not in seen:
                seen.add(cl[d])
                out.append((d, float(sc)))
                if len(out) >= want:
                    return out
        if len(cand) < len(band):  # the band had more clusters than we looked at
            for d in sorted(band, key=rank.__getitem__)[len(cand):]:
                if cl[d] not in seen:
                    seen.add(cl[d])
                    out.append((d, float(sc)))
                    if len(out) >= want:
                        return out
    return out


def _top_sorted(rank: list[int], docs: set[int], cl: list[str],
                want: int) -> list[tuple[int, float]]:
    k = max(want * 2, 20)
    while True:
        cand = heapq.nsmallest(k, docs, key=rank.__getitem__)
        out: list[tuple[int, float]] = []
        seen: set[str] = set()
        for d in cand:
            if cl[d] not in seen:
                seen.add(cl[d])
                out.append((d, 0.0))
                if len(out) >= want:
                    return out
        if k >= len(docs):
            return out
        k *= 4


def _facet_counts(cols: _Columns, docs: set[int], multi_docs: list[int]
                  ) -> dict[str, list[FacetValue]]:
    """Counts of works (clusters): a cluster held by three members counts once per value."""
    cl = cols.single["cluster"]
    singles = docs.difference(multi_docs) if multi_docs else docs
    out: dict[str, list[FacetValue]] = {}
    for name in ("institution", "type", "language", "access"):
        col = cols.single[name]
        counts = Counter(map(col.__getitem__, singles))
        counts.update(v for _, v in {(cl[d], col[d]) for d in multi_docs})
        counts.pop("", None)
        out[name] = [FacetValue(v, n) for v, n in _top(counts)]
    subj = cols.subject
    counts = Counter(v for d in singles for v in subj[d])
    counts.update(v for _, v in {(cl[d], v) for d in multi_docs for v in subj[d]})
    out["subject"] = [FacetValue(v, n) for v, n in _top(counts)]
    yr = cols.year
    year_counts = Counter(map(yr.__getitem__, singles))
    year_counts.update(y for _, y in {(cl[d], yr[d]) for d in multi_docs})
    buckets = []
    for label, lo, hi in YEAR_BUCKETS:
        n = sum(c for y, c in year_counts.items() if y != _NO_YEAR
                and (lo is None or y >= lo) and (hi is None or y <= hi))
        if n:
            buckets.append(FacetValue(label, n))
    out["year"] = buckets
    return out


def _top(counts: Counter) -> list[tuple[str, int]]:
    # Count descending, then value: equal counts list in a fixed order.
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:_FACET_LIMIT]


def _make_hit(s: Searcher, docnum: int, score: float, cluster: str, multi: bool,
              terms: set[str]) -> Hit:
    rec = unpack_record(s.stored_fields(docnum)["rec"])
    institutions = [rec.institution] if rec.institution else []
    member_ids = [rec.id]
    if multi:
        for dn in sorted(s.document_numbers(cluster=cluster)):
            if dn == docnum:
                continue
            other = unpack_record(s.stored_fields(dn)["rec"])
            member_ids.append(other.id)
            if other.institution and other.institution not in institutions:
                institutions.append(other.institution)
    return Hit(record=rec, score=float(score), title_html=highlight(rec.title, terms),
               snippet_html=snippet(rec.abstract, terms) if rec.abstract else "",
               cluster_key=cluster, institutions=institutions, member_ids=member_ids)


def _write_suggestion_tables(gen_dir: Path, ix: windex.Index) -> None:
    """The spelling tables of the segments a commit made, written while the writer still
    holds the lock, so no reader process has to build them. Only a cache: a failure is
    logged and readers build what is missing themselves."""
    try:
        with ix.reader() as reader:
            write_tables(gen_dir, reader)
    except Exception:  # noqa: BLE001 - the commit is done; a cache must not undo it
        log.warning("event=suggest_tables_failed dir=%s", gen_dir, exc_info=True)


# ---------------------------------------------------------------------------- rebuild


def rebuild_whoosh(path: Path, records: Iterable[Record], *, batch: int = 10000,
                   procs: int | None = None) -> None:
    """Build a new generation directory from ``records`` and switch CURRENT to it.

    Holds the writer lock for the whole run, so a harvester waits instead of writing into
    the generation about to be replaced. Readers keep their open snapshot and pick up the
    new generation on their next request.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    # One process by default: the lean single-process writer (index.engine.fastwrite) did more
    # records per CPU second than Whoosh's 2-process writer (measured 179 vs 142 at 10k on
    # a loaded 2-core box), and the harvester and web layer need the other core anyway.
    procs = procs or 1
    # procs > 1 needs multisegment=True (whoosh #35: IndexError otherwise); each process
    # then writes its own segment, which set-based search handles as well as one.
    # A 10,000-record batch is ~4M postings: 1 GB keeps the pool in memory, where 256 MB
    # spilled it to pickled runs and a Python merge sort.
    opts = {"procs": procs, "multisegment": True, "limitmb": 128} if procs > 1 \
        else {"limitmb": 1024}
    with _flock(path / _LOCK, 3600.0):
        gen = _new_generation_dir(path)
        try:
            ix = windex.open_dir(str(gen))
            buf: list[Record] = []

            def flush() -> None:
                w = _Writer(fastwrite.writer(ix, **opts))
                w.add(buf)
                # No merging while building: Whoosh re-reads and rewrites every posting to
                # merge (measured ~40 % of build time), and set-based search over a few
                # large segments costs about the same as over one.
                w.commit(merge=False)
                _write_suggestion_tables(gen, ix)
                buf.clear()

            for rec in records:
                buf.append(rec)
                if len(buf) >= batch:
                    flush()
            if buf:
                flush()
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        old = _read_current(path) if (path / _CURRENT).exists() else None
        _write_current(path, gen.name)
        if old and old != gen.name:
            # Open readers keep their files (POSIX); new readers follow CURRENT.
            shutil.rmtree(path / old, ignore_errors=True)
