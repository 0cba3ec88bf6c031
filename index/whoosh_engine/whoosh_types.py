"""Names for the Whoosh objects the engine passes around.

Whoosh 2.7 ships no type hints, so mypy sees every Whoosh value as ``Any``. These aliases
keep that ``Any`` at one boundary and still say in each signature what a value is; they
are no promise about Whoosh's methods (mypy cannot check those).
"""

from __future__ import annotations

from typing import Any, TypeAlias

#: ``whoosh.index.FileIndex``: one generation directory opened.
WhooshDir: TypeAlias = Any
#: ``whoosh.searching.Searcher`` over a whole snapshot (or one segment of it).
Searcher: TypeAlias = Any
#: ``whoosh.reading.IndexReader`` (a ``SegmentReader`` or a ``MultiReader``).
Reader: TypeAlias = Any
#: ``whoosh.writing.SegmentWriter`` (or the stock multi-process writer).
SegmentWriter: TypeAlias = Any
#: ``whoosh.codec.base.Segment``.
Segment: TypeAlias = Any
#: ``whoosh.query.Query``.
Query: TypeAlias = Any
#: A document's stored fields (``id``, ``cluster``, ``mkey``, ``rec``).
StoredFields: TypeAlias = dict[str, Any]
