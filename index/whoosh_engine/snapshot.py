"""What readers search: one committed state of the index, and keeping it fresh.

Readers are thread-local Whoosh searchers; each request checks CURRENT + the Whoosh TOC
generation (a file read and a listdir) and reopens when either changed, so the web layer
sees every commit. Whoosh writes a commit's segments first and its TOC last (rename), so a
writer killed mid-commit leaves the previous TOC — the previous commit — readable.

Queries are answered by set algebra over posting sets cached per snapshot (index/docsets.py),
not by Whoosh's matchers: those score every posting in Python.
"""

from __future__ import annotations

import heapq
import threading
import time
from pathlib import Path

from whoosh import index as windex
from whoosh.matching.wrappers import FilterMatcher

from index import querylang as qlang
from index.discovery import SearchSnapshot
from index.docsets import Columns
from index.documents import unpack_record
from index.generations import read_current
from index.record import Record
from index.whoosh_engine.columns import build_columns
from index.whoosh_engine.suggest import suggest as suggest_spelling
from index.whoosh_engine.whoosh_types import Reader, Searcher, WhooshDir

_OPEN_RETRIES = 20
_TERM_CACHE = 4096


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


class Snapshot(SearchSnapshot):
    """One generation directory at one Whoosh TOC generation, and what was cached of it.

    Queries are answered by the engine-neutral set algebra of index/docsets.py over this
    snapshot's posting sets and columns."""

    def __init__(self, gen_dir: str, generation: int, ix: WhooshDir, searcher: Searcher,
                 directory: Path):
        super().__init__()
        self.gen_dir, self.generation, self.ix, self.searcher = gen_dir, generation, ix, searcher
        self.directory = directory  # the generation directory (its spelling tables)
        self._columns: Columns | None = None
        self._live: frozenset[int] | None = None
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._recent: tuple[int, list[int]] | None = None  # (how many kept, docnums)

    def live(self) -> frozenset[int]:
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

    def columns(self) -> Columns:
        with self.lock:
            if self._columns is None:
                self._columns = build_columns(self.searcher)
            return self._columns

    # -- what discovery search (index/discovery.py) reads besides the set algebra

    def record(self, docnum: int) -> Record:
        return unpack_record(self.searcher.stored_fields(docnum)["rec"])

    def recent_docnums(self, limit: int) -> list[int]:
        """The live docnums with the latest ``indexed`` time, newest first. Segments
        written before the field existed have no column and count as time 0; ties go to
        the higher docnum (Whoosh appends new documents after old ones)."""
        with self.lock:
            if self._recent is None or limit > self._recent[0]:
                keep = max(100, limit)
                self._recent = (keep, self._by_time(keep))
            return self._recent[1][:max(0, limit)]

    def _by_time(self, keep: int) -> list[int]:
        # One pass over the columns per snapshot (a commit opens a new one), keeping the
        # newest ``keep``: the home page asks on every request.
        live = self.live()
        stamped: list[tuple[int, int]] = []
        for sub, offset in self.searcher.leaf_searchers():
            reader = sub.reader()
            stamped_here = "indexed" in reader.schema and reader.has_column("indexed")
            col = reader.column_reader("indexed") if stamped_here else None
            for d in range(reader.doc_count_all()):
                if d + offset in live:
                    stamped.append((int(col[d]) if col is not None else 0, d + offset))
        return [d for _t, d in heapq.nlargest(keep, stamped)]

    def cluster_docnums(self, cluster: str) -> list[int]:
        return sorted(self.searcher.document_numbers(cluster=cluster))

    def suggest(self, ast: qlang.Node) -> list[str]:
        return suggest_spelling(self.searcher, ast, self.directory)


def open_snapshot(root: Path) -> Snapshot:
    """The live generation's latest commit, opened read-only."""
    last: Exception | None = None
    for attempt in range(_OPEN_RETRIES):
        try:
            name = read_current(root)
            ix = windex.open_dir(str(root / name), readonly=True)
            searcher = ix.searcher()
            return Snapshot(name, ix.latest_generation(), ix, searcher, root / name)
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
