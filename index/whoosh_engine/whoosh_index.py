"""The Whoosh engine's :class:`~index.contract.SearchIndex`: one index directory, opened.

Glue only: the directory (storage), the snapshot threads share (snapshot), the writer session
(writer), discovery search (search), known-item lookup (lookup), and spelling (suggest)
each live in their own module of this package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from index import discovery
from index import querylang as qlang
from index.collation import sort_key
from index.documents import unpack_record
from index.record import Record
from index.results import SearchResult
from index.whoosh_engine import lookup as known_item
from index.whoosh_engine.snapshot import Snapshot, Snapshots
from index.whoosh_engine.storage import ensure_index
from index.whoosh_engine.writer import Writer, open_writer


class WhooshIndex:
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

    # -- writing

    @contextlib.contextmanager
    def writer(self, timeout: float = 30.0) -> Iterator[Writer]:
        if self.readonly:
            raise PermissionError("index opened read-only")
        with open_writer(self.path, timeout) as w:
            yield w

    # -- reading

    def count(self) -> int:
        n: int = self._snapshot().searcher.doc_count()
        return n

    def get(self, record_id: str) -> Record | None:
        stored = self._snapshot().searcher.document(id=record_id)
        return unpack_record(stored["rec"]) if stored else None

    def cluster(self, cluster_key: str) -> list[Record]:
        s = self._snapshot().searcher
        return [unpack_record(s.stored_fields(d)["rec"])
                for d in s.document_numbers(cluster=cluster_key)]

    def cluster_of(self, record_id: str) -> list[Record]:
        stored = self._snapshot().searcher.document(id=record_id)
        if not stored:
            return []
        return sorted(self.cluster(stored["cluster"]),
                      key=lambda r: (sort_key(r.institution), r.id))

    def recent(self, limit: int = 10) -> list[Record]:
        snap = self._snapshot()
        return [snap.record(d) for d in snap.recent_docnums(limit)]

    def iter_ids(self) -> Iterator[str]:
        # Stored fields of live documents only (iter_docs skips deletions), one at a time.
        for _docnum, stored in self._snapshot().searcher.reader().iter_docs():
            yield stored["id"]

    def lookup(self, *, doi: str | None = None, isbn: str | None = None,
               issn: str | None = None, handle: str | None = None, title: str | None = None,
               year: int | None = None, author: str | None = None,
               limit: int = 10) -> list[Record]:
        return known_item.lookup(self._snapshot().searcher, doi=doi, isbn=isbn, issn=issn,
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
