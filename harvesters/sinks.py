"""Where harvested records go: the one sink protocol, and the sinks that implement it.

A sink receives upserts and deletions by record id and makes them durable at ``commit``
(:class:`RecordSink`).  The harvest loop (:mod:`harvesters.runner`) commits a batch of pages
at a time and saves its checkpoint only after the sink's commit returned, so a sink must
upsert by id (a batch re-delivered after a crash is a no-op) and ignore unknown ids on
deletion.  A commit that raises may have dropped the changes it was given: the loop then
never checkpoints past them, and the next run fetches them again.

Every sink here keeps the changes since its last commit in one :class:`Changes` (by record
id, the last change to an id winning, so a record deleted then restored before a commit
stays restored) and hands them over at commit (:class:`BufferedSink`):

* :class:`MemorySink`: a dict of records (tests, benchmarks);
* :class:`WriterSink`: the search index, through its ``with ix.writer() as w: w.add(...);
  w.delete(...)`` factory (:class:`index.IndexWriter`), one writer per commit;
* ``resolver.oai.feed.OaiFeedSink`` wraps another sink and keeps the OAI provider's items in
  step with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Protocol

from index import IndexWriter
from index.record import Record


class RecordSink(Protocol):
    """Where records go.  ``add`` must upsert by :attr:`Record.id`; ``delete`` must ignore
    unknown ids; nothing counts as delivered until ``commit`` returns."""

    def add(self, records: list[Record]) -> None: ...

    def delete(self, ids: list[str]) -> None: ...

    def commit(self) -> None: ...


class Changes:
    """Upserts and deletions not yet committed: record id -> the record, or ``None`` for a
    deletion.  The last change to an id wins and moves it to the end (call order)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Record | None] = {}

    def add(self, records: Iterable[Record]) -> None:
        for rec in records:
            self._by_id.pop(rec.id, None)
            self._by_id[rec.id] = rec

    def delete(self, ids: Iterable[str]) -> None:
        for rid in ids:
            self._by_id.pop(rid, None)
            self._by_id[rid] = None

    def __len__(self) -> int:
        return len(self._by_id)

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def take(self) -> dict[str, Record | None]:
        """The changes, in call order; this buffer is empty afterwards."""
        taken, self._by_id = self._by_id, {}
        return taken

    @staticmethod
    def split(changes: dict[str, Record | None]) -> tuple[list[Record], list[str]]:
        """``(records to upsert, ids to delete)``: disjoint, so their order does not matter."""
        adds = [rec for rec in changes.values() if rec is not None]
        deletes = [rid for rid, rec in changes.items() if rec is None]
        return adds, deletes


class BufferedSink(RecordSink):
    """A :class:`RecordSink` that keeps every change until ``commit``, then hands them all to
    :meth:`write` at once.  They are taken before :meth:`write` runs, so a failed write drops
    them (see the module docstring) instead of leaking them into the next commit."""

    def __init__(self) -> None:
        self.pending = Changes()

    def add(self, records: list[Record]) -> None:
        self.pending.add(records)

    def delete(self, ids: list[str]) -> None:
        self.pending.delete(ids)

    def commit(self) -> None:
        self.write(self.pending.take())

    def write(self, changes: dict[str, Record | None]) -> None:
        """Make ``changes`` (possibly none) durable; called by :meth:`commit`."""
        raise NotImplementedError


class MemorySink(BufferedSink):
    """A dict of records (tests, benchmarks)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, Record] = {}
        self.commits = 0

    def write(self, changes: dict[str, Record | None]) -> None:
        for rid, rec in changes.items():
            if rec is None:
                self.records.pop(rid, None)
            else:
                self.records[rid] = rec
        self.commits += 1


class WriterSink(BufferedSink):
    """The search index as a :class:`RecordSink`: ``writer_factory`` (``ix.writer``) gives a
    context manager whose writer commits on exit; one writer is opened per non-empty commit
    (per batch of pages), none for an empty one."""

    def __init__(self, writer_factory: Callable[[], AbstractContextManager[IndexWriter]]) -> None:
        super().__init__()
        self.writer_factory = writer_factory
        self.commits = 0  # writers opened (benchmarks)

    def write(self, changes: dict[str, Record | None]) -> None:
        if not changes:
            return
        adds, deletes = Changes.split(changes)
        with self.writer_factory() as w:
            if adds:
                w.add(adds)
            if deletes:
                w.delete(deletes)
        self.commits += 1
