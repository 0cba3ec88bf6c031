"""What a word group asks of the index, in the field names every engine indexes.

For a group of words: every folded syllable is required (in the group's ``*_f`` field, or
adjacent pairs in ``*_b`` for a phrase); optional signals only add score — title and bigram
matches, and, when the user typed diacritics, accent-exact matches weighted so that exact
spellings outrank folded collisions ("bàn" above "bán", "ban", "bạn"). One home for these
rules: the engines translate them (index/whoosh_engine/whoosh_query.py,
index/tantivy_engine/query.py) and rank by them (index/discovery.py).
"""

from __future__ import annotations

from index import analysis
from index import querylang as q
from index.names import query_names

GROUP = {None: "all", "title": "title", "author": "creator", "subject": "subject"}
#: The searchable text groups; each is indexed as ``<group>_x`` (accent-exact syllables,
#: only those with a mark), ``<group>_f`` (folded syllables), ``<group>_b`` (folded
#: bigrams).
TEXT_GROUPS = ("title", "creator", "subject", "all")
EXACT_BOOST = 4.0
BIGRAM_BOOST = 2.0
TITLE_BOOST = 1.5
#: Ranking weight of a whole-name match, per syllable of the name: a person's full name
#: outweighs the same syllables spread over the title and other authors (pairs, title
#: and accent signals together), so that person's records come first.
NAME_WEIGHT = 3


def analyse(node: q.Words) -> tuple[str, list[str], list[str], list[str]]:
    """(text group, folded syllables, exact syllables, folded pairs) of a word group."""
    group = GROUP.get(node.field, "all")
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


def optional_terms(node: q.Words) -> list[tuple[str, str, float]]:
    """(field, term, boost) clauses that only add score to a match of ``node`` (the scored
    form, used by known-item lookup)."""
    group, folds, exacts, pairs = analyse(node)
    out: list[tuple[str, str, float]] = []

    def add(field: str, terms: list[str], boost: float) -> None:
        out.extend((field, t, boost) for t in dict.fromkeys(terms) if t)

    if not (node.phrase and pairs):
        add(f"{group}_b", pairs, BIGRAM_BOOST)
    if group in ("all", "creator"):
        out.extend(("creator_b", t, BIGRAM_BOOST * n) for t, n in query_names(folds))
    if group == "all":
        add("title_f", folds, TITLE_BOOST)
        add("title_b", pairs, TITLE_BOOST * BIGRAM_BOOST)
    if analysis.has_diacritics(node.text):
        # Only the syllables the user actually accented: "Đặng thai" boosts "đặng" only.
        accented = [e for e, f in zip(exacts, folds, strict=True) if e != f]
        add(f"{group}_x", accented, EXACT_BOOST)
        if group == "all":
            add("title_x", accented, EXACT_BOOST)
    return out


def ranking_features(node: q.Node) -> list[tuple[str, str, int]]:
    """(field, term, weight) signals for coordination-level ranking of large hit sets,
    mirroring :func:`optional_terms`."""
    feats: list[tuple[str, str, int]] = []
    for g in q.word_groups(node):
        group, folds, exacts, pairs = analyse(g)
        for p in dict.fromkeys(pairs):
            feats.append((f"{group}_b", p, 2))
            if group == "all":
                feats.append(("title_b", p, 3))
        if group == "all":
            feats += [("title_f", f, 1) for f in dict.fromkeys(folds)]
        if group in ("all", "creator"):
            feats += [("creator_b", t, NAME_WEIGHT * n) for t, n in query_names(folds)]
        if analysis.has_diacritics(g.text):
            for e, f in dict.fromkeys(zip(exacts, folds, strict=True)):
                if e != f:
                    feats.append((f"{group}_x", e, 4))
                    if group == "all":
                        feats.append(("title_x", e, 2))
    return feats
