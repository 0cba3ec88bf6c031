"""The lienhop search index: the one API harvesters, the web layer and the resolver use.

    ix = open_index(path)                  # or open_index(path, readonly=True) in the web layer
    with ix.writer(timeout=30.0) as w:     # one writer; commits on exit, cancels on exception
        w.add(records); w.delete(ids)
    ix.search("thu vien so", filters={"institution": ["VNU"]}, sort="newest")
    ix.lookup(doi="https://doi.org/10.1/x")

The package's engine-neutral modules (analysis, query language, records, matching keys,
results) are the same for every engine; the engine itself (``index.engine``, Whoosh) is
private, chosen in ``index.api``. Nothing exported here names Whoosh.
"""

from index.api import open_index, rebuild
from index.contract import IndexWriter, SearchIndex
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
    "open_index",
    "rebuild",
]
