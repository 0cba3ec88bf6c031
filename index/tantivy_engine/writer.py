"""Writing to a tantivy generation: upserts and deletes buffered, clusters resolved at
commit (index/clustering.py), one writer at a time (index/generations.py's lock).

Buffering keeps the writer's contract the Whoosh engine's: a later record of a session may
merge an earlier one's cluster, so nothing is written until the session's clusters are
known. tantivy applies a delete to the documents added before it, so each replaced record
is deleted by id and then added again, in one commit. ``meta.json`` is replaced
atomically at commit: a writer killed mid-commit leaves the previous commit live
(tests/index/test_crash.py kills one inside tantivy's own commit and merge).

:class:`IndexView` (the index as a session found it, for cluster resolution) and
:func:`write_batch` are shared with the rebuild (index/tantivy_engine/rebuild.py), which
writes the same documents in the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import tantivy

from index.clustering import Stored, resolve_keys
from index.generations import read_current, writer_lock
from index.record import Record
from index.session import SessionChanges
from index.suggestion import FIELDS
from index.tantivy_engine import vocabulary
from index.tantivy_engine.schema import (
    COPIES,
    INDEXED,
    Prepared,
    document,
    has_field,
    open_dir,
    prepare,
    stored_record,
    to_document,
)

log = logging.getLogger("lienhop.index")
#: tantivy's indexing memory budget and threads: one thread leaves the other core to the
#: web workers and the harvester.
HEAP_BYTES = 128_000_000
THREADS = 1


class IndexView:
    """The index as a searcher sees it, as :class:`index.clustering.ClusterBase` wants it.

    ``seen`` (a rebuild's: index/tantivy_engine/rebuild.py), when given, holds every id and
    match-key term the index may hold: an id or key it has never seen is not looked up
    (cluster keys are: a rebuild asks for them only when it replaces a record)."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema,
                 seen: Callable[[str], bool] | None = None):
        self._searcher = searcher
        self._schema = schema
        self._seen = seen
        # Records visited that bear the ``copies`` mark (write_batch keeps it true).
        self.marked: set[str] = set()
        self._copies_field = _has_fast_field(searcher, COPIES)
        self._read: dict[tuple[int, int], Stored] = {}

    def _addresses(self, fieldname: str, value: str, limit: int | None = None
                   ) -> list[tantivy.DocAddress]:
        n = self._searcher.num_docs
        if not n or (self._seen is not None and fieldname != "cluster"
                     and not self._seen(value)):
            return []
        q = tantivy.Query.term_query(self._schema, fieldname, value, index_option="basic")
        hits = self._searcher.search(q, limit=min(n, limit or n), count=False).hits
        return sorted((a for _s, a in hits), key=lambda a: (a.segment_ord, a.doc))

    def _first(self, fieldname: str, value: str) -> tantivy.DocAddress | None:
        found = self._addresses(fieldname, value, 1)
        return found[0] if found else None

    def _stored(self, a: tantivy.DocAddress) -> Stored:
        # A record is reached once by each of its match keys: read and unpack it once.
        where = (a.segment_ord, a.doc)
        if (hit := self._read.get(where)) is not None:
            return hit
        doc = self._searcher.doc(a)
        rid = str(doc.get_first("id"))
        if self._copies_field and self._searcher.fast_field_values(COPIES, [a])[0] is not None:
            self.marked.add(rid)
        stored = (rid, str(doc.get_first("cluster")), stored_record(doc))
        self._read[where] = stored
        return stored

    def has_id(self, record_id: str) -> bool:
        return self._first("id", record_id) is not None

    def cluster_of(self, record_id: str) -> str | None:
        a = self._first("id", record_id)
        return None if a is None else str(self._searcher.doc(a).get_first("cluster"))

    def in_cluster(self, cluster: str) -> Iterator[Stored]:
        for a in self._addresses("cluster", cluster):
            yield self._stored(a)

    def with_key(self, term: str) -> Iterator[Stored]:
        for a in self._addresses("mkey", term):
            yield self._stored(a)


def _has_fast_field(searcher: tantivy.Searcher, name: str) -> bool:
    try:
        searcher.fast_field_values(name, [])
    except ValueError:
        return False
    return True


def write_batch(w: tantivy.IndexWriter, prepared: Mapping[str, Prepared],
                clusters: Mapping[str, str], base_docs: Mapping[str, tuple[str, Record]],
                *, replaced: Callable[[str], bool], indexed_at: int | None,
                marked: AbstractSet[str] = frozenset()) -> None:
    """Hand one batch to tantivy's writer (no commit): the ``prepared`` records in their
    ``clusters``, and the indexed records whose cluster changed (``base_docs``: id →
    (stored cluster, record)). Each id for which ``replaced`` says it may be indexed
    already is deleted first.

    Every record of a cluster of several bears the ``copies`` mark (index/tantivy_engine/
    copies.py): ``clusters`` names every record of the clusters it touches, so an indexed
    record joining another gets the mark too, unless ``marked`` says it has it already. A
    mark left on a record whose cluster shrank to one does no harm."""
    size = Counter(clusters.values())
    for rid, p in prepared.items():
        if replaced(rid):
            w.delete_documents_by_term("id", rid)
        w.add_document(document(p, clusters[rid], indexed_at, size[clusters[rid]] > 1))
    for rid, (cluster, rec) in base_docs.items():
        several = size[clusters[rid]] > 1
        if clusters[rid] != cluster or (several and rid not in marked):
            w.delete_documents_by_term("id", rid)
            w.add_document(to_document(rec, clusters[rid], indexed_at, several))


def spelling_terms(prepared: Mapping[str, Prepared]) -> dict[str, set[str]]:
    """The terms of the spelling fields (index/suggestion.py) the ``prepared`` records add."""
    terms: dict[str, set[str]] = {f: set() for f in FIELDS}
    for p in prepared.values():
        for name, value in p.text:
            if name in terms:
                terms[name].update(value.split(" "))
    return terms


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to do
        return None
    return trim


_TRIM = _malloc_trim()


def give_back_memory() -> None:
    """Return to the system the memory a session's indexing freed. Each session's tantivy
    writer indexes in threads of its own, whose freed memory glibc keeps in per-thread
    arenas: a long harvest's RSS climbed session after session (60k records in sessions
    of 2,000: 86 → 145 MB anonymous memory; 47 MB flat with this, at the same speed)."""
    if _TRIM is not None:
        _TRIM(0)


class Writer(SessionChanges):
    """One session on generation directory ``gen`` (the caller holds the writer lock)."""

    def __init__(self, gen: Path):
        super().__init__()
        self.gen = gen
        self._ix = open_dir(gen)
        # The index as it was when the session began.
        self._view = IndexView(self._ix.searcher(), self._ix.schema)
        self._w = self._ix.writer(HEAP_BYTES, THREADS)

    def _in_base(self, record_id: str) -> bool:
        return self._view.has_id(record_id)

    # -- commit

    def commit(self) -> None:
        prepared = {rid: prepare(rec) for rid, rec in self._pending.items()}
        clusters, base_docs = resolve_keys({rid: p.keys for rid, p in prepared.items()},
                                           self._deleted, self._view)
        w = self._w
        # An index made before the ``indexed`` field keeps its schema: no time.
        now = int(time.time()) if has_field(self._ix, INDEXED) else None
        for rid in self._deleted:
            w.delete_documents_by_term("id", rid)
        write_batch(w, prepared, clusters, base_docs, replaced=lambda _rid: True,
                    indexed_at=now, marked=self._view.marked)
        # Tables first: a commit cut short leaves a table of terms nobody holds, which the
        # suggester ignores; the other order could leave terms without a table.
        try:
            vocabulary.save_tables(self.gen, spelling_terms(prepared))
        except OSError:
            log.warning("event=suggest_tables_failed dir=%s", self.gen, exc_info=True)
        w.commit()
        w.wait_merging_threads()
        try:
            self._ix.reload()
            vocabulary.compact_tables(self.gen, self._ix.searcher())
        except (OSError, ValueError):  # a cache: the commit is done
            log.warning("event=suggest_tables_failed dir=%s", self.gen, exc_info=True)
        give_back_memory()

    def cancel(self) -> None:
        self._w.rollback()
        self._w.wait_merging_threads()
        give_back_memory()


@contextlib.contextmanager
def open_writer(root: Path, timeout: float) -> Iterator[Writer]:
    """A writer on the live generation: commits when the block ends, cancels when it
    raises. Waits up to ``timeout`` seconds for the lock (then ``IndexLocked``)."""
    with writer_lock(root, timeout):
        w = Writer(root / read_current(root))
        try:
            yield w
        except BaseException:
            w.cancel()
            raise
        w.commit()
