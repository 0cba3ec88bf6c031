"""Writing to a tantivy generation: upserts and deletes buffered, clusters resolved at
commit (index/clustering.py), one writer at a time (index/generations.py's lock).

Buffering keeps the writer's contract the Whoosh engine's: a later record of a session may
merge an earlier one's cluster, so nothing is written until the session's clusters are
known. tantivy applies a delete to the documents added before it, so each replaced record
is deleted by id and then added again, in one commit. ``meta.json`` is replaced
atomically at commit: a writer killed mid-commit leaves the previous commit live.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import tantivy

from index.clustering import Stored, resolve
from index.documents import index_terms
from index.generations import read_current, writer_lock
from index.session import SessionChanges
from index.suggestion import FIELDS
from index.tantivy_engine import vocabulary
from index.tantivy_engine.schema import INDEXED, has_field, open_dir, stored_record, to_document

log = logging.getLogger("lienhop.index")
#: tantivy's indexing memory budget and threads: one thread leaves the other core to the
#: web workers and the harvester.
HEAP_BYTES = 128_000_000
THREADS = 1


class Writer(SessionChanges):
    """One session on generation directory ``gen`` (the caller holds the writer lock)."""

    def __init__(self, gen: Path):
        super().__init__()
        self.gen = gen
        self._ix = open_dir(gen)
        self._base = self._ix.searcher()  # the index as it was when the session began
        self._schema = self._ix.schema
        self._w = self._ix.writer(HEAP_BYTES, THREADS)

    def _in_base(self, record_id: str) -> bool:
        return self._first("id", record_id) is not None

    # -- the index as it was, for cluster resolution (index/clustering.py)

    def _addresses(self, fieldname: str, value: str, limit: int | None = None
                   ) -> list[tantivy.DocAddress]:
        n = self._base.num_docs
        if not n:
            return []
        q = tantivy.Query.term_query(self._schema, fieldname, value, index_option="basic")
        hits = self._base.search(q, limit=min(n, limit or n), count=False).hits
        return sorted((a for _s, a in hits), key=lambda a: (a.segment_ord, a.doc))

    def _first(self, fieldname: str, value: str) -> tantivy.DocAddress | None:
        found = self._addresses(fieldname, value, 1)
        return found[0] if found else None

    def _stored(self, a: tantivy.DocAddress) -> Stored:
        doc = self._base.doc(a)
        return (str(doc.get_first("id")), str(doc.get_first("cluster")),
                stored_record(doc))

    def cluster_of(self, record_id: str) -> str | None:
        a = self._first("id", record_id)
        return None if a is None else str(self._base.doc(a).get_first("cluster"))

    def in_cluster(self, cluster: str) -> Iterator[Stored]:
        for a in self._addresses("cluster", cluster):
            yield self._stored(a)

    def with_key(self, term: str) -> Iterator[Stored]:
        for a in self._addresses("mkey", term):
            yield self._stored(a)

    # -- commit

    def commit(self) -> None:
        clusters, base_docs = resolve(self._pending, self._deleted, self)
        w = self._w
        # An index made before the ``indexed`` field keeps its schema: no time.
        now = int(time.time()) if has_field(self._ix, INDEXED) else None
        for rid in self._deleted | set(self._pending):
            w.delete_documents_by_term("id", rid)
        terms: dict[str, list[str]] = {f: [] for f in FIELDS}
        for rid, rec in self._pending.items():
            w.add_document(to_document(rec, clusters[rid], indexed_at=now))
            forms = index_terms(rec)
            for f in FIELDS:
                terms[f].extend(forms.get(f, ()))
        for rid, (cluster, rec) in base_docs.items():
            if clusters[rid] != cluster:
                w.delete_documents_by_term("id", rid)
                w.add_document(to_document(rec, clusters[rid], indexed_at=now))
        # Tables first: a commit cut short leaves a table of terms nobody holds, which the
        # suggester ignores; the other order could leave terms without a table.
        try:
            vocabulary.save_tables(self.gen, terms)
        except OSError:
            log.warning("event=suggest_tables_failed dir=%s", self.gen, exc_info=True)
        w.commit()
        w.wait_merging_threads()
        try:
            self._ix.reload()
            vocabulary.compact_tables(self.gen, self._ix.searcher())
        except (OSError, ValueError):  # a cache: the commit is done
            log.warning("event=suggest_tables_failed dir=%s", self.gen, exc_info=True)

    def cancel(self) -> None:
        self._w.rollback()
        self._w.wait_merging_threads()


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
