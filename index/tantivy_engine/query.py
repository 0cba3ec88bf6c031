"""Discovery matching inside tantivy: a parsed query, its facet filters and its ranking
features as one tantivy query, so only the matching documents leave the engine.

The same rules as the set algebra every engine can fall back on (index/docsets.py,
``DocSets.docs``; index/discovery.py, ``filtered_docs`` and ``feature_scores``), written as
tantivy clauses: a word group requires all its terms (index/features.py), a year range
leaves out records without a year (index/docsets.py, ``NO_YEAR``), a facet filter keeps
records holding any of its values, and an unknown filter keeps nothing. The coordination
score of index/discovery.py is tantivy's sum of constant-score clauses, one per ranking
feature with its weight (small integers: exact in tantivy's floats). tests/index runs the
same assertions on this path and on Whoosh's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import tantivy

from index import querylang as qlang
from index.docsets import NO_YEAR
from index.facets import FACET_FIELDS, filter_years
from index.features import required_terms

Occur = tantivy.Occur
_Clauses = list[tuple[tantivy.Occur, tantivy.Query]]


def _term(schema: tantivy.Schema, fieldname: str, text: str) -> tantivy.Query:
    return tantivy.Query.term_query(schema, fieldname, text, index_option="basic")


def _all_of(queries: Sequence[tantivy.Query]) -> tantivy.Query:
    if not queries:
        return tantivy.Query.empty_query()
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(Occur.Must, q) for q in queries])


def _any_of(queries: Sequence[tantivy.Query]) -> tantivy.Query:
    if not queries:
        return tantivy.Query.empty_query()
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(Occur.Should, q) for q in queries])


def count(searcher: tantivy.Searcher, q: tantivy.Query) -> int:
    """How many live documents match ``q`` (at a constant score: scoring the terms for the
    one hit the search must return doubled the cost, measured at 1M records)."""
    res = searcher.search(tantivy.Query.const_score_query(q, 0.0), limit=1, count=True)
    n: int = res.count  # type: ignore[attr-defined]
    return n


def year_query(schema: tantivy.Schema, start: int | None, end: int | None) -> tantivy.Query:
    """Records with a year from ``start`` to ``end`` (None: open-ended)."""
    lo = NO_YEAR + 1 if start is None else max(start, NO_YEAR + 1)
    if end is not None and end < lo:
        return tantivy.Query.empty_query()
    if end == lo:  # one year: its term (a range scans every record's year)
        return tantivy.Query.term_query(schema, "year", lo)
    return tantivy.Query.range_query(schema, "year", tantivy.FieldType.Integer, lo, end)


def node_query(schema: tantivy.Schema, node: qlang.Node) -> tantivy.Query:
    """The records matching a parsed query (``DocSets.docs``'s rules)."""
    if isinstance(node, qlang.Words):
        return _all_of([_term(schema, f, t) for f, t in required_terms(node)])
    if isinstance(node, qlang.Ident):
        return _term(schema, node.kind, node.value)
    if isinstance(node, qlang.YearRange):
        return year_query(schema, node.start, node.end)
    if isinstance(node, qlang.MatchAll):
        return tantivy.Query.all_query()
    if isinstance(node, qlang.And):
        pos = [node_query(schema, c) for c in node.children if not isinstance(c, qlang.Not)]
        neg = [node_query(schema, c.child) for c in node.children if isinstance(c, qlang.Not)]
        clauses: _Clauses = [(Occur.Must, q) for q in pos or [tantivy.Query.all_query()]]
        clauses += [(Occur.MustNot, q) for q in neg]
        return tantivy.Query.boolean_query(clauses)
    if isinstance(node, qlang.Or):
        return _any_of([node_query(schema, c) for c in node.children])
    if isinstance(node, qlang.Not):
        return tantivy.Query.boolean_query([(Occur.Must, tantivy.Query.all_query()),
                                            (Occur.MustNot, node_query(schema, node.child))])
    return tantivy.Query.empty_query()


def filter_query(schema: tantivy.Schema, filters: dict[str, list[str]] | None,
                 year_range: tuple[int | None, int | None] | None,
                 spellings: Callable[[str], list[str]] | None = None) -> list[tantivy.Query]:
    """The facet filters and year range as required clauses (none: no restriction).
    ``spellings``: the subject terms a subject filter value stands for (``DocSets.
    subject_spellings``, index/docsets.py); without it, the value as given."""
    out: list[tantivy.Query] = []
    for name, values in (filters or {}).items():
        if not values:
            continue
        if name == "year":
            out.append(_any_of([year_query(schema, *filter_years(v)) for v in values]))
        elif name == "subject" and spellings is not None:
            out.append(_any_of([_term(schema, name, t) for v in values
                                for t in dict.fromkeys(spellings(v))]))
        elif name in FACET_FIELDS:
            # Keyword fields hold each value as one term (index/tantivy_engine/schema.py).
            out.append(_any_of([_term(schema, name, v) for v in values]))
        else:
            out.append(tantivy.Query.empty_query())
    if year_range and (year_range[0] is not None or year_range[1] is not None):
        out.append(year_query(schema, year_range[0], year_range[1]))
    return out


def match_query(schema: tantivy.Schema, ast: qlang.Node,
                filters: dict[str, list[str]] | None,
                year_range: tuple[int | None, int | None] | None,
                spellings: Callable[[str], list[str]] | None = None) -> tantivy.Query:
    """Matches of ``ast`` within the facet filters and the year range."""
    return _all_of([node_query(schema, ast)]
                   + filter_query(schema, filters, year_range, spellings))


#: Beyond this many minimal sets of features, "score at least s" is one clause counting
#: its matching sub-clauses instead (slower: every feature's postings, once per weight).
_MAX_COVERS = 48


def covers(weights: Sequence[int], score: int, limit: int = _MAX_COVERS
           ) -> list[list[int]] | None:
    """The minimal sets of items (indexes into ``weights``) whose weights add up to at
    least ``score``; None when there are more than ``limit``."""
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    suffix = [0] * (len(order) + 1)  # weight still available from position k on
    for k in range(len(order) - 1, -1, -1):
        suffix[k] = suffix[k + 1] + weights[order[k]]
    out: list[list[int]] = []
    chosen: list[int] = []

    def walk(k: int, total: int) -> bool:
        if total >= score:  # heaviest first: the last item added was needed
            out.append(list(chosen))
            return len(out) <= limit
        if k == len(order) or total + suffix[k] < score:
            return True
        chosen.append(order[k])
        ok = walk(k + 1, total + weights[order[k]])
        chosen.pop()
        return ok and walk(k + 1, total)

    return out if walk(0, 0) else None


def at_least(schema: tantivy.Schema, features: Sequence[tuple[str, str, int]], score: int
             ) -> tantivy.Query:
    """The documents whose coordination score (:func:`scored_query`) is at least ``score``:
    any of the minimal sets of features that reach it, each set all required."""
    if score <= 0:
        return tantivy.Query.all_query()
    weight: dict[tuple[str, str], int] = {}
    for f, t, w in features:  # a term twice counts twice
        weight[(f, t)] = weight.get((f, t), 0) + w
    items = list(weight)
    found = covers([weight[k] for k in items], score)
    if found is None:
        clauses: _Clauses = [(Occur.Should, _term(schema, f, t))
                             for (f, t), w in weight.items() for _ in range(w)]
        return tantivy.Query.boolean_query(clauses, minimum_number_should_match=score)
    return any_cover(schema, items, found)


def any_cover(schema: tantivy.Schema, items: Sequence[tuple[str, str]],
              found: Sequence[Sequence[int]]) -> tantivy.Query:
    """The documents holding every term of any of the sets ``found`` (of :func:`covers`,
    indexes into ``items``)."""
    return _any_of([_all_of([_term(schema, *items[i]) for i in cover]) for cover in found])


def scored_query(schema: tantivy.Schema, match: tantivy.Query,
                 features: Sequence[tuple[str, str, int]] | None) -> tantivy.Query:
    """The documents of ``match``, scored by the weighted ranking ``features`` they hold
    (all scored 0 when ``features`` is None)."""
    clauses: _Clauses = [(Occur.Must, tantivy.Query.const_score_query(match, 0.0))]
    for fieldname, term, weight in features or ():
        clauses.append((Occur.Should, tantivy.Query.const_score_query(
            _term(schema, fieldname, term), float(weight))))
    return tantivy.Query.boolean_query(clauses)


#: Facet values counted by tantivy (fast fields: index/tantivy_engine/schema.py), every
#: value of each (a terms aggregation is exact when it returns all of a field's values).
_COLUMNS = ("institution", "type", "language", "access", "year")
_ALL_VALUES = 1 << 16
#: Above this share of the index matching, ``subject`` is counted by walking its postings
#: (cost: the index's subject postings) rather than by aggregation (cost: the matches'
#: values, several times slower per document for a field of several values).
_SUBJECT_WALK_SHARE = 0.1


def _terms(names: Sequence[str]) -> dict[str, Any]:
    return {name: {"terms": {"field": name, "size": _ALL_VALUES}} for name in names}


_COLUMN_AGG = _terms(_COLUMNS)
_SUBJECT_AGG = _terms(["subject"])
_FACET_AGG = _terms([*_COLUMNS, "subject"])
#: A subject vocabulary larger than this is never walked term by term (each term costs
#: ~2.5 µs, whatever it matches: 20,000 subjects, 50 ms a search) nor counted in full (each
#: value counted costs ~1.8 µs to hand over): its most frequent spellings among the matches
#: are counted instead, :data:`SUBJECT_TOP` of them — what the facet lists (index/facets.py,
#: ``FACET_LIMIT``) and more, exact for those (tantivy counts each segment's leaders apart
#: before merging).
SUBJECT_TERMS = 4096
SUBJECT_TOP = 1024
_SUBJECT_TOP_AGG = {"subject": {"terms": {"field": "subject", "size": SUBJECT_TOP}}}


def _counted(res: dict[str, Any]) -> dict[str, Counter[Any]] | None:
    out: dict[str, Counter[Any]] = {}
    for name, agg in res.items():
        if agg.get("sum_other_doc_count", 0):
            return None
        conv = int if name == "year" else str
        out[name] = Counter({conv(b["key"]): int(b["doc_count"]) for b in agg["buckets"]})
    return out


def value_counts(searcher: tantivy.Searcher, match: tantivy.Query,
                 matching: int | None = None,
                 everything: Callable[[], dict[str, Any]] | None = None,
                 subjects: int | None = None) -> dict[str, Counter[Any]] | None:
    """Records of ``match`` holding each value of the facets and ``year``, by facet (every
    record has a year: ``NO_YEAR`` when it has none, so they add up to the matches); None
    when a single-valued facet has more values than an aggregation returns. ``matching``:
    how many records match, when known (few matches are counted in one aggregation; most
    of the index, as the whole index's counts — ``everything``, the aggregation of
    :func:`column_counts` over every record — less those of the records not matching).
    ``subjects``: how many subject terms the index holds, when known; over
    :data:`SUBJECT_TERMS`, only the :data:`SUBJECT_TOP` most frequent among the matches are
    counted (bounded work whatever the vocabulary)."""
    walk = _SUBJECT_WALK_SHARE * searcher.num_docs
    large = subjects is not None and subjects > SUBJECT_TERMS
    res = None
    if matching is not None and matching <= walk and not large:
        try:
            res = searcher.aggregate(match, _FACET_AGG)
        except ValueError:  # ``subject`` is not a fast field in this generation
            res = None
    out: dict[str, Counter[Any]] | None
    by_agg = None
    if res is not None:
        by_agg = res.pop("subject", None)
        out = _counted(res)
    elif everything is not None and matching is not None \
            and matching > _OUTSIDE_SHARE * searcher.num_docs:
        out = _less(_counted(everything()), _counted(searcher.aggregate(
            tantivy.Query.boolean_query([(Occur.Must, tantivy.Query.all_query()),
                                         (Occur.MustNot, match)]), _COLUMN_AGG)))
    else:
        out = _counted(searcher.aggregate(match, _COLUMN_AGG))
    if out is None:
        return None
    subject = _counted({"subject": by_agg}) if by_agg is not None else None
    total = sum(out["year"].values())
    if large:
        out["subject"] = _top_subjects(searcher, match) if total else Counter()
        return out
    if subject is None and total and total <= walk:
        try:
            subject = _counted(searcher.aggregate(match, _SUBJECT_AGG))
        except ValueError:
            subject = None
    if subject is not None:
        out["subject"] = subject["subject"]
    elif total:
        pairs = searcher.terms_with_prefix("subject", "", filter_query=match)
        out["subject"] = Counter({t: n for t, n in pairs if n > 0})
    else:
        out["subject"] = Counter()
    return out


def _top_subjects(searcher: tantivy.Searcher, match: tantivy.Query) -> Counter[Any]:
    """The :data:`SUBJECT_TOP` subject spellings the most records of ``match`` hold."""
    try:
        res = searcher.aggregate(match, _SUBJECT_TOP_AGG)
    except ValueError:  # ``subject`` is not a fast field in this generation: walk it
        pairs = searcher.terms_with_prefix("subject", "", filter_query=match)
        return Counter(dict(sorted(((t, n) for t, n in pairs if n > 0),
                                   key=lambda tn: -tn[1])[:SUBJECT_TOP]))
    return Counter({str(b["key"]): int(b["doc_count"]) for b in res["subject"]["buckets"]})


#: Above this share of the index matching, the facets are counted over the records that do
#: not match: tantivy intersects dense posting lists slowly and excludes them fast
#: (measured at 100k records, a query matching 90 %: 2.6 ms counted over its matches,
#: 0.9 ms over the rest; at 55 % the rest costs more).
_OUTSIDE_SHARE = 2 / 3


def column_counts(searcher: tantivy.Searcher) -> dict[str, Any]:
    """The single-valued facets and ``year`` counted over every record (per snapshot)."""
    res: dict[str, Any] = searcher.aggregate(tantivy.Query.all_query(), _COLUMN_AGG)
    return res


def _less(whole: dict[str, Counter[Any]] | None, part: dict[str, Counter[Any]] | None
          ) -> dict[str, Counter[Any]] | None:
    if whole is None or part is None:
        return None
    return {name: counts - part.get(name, Counter()) for name, counts in whole.items()}
