"""The lienhop search index: the one API harvesters, the web layer and the resolver use.

    ix = open_index(path)                  # or open_index(path, readonly=True) in the web layer
    with ix.writer(timeout=30.0) as w:     # one writer; commits on exit, cancels on exception
        w.add(records); w.delete(ids)
    ix.search("thu vien so", filters={"institution": ["VNU"]}, sort="newest")
    ix.lookup(doi="https://doi.org/10.1/x")

Engine details live in private modules; nothing exported here names Whoosh.
"""

from index.api import (
    SORTS,
    FacetValue,
    Hit,
    IndexLocked,
    SearchIndex,
    SearchResult,
    open_index,
    rebuild,
)
from index.record import Record

__all__ = [
    "SORTS",
    "FacetValue",
    "Hit",
    "IndexLocked",
    "Record",
    "SearchIndex",
    "SearchResult",
    "open_index",
    "rebuild",
]
