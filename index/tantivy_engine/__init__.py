"""The tantivy engine behind the ``index`` API (private: only ``index.api`` opens it).

tantivy (PyPI ``tantivy``, Rust, embedded like Whoosh) stores the documents and their
postings; lienhop's own analysis makes the terms (index/documents.py, index_forms), handed
to tantivy as whitespace-separated text with a whitespace tokenizer, so both engines index
exactly the same terms. Discovery search matches, scores (coordination level), ranks and
counts inside tantivy, by the rules of the engine-neutral set algebra (index/docsets.py,
index/discovery.py), so that only the works shown leave the engine; cluster resolution
(index/clustering.py) and spelling (index/suggestion.py) are engine-neutral too. By
concern:

* ``schema``: the tantivy schema, opening a generation, the Record → document mapping;
* ``storage``: an empty tantivy generation (the layout and swap: index/generations.py);
* ``snapshot``: what readers search, shared by a process's threads, reopened after each
  commit;
* ``writer``: the writer session; ``rebuild``: a whole generation, swapped in, its records
  made ready in worker processes (``prepare``) and its clustering lookups mostly answered
  by a filter of what it wrote (``seen``);
* ``query``: a discovery query, its filters and ranking features as one tantivy query,
  and facet counts by aggregation;
* ``ranking``: the matches in rank order, a few hits at a time (``order``: the
  relevance tie-break and cluster keys as numbers tantivy sorts and reads);
* ``copies``: works counted once, from the records marked as sharing a cluster;
* ``lookup``: known-item lookup, scored by tantivy (BM25);
* ``vocabulary``: the spelling tables, one file per commit;
* ``tantivy_index``: ``TantivyIndex``, the glue.
"""
