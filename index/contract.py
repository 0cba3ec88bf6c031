"""What every search engine behind ``index`` provides: the methods callers may use.

Structural (Protocols), so an engine need not import this module: ``index.api.open_index``
returns an engine's index as a :class:`SearchIndex`, and mypy checks there that the engine
keeps the contract. Engine-neutral: the signatures name only ``index.record`` and
``index.results`` types.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from index.record import Record
from index.results import SearchResult


class IndexWriter(Protocol):
    """One writer session: records added or deleted are visible to readers after commit."""

    def add(self, records: Iterable[Record]) -> int:
        """Add or replace records (by id); returns how many were given."""
        ...

    def delete(self, ids: Iterable[str]) -> int:
        """Delete by record id; returns how many of the ids existed."""
        ...


class SearchIndex(Protocol):
    """An opened index: every engine provides one, and ``index.api`` chooses the engine."""

    def writer(self, timeout: float = 30.0) -> AbstractContextManager[IndexWriter]:
        """The one writer: commits when the block ends, cancels when it raises; waits up
        to ``timeout`` seconds for another writer (then ``IndexLocked``). PermissionError
        on an index opened read-only."""
        ...

    def get(self, record_id: str) -> Record | None: ...

    def search(self, q: str, *, filters: dict[str, list[str]] | None = None,
               year_range: tuple[int | None, int | None] | None = None,
               sort: str = "relevance", page: int = 1, size: int = 20,
               facets: bool = True) -> SearchResult:
        """One page of the works (clusters) matching the query language ``q``
        (index/querylang.py), with facet counts and, when little matched, spelling
        suggestions."""
        ...

    def lookup(self, *, doi: str | None = None, isbn: str | None = None,
               issn: str | None = None, handle: str | None = None, title: str | None = None,
               year: int | None = None, author: str | None = None,
               limit: int = 10) -> list[Record]:
        """Known-item lookup for the resolver: identifiers first, then title (+year, ISSN,
        author)."""
        ...

    def count(self) -> int: ...

    def suggest(self, q: str) -> list[str]:
        """Spelling alternatives built from the index's own vocabulary."""
        ...

    def cluster(self, cluster_key: str) -> list[Record]:
        """Every record of one work."""
        ...

    def cluster_of(self, record_id: str) -> list[Record]:
        """Every record of the work ``record_id`` belongs to, itself included; [] when the
        id is not indexed. Ordered by institution (Vietnamese collation,
        index/collation.py), then id: the same on every engine and every call, so pages
        listing a work's holdings do not reshuffle."""
        ...

    def recent(self, limit: int = 10) -> list[Record]:
        """The ``limit`` records most recently added or updated in this index, newest first,
        by the time the writer committed them (the ``indexed`` field). Records written
        before that field existed count as oldest, latest-written first."""
        ...

    def iter_ids(self) -> Iterator[str]:
        """Every live record id, streamed from one snapshot (no search pages, no list of
        every id held in memory): the sitemap walks it. Order is the engine's own."""
        ...

    def close(self) -> None:
        """Release this thread's reader (the index stays usable; it reopens on use)."""
        ...
