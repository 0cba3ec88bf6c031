"""Query tree (``index.querylang``) → the terms and Whoosh queries of this engine's schema.

For a group of words: every folded syllable is required (in the group's ``*_f`` field, or
adjacent pairs in ``*_b`` for a phrase); optional clauses only add score — title and bigram
matches, and, when the user typed diacritics, accent-exact matches weighted so that exact
spellings outrank folded collisions ("bàn" above "bán", "ban", "bạn").
"""

from __future__ import annotations

from whoosh import query as wq

from index import analysis
from index import querylang as q

_GROUP = {None: "all", "title": "title", "author": "creator", "subject": "subject"}
EXACT_BOOST = 4.0
BIGRAM_BOOST = 2.0
TITLE_BOOST = 1.5


def _terms(field: str, texts: list[str], boost: float = 1.0) -> list[wq.Query]:
    return [wq.Term(field, t, boost=boost) for t in dict.fromkeys(texts) if t]


def analyse(node: q.Words) -> tuple[str, list[str], list[str], list[str]]:
    group = _GROUP.get(node.field, "all")
    words = [s.text for s in analysis.syllables(analysis.nfc(node.text))]
    folds = [analysis.fold_syllable(w) for w in words]
    exacts = [analysis.exact_form(w) for w in words]
    # The pairs the index made of the same text (one rule, analysis.gap_separator): a
    # phrase copied from a title, punctuation and all, asks for exactly the title's pairs.
    pairs = analysis.fold_bigrams(node.text)
    return group, folds, exacts, pairs


def required_terms(node: q.Words) -> list[tuple[str, str]]:
    """The (field, term) pairs a document must all hold to match a word group."""
    group, folds, _, pairs = analyse(node)
    if node.phrase and pairs:
        lone = analysis.phrase_terms(node.text)[1]
        return ([(f"{group}_b", p) for p in dict.fromkeys(pairs)]
                + [(f"{group}_f", f) for f in dict.fromkeys(lone)])
    return [(f"{group}_f", f) for f in dict.fromkeys(folds) if f]


def words_query(node: q.Words) -> wq.Query:
    group, folds, exacts, pairs = analyse(node)
    if not folds:
        return wq.NullQuery
    required: list[wq.Query] = [wq.Term(f, t) for f, t in required_terms(node)]
    optional: list[wq.Query] = []
    if not (node.phrase and pairs):
        optional += _terms(f"{group}_b", pairs, BIGRAM_BOOST)
    if group == "all":
        optional += _terms("title_f", folds, TITLE_BOOST)
        optional += _terms("title_b", pairs, TITLE_BOOST * BIGRAM_BOOST)
    if analysis.has_diacritics(node.text):
        # Only the syllables the user actually accented: "Đặng thai" boosts "đặng" only.
        accented = [e for e, f in zip(exacts, folds, strict=True) if e != f]
        optional += _terms(f"{group}_x", accented, EXACT_BOOST)
        if group == "all":
            optional += _terms("title_x", accented, EXACT_BOOST)
    req = required[0] if len(required) == 1 else wq.And(required)
    if not optional:
        return req
    return wq.AndMaybe(req, wq.Or(optional))


def ranking_features(node: q.Node) -> list[tuple[str, str, int]]:
    """(field, term, weight) signals for coordination-level ranking of large hit sets,
    mirroring the optional clauses of :func:`words_query`."""
    feats: list[tuple[str, str, int]] = []
    for g in q.word_groups(node):
        group, folds, exacts, pairs = analyse(g)
        for p in dict.fromkeys(pairs):
            feats.append((f"{group}_b", p, 2))
            if group == "all":
                feats.append(("title_b", p, 3))
        if group == "all":
            feats += [("title_f", f, 1) for f in dict.fromkeys(folds)]
        if analysis.has_diacritics(g.text):
            for e, f in dict.fromkeys(zip(exacts, folds, strict=True)):
                if e != f:
                    feats.append((f"{group}_x", e, 4))
                    if group == "all":
                        feats.append(("title_x", e, 2))
    return feats


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
