"""Writing: upserts and deletes buffered, clusters resolved at commit, one writer at a time.

Buffering (instead of writing each add at once) is needed because Whoosh cannot update a
document added earlier in the same writer session, and a later record may merge an earlier
one's cluster. The writer lock (index/whoosh_engine/storage.py) is held for the whole session.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import index as windex

from index.clustering import Stored, resolve
from index.documents import unpack_record
from index.generations import read_current, writer_lock
from index.results import IndexLocked
from index.session import SessionChanges
from index.whoosh_engine import fastwrite
from index.whoosh_engine.files import open_dir
from index.whoosh_engine.schema import to_document
from index.whoosh_engine.suggest import write_tables
from index.whoosh_engine.whoosh_types import SegmentWriter, StoredFields, WhooshDir

log = logging.getLogger("lienhop.index")


class Writer(SessionChanges):
    """Buffers upserts and deletes; at commit resolves clusters and writes them to Whoosh."""

    def __init__(self, whoosh_writer: SegmentWriter):
        super().__init__()
        self._w = whoosh_writer
        self._base = whoosh_writer.searcher()  # the index as it was when the session began

    def _in_base(self, record_id: str) -> bool:
        return self._base.document_number(id=record_id) is not None

    # -- the index as it was, for cluster resolution (index/clustering.py)

    def _stored(self, docnum: int) -> Stored:
        fields: StoredFields = self._base.stored_fields(docnum)
        return fields["id"], fields["cluster"], unpack_record(fields["rec"])

    def cluster_of(self, record_id: str) -> str | None:
        dn = self._base.document_number(id=record_id)
        return None if dn is None else str(self._base.stored_fields(dn)["cluster"])

    def in_cluster(self, cluster: str) -> Iterator[Stored]:
        for dn in self._base.document_numbers(cluster=cluster):
            yield self._stored(dn)

    def with_key(self, term: str) -> Iterator[Stored]:
        for dn in self._base.document_numbers(mkey=term):
            yield self._stored(dn)

    def commit(self, *, merge: bool = True) -> None:
        clusters, base_docs = resolve(self._pending, self._deleted, self)
        w = self._w
        # An index made before the ``indexed`` field keeps its pickled schema: no time.
        now = int(time.time()) if "indexed" in w.schema else None
        # Delete through our one snapshot searcher: Whoosh's update_document and
        # delete_by_term open a new searcher over every segment per call (measured: minutes
        # per 10k records once the index has a few segments).
        for rid in self._deleted | set(self._pending):
            dn = self._base.document_number(id=rid)
            if dn is not None:
                w.delete_document(dn)
        for rid, rec in self._pending.items():
            w.add_document(**to_document(rec, clusters[rid], indexed_at=now))
        for rid, (cluster, rec) in base_docs.items():
            if clusters[rid] != cluster:
                w.delete_document(self._base.document_number(id=rid))
                w.add_document(**to_document(rec, clusters[rid], indexed_at=now))
        self._base.close()
        if merge:
            w.commit(mergetype=fastwrite.tiered_merge)
        else:
            w.commit(merge=False)

    def cancel(self) -> None:
        self._base.close()
        self._w.cancel()


def write_suggestion_tables(gen_dir: Path, ix: WhooshDir) -> None:
    """The spelling tables of the segments a commit made, written while the writer still
    holds the lock, so no reader process has to build them. Only a cache: a failure is
    logged and readers build what is missing themselves."""
    try:
        with ix.reader() as reader:
            write_tables(gen_dir, reader)
    except Exception:  # noqa: BLE001 - the commit is done; a cache must not undo it
        log.warning("event=suggest_tables_failed dir=%s", gen_dir, exc_info=True)


@contextlib.contextmanager
def open_writer(root: Path, timeout: float) -> Iterator[Writer]:
    """A writer on the live generation: commits when the block ends, cancels when it
    raises. Waits up to ``timeout`` seconds for the lock (then :class:`IndexLocked`)."""
    with writer_lock(root, timeout):
        gen_dir = root / read_current(root)
        ix = open_dir(gen_dir)
        try:
            ww = fastwrite.writer(ix, timeout=timeout, delay=0.05, limitmb=256)
        except windex.LockError as exc:  # pragma: no cover - our flock comes first
            raise IndexLocked(str(exc)) from exc
        w = Writer(ww)
        try:
            yield w
        except BaseException:
            w.cancel()
            raise
        w.commit()
        write_suggestion_tables(gen_dir, ix)
