"""Query tree (``index.querylang``) → Whoosh queries over this engine's schema.

What a word group requires and what only adds score is decided in index/features.py (the
same for every engine); this module spells it in Whoosh's query classes.
"""

from __future__ import annotations

from whoosh import query as wq

from index import querylang as q
from index.features import analyse, optional_terms, required_terms


def words_query(node: q.Words) -> wq.Query:
    _group, folds, _exacts, _pairs = analyse(node)
    if not folds:
        return wq.NullQuery
    required: list[wq.Query] = [wq.Term(f, t) for f, t in required_terms(node)]
    optional: list[wq.Query] = [wq.Term(f, t, boost=b) for f, t, b in optional_terms(node)]
    req = required[0] if len(required) == 1 else wq.And(required)
    if not optional:
        return req
    return wq.AndMaybe(req, wq.Or(optional))


def to_whoosh(node: q.Node) -> wq.Query:
    """Translate a parsed query; unknown nodes become NullQuery (match nothing)."""
    if isinstance(node, q.Words):
        return words_query(node)
    if isinstance(node, q.MatchAll):
        return wq.Every()
    if isinstance(node, q.NoMatch):
        return wq.NullQuery
    if isinstance(node, q.Ident):
        return wq.Term(node.kind, node.value)
    if isinstance(node, q.YearRange):
        return wq.NumericRange("year", node.start, node.end)
    if isinstance(node, q.And):
        pos = [to_whoosh(c) for c in node.children if not isinstance(c, q.Not)]
        neg = [to_whoosh(c.child) for c in node.children if isinstance(c, q.Not)]
        base: wq.Query = wq.And(pos) if len(pos) > 1 else (pos[0] if pos else wq.Every())
        return wq.AndNot(base, wq.Or(neg)) if neg else base
    if isinstance(node, q.Or):
        return wq.Or([to_whoosh(c) for c in node.children])
    if isinstance(node, q.Not):
        return wq.AndNot(wq.Every(), to_whoosh(node.child))
    return wq.NullQuery
