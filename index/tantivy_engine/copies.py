"""Works counted once: the records of a search that repeat a work, read from tantivy.

Discovery counts works, not records (index/discovery.py, ``work_facets``): a cluster of
several matching records counts once in the total and once per facet value. Only records
in clusters of several records can repeat a work, and the writer marks each of them with
its cluster's number (the ``copies`` field, index/tantivy_engine/schema.py; a record left
alone in its cluster may keep its mark, which counts it once all the same). So a search
reads from tantivy only its matching marked records — their addresses and cluster
numbers, a few percent of the matches — and the facet values of the marked records come
from a table made once per snapshot (:class:`CopyTable`): a cluster all of whose records
match repeats its values by a count known in advance; the others are counted record by
record.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from itertools import chain
from typing import Any

import tantivy

from index.tantivy_engine import query
from index.tantivy_engine.schema import COPIES

Occur = tantivy.Occur
_Key = tuple[int, int]  # (segment ord, doc) of a document
#: The single-valued facets read per marked record (``subject`` and ``year`` besides).
_SINGLE = ("institution", "type", "language", "access")
_FACETS = (*_SINGLE, "subject", "year")
#: One facet value a work repeats: (facet, value, records beyond the first).
_Repeat = tuple[str, Any, int]


def marked_query() -> tantivy.Query:
    """The records marked as sharing their cluster (:data:`COPIES`)."""
    return tantivy.Query.exists_query(COPIES)


class CopyTable:
    """The marked records of one snapshot: each cluster's size, and what it repeats when
    all its records match (what a cluster of three or more repeats when only some of
    them match is worked out from its records' values, kept for those clusters alone)."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema):
        marked = marked_query()
        n = query.count(searcher, marked)
        hits = searcher.search(marked, limit=max(1, n), count=False).hits if n else []
        addrs = [a for _s, a in hits]
        nums = [int(x) if x is not None else 0
                for x in (searcher.fast_field_values(COPIES, addrs) if addrs else [])]
        keys = [(a.segment_ord, a.doc) for a in addrs]
        self.size: Counter[int] = Counter(nums)
        members: dict[int, list[_Key]] = {}
        for k, num in zip(keys, nums, strict=True):
            if self.size[num] > 1:
                members.setdefault(num, []).append(k)
        rows = _rows(searcher, schema, marked, addrs, keys) if members else {}
        ids: dict[tuple[str, Any], int] = {}  # (facet, value) → a small number
        #: each cluster's repeats when all of it matches, as numbers of (facet, value)
        self.full: dict[int, tuple[int, ...]] = {}
        for num, ks in members.items():
            self.full[num] = tuple(ids.setdefault((name, v), len(ids))
                                   for name, v, c in _repeats([rows[k] for k in ks])
                                   for _ in range(c))
        self._pairs = list(ids)
        #: the values of the records in clusters of three or more
        self.rows = {k: rows[k] for ks in members.values() if len(ks) > 2 for k in ks}

    def repeated(self, addrs: Sequence[tantivy.DocAddress], nums: Sequence[int]
                 ) -> dict[str, Counter[Any]]:
        """Per facet, the records of a search's marked matches (``addrs``, with their
        cluster ``nums``) that repeat a work already counted for a value."""
        per_cluster = Counter(nums)
        size = self.size
        several = [num for num, n in per_cluster.items() if n > 1]
        whole = [num for num in several if per_cluster[num] == size.get(num, 0)]
        counted = Counter(chain.from_iterable(map(self.full.__getitem__, whole)))
        out: dict[str, Counter[Any]] = {name: Counter() for name in _FACETS}
        pairs = self._pairs
        for pair, c in counted.items():
            name, v = pairs[pair]
            out[name][v] += c
        if len(whole) < len(several):  # clusters of which only some records match
            partial = set(several).difference(whole)
            groups: dict[int, list[_Key]] = {}
            for a, num in zip(addrs, nums, strict=True):
                if num in partial:
                    groups.setdefault(num, []).append((a.segment_ord, a.doc))
            for ks in groups.values():
                for name, v, c in _repeats([self.rows[k] for k in ks]):
                    out[name][v] += c
        return out


_Row = tuple[Any, ...]  # a record's values of _FACETS (subject: a tuple of values)


def _rows(searcher: tantivy.Searcher, schema: tantivy.Schema, marked: tantivy.Query,
          addrs: list[tantivy.DocAddress], keys: list[_Key]) -> dict[_Key, _Row]:
    """The facet values of the marked records, read from tantivy in a few searches."""
    n = len(addrs)
    interned: dict[Any, Any] = {}
    columns: list[dict[_Key, Any]] = []
    for name in _SINGLE:
        col: dict[_Key, Any] = {}
        for v, a in searcher.search(marked, limit=n, count=False, order_by_field=name).hits:
            value = "" if v is None else str(v)
            col[(a.segment_ord, a.doc)] = interned.setdefault(value, value)
        columns.append(col)
    subjects: dict[_Key, list[str]] = {}
    for term, count in searcher.terms_with_prefix("subject", "", filter_query=marked):
        if count <= 0:
            continue
        q = tantivy.Query.boolean_query([
            (Occur.Must, marked),
            (Occur.Must, tantivy.Query.term_query(schema, "subject", term,
                                                  index_option="basic"))])
        for _s, a in searcher.search(q, limit=count, count=False).hits:
            subjects.setdefault((a.segment_ord, a.doc), []).append(term)
    years = searcher.fast_field_values("year", addrs)
    out: dict[_Key, _Row] = {}
    for k, y in zip(keys, years, strict=True):
        subj = tuple(subjects.get(k, ()))
        out[k] = (*(col.get(k, "") for col in columns), interned.setdefault(subj, subj),
                  None if y is None else int(y))
    return out


def _repeats(rows: Sequence[_Row]) -> list[_Repeat]:
    """The facet values the records of one cluster (their ``rows``) hold more than once,
    with how many records beyond the first hold each."""
    out: list[_Repeat] = []
    for i, name in enumerate(_FACETS):
        if name == "subject":
            counts = Counter(v for row in rows for v in row[i])
        else:
            counts = Counter(row[i] for row in rows)
        out += [(name, v, c - 1) for v, c in counts.items() if c > 1 and v is not None]
    return out


class Copies:
    """The marked records of one snapshot, and their table once a search needs it."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema):
        self.searcher = searcher
        self.schema = schema
        self.marked = query.count(searcher, marked_query())
        self._table: CopyTable | None = None
        self._lock = threading.Lock()

    def table(self) -> CopyTable:
        with self._lock:
            if self._table is None:
                self._table = CopyTable(self.searcher, self.schema)
            return self._table

    def matching(self, match: tantivy.Query) -> tuple[list[tantivy.DocAddress], list[int]]:
        """The marked records of ``match``: their addresses and cluster numbers (one
        search, the numbers read with the hits)."""
        if not self.marked:
            return [], []
        q = tantivy.Query.boolean_query([(Occur.Must, match), (Occur.Must, marked_query())])
        hits = self.searcher.search(q, limit=self.marked, count=False,
                                    order_by_field=COPIES).hits
        return [a for _n, a in hits], [n for n, _a in hits]


def surplus(nums: Sequence[int]) -> int:
    """Matching records beyond the first of their cluster (the total counts works)."""
    return len(nums) - len(set(nums))
