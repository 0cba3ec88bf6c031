"""Known-item lookup for the resolver: identifiers first, then title (+year, ISSN, author).

The same rules as the Whoosh engine's (index/whoosh_engine/lookup.py): identifier matches
in index order; otherwise the title's word group required (index/features.py), the year
and ISSN required, the author optional, scored by tantivy (BM25 with the same boosts), and
exact normalised-title matches first.
"""

from __future__ import annotations

import tantivy

from index import querylang as qlang
from index.dedup import normalised_title
from index.features import optional_terms, required_terms
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn, normalise_issn
from index.record import Record
from index.tantivy_engine.snapshot import Snapshot

Occur = tantivy.Occur


def words_query(snap: Snapshot, node: qlang.Words) -> tantivy.Query:
    """A word group as tantivy scores it: required folded terms, optional boosted ones."""
    required = [(Occur.Must, snap.term_query(f, t)) for f, t in required_terms(node)]
    if not required:
        return tantivy.Query.empty_query()
    optional = [(Occur.Should, tantivy.Query.boost_query(snap.term_query(f, t), b))
                for f, t, b in optional_terms(node)]
    return tantivy.Query.boolean_query(required + optional)


def lookup(snap: Snapshot, *, doi: str | None = None, isbn: str | None = None,
           issn: str | None = None, handle: str | None = None, title: str | None = None,
           year: int | None = None, author: str | None = None,
           limit: int = 10) -> list[Record]:
    """Records matching a citation (see ``SearchIndex.lookup`` in index/contract.py)."""
    ids: set[int] = set()
    if doi and (n := normalise_doi(doi)):
        ids |= snap.term_docs("doi", n)
    if isbn and (n := normalise_isbn(isbn)):
        ids |= snap.term_docs("isbn", n)
    if handle and (n := normalise_handle(handle)):
        ids |= snap.term_docs("handle", n)
    if ids or doi or isbn or handle:
        found = [snap.record(d) for d in sorted(ids)][:limit]
        if found or not title:
            return found
    issn_value = (normalise_issn(issn) or issn.strip().upper()) if issn else None
    if not title:
        if issn_value is None:
            return []
        return [snap.record(d) for d in sorted(snap.term_docs("issn", issn_value))][:limit]
    if not snap.n:
        return []
    parts: list[tuple[tantivy.Occur, tantivy.Query]] = [
        (Occur.Must, words_query(snap, qlang.Words(title, field="title")))]
    if year is not None:  # one year: its term (a range would scan every record's year)
        parts.append((Occur.Must, tantivy.Query.term_query(snap.schema, "year", int(year))))
    if issn_value is not None:
        parts.append((Occur.Must, snap.term_query("issn", issn_value)))
    if author:
        parts.append((Occur.Should, words_query(snap, qlang.Words(author, field="author"))))
    hits = snap.searcher.search(tantivy.Query.boolean_query(parts),
                                limit=max(limit * 3, 10), count=False).hits
    recs = [snap.record_at(a) for _score, a in hits]
    want = normalised_title(title)
    # Exact normalised-title matches first; the engine's order otherwise.
    recs.sort(key=lambda r: normalised_title(r.title) != want)
    return recs[:limit]
