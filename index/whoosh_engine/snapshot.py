"""What readers search: one committed state of the index, shared by a worker's threads.

A snapshot is one generation directory at one Whoosh TOC generation. Each request checks
CURRENT + the Whoosh TOC generation (a file read and a listdir) and moves to a new
snapshot when either changed, so the web layer sees every commit. Whoosh writes a
commit's segments first and its TOC last (rename), so a writer killed mid-commit leaves the
previous TOC — the previous commit — readable.

What is cached of a snapshot (columns, live docnums, facet and year bitmaps, sort orders)
is the same for every thread, so one snapshot serves them all; only Whoosh's readers,
which read through file positions, are each thread's own, opened on the snapshot's own
segments (not on whatever commit is latest) so that every thread numbers documents alike.

Queries are answered by the bitmap algebra of index/docsets.py over each segment's cached
posting bitmaps (index/whoosh_engine/postings.py), not by Whoosh's matchers: those score
every posting in Python.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter
from pathlib import Path

from whoosh import index as windex
from whoosh.searching import Searcher as WhooshSearcher

from index import querylang as qlang
from index.discovery import Matches, SearchSnapshot
from index.docsets import Columns, flags_of, from_flags, members
from index.documents import unpack_record
from index.generations import read_current
from index.record import Record
from index.whoosh_engine import postings
from index.whoosh_engine.columns import build_columns
from index.whoosh_engine.files import open_dir, remember_lookups
from index.whoosh_engine.suggest import suggest as suggest_spelling
from index.whoosh_engine.whoosh_types import Reader, Searcher, WhooshDir

_OPEN_RETRIES = 20
#: From this many matches on, facet values are counted by intersecting the match bitmap
#: with each value's bitmap (a few microseconds per value) rather than per document from
#: the columns (index/discovery.py): measured break-even ~2,000 matches.
_COUNT_BY_VALUE = 2000
#: Bytes of whole-snapshot term bitmaps a snapshot keeps (~650 terms at 100k records).
_JOINED_BUDGET = 8 << 20


class Snapshot(SearchSnapshot):
    """One generation directory at one Whoosh TOC generation, and what was cached of it.

    Queries are answered by the engine-neutral bitmap algebra of index/docsets.py over
    this snapshot's posting bitmaps and columns."""

    def __init__(self, gen_dir: str, ix: WhooshDir, directory: Path):
        super().__init__()
        self.gen_dir, self.ix = gen_dir, ix
        self.directory = directory  # the generation directory (its spelling tables)
        toc = ix._read_toc()
        self.generation: int = toc.generation
        self._schema, self._segments = toc.schema, list(toc.segments)
        self.size: int = sum(s.doc_count_all() for s in self._segments)
        self._local = threading.local()
        self._columns: Columns | None = None
        self._live: int | None = None
        self._recent: tuple[int, list[int]] | None = None  # (how many kept, docnums)
        # The segments' bitmaps laid end to end, for the terms asked most lately: a
        # query's terms are mostly asked again soon (another page, another form of a
        # title, a popular word), and joining them costs a step per segment.
        self._terms = postings.BitmapCache(_JOINED_BUDGET)

    @property
    def searcher(self) -> Searcher:
        """This thread's Whoosh searcher over the snapshot's segments."""
        s: Searcher | None = getattr(self._local, "searcher", None)
        if s is None:
            reader = windex.FileIndex._reader(self.ix.storage, self._schema, self._segments,
                                              self.generation)
            remember_lookups(reader)
            s = self._local.searcher = WhooshSearcher(reader, fromindex=self.ix)
        return s

    def close_searcher(self) -> None:
        """Close this thread's searcher (other threads keep theirs)."""
        s: Searcher | None = getattr(self._local, "searcher", None)
        if s is not None:
            self._local.searcher = None
            s.close()

    def _leaves(self) -> list[tuple[Reader, int]]:
        leaves: list[tuple[Reader, int]] = self.searcher.reader().leaf_readers()
        return leaves

    def live_bits(self) -> int:
        if self._live is None:  # two threads may both compute it: the same value
            flags = bytearray(b"\x01") * self.size
            offset = 0
            for seg in self._segments:
                if seg.has_deletions():
                    for d in seg.deleted_docs():
                        flags[offset + d] = 0
                offset += seg.doc_count_all()
            self._live = from_flags(flags)
        return self._live

    def term_bits(self, fieldname: str, text: str) -> int:
        key = (fieldname, text)
        out = self._terms.get(key)
        if out is None:
            out = 0
            for reader, offset in self._leaves():
                if bits := postings.term_bits(reader, fieldname, text):
                    out |= bits << offset
            self._terms.put(key, out)
        return out

    def columns(self) -> Columns:
        with self.lock:
            if self._columns is None:
                self._columns = build_columns(self.searcher, flags_of(self.live_bits()))
            return self._columns

    def matches(self, ast: qlang.Node, filters: dict[str, list[str]] | None,
                year_range: tuple[int | None, int | None] | None,
                features: list[tuple[str, str, int]] | None) -> Matches:
        """The rules of :meth:`SearchSnapshot.matches`, on bitmaps until the end: only the
        matches become a set of ints."""
        bits = self.filtered_bits(ast, filters, year_range)
        docs = set(members(bits))
        score = self.feature_scores(bits, features) if features and bits else Counter()
        if len(docs) < _COUNT_BY_VALUE:
            return Matches(docs, score)
        return Matches(docs, score, lambda: self.value_counts(bits))

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
        live = flags_of(self.live_bits())
        stamped: list[tuple[int, int]] = []
        for sub, offset in self.searcher.leaf_searchers():
            reader = sub.reader()
            stamped_here = "indexed" in reader.schema and reader.has_column("indexed")
            col = reader.column_reader("indexed") if stamped_here else None
            for d, alive in enumerate(live[offset:offset + reader.doc_count_all()]):
                if alive:
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
            return Snapshot(name, open_dir(root / name, readonly=True), root / name)
        except (OSError, windex.EmptyIndexError, EOFError) as exc:
            # A writer may have swapped generations or merged segments away between
            # our reading the TOC and opening its files: read the new state again.
            last = exc
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"cannot open index at {root}") from last


class Snapshots:
    """The current snapshot of the index at ``root``, shared by the threads that search
    it and replaced after a commit; each thread reads it through its own searcher."""

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._local = threading.local()  # the snapshot this thread's searcher belongs to

    def _fresh(self, snap: Snapshot) -> bool:
        try:
            return (read_current(self.root) == snap.gen_dir
                    and snap.ix.latest_generation() == snap.generation)
        except OSError:
            return False

    def _shared(self) -> Snapshot:
        snap = self._snap
        if snap is not None and self._fresh(snap):
            return snap
        with self._lock:  # one thread opens the new snapshot, the others wait for it
            if self._snap is not None and self._snap is not snap and self._fresh(self._snap):
                return self._snap
            self._snap = open_snapshot(self.root)
            return self._snap

    def current(self) -> Snapshot:
        """The current snapshot, with this thread's searcher on it open (the thread's
        searcher on an older snapshot is closed)."""
        last: Exception | None = None
        for attempt in range(_OPEN_RETRIES):
            snap = self._shared()
            mine: Snapshot | None = getattr(self._local, "snap", None)
            if mine is not snap:
                if mine is not None:
                    mine.close_searcher()
                self._local.snap = snap
            try:
                snap.searcher  # noqa: B018 - opened now, while its segments' files exist
                return snap
            except (OSError, EOFError) as exc:
                # A commit merged the snapshot's segments away before this thread opened
                # them: the snapshot is stale, open the new state.
                last = exc
                with self._lock:
                    if self._snap is snap:
                        self._snap = None
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"cannot open index at {self.root}") from last

    def close(self) -> None:
        """Close this thread's searcher (other threads keep theirs)."""
        mine: Snapshot | None = getattr(self._local, "snap", None)
        if mine is not None:
            mine.close_searcher()
            self._local.snap = None
