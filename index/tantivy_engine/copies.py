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
record. A search matching most of the index reads the marked records that do NOT match
instead (fewer): a cluster's matching records are then its size less those
(:meth:`Clusters.matching`). The counting over clusters is array work (NumPy), done once
per search over every cluster of several records. Subjects are counted by
:func:`~index.facets.facet_key`, as discovery counts them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import tantivy

from index.docsets import NO_YEAR
from index.facets import facet_key, year_period
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


class Clusters:
    """The clusters of several marked records in one snapshot, as arrays: their numbers
    (sorted) and sizes. A search's work counts come from how many of each cluster's
    records match (:meth:`matching`), counted in NumPy: a search at 1M records lists some
    40,000 marked records of 20,000 clusters, which Python's counters took 15–25 ms over."""

    def __init__(self, size: Counter[int]):
        several = sorted(num for num, n in size.items() if n > 1)
        self.nums: npt.NDArray[np.uint64] = np.array(several, dtype=np.uint64)
        self.sizes: npt.NDArray[np.int64] = np.array([size[num] for num in several],
                                                     dtype=np.int64)
        self._dense = {num: j for j, num in enumerate(several)}

    def __len__(self) -> int:
        return len(self.nums)

    def index(self, num: int) -> int | None:
        """A cluster number's place in :attr:`nums` (None: not a cluster of several)."""
        return self._dense.get(num)

    def matching(self, nums: Sequence[int], outside: bool = False) -> npt.NDArray[np.int64]:
        """Each cluster's matching records, from the cluster numbers of a search's marked
        matches (``outside``: of the marked records NOT matching it)."""
        listed = np.zeros(len(self.nums), dtype=np.int64)
        if len(nums) and len(self.nums):
            arr = np.array(nums, dtype=np.uint64)
            pos = np.searchsorted(self.nums, arr)
            pos[pos == len(self.nums)] = 0
            found = pos[self.nums[pos] == arr]  # a lone marked record repeats nothing
            listed = np.bincount(found, minlength=len(self.nums)).astype(np.int64)
        return self.sizes - listed if outside else listed

    @staticmethod
    def surplus(counts: npt.NDArray[np.int64]) -> int:
        """Matching records beyond the first of their cluster (the total counts works)."""
        return int(np.maximum(counts - 1, 0).sum())


class CopyTable:
    """The marked records of one snapshot: what each cluster of several repeats when all
    its records match, as (cluster, facet value) entries in arrays; and, for the clusters
    of three or more, their records' values, for a search matching only some of them."""

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, clusters: Clusters):
        self.clusters = clusters
        marked = marked_query()
        n = query.count(searcher, marked)
        hits = searcher.search(marked, limit=max(1, n), count=False).hits if n else []
        addrs = [a for _s, a in hits]
        nums = [int(x) if x is not None else 0
                for x in (searcher.fast_field_values(COPIES, addrs) if addrs else [])]
        members: dict[int, list[_Key]] = {}
        for a, num in zip(addrs, nums, strict=True):
            if clusters.index(num) is not None:
                members.setdefault(num, []).append((a.segment_ord, a.doc))
        rows = _rows(searcher, schema, marked, addrs,
                     [(a.segment_ord, a.doc) for a in addrs]) if members else {}
        ids: dict[tuple[str, Any], int] = {}  # (facet, value) → a small number
        owner: list[int] = []  # per entry: the cluster's place in clusters.nums
        pair: list[int] = []  # per entry: the (facet, value) it repeats, once per record
        for num, ks in members.items():
            j = clusters.index(num)
            assert j is not None
            for name, v, c in _repeats([rows[k] for k in ks]):
                p = ids.setdefault((name, v), len(ids))
                owner += [j] * c
                pair += [p] * c
        self._pairs = list(ids)
        self._owner: npt.NDArray[np.intp] = np.array(owner, dtype=np.intp)
        self._pair: npt.NDArray[np.intp] = np.array(pair, dtype=np.intp)
        #: the values of the records in clusters of three or more, and their records
        self.rows = {k: rows[k] for ks in members.values() if len(ks) > 2 for k in ks}
        self.members = {num: ks for num, ks in members.items() if len(ks) > 2}

    def repeated(self, counts: npt.NDArray[np.int64], addrs: Sequence[tantivy.DocAddress],
                 nums: Sequence[int], outside: bool = False) -> dict[str, Counter[Any]]:
        """Per facet, a search's matching records that repeat a work already counted for a
        value: ``counts``, each cluster's matching records (:meth:`Clusters.matching`),
        from the marked records ``addrs`` (with their cluster ``nums``) that match the
        search — or, ``outside``, that do not."""
        sizes = self.clusters.sizes
        whole = counts == sizes  # every record of the cluster matches
        repeats = np.bincount(self._pair[whole[self._owner]], minlength=len(self._pairs))
        out: dict[str, Counter[Any]] = {name: Counter() for name in _FACETS}
        for p in np.flatnonzero(repeats).tolist():
            name, v = self._pairs[p]
            out[name][v] += int(repeats[p])
        partial = {int(self.clusters.nums[j])
                   for j in np.flatnonzero((counts > 1) & (counts < sizes)).tolist()}
        if partial:  # clusters of three or more of which only some records match
            listed: dict[int, set[_Key]] = {}
            for a, num in zip(addrs, nums, strict=True):
                if num in partial:
                    listed.setdefault(num, set()).add((a.segment_ord, a.doc))
            for num in partial:
                ks = self.members[num]
                chosen = listed.get(num, set())
                matched = [k for k in ks if (k in chosen) != outside]
                for name, v, c in _repeats([self.rows[k] for k in matched]):
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
        if name == "subject":  # counted by key, as discovery counts them (index/facets.py)
            counts = Counter(facet_key(v) for row in rows for v in row[i])
        elif name == "year":  # counted by period, as discovery counts them
            counts = Counter(year_period(row[i]) for row in rows
                             if row[i] is not None and row[i] != NO_YEAR)
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
        self._clusters: Clusters | None = None
        self._lock = threading.Lock()

    def clusters(self) -> Clusters:
        """The clusters of several marked records and their sizes (one search)."""
        with self._lock:
            if self._clusters is None:
                hits = self.searcher.search(marked_query(), limit=max(1, self.marked),
                                            count=False, order_by_field=COPIES).hits \
                    if self.marked else []
                self._clusters = Clusters(
                    Counter(int(n) if n is not None else 0 for n, _a in hits))
            return self._clusters

    def table(self) -> CopyTable:
        clusters = self.clusters()
        with self._lock:
            if self._table is None:
                self._table = CopyTable(self.searcher, self.schema, clusters)
            return self._table

    def matching(self, match: tantivy.Query, outside: bool = False
                 ) -> tuple[list[tantivy.DocAddress], list[int]]:
        """The marked records of ``match`` (``outside``: those NOT matching it): their
        addresses and cluster numbers. Collected unordered, their numbers read after: a
        search ordered by the numbers (which hands them over with the hits) costs twice as
        much (measured at 1M records: 21–26 ms against 11–15 ms for 20,000 records)."""
        if not self.marked:
            return [], []
        q = tantivy.Query.boolean_query([(Occur.MustNot if outside else Occur.Must, match),
                                         (Occur.Must, marked_query())])
        hits = self.searcher.search(tantivy.Query.const_score_query(q, 0.0),
                                    limit=self.marked, count=False).hits
        if not hits:
            return [], []
        addrs = [a for _s, a in hits]
        # every marked record has its number (marked_query: the field exists)
        nums = self.searcher.fast_field_values(COPIES, addrs)
        return addrs, cast(list[int], nums)
