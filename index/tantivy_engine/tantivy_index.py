"""The tantivy engine's :class:`~index.contract.SearchIndex`: one index directory, opened.

Glue only: the directory (index/generations.py, storage), the snapshot every thread
shares (snapshot), the writer session (writer), discovery search (index/discovery.py), known-item
lookup (lookup) and spelling (index/suggestion.py through the snapshot).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from index import discovery
from index import querylang as qlang
from index.collation import sort_key
from index.record import Record
from index.results import SearchResult
from index.tantivy_engine import lookup as known_item
from index.tantivy_engine.snapshot import Snapshot, Snapshots
from index.tantivy_engine.storage import ensure_index
from index.tantivy_engine.writer import Writer, open_writer


class TantivyIndex:
    """See :class:`index.contract.SearchIndex` for the contract."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        ensure_index(self.path, readonly=readonly)
        self._snapshots = Snapshots(self.path)

    def _snapshot(self) -> Snapshot:
        return self._snapshots.current()

    def close(self) -> None:
        self._snapshots.close()

    @contextlib.contextmanager
    def writer(self, timeout: float = 30.0) -> Iterator[Writer]:
        if self.readonly:
            raise PermissionError("index opened read-only")
        with open_writer(self.path, timeout) as w:
            yield w

    def count(self) -> int:
        return self._snapshot().n  # live documents, without listing them

    def get(self, record_id: str) -> Record | None:
        snap = self._snapshot()
        docs = sorted(snap.term_docs("id", record_id))
        return snap.record(docs[0]) if docs else None

    def cluster(self, cluster_key: str) -> list[Record]:
        snap = self._snapshot()
        return [snap.record(d) for d in snap.cluster_docnums(cluster_key)]

    def cluster_of(self, record_id: str) -> list[Record]:
        snap = self._snapshot()
        docs = sorted(snap.term_docs("id", record_id))
        if not docs:
            return []
        key = snap.stored_value(docs[0], "cluster")
        return sorted(self.cluster(key), key=lambda r: (sort_key(r.institution), r.id))

    def recent(self, limit: int = 10) -> list[Record]:
        snap = self._snapshot()
        return [snap.record(d) for d in snap.recent_docnums(limit)]

    def iter_ids(self) -> Iterator[str]:
        snap = self._snapshot()
        for d in sorted(snap.live()):
            yield snap.stored_value(d, "id")

    def lookup(self, *, doi: str | None = None, isbn: str | None = None,
               issn: str | None = None, handle: str | None = None, title: str | None = None,
               year: int | None = None, author: str | None = None,
               limit: int = 10) -> list[Record]:
        return known_item.lookup(self._snapshot(), doi=doi, isbn=isbn, issn=issn,
                                 handle=handle, title=title, year=year, author=author,
                                 limit=limit)

    def suggest(self, q: str) -> list[str]:
        return self._snapshot().suggest(qlang.parse(q))

    def search(self, q: str, *, filters: dict[str, list[str]] | None = None,
               year_range: tuple[int | None, int | None] | None = None,
               sort: str = "relevance", page: int = 1, size: int = 20,
               facets: bool = True) -> SearchResult:
        return discovery.search(self._snapshot(), q, filters=filters,
                                year_range=year_range, sort=sort, page=page, size=size,
                                facets=facets)
