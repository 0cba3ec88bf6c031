"""The Whoosh engine behind the ``index`` API (private: only ``index.api`` opens it).

It fills in the engine-neutral contract (``index.contract.SearchIndex``) and answers with
``index.results`` dataclasses; nothing outside ``index`` imports these modules. By concern:

* ``storage``: the index directory, its writer lock, creating it, the atomic swap of
  generations;
* ``snapshot`` (and ``columns``): what readers search, kept fresh per thread, answering
  queries by set algebra over cached posting sets;
* ``writer``: the writer session (buffering, cluster resolution, commit);
* ``search``: discovery search (filters, ranking, clusters, facets);
  ``lookup``: known-item lookup for the resolver; ``suggest``: "did you mean";
* ``rebuild``: a whole index built beside the live one and swapped in;
* ``whoosh_index``: ``WhooshIndex``, the glue over the above;
* ``schema``, ``whoosh_query``, ``fastwrite``, ``whoosh_types``: the Whoosh schema and
  documents, query translation, a leaner segment writer, and the untyped boundary.

Nothing here is pickled into an index except Whoosh's own classes: the tokenizers the
schema names live in ``index.analysis`` (see its docstring), so these modules may move.
"""
