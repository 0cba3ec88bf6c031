"""The Whoosh engine behind the ``index`` API (private: only ``index.api`` opens it).

It fills in the engine-neutral contract (``index.contract.SearchIndex``) and answers with
``index.results`` dataclasses; nothing outside ``index`` imports these modules. By concern:

* ``storage``: the index directory, its writer lock, creating it, the atomic swap of
  generations; ``files``: how a generation's files are opened and read (not
  memory-mapped: Whoosh would copy them into memory);
* ``snapshot`` (with ``postings`` and ``columns``): what readers search, one snapshot
  shared by a worker's threads and kept fresh: posting bitmaps cached per segment and
  columns for the engine-neutral set algebra and discovery search (index/docsets.py,
  index/discovery.py);
* ``writer``: the writer session (buffering, commit; clusters by index/clustering.py);
* ``lookup``: known-item lookup for the resolver; ``suggest``: the spelling tables of
  Whoosh segments (the search over them: index/suggestion.py);
* ``rebuild``: a whole index built beside the live one and swapped in;
* ``whoosh_index``: ``WhooshIndex``, the glue over the above;
* ``schema``, ``whoosh_query``, ``fastwrite``, ``whoosh_types``: the Whoosh schema and
  documents, query translation (of index/features.py), a leaner segment writer, and the
  untyped boundary.

Nothing here is pickled into an index except Whoosh's own classes: the tokenizers the
schema names live in ``index.analysis`` (see its docstring), so these modules may move.
"""
