"""The matches of a search in rank order, read from tantivy a few at a time.

Discovery's orders (index/discovery.py: relevance is the coordination score, then
``DocSets.rank("shortest")``; the sort orders are ``DocSets.rank``'s, index/docsets.py)
are cut into levels tantivy can sort by — the score, then the ``shortest`` number
(index/tantivy_engine/order.py); the year, then the title's sort key; … — and the last
ties are broken here by the rule itself (``tie``) and then by docnum, as a stable sort
over docnums does. A level reads one page of hits in its order; the keys before the
page's last one are complete groups, sorted by the next levels; a page holding a single
key (a large group: every record with the top score, say) is read in the next level's
order instead. So a search that shows 20 works reads a few pages of hits, whatever the
number of matches. The caller (``first_per_cluster``, index/discovery.py) stops reading
when it has its works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol

import tantivy

from index.collation import sort_key
from index.docsets import NO_YEAR
from index.tantivy_engine import query
from index.tantivy_engine.schema import SHORTEST, stored_record

Occur = tantivy.Occur
Addr = tantivy.DocAddress
#: Hits read by the first page of a level, beyond those wanted; each later page 4× more,
#: up to :data:`_MAX_PAGE`. A page of one key is that key's group (or its start), read
#: in the next level's order. Pages ordered by a number are cheap to make long (the
#: score's top group is often a few hundred records: one search instead of two); pages
#: ordered by a keyword are not (tantivy looks each hit's keyword up).
_SLACK = 16
_NUMERIC_PAGE = 256
_MAX_PAGE = 4096


class Level(Protocol):
    """One part of an order that tantivy sorts by."""

    def top(self, q: tantivy.Query, limit: int, offset: int, count: bool = False
            ) -> tuple[list[tuple[Any, Addr]], int | None]:
        """The hits of ``q`` from ``offset`` in this level's order, with their keys, and
        (``count``) how many documents match ``q``."""
        ...

    def only(self, q: tantivy.Query, key: Any) -> tantivy.Query:
        """The documents of ``q`` with this level's key ``key`` — and, for the score, those
        above it too (read already: see :meth:`Ranking.ordered`)."""
        ...

    def keys(self, addrs: list[Addr]) -> list[Any] | None:
        """The keys of some documents, when tantivy hands them over cheaply (else None)."""
        ...

    def rank(self, key: Any) -> Any:
        """A value sorting keys ascending in this level's order."""
        ...


def _count(res: tantivy.SearchResult, counted: bool) -> int | None:
    n: int | None = res.count if counted else None  # type: ignore[attr-defined]
    return n


@dataclass(frozen=True)
class ScoreLevel:
    """The coordination score of the ranking features, highest first (index/tantivy_engine/
    query.py, ``scored_query``)."""

    searcher: tantivy.Searcher
    schema: tantivy.Schema
    features: Sequence[tuple[str, str, int]]

    def top(self, q: tantivy.Query, limit: int, offset: int, count: bool = False
            ) -> tuple[list[tuple[Any, Addr]], int | None]:
        res = self.searcher.search(query.scored_query(self.schema, q, self.features),
                                   limit=limit, offset=offset, count=count)
        return [(round(s), a) for s, a in res.hits], _count(res, count)

    def only(self, q: tantivy.Query, key: Any) -> tantivy.Query:
        # "At least ``key``": the scores above it were read in full before this one is,
        # and leaving them out ("not at least key + 1") would cost as much again.
        return tantivy.Query.boolean_query([
            (Occur.Must, q), (Occur.Must, query.at_least(self.schema, self.features, key))])

    def keys(self, addrs: list[Addr]) -> list[Any] | None:
        return None

    def rank(self, key: Any) -> Any:
        return -key


@dataclass(frozen=True)
class FieldLevel:
    """A fast field: an integer (``year``, ``shortest``) or a keyword (``title_sort``)."""

    searcher: tantivy.Searcher
    schema: tantivy.Schema
    field: str
    numeric: bool
    descending: bool = False

    def top(self, q: tantivy.Query, limit: int, offset: int, count: bool = False
            ) -> tuple[list[tuple[Any, Addr]], int | None]:
        order = tantivy.Order.Desc if self.descending else tantivy.Order.Asc
        res = self.searcher.search(q, limit=limit, offset=offset, count=count,
                                   order_by_field=self.field, order=order)
        return list(res.hits), _count(res, count)

    def only(self, q: tantivy.Query, key: Any) -> tantivy.Query:
        if self.numeric:
            kind = tantivy.FieldType.Unsigned if self.field == SHORTEST \
                else tantivy.FieldType.Integer
            this = tantivy.Query.range_query(self.schema, self.field, kind, key, key)
        else:
            this = tantivy.Query.term_query(self.schema, self.field, key,
                                            index_option="basic")
        return tantivy.Query.boolean_query([(Occur.Must, q), (Occur.Must, this)])

    def keys(self, addrs: list[Addr]) -> list[Any] | None:
        if not self.numeric:
            return None
        return list(self.searcher.fast_field_values(self.field, addrs))

    def rank(self, key: Any) -> Any:
        return -key if self.descending else key


#: The last tie-break before index order: the rule's remaining key of a record (its
#: stored document, and the record itself when needed).
Tie = Callable[[tantivy.Document, Callable[[], Any]], tuple[Any, ...]]


def relevance_tie(doc: tantivy.Document, record: Callable[[], Any]) -> tuple[Any, ...]:
    """``DocSets.rank("shortest")``'s key: title sort key length, newest, sort key, cluster
    (the ``shortest`` number only approximates the first three)."""
    rec = record()
    ts = sort_key(rec.title)
    year = int(rec.year) if rec.year is not None else NO_YEAR
    return (len(ts), -year, ts, str(doc.get_first("cluster")))


def cluster_tie(doc: tantivy.Document, record: Callable[[], Any]) -> tuple[Any, ...]:
    """The sort orders' last key (``DocSets.rank``): the cluster."""
    return (str(doc.get_first("cluster")),)


class Ranking:
    """The documents of one search in one order, and what was read of them."""

    def __init__(self, searcher: tantivy.Searcher, levels: Sequence[Level], tie: Tie,
                 docnum: Callable[[Addr], int], first_page: int):
        self.searcher = searcher
        self.levels = levels
        self.tie = tie
        self.docnum = docnum
        self.first_page = max(8, min(first_page, _MAX_PAGE))
        self.docs: dict[tuple[int, int], tantivy.Document] = {}

    def page(self, level: Level) -> int:
        """The first page's length at ``level``."""
        numeric = not isinstance(level, FieldLevel) or level.numeric
        return max(self.first_page, _NUMERIC_PAGE) if numeric else self.first_page

    def doc(self, a: Addr) -> tantivy.Document:
        k = (a.segment_ord, a.doc)
        d = self.docs.get(k)
        if d is None:
            d = self.docs[k] = self.searcher.doc(a)
        return d

    def cluster(self, a: Addr) -> str:
        return str(self.doc(a).get_first("cluster"))

    def first(self, q: tantivy.Query) -> tuple[list[tuple[Any, Addr]], int]:
        """The first page of ``q`` in order (to hand to :meth:`ordered`), and how many
        documents match ``q``: one search."""
        hits, n = self.levels[0].top(q, self.page(self.levels[0]), 0, count=True)
        return hits, n or 0

    def ordered(self, q: tantivy.Query, i: int = 0, lead: Any = None,
                first: list[tuple[Any, Addr]] | None = None) -> Iterator[tuple[Addr, Any]]:
        """The documents of ``q`` in order from level ``i`` on, each with the key of the
        first level (the score, for relevance); ``first``: its first page, when read
        already (:meth:`first`).

        A group of one score read in the next level's order holds the documents of the
        higher scores too (:meth:`ScoreLevel.only`), given again among its own: they
        belong to works given already, which the caller skips (``first_per_cluster``),
        and the offset past the group counts them (all of it is "at least" this score)."""
        level = self.levels[i]
        offset, limit = 0, self.page(level)
        while True:
            if first is not None:
                hits, first = first, None
            else:
                hits, _n = level.top(q, limit, offset)
            if not hits:
                return
            runs = [(k, [a for _k, a in g]) for k, g in groupby(hits, key=lambda h: h[0])]
            full = len(hits) == limit
            complete = runs[:-1] if full else runs
            for key, addrs in complete:
                yield from self._group(lambda: q, i, key, addrs, key if i == 0 else lead)
            if not full:
                return
            skip = sum(len(addrs) for _k, addrs in complete)
            if len(runs) == 1:  # a large group: read it in the next order
                key = runs[0][0]
                group = level.only(q, key)
                yield from self._inner(group, i, key if i == 0 else lead)
                skip = query.count(self.searcher, group)
            offset += skip
            limit = min(limit * 4, _MAX_PAGE)

    def _inner(self, group: tantivy.Query, i: int, lead: Any) -> Iterator[tuple[Addr, Any]]:
        """Every document of ``group`` (equal on levels up to ``i``) in order."""
        if i + 1 < len(self.levels):
            yield from self.ordered(group, i + 1, lead)
            return
        n = query.count(self.searcher, group)
        if n:
            hits = self.searcher.search(tantivy.Query.const_score_query(group, 0.0), limit=n,
                                        count=False).hits
            yield from self._ties([a for _s, a in hits], lead)

    def _group(self, q: Callable[[], tantivy.Query], i: int, key: Any, addrs: list[Addr],
               lead: Any) -> Iterator[tuple[Addr, Any]]:
        """A complete group of documents equal on levels up to ``i`` (the documents of
        ``q()`` with key ``key`` at level ``i``), in order."""
        if len(addrs) == 1:
            yield addrs[0], lead
            return
        if i + 1 >= len(self.levels):
            yield from self._ties(addrs, lead)
            return
        nxt = self.levels[i + 1]
        keys = nxt.keys(addrs)

        def group() -> tantivy.Query:
            return self.levels[i].only(q(), key)

        if keys is None:  # tantivy sorts it
            yield from self.ordered(group(), i + 1, lead)
            return
        pairs = sorted(zip(keys, addrs, strict=True), key=lambda ka: nxt.rank(ka[0]))
        for k2, g in groupby(pairs, key=lambda ka: ka[0]):
            sub = [a for _k, a in g]
            if len(sub) == 1:
                yield sub[0], lead
            else:
                yield from self._group(group, i + 1, k2, sub, lead)

    def _ties(self, addrs: list[Addr], lead: Any) -> Iterator[tuple[Addr, Any]]:
        """Documents equal on every level: by the rule's last key, then index order."""
        if len(addrs) > 1:
            def key(a: Addr) -> tuple[Any, ...]:
                doc = self.doc(a)
                return (*self.tie(doc, lambda: stored_record(doc)), self.docnum(a))
            addrs = sorted(addrs, key=key)
        for a in addrs:
            yield a, lead


def levels_for(sort: str, searcher: tantivy.Searcher, schema: tantivy.Schema,
               features: Sequence[tuple[str, str, int]] | None
               ) -> tuple[list[Level], Tie]:
    """The levels and last tie-break of discovery's order ``sort`` (relevance when
    ``features`` is given)."""
    year = FieldLevel(searcher, schema, "year", numeric=True, descending=sort != "oldest")
    title = FieldLevel(searcher, schema, "title_sort", numeric=False)
    if features is not None:
        return [ScoreLevel(searcher, schema, features),
                FieldLevel(searcher, schema, SHORTEST, numeric=True)], relevance_tie
    if sort == "title":
        return [title, FieldLevel(searcher, schema, "year", numeric=True, descending=True)], \
            cluster_tie
    return [year, title], cluster_tie


class Ordered:
    """The matches of one search in discovery's order ``sort`` (relevance when
    ``features`` is given), read lazily, each with its score for relevance."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema,
                 match: tantivy.Query, sort: str,
                 features: Sequence[tuple[str, str, int]] | None,
                 docnum: Callable[[Addr], int], want: int):
        levels, tie = levels_for(sort, searcher, schema, features)
        self.ranking = Ranking(searcher, levels, tie, docnum, 2 * want + _SLACK)
        self._first: list[tuple[Any, Addr]] | None = None
        self._parts = [match]
        if sort == "oldest" and features is None:
            # Records without a year come last, in title order (DocSets.rank).
            dated = query.year_query(schema, None, None)
            self._parts = [
                tantivy.Query.boolean_query([(Occur.Must, match), (Occur.Must, dated)]),
                tantivy.Query.boolean_query([(Occur.Must, match), (Occur.MustNot, dated)])]
            self._late = Ranking(searcher, levels[1:], tie, docnum, 2 * want + _SLACK)
            self._late.docs = self.ranking.docs

    def first(self) -> tuple[list[Addr], int | None]:
        """The documents of the first page, and how many documents match (None when the
        first page is not of every match)."""
        hits, n = self.ranking.first(self._parts[0])
        self._first = hits
        return [a for _k, a in hits], n if len(self._parts) == 1 else None

    def cluster(self, a: Addr) -> str:
        return self.ranking.cluster(a)

    def __iter__(self) -> Iterator[tuple[Addr, Any]]:
        yield from self.ranking.ordered(self._parts[0], first=self._first)
        if len(self._parts) > 1:
            yield from self._late.ordered(self._parts[1])

    def by_score(self, budget: int) -> Iterator[tuple[Addr, Any]]:
        """Relevance order (``features`` given) read one score at a time from the top,
        without scoring every match: for each score ``s`` the ranking features can add up
        to, highest first, the matches scoring at least ``s`` in the next levels' order
        (those scoring more come again: their works were given already, and the caller
        skips them, as :meth:`Ranking.ordered` does within a level). Scores are read while
        the records their features can reach (an estimate from document frequencies, added
        up over the scores read) stay within ``budget``; then the whole order is read from
        the top (the works given already come again, and are skipped).

        Measured at 100k records: a word matching most of the index has its first works
        among a few hundred records of the top score or two (0.1–0.9 ms), where scoring
        every match costs 2–5 ms; one search over all the matches scoring at least the
        lowest such score, in score order, cost more than the searches score by score."""
        score_level = self.ranking.levels[0]
        assert isinstance(score_level, ScoreLevel)
        searcher, schema = score_level.searcher, score_level.schema
        weight: dict[tuple[str, str], int] = {}
        for f, t, w in score_level.features:
            if w > 0 and searcher.doc_freq(f, t) > 0:  # a term nobody holds adds nothing
                weight[(f, t)] = weight.get((f, t), 0) + w
        items, weights = list(weight), list(weight.values())
        freq = [searcher.doc_freq(f, t) for f, t in weight]
        sums = {0}
        for w in weights:
            sums |= {x + w for x in sums}
        spent = 0
        for score in sorted(sums - {0}, reverse=True):
            found = query.covers(weights, score)
            if found is None:
                break
            spent += sum(min(freq[i] for i in cover) for cover in found)
            if spent > budget:
                break
            group = tantivy.Query.boolean_query([
                (Occur.Must, self._parts[0]),
                (Occur.Must, query.any_cover(schema, items, found))])
            yield from self.ranking.ordered(group, 1, score)
        yield from iter(self)
