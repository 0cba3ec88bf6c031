"""What a search index hands back, whatever engine answers: results, hits, facet values.

Engine-neutral on purpose: the engines (``index.whoosh_engine``, ``index.tantivy_engine``)
import this module to build their answers, and :mod:`index.api` re-exports it; nothing
here may name an engine, so every engine fills in the same dataclasses and callers cannot
tell which one answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.record import Record

#: The orders a search can be sorted in; any other value means "relevance".
SORTS = ("relevance", "newest", "oldest", "title")
#: Results a search may page through: ranking costs grow with page * size, so past this
#: depth a reader refines the search instead (the page stays the last one reachable).
MAX_DEPTH = 10_000
#: The largest page a search returns.
MAX_PAGE_SIZE = 200


def page_bounds(page: int, size: int) -> tuple[int, int]:
    """``(page, size)`` as a search serves them: at least one result a page, at most
    :data:`MAX_PAGE_SIZE`, and no page past :data:`MAX_DEPTH` results."""
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    page = max(1, int(page))
    return min(page, max(1, MAX_DEPTH // size)), size


def effective_sort(sort: str, *, match_all: bool) -> str:
    """The order a search uses: an unknown ``sort`` is relevance, and a query that matches
    everything has nothing to rank by, so browsing lists the newest first."""
    sort = sort if sort in SORTS else "relevance"
    return "newest" if sort == "relevance" and match_all else sort


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
