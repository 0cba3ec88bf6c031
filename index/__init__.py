"""The lienhop search index: the one API harvesters, the web layer and the resolver use.

    ix = open_index(path)                  # or open_index(path, readonly=True) in the web layer
    with ix.writer(timeout=30.0) as w:     # one writer; commits on exit, cancels on exception
        w.add(records); w.delete(ids)
    ix.search("thu vien so", filters={"institution": ["VNU"]}, sort="newest")
    ix.lookup(doi="https://doi.org/10.1/x")

The package's engine-neutral modules (analysis, query language, records, matching keys,
results, set algebra, discovery search, clustering, spelling) are the same for every
engine; the engines themselves (``index.whoosh_engine``, ``index.tantivy_engine``) are
private, chosen in ``index.api`` (an index directory records its engine). Nothing exported
here names an engine's classes.
"""

from index.api import index_engine, open_index, rebuild
from index.contract import IndexWriter, SearchIndex
from index.facets import same_facet_value
from index.record import Record
from index.results import SORTS, FacetValue, Hit, IndexLocked, SearchResult

__all__ = [
    "SORTS",
    "FacetValue",
    "Hit",
    "IndexLocked",
    "IndexWriter",
    "Record",
    "SearchIndex",
    "SearchResult",
    "index_engine",
    "open_index",
    "rebuild",
    "same_facet_value",
]
