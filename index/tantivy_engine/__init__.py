"""The tantivy engine behind the ``index`` API (private: only ``index.api`` opens it).

tantivy (PyPI ``tantivy``, Rust, embedded like Whoosh) stores the documents and their
postings; lienhop's own analysis makes the terms (index/documents.py, index_forms), handed
to tantivy as whitespace-separated text with a whitespace tokenizer, so both engines index
exactly the same terms. Discovery search matches, scores (coordination level) and counts
facet values inside tantivy, by the rules of the engine-neutral set algebra
(index/docsets.py, index/discovery.py), which then collapses clusters, ranks and counts
works; cluster resolution (index/clustering.py) and spelling (index/suggestion.py) are
engine-neutral too. By concern:

* ``schema``: the tantivy schema, opening a generation, the Record → document mapping;
* ``storage``: an empty tantivy generation (the layout and swap: index/generations.py);
* ``snapshot``: what readers search, reopened after each commit;
* ``writer``: the writer session; ``rebuild``: a whole generation, swapped in;
* ``query``: a discovery query, its filters and ranking features as one tantivy query,
  and facet counts by aggregation;
* ``lookup``: known-item lookup, scored by tantivy (BM25);
* ``vocabulary``: the spelling tables, one file per commit;
* ``tantivy_index``: ``TantivyIndex``, the glue.
"""
