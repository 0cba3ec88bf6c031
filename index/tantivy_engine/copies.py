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
instead (fewer), and takes what their clusters would have repeated away from the sums over
every cluster (:meth:`CopyTable.repeated_except`, :meth:`Copies.surplus_outside`).
Subjects are counted by :func:`~index.facets.facet_key`, as discovery counts them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain, compress
from operator import eq
from typing import Any, cast

import tantivy

from index.facets import facet_key
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
    them match is worked out from its records' values, kept for those clusters alone);
    and the sums over every cluster, from which a search matching most records subtracts
    the clusters it does not wholly match (:meth:`repeated_except`)."""

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
        #: the values of the records in clusters of three or more, and their records
        self.rows = {k: rows[k] for ks in members.values() if len(ks) > 2 for k in ks}
        self.members = {num: ks for num, ks in members.items() if len(ks) > 2}
        #: every cluster's repeats, all of it matching; the records beyond each cluster's first
        self.all_full = Counter(chain.from_iterable(self.full.values()))

    def _by_facet(self, counted: Counter[int]) -> dict[str, Counter[Any]]:
        out: dict[str, Counter[Any]] = {name: Counter() for name in _FACETS}
        pairs = self._pairs
        for pair, c in counted.items():
            if c:
                name, v = pairs[pair]
                out[name][v] += c
        return out

    def _wholly(self, clusters: Iterable[int]) -> Counter[int]:
        """What the clusters ``clusters`` (of :attr:`full`, a set) repeat when all their
        records match: counted over them, or over every other cluster and taken from the
        sum of all when those are fewer (the work is in C either way: a search at 1M
        records counts some 20,000 clusters)."""
        chosen: set[int] | frozenset[int] = \
            clusters if isinstance(clusters, set | frozenset) else set(clusters)
        if 2 * len(chosen) <= len(self.full):
            return Counter(chain.from_iterable(map(self.full.__getitem__, chosen)))
        rest = Counter(chain.from_iterable(map(self.full.__getitem__,
                                               self.full.keys() - chosen)))
        return Counter({pair: c - rest.get(pair, 0) for pair, c in self.all_full.items()})

    def _partial(self, out: dict[str, Counter[Any]], groups: Iterable[list[_Key]]) -> None:
        """Add what the matching records of clusters partly matching repeat."""
        for ks in groups:
            if len(ks) > 1:
                for name, v, c in _repeats([self.rows[k] for k in ks]):
                    out[name][v] += c

    def repeated(self, addrs: Sequence[tantivy.DocAddress], nums: Sequence[int],
                 per_cluster: Counter[int] | None = None) -> dict[str, Counter[Any]]:
        """Per facet, the records of a search's marked matches (``addrs``, with their
        cluster ``nums``; ``per_cluster``: ``Counter(nums)`` when counted already) that
        repeat a work already counted for a value."""
        per_cluster = Counter(nums) if per_cluster is None else per_cluster
        # Clusters all of whose records match (a cluster of one record repeats nothing).
        size = self.size
        clusters = per_cluster.keys()
        whole = set(compress(clusters, map(eq, per_cluster.values(),
                                           map(size.__getitem__, clusters))))
        out = self._by_facet(self._wholly(whole & self.full.keys()))
        partial = [num for num in per_cluster.keys() & self.members.keys()
                   if 1 < per_cluster[num] < size[num]]
        if partial:  # clusters of three or more of which only some records match
            wanted = set(partial)
            groups: dict[int, list[_Key]] = {}
            for a, num in zip(addrs, nums, strict=True):
                if num in wanted:
                    groups.setdefault(num, []).append((a.segment_ord, a.doc))
            self._partial(out, groups.values())
        return out

    def repeated_except(self, addrs: Sequence[tantivy.DocAddress], nums: Sequence[int],
                        missing: Counter[int] | None = None) -> dict[str, Counter[Any]]:
        """:meth:`repeated` from the marked records that do NOT match (``addrs``, with
        their cluster ``nums``; ``missing``: ``Counter(nums)`` when counted already): every
        cluster's repeats less those of the clusters they belong to, plus what the
        matching rest of those clusters repeats."""
        missing = Counter(nums) if missing is None else missing
        out = self._by_facet(self._wholly(self.full.keys() - missing.keys()))
        size = self.size
        partial = [num for num in missing.keys() & self.members.keys()
                   if size[num] - missing[num] > 1]
        if partial:
            gone = {(a.segment_ord, a.doc) for a, num in zip(addrs, nums, strict=True)
                    if num in self.members}
            self._partial(out, ([k for k in self.members[num] if k not in gone]
                                for num in partial))
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
        self._sizes: Counter[int] | None = None
        self._lock = threading.Lock()

    def sizes(self) -> Counter[int]:
        """Each cluster's marked records (the table's, or read alone: one search)."""
        with self._lock:
            if self._sizes is None:
                if self._table is not None:
                    self._sizes = self._table.size
                else:
                    hits = self.searcher.search(marked_query(), limit=max(1, self.marked),
                                                count=False, order_by_field=COPIES).hits \
                        if self.marked else []
                    self._sizes = Counter(int(n) if n is not None else 0 for n, _a in hits)
            return self._sizes

    def surplus_outside(self, missing: Counter[int]) -> int:
        """A search's matching records beyond the first of their cluster (the total counts
        works), from the marked records NOT matching it (``missing``: how many of each
        cluster): every cluster's records beyond its first, less those of the clusters
        they leave."""
        size = self.sizes()
        out = self.marked - len(size)  # beyond the first record of every cluster
        for num, n in missing.items():
            out -= (size[num] - 1) - max(size[num] - n - 1, 0)
        return out

    def table(self) -> CopyTable:
        with self._lock:
            if self._table is None:
                self._table = CopyTable(self.searcher, self.schema)
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
