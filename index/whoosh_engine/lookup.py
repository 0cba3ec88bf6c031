"""Known-item lookup for the resolver: identifiers first, then title (+year, ISSN, author).

Unlike discovery search (set algebra, index/whoosh_engine/search.py), this runs a Whoosh query
(index/whoosh_engine/whoosh_query.py) and keeps Whoosh's scoring order after exact title matches.
"""

from __future__ import annotations

from whoosh import query as wq

from index import querylang as qlang
from index.dedup import normalised_title
from index.documents import unpack_record
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn, normalise_issn
from index.record import Record
from index.whoosh_engine.whoosh_query import to_whoosh
from index.whoosh_engine.whoosh_types import Query, Searcher


def lookup(s: Searcher, *, doi: str | None = None, isbn: str | None = None,
           issn: str | None = None, handle: str | None = None, title: str | None = None,
           year: int | None = None, author: str | None = None,
           limit: int = 10) -> list[Record]:
    """Records matching a citation (see ``SearchIndex.lookup`` in index/contract.py)."""
    idq: list[Query] = []
    if doi and (n := normalise_doi(doi)):
        idq.append(wq.Term("doi", n))
    if isbn and (n := normalise_isbn(isbn)):
        idq.append(wq.Term("isbn", n))
    if handle and (n := normalise_handle(handle)):
        idq.append(wq.Term("handle", n))
    if idq:
        found = _records(s, wq.Or(idq), limit)
        if found or not title:
            return found
    issn_q = wq.Term("issn", normalise_issn(issn) or issn.strip().upper()) if issn else None
    if not title:
        return _records(s, issn_q, limit) if issn_q is not None else []
    parts: list[Query] = [to_whoosh(qlang.Words(title, field="title"))]
    if year is not None:
        parts.append(wq.NumericRange("year", year, year))
    if issn_q is not None:
        parts.append(issn_q)
    if author:
        parts = [wq.AndMaybe(wq.And(parts) if len(parts) > 1 else parts[0],
                             to_whoosh(qlang.Words(author, field="author")))]
    final = wq.And(parts) if len(parts) > 1 else parts[0]
    res = s.search(final, limit=max(limit * 3, 10))
    recs = [unpack_record(h["rec"]) for h in res]
    want = normalised_title(title)
    # Exact normalised-title matches first; the engine's order otherwise.
    recs.sort(key=lambda r: normalised_title(r.title) != want)
    return recs[:limit]


def _records(s: Searcher, q: Query, limit: int | None = None) -> list[Record]:
    """The records matching ``q`` in docnum order (identifier lookups need no ranking)."""
    return [unpack_record(s.stored_fields(d)["rec"])
            for d in sorted(set(s.docs_for_query(q)))][:limit]
