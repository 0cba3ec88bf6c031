"""A complete tantivy index built beside the live one, then swapped in atomically.

The same documents as a writer session's (index/tantivy_engine/writer.py, ``write_batch``),
clusters resolved batch by batch against what the rebuild has committed so far
(index/clustering.py), but built for a whole archive:

* the records are prepared in worker processes (index/tantivy_engine/prepare.py) while
  this process feeds tantivy and commits; a rebuild from raw items (index/convert.py) has
  the workers make the Records too;
* one tantivy writer for the whole run, so tantivy merges its segments in the background
  while the next batches are indexed, instead of each commit waiting for its merges;
* the lookups of cluster resolution go to tantivy only for ids and match keys the rebuild
  has already written (index/tantivy_engine/seen.py): nearly none;
* the spelling tables are made once, from the finished vocabulary.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import tantivy

from index.clustering import resolve_keys
from index.convert import Failed
from index.dedup import key_term
from index.generations import swap_generation, writer_lock
from index.record import Record
from index.suggestion import FIELDS
from index.tantivy_engine import vocabulary
from index.tantivy_engine.prepare import default_procs, prepared
from index.tantivy_engine.schema import Prepared, open_dir
from index.tantivy_engine.seen import Seen
from index.tantivy_engine.storage import new_generation
from index.tantivy_engine.writer import HEAP_BYTES, IndexView, give_back_memory, write_batch

#: How long a rebuild waits for the writer lock (a harvester's session may hold it).
_LOCK_TIMEOUT = 3600.0
#: tantivy's indexing threads during a rebuild (the worker processes have the other core).
THREADS = 1


def rebuild(path: Path, records: Iterable[Record] | Iterable[Any], *, batch: int = 10000,
            procs: int | None = None, convert: str | None = None, failed: Failed | None = None,
            done: Callable[[], None] | None = None) -> None:
    """Build a new generation from ``records`` (``batch`` a commit) and switch CURRENT to
    it. Holds the writer lock for the whole run; readers keep answering from the old
    generation until the swap and follow CURRENT on their next request.

    ``procs``: worker processes preparing records (default: one per core beyond the
    first; 0: none), started once the records fill a batch. ``convert``/``failed``: raw
    items and the function making Records of them (index/convert.py), run by the
    workers. ``done`` is called for each record prepared, in order."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with writer_lock(path, _LOCK_TIMEOUT):
        gen = new_generation(path)
        docs = prepared(records, procs=default_procs() if procs is None else procs,
                        start_after=batch, convert=convert, failed=failed)
        try:
            _build(gen, docs if done is None else _ticked(docs, done), batch=batch)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        finally:
            docs.close()  # ends the worker processes now, also when the build failed
        swap_generation(path, gen)


def _ticked(docs: Iterable[Prepared], done: Callable[[], None]) -> Iterator[Prepared]:
    for p in docs:
        yield p
        done()


class _Build:
    """The generation being written: its tantivy writer and what it holds so far."""

    def __init__(self, gen: Path):
        self.gen = gen
        self.ix: tantivy.Index = open_dir(gen)
        self.w = self.ix.writer(HEAP_BYTES, THREADS)
        self.seen = Seen()  # every id and match-key term written so far
        self.view = IndexView(self.ix.searcher(), self.ix.schema, seen=self.seen.__contains__)

    def write(self, batch: dict[str, Prepared]) -> None:
        keys = {rid: p.keys for rid, p in batch.items()}
        clusters, base_docs = resolve_keys(keys, set(), self.view)
        write_batch(self.w, batch, clusters, base_docs, replaced=self.seen.__contains__,
                    indexed_at=int(time.time()), marked=self.view.marked)
        for rid, p in batch.items():
            self.seen.add(rid)
            for k in p.keys:
                self.seen.add(key_term(k))
        self.w.commit()
        self.ix.reload()
        self.view = IndexView(self.ix.searcher(), self.ix.schema, seen=self.seen.__contains__)

    def finish(self) -> None:
        self.w.wait_merging_threads()
        self.ix.reload()
        searcher = self.ix.searcher()
        vocabulary.save_tables(self.gen, {f: vocabulary.vocabulary(searcher, f)
                                          for f in FIELDS})
        give_back_memory()


def _build(gen: Path, docs: Iterable[Prepared], *, batch: int) -> None:
    build = _Build(gen)
    pending: dict[str, Prepared] = {}
    for p in docs:
        pending[p.id] = p  # the last record of an id wins, as in a writer session
        if len(pending) >= batch:
            build.write(pending)
            pending = {}
    if pending:
        build.write(pending)
    build.finish()
