"""Discovery search over a snapshot: filter, rank, collapse clusters, count facets.

Engine-neutral: every step is set algebra over the snapshot's cached posting sets and
columns (index/docsets.py); an engine only supplies postings, columns, the stored records
of the hits shown and its spelling suggestions (:class:`SearchSnapshot`). So every engine
ranks, collapses and counts alike, by one rule each.

An engine may instead answer a page of works itself (:meth:`SearchSnapshot.works`: the
tantivy engine does, index/tantivy_engine/ranking.py and copies.py), so that only the works
shown leave the engine; it then applies the rules kept here — :func:`first_per_cluster`
(which record stands for a work) and :func:`work_facets` (works counted once per value).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from index import querylang as qlang
from index.docsets import NO_YEAR, Columns, DocSet, DocSets
from index.facets import (
    FACET_FIELDS,
    facet_key,
    filter_years,
    grouped,
    top_values,
    year_buckets,
    year_period,
)
from index.features import ranking_features
from index.highlight import highlight, snippet
from index.record import Record
from index.results import FacetValue, Hit, SearchResult, effective_sort, page_bounds

#: Facets counted from the single-valued columns (the rest: subject, year).
_COLUMN_FACETS = ("institution", "type", "language", "access")
# (docnum, score) of a cluster's representative
_Ranked = list[tuple[int, float]]
_T = TypeVar("_T", str, int)


class SearchSnapshot(DocSets):
    """A snapshot discovery search can answer from: the set algebra of
    :class:`~index.docsets.DocSets`, and what an engine reads besides it."""

    def record(self, docnum: int) -> Record:
        """The stored record of ``docnum``."""
        raise NotImplementedError

    def cluster_docnums(self, cluster: str) -> list[int]:
        """The docnums of one cluster's records, ascending."""
        raise NotImplementedError

    def suggest(self, ast: qlang.Node) -> list[str]:
        """Spelling suggestions for a query (index/suggestion.py)."""
        raise NotImplementedError

    def works(self, ast: qlang.Node, filters: dict[str, list[str]] | None,
              year_range: tuple[int | None, int | None] | None,
              features: list[tuple[str, str, int]] | None, sort: str, want: int,
              facets: bool) -> Works | None:
        """The first ``want`` works matching ``ast`` in ``sort`` order, their total and (when
        ``facets``) their facet counts, answered by the engine itself by the rules of this
        module; None: the engine leaves it to the set algebra here (:func:`search`)."""
        return None

    def matches(self, ast: qlang.Node, filters: dict[str, list[str]] | None,
                year_range: tuple[int | None, int | None] | None,
                features: list[tuple[str, str, int]] | None) -> Matches:
        """What matches ``ast`` within the filters (see :class:`Matches`). By set algebra
        here; an engine may answer it itself (the tantivy engine does, in
        index/tantivy_engine/query.py), by the same rules."""
        docs = filtered_docs(self, self.docs(ast), filters, year_range)
        if features is None or not docs:
            return Matches(docs, Counter())
        return Matches(docs, feature_scores(self, docs, features))


@dataclass
class Matches:
    """The matches of one search: their live docnums, the coordination score of those
    holding at least one ranking feature (empty when ranking by a sort order), and,
    when the engine counts facet values itself, how to count them over all of ``docs``:
    facet → value → records, for the single-valued facets and ``year`` and, when the
    engine can, ``subject`` (every value, so that the works are counted exactly here)."""

    docs: set[int]
    score: Counter[int]
    value_counts: Callable[[], dict[str, Counter[Any]] | None] | None = None


@dataclass
class Works:
    """A page of works as an engine answers it (:meth:`SearchSnapshot.works`)."""

    total: int  # matching works
    #: (docnum, score, cluster key, whether the cluster may hold other records) of the
    #: record standing for each of the first works, best first
    ranked: list[tuple[int, float, str, bool]]
    facets: dict[str, list[FacetValue]] | None = None
    #: the stored record of a docnum of ``ranked`` when the engine read it already
    #: (else None: :meth:`SearchSnapshot.record` reads it)
    read: Callable[[int], Record | None] = lambda _docnum: None
    #: when the engine is still counting (beside the page: index/tantivy_engine/beside.py),
    #: what completes ``total`` and ``facets``, called once the page's hits are made; False:
    #: it could not, and the set algebra answers instead
    finish: Callable[[], bool] | None = None


def search(snap: SearchSnapshot, q: str, *,
           filters: dict[str, list[str]] | None = None,
           year_range: tuple[int | None, int | None] | None = None,
           sort: str = "relevance", page: int = 1, size: int = 20,
           facets: bool = True) -> SearchResult:
    """One page of the clusters matching ``q`` (see ``SearchIndex.search`` in
    index/contract.py)."""
    page, size = page_bounds(page, size)
    ast = qlang.parse(q)
    sort = effective_sort(sort, match_all=isinstance(ast, qlang.MatchAll))
    relevance = sort == "relevance"
    features = ranking_features(ast) if relevance else None
    want = page * size
    terms = qlang.query_terms(ast)
    answered = snap.works(ast, filters, year_range, features, sort, want, facets)
    hits: list[Hit] = []
    if answered is not None:
        hits = [_make_hit(snap, d, score, cluster, multi, terms, answered.read(d))
                for d, score, cluster, multi in answered.ranked[(page - 1) * size: want]]
        if answered.finish is not None and not answered.finish():
            answered = None
    if answered is not None:
        result = SearchResult(query=q, total=answered.total, page=page, size=size,
                              hits=hits, sort=sort)
        if facets and answered.facets is not None:
            result.facets = answered.facets
    else:
        result = _search_sets(snap, q, ast, filters, year_range, sort, features, page, size,
                              facets, terms)
    if result.total == 0 or (result.total < 3 and qlang.word_groups(ast)):
        result.suggestions = snap.suggest(ast)
    return result


def _search_sets(snap: SearchSnapshot, q: str, ast: qlang.Node,
                 filters: dict[str, list[str]] | None,
                 year_range: tuple[int | None, int | None] | None, sort: str,
                 features: list[tuple[str, str, int]] | None, page: int, size: int,
                 facets: bool, terms: set[str]) -> SearchResult:
    """:func:`search` by set algebra over the snapshot's docnums and columns."""
    found = snap.matches(ast, filters, year_range, features)
    docs = found.docs
    cols = snap.columns()
    cl = cols.single["cluster"]
    multi_docs = list(docs.intersection(cols.multi_set))
    total = len(docs) - len(multi_docs) + len({cl[d] for d in multi_docs})

    want = page * size
    ranked: _Ranked = []
    if docs:
        if features is not None:
            ranked = _top_features(snap, found.score, docs, cl, want)
        else:
            ranked = _top_sorted(snap.rank(sort), docs, cl, want)
    hits = [_make_hit(snap, d, score, cl[d], bool(cols.multi[d]), terms)
            for d, score in ranked[(page - 1) * size: want]]
    result = SearchResult(query=q, total=total, page=page, size=size, hits=hits, sort=sort)
    if facets:
        whole = found.value_counts() if found.value_counts is not None else None
        result.facets = _facet_counts(cols, docs, multi_docs, whole)
    return result


def filtered_docs(snap: DocSets, text_docs: DocSet, filters: dict[str, list[str]] | None,
                  year_range: tuple[int | None, int | None] | None) -> set[int]:
    """The live docnums of ``text_docs`` within the facet filters and the year range."""
    docs = set(text_docs)
    for name, values in (filters or {}).items():
        if not values:
            continue
        allowed: set[int] = set()
        for v in values:
            if name == "year":
                allowed |= snap.year_docs(*filter_years(v))
            elif name in FACET_FIELDS:
                allowed |= snap.value_docs(name, v)
        docs &= allowed
    if year_range and (year_range[0] is not None or year_range[1] is not None):
        docs &= snap.year_docs(year_range[0], year_range[1])
    return docs & snap.live()


def feature_scores(snap: DocSets, docs: set[int], features: list[tuple[str, str, int]]
                   ) -> Counter[int]:
    """The coordination score of the docs holding any ranking feature: the sum of the
    weights of the features they hold.

    Not Whoosh's BM25F: its matchers score every posting of every optional clause in Python
    (measured ~80 ms for 300 hits with the ~10 clauses a 3-syllable query has, seconds for a
    common syllable at 100k records); these are C-level set intersections over cached
    posting sets."""
    score: Counter[int] = Counter()
    for fieldname, term, weight in features:
        hit = docs.intersection(snap.term_docs(fieldname, term))
        for _ in range(weight):
            score.update(hit)
    return score


def first_per_cluster(ordered: Iterable[tuple[int, float, str, bool]], want: int
                      ) -> list[tuple[int, float, str, bool]]:
    """The first ``want`` works of records given in rank order: each cluster stands for one
    work, at the place of its best-ranked record, which represents it (the rule of
    :func:`_top_features` and :func:`_top_sorted`)."""
    out: list[tuple[int, float, str, bool]] = []
    if want <= 0:
        return out
    seen: set[str] = set()
    for item in ordered:
        if item[2] not in seen:
            seen.add(item[2])
            out.append(item)
            if len(out) >= want:
                break
    return out


def work_facets(whole: dict[str, Counter[Any]], extra: dict[str, Counter[Any]]
                ) -> dict[str, list[FacetValue]]:
    """Facet counts of works from the records of the matches holding each value
    (``whole``: the single-valued facets, ``subject`` and ``year``) less the records that
    repeat a work already counted for that value (``extra``: for each work, one fewer
    than its matching records holding the value). Subjects come as indexed and are counted
    per :func:`~index.facets.facet_key` (``extra`` too), shown by their most common spelling
    (index/facets.py, ``grouped``)."""
    out: dict[str, list[FacetValue]] = {}
    for name in _COLUMN_FACETS:
        counts = _less(whole.get(name, Counter()), extra.get(name))
        counts.pop("", None)
        out[name] = top_values(counts)
    keyed, labels = grouped(whole.get("subject", Counter()))
    counts = _less(keyed, extra.get("subject"))
    out["subject"] = top_values(Counter({labels[k]: n for k, n in counts.items()}))
    periods: Counter[str] = Counter()
    for year, n in whole.get("year", Counter()).items():
        if year != NO_YEAR:
            periods[year_period(year)] += n
    out["year"] = year_buckets(_less(periods, extra.get("year")))
    return out


def _less(whole: Counter[_T], extra: Counter[_T] | None) -> Counter[_T]:
    if not extra:
        return Counter({v: n for v, n in whole.items() if n > 0})
    return Counter({v: n - extra.get(v, 0) for v, n in whole.items() if n - extra.get(v, 0) > 0})


def _top_features(snap: SearchSnapshot, score: Counter[int], docs: set[int], cl: list[str],
                  want: int) -> _Ranked:
    """Coordination-level relevance: the weighted count of signals a document holds
    (adjacent syllables, title matches, exact accents: ``score``, see
    :func:`feature_scores`); among equals the shorter title (more of it matched), then the
    newest."""
    levels: dict[int, list[int]] = {}
    for d, sc in score.items():
        levels.setdefault(sc, []).append(d)
    rest = docs.difference(score) if len(score) < len(docs) else set()
    rank = snap.rank("shortest")
    out: _Ranked = []
    seen: set[str] = set()
    for sc in sorted(levels, reverse=True) + [0]:
        band = levels.get(sc, rest if sc == 0 else [])
        need = want - len(out)
        cand = heapq.nsmallest(need * 4 + 20, band, key=rank.__getitem__) \
            if len(band) > need * 4 + 20 else sorted(band, key=rank.__getitem__)
        for d in cand:
            if cl[d] not in seen:
                seen.add(cl[d])
                out.append((d, float(sc)))
                if len(out) >= want:
                    return out
        if len(cand) < len(band):  # the band had more clusters than we looked at
            for d in sorted(band, key=rank.__getitem__)[len(cand):]:
                if cl[d] not in seen:
                    seen.add(cl[d])
                    out.append((d, float(sc)))
                    if len(out) >= want:
                        return out
    return out


def _top_sorted(rank: list[int], docs: set[int], cl: list[str], want: int) -> _Ranked:
    k = max(want * 2, 20)
    while True:
        cand = heapq.nsmallest(k, docs, key=rank.__getitem__)
        out: _Ranked = []
        seen: set[str] = set()
        for d in cand:
            if cl[d] not in seen:
                seen.add(cl[d])
                out.append((d, 0.0))
                if len(out) >= want:
                    return out
        if k >= len(docs):
            return out
        k *= 4


def _facet_counts(cols: Columns, docs: set[int], multi_docs: list[int],
                  whole: dict[str, Counter[Any]] | None = None
                  ) -> dict[str, list[FacetValue]]:
    """Counts of works (clusters): a cluster held by three members counts once per value.
    ``whole``: the records of ``docs`` holding each value of the facets it names, when
    the engine counted them (:class:`Matches`); the rest are counted here from the
    columns."""
    cl = cols.single["cluster"]
    counted: dict[str, Counter[Any]] = dict(whole or {})
    extra: dict[str, Counter[Any]] = {}
    for name in _COLUMN_FACETS:
        col = cols.single[name]
        if name not in counted:
            counted[name] = Counter(map(col.__getitem__, docs))
        extra[name] = _repeats([(cl[d], col[d]) for d in multi_docs])
    subj = cols.subject
    if "subject" not in counted:
        counted["subject"] = Counter(v for d in docs for v in subj[d])
    extra["subject"] = _repeats([(cl[d], facet_key(v)) for d in multi_docs for v in subj[d]])
    yr = cols.year
    if "year" not in counted:
        counted["year"] = Counter(map(yr.__getitem__, docs))
    extra["year"] = _repeats([(cl[d], year_period(yr[d])) for d in multi_docs
                              if yr[d] != NO_YEAR])
    return work_facets(counted, extra)


def _repeats(pairs: list[tuple[str, _T]]) -> Counter[_T]:
    """Per value, the (cluster, value) pairs beyond the first of each cluster."""
    out = Counter(v for _, v in pairs)
    out.subtract(v for _, v in set(pairs))
    return out


def _make_hit(s: SearchSnapshot, docnum: int, score: float, cluster: str, multi: bool,
              terms: set[str], rec: Record | None = None) -> Hit:
    rec = s.record(docnum) if rec is None else rec
    institutions = [rec.institution] if rec.institution else []
    member_ids = [rec.id]
    if multi:
        for dn in s.cluster_docnums(cluster):
            if dn == docnum:
                continue
            other = s.record(dn)
            member_ids.append(other.id)
            if other.institution and other.institution not in institutions:
                institutions.append(other.institution)
    return Hit(record=rec, score=float(score), title_html=highlight(rec.title, terms),
               snippet_html=snippet(rec.abstract, terms) if rec.abstract else "",
               cluster_key=cluster, institutions=institutions, member_ids=member_ids)
