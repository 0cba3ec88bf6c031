"""The engine-neutral face of the index: result dataclasses and the entry points.

Harvesters, the web layer and the resolver import only from ``index`` (this module and
``index.record``); nothing here mentions Whoosh, so another engine can replace it by
providing the same :class:`SearchIndex` methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from index.record import Record

SORTS = ("relevance", "newest", "oldest", "title")


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int  # clusters (works), not records


@dataclass
class Hit:
    record: Record  # the cluster's representative (best-ranked member)
    score: float
    title_html: str  # HTML-escaped title, query syllables wrapped in <mark>
    snippet_html: str  # HTML-escaped abstract excerpt with <mark>
    cluster_key: str
    institutions: list[str] = field(default_factory=list)  # every holding institution
    member_ids: list[str] = field(default_factory=list)  # every record id of the cluster


@dataclass
class SearchResult:
    query: str
    total: int  # matching clusters
    page: int
    size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    sort: str = "relevance"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size)) if self.size else 1


class IndexLocked(TimeoutError):
    """Another writer holds the index lock longer than the requested timeout."""


class IndexWriter(Protocol):
    def add(self, records: Iterable[Record]) -> int: ...
    def delete(self, ids: Iterable[str]) -> int: ...


class SearchIndex(Protocol):
    """What every engine provides (see ``index.engine.core.WhooshIndex``)."""

    def writer(self, timeout: float = 30.0): ...  # context manager yielding IndexWriter
    def get(self, record_id: str) -> Record | None: ...
    def search(self, q: str, *, filters: dict[str, list[str]] | None = None,
               year_range: tuple[int | None, int | None] | None = None,
               sort: str = "relevance", page: int = 1, size: int = 20,
               facets: bool = True) -> SearchResult: ...
    def lookup(self, *, doi: str | None = None, isbn: str | None = None,
               issn: str | None = None, handle: str | None = None, title: str | None = None,
               year: int | None = None, author: str | None = None,
               limit: int = 10) -> list[Record]: ...
    def count(self) -> int: ...
    def suggest(self, q: str) -> list[str]: ...
    def cluster(self, cluster_key: str) -> list[Record]: ...


def open_index(path: str | Path, *, readonly: bool = False) -> SearchIndex:
    """Open (or, unless ``readonly``, create) the index in directory ``path``."""
    from index.engine.core import WhooshIndex  # the engine is chosen here and nowhere else

    return WhooshIndex(Path(path), readonly=readonly)


def rebuild(path: str | Path, records: Iterable[Record], *, batch: int = 10000,
            procs: int | None = None) -> None:
    """Build a complete index from ``records`` beside ``path`` and swap it in atomically.

    ``procs`` indexing processes (default 1); ``batch`` records per commit.
    """
    from index.engine.core import rebuild_whoosh

    rebuild_whoosh(Path(path), records, batch=batch, procs=procs)
