"""Discovery search over a snapshot: filter, rank, collapse clusters, count facets.

Every step is set algebra over the snapshot's cached posting sets and columns
(index/engine/snapshot.py, index/engine/columns.py); Whoosh only supplies the postings and
the stored records of the hits shown.
"""

from __future__ import annotations

import heapq
from collections import Counter
from pathlib import Path

from index import querylang as qlang
from index.engine.columns import NO_YEAR, Columns
from index.engine.schema import unpack_record
from index.engine.snapshot import DocSet, Snapshot
from index.engine.suggest import suggest as suggest_spelling
from index.engine.whoosh_query import ranking_features
from index.engine.whoosh_types import Searcher
from index.facets import FACET_FIELDS, filter_years, top_values, year_buckets
from index.highlight import highlight, snippet
from index.results import FacetValue, Hit, SearchResult, effective_sort, page_bounds

#: Facets counted from the single-valued columns (the rest: subject, year).
_COLUMN_FACETS = ("institution", "type", "language", "access")
# (docnum, score) of a cluster's representative
_Ranked = list[tuple[int, float]]


def search(snap: Snapshot, gen_dir: Path, q: str, *,
           filters: dict[str, list[str]] | None = None,
           year_range: tuple[int | None, int | None] | None = None,
           sort: str = "relevance", page: int = 1, size: int = 20,
           facets: bool = True) -> SearchResult:
    """One page of the clusters matching ``q`` (see ``SearchIndex.search`` in
    index/contract.py). ``gen_dir`` is the snapshot's directory (for the spelling tables)."""
    page, size = page_bounds(page, size)
    ast = qlang.parse(q)
    sort = effective_sort(sort, match_all=isinstance(ast, qlang.MatchAll))
    docs = _filtered_docs(snap, snap.docs(ast), filters, year_range)
    cols = snap.columns()
    cl = cols.single["cluster"]
    multi_docs = list(docs.intersection(cols.multi_set))
    total = len(docs) - len(multi_docs) + len({cl[d] for d in multi_docs})

    want = page * size
    ranked: _Ranked = []
    if docs:
        if sort == "relevance":
            ranked = _top_features(snap, ast, docs, cl, want)
        else:
            ranked = _top_sorted(snap.rank(sort), docs, cl, want)
    terms = qlang.query_terms(ast)
    hits = [_make_hit(snap.searcher, d, score, cl[d], bool(cols.multi[d]), terms)
            for d, score in ranked[(page - 1) * size: want]]
    result = SearchResult(query=q, total=total, page=page, size=size, hits=hits, sort=sort)
    if facets:
        result.facets = _facet_counts(cols, docs, multi_docs)
    if total == 0 or (total < 3 and qlang.word_groups(ast)):
        result.suggestions = suggest_spelling(snap.searcher, ast, gen_dir)
    return result


def _filtered_docs(snap: Snapshot, text_docs: DocSet, filters: dict[str, list[str]] | None,
                   year_range: tuple[int | None, int | None] | None) -> set[int]:
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


def _top_features(snap: Snapshot, ast: qlang.Node, docs: set[int], cl: list[str],
                  want: int) -> _Ranked:
    """Coordination-level relevance: the weighted count of signals a document holds
    (adjacent syllables, title matches, exact accents); among equals the shorter title
    (more of it matched), then the newest.

    Not Whoosh's BM25F: its matchers score every posting of every optional clause in Python
    (measured ~80 ms for 300 hits with the ~10 clauses a 3-syllable query has, seconds for a
    common syllable at 100k records); these are C-level set intersections over cached
    posting sets."""
    score: Counter[int] = Counter()
    for fieldname, term, weight in ranking_features(ast):
        hit = docs.intersection(snap.term_docs(fieldname, term))
        for _ in range(weight):
            score.update(hit)
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


def _facet_counts(cols: Columns, docs: set[int], multi_docs: list[int]
                  ) -> dict[str, list[FacetValue]]:
    """Counts of works (clusters): a cluster held by three members counts once per value."""
    cl = cols.single["cluster"]
    singles = docs.difference(multi_docs) if multi_docs else docs
    out: dict[str, list[FacetValue]] = {}
    for name in _COLUMN_FACETS:
        col = cols.single[name]
        counts = Counter(map(col.__getitem__, singles))
        counts.update(v for _, v in {(cl[d], col[d]) for d in multi_docs})
        counts.pop("", None)
        out[name] = top_values(counts)
    subj = cols.subject
    counts = Counter(v for d in singles for v in subj[d])
    counts.update(v for _, v in {(cl[d], v) for d in multi_docs for v in subj[d]})
    out["subject"] = top_values(counts)
    yr = cols.year
    year_counts = Counter(map(yr.__getitem__, singles))
    year_counts.update(y for _, y in {(cl[d], yr[d]) for d in multi_docs})
    year_counts.pop(NO_YEAR, None)
    out["year"] = year_buckets(year_counts)
    return out


def _make_hit(s: Searcher, docnum: int, score: float, cluster: str, multi: bool,
              terms: set[str]) -> Hit:
    rec = unpack_record(s.stored_fields(docnum)["rec"])
    institutions = [rec.institution] if rec.institution else []
    member_ids = [rec.id]
    if multi:
        for dn in sorted(s.document_numbers(cluster=cluster)):
            if dn == docnum:
                continue
            other = unpack_record(s.stored_fields(dn)["rec"])
            member_ids.append(other.id)
            if other.institution and other.institution not in institutions:
                institutions.append(other.institution)
    return Hit(record=rec, score=float(score), title_html=highlight(rec.title, terms),
               snippet_html=snippet(rec.abstract, terms) if rec.abstract else "",
               cluster_key=cluster, institutions=institutions, member_ids=member_ids)
