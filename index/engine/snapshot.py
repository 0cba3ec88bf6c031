"""What readers search: one committed state of the index, and keeping it fresh.

Readers are thread-local Whoosh searchers; each request checks CURRENT + the Whoosh TOC
generation (a file read and a listdir) and reopens when either changed, so the web layer
sees every commit. Whoosh writes a commit's segments first and its TOC last (rename), so a
writer killed mid-commit leaves the previous TOC — the previous commit — readable.

Queries are answered by set algebra over posting sets cached per snapshot (see
:meth:`Snapshot.docs`), not by Whoosh's matchers: those score every posting in Python.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from whoosh import index as windex
from whoosh.matching.wrappers import FilterMatcher

from index import querylang as qlang
from index.engine.columns import NO_YEAR, Columns, build_columns
from index.engine.storage import read_current
from index.engine.whoosh_query import required_terms
from index.engine.whoosh_types import Reader, Searcher, WhooshDir

_OPEN_RETRIES = 20
_TERM_CACHE = 4096
DocSet = set[int] | frozenset[int]
_V = TypeVar("_V", str, int)


def posting_ids(reader: Reader, fieldname: str, text: str) -> list[int]:
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
class Snapshot:
    """One generation directory at one Whoosh TOC generation, and what was cached of it."""

    gen_dir: str
    generation: int
    ix: WhooshDir
    searcher: Searcher
    lock: threading.Lock = field(default_factory=threading.Lock)
    _columns: Columns | None = None
    _live: frozenset[int] | None = None
    _terms: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    _values: dict[str, dict[str, frozenset[int]]] = field(default_factory=dict)
    _years: dict[int, frozenset[int]] | None = None

    def live(self) -> frozenset[int]:
        """Docnums not deleted."""
        if self._live is None:
            r = self.searcher.reader()
            n: int = r.doc_count_all()
            self._live = frozenset(d for d in range(n) if not r.is_deleted(d)) \
                if r.has_deletions() else frozenset(range(n))
        return self._live

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        hit = self._terms.get(key)
        if hit is None:
            ids: list[int] = []
            for sub, offset in self.searcher.leaf_searchers():
                ids.extend(d + offset for d in posting_ids(sub.reader(), fieldname, text))
            hit = frozenset(ids)
            if len(self._terms) >= _TERM_CACHE:
                self._terms.pop(next(iter(self._terms)))  # oldest first
            self._terms[key] = hit
        return hit

    def value_docs(self, name: str, value: str) -> frozenset[int]:
        """Docs whose facet ``name`` equals ``value``."""
        if name == "subject":
            return self.term_docs("subject", value)
        table = self._values.get(name)
        if table is None:
            table = self._values[name] = _group(self.columns().single[name])
        return table.get(value, frozenset())

    def year_docs(self, start: int | None, end: int | None) -> set[int]:
        """Docs with a year from ``start`` to ``end`` (None: open-ended)."""
        if self._years is None:
            self._years = _group(self.columns().year)
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

    def columns(self) -> Columns:
        with self.lock:
            if self._columns is None:
                self._columns = build_columns(self.searcher)
            return self._columns

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


def _group(column: list[_V]) -> dict[_V, frozenset[int]]:
    """The docnums holding each value of a column."""
    groups: dict[_V, list[int]] = {}
    for d, v in enumerate(column):
        groups.setdefault(v, []).append(d)
    return {v: frozenset(ds) for v, ds in groups.items()}


def open_snapshot(root: Path) -> Snapshot:
    """The live generation's latest commit, opened read-only."""
    last: Exception | None = None
    for attempt in range(_OPEN_RETRIES):
        try:
            name = read_current(root)
            ix = windex.open_dir(str(root / name), readonly=True)
            searcher = ix.searcher()
            return Snapshot(name, ix.latest_generation(), ix, searcher)
        except (OSError, windex.EmptyIndexError, EOFError) as exc:
            # A writer may have swapped generations or merged segments away between
            # our reading the TOC and opening its files: read the new state again.
            last = exc
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"cannot open index at {root}") from last


class Snapshots:
    """Each thread's current snapshot of the index at ``root``, reopened after a commit."""

    def __init__(self, root: Path):
        self.root = root
        self._local = threading.local()

    def current(self) -> Snapshot:
        """This thread's snapshot, reopened when CURRENT or the Whoosh generation moved."""
        snap: Snapshot | None = getattr(self._local, "snap", None)
        if snap is not None:
            try:
                fresh = (read_current(self.root) == snap.gen_dir
                         and snap.ix.latest_generation() == snap.generation)
            except OSError:
                fresh = False
            if fresh:
                return snap
            snap.searcher.close()
        snap = open_snapshot(self.root)
        self._local.snap = snap
        return snap

    def close(self) -> None:
        """Close this thread's searcher (other threads keep theirs)."""
        snap: Snapshot | None = getattr(self._local, "snap", None)
        if snap is not None:
            snap.searcher.close()
            self._local.snap = None
