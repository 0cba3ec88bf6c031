"""A leaner Whoosh 2.7 segment writer (private to ``index``).

Whoosh spends most of an indexing run in per-posting Python: every posting goes through an
asserting pool ``add``, a ``doc_field_length`` that re-resolves the lengths column through
three method calls and a file seek, and an asserting ``add_posting`` (measured: those three
were ~40 % of indexing time at ~400 postings per record). The classes here do the same
work with the same on-disk result — segments are written by the stock W3 codec's file
format and carry the stock codec, so readers and later writers never see these classes —
only without the per-posting overhead.

Everything here leans on Whoosh 2.7.4 internals (the version is pinned); :func:`writer`
falls back to the stock writer when they are not what we expect.
"""

from __future__ import annotations

from typing import Any

import whoosh
from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length
from whoosh.writing import PostingPool, SegmentWriter

from index.whoosh_engine.whoosh_types import Segment, WhooshDir

_SUPPORTED = whoosh.__version__[:2] == (2, 7)


# Whoosh ships no types, so each base class below is Any to mypy: the ignores on the class
# lines say so ([misc]: "cannot subclass Any"); the methods themselves are checked.


class _LeanPool(PostingPool):  # type: ignore[misc]  # whoosh is untyped: the base is Any
    """PostingPool without per-item asserts; the size estimate is the stock formula
    minus its constant parts folded together (it only decides when to spill a run)."""

    def add(self, item: tuple[Any, ...]) -> None:
        self.currentsize += 128 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)


class _CachedLengths:
    """``doc_field_length`` answered from a list read once per field, not a seek per call."""

    def __init__(self, pdr: Any):
        self._pdr = pdr
        self._cache: dict[str, list[int] | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        try:  # one dict lookup: this runs once per posting
            col = self._cache[fieldname]
        except KeyError:
            col = self._cache[fieldname] = self._load(fieldname)
        if col is None:
            return default
        return col[docnum]

    def _load(self, fieldname: str) -> list[int] | None:
        reader = self._pdr._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        if reader is None:
            return None
        return [byte_to_length(b) if b else 0 for b in reader]


class _LeanPostingsWriter(whoosh3.W3PostingsWriter):  # type: ignore[misc]  # untyped base
    # Set by the base class; declared so mypy knows them.
    _maxweight: float
    _minlength: int | None
    _maxlength: int

    def add_posting(self, id_: int, weight: float, vbytes: bytes, length: int | None = None
                    ) -> None:
        # The stock method minus four isinstance asserts per posting.
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length


class _LeanFieldWriter(whoosh3.W3FieldWriter):  # type: ignore[misc]  # untyped base
    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        super().add_postings(schema, _CachedLengths(lengths) if lengths else None, items)


class _LeanCodec(whoosh3.W3Codec):  # type: ignore[misc]  # untyped base
    def field_writer(self, storage: Any, segment: Segment) -> _LeanFieldWriter:
        return _LeanFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> _LeanPostingsWriter:
        return _LeanPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                   compression=self._compression,
                                   inlinelimit=self._inlinelimit)

    def new_segment(self, storage: Any, indexname: str) -> Segment:
        # The segment (pickled into the TOC) names the stock codec: what is on disk is
        # plain W3, and readers must not depend on this module.
        return whoosh3.W3Segment(whoosh3.W3Codec(blocklimit=self._blocklimit,
                                                 compression=self._compression,
                                                 inlinelimit=self._inlinelimit), indexname)


def writer(ix: WhooshDir, **kwargs: Any) -> SegmentWriter:
    """``ix.writer(**kwargs)`` for one process, with the lean pool and codec."""
    if not _SUPPORTED or kwargs.get("procs", 1) > 1:
        return ix.writer(**kwargs)
    w = SegmentWriter(ix, codec=_LeanCodec(), **kwargs)
    # The pool is created empty in __init__ (no run files yet), so swapping it is safe.
    w.pool = _LeanPool(w._tempstorage, w.newsegment, limitmb=kwargs.get("limitmb", 128))
    return w


#: Segments of one size tier (a factor of _TIER apart) allowed before they are merged.
_TIER = 6
#: A segment with more than this share of deleted documents is merged (space and speed).
_MAX_DELETED = 0.3


def tiered_merge(writer: SegmentWriter, segments: list[Segment]) -> list[Segment]:
    """Merge policy: merge the segments of a size tier once ``_TIER`` of them exist.

    Whoosh's MERGE_SMALL rewrites every small segment on most commits, so a harvester
    committing every 2,000 records re-indexes the same postings again and again. Tiered
    merging rewrites each posting about log_6(N / batch) times in total, keeping the
    segment count logarithmic (set-based search costs little more per extra segment).
    """
    from whoosh.reading import SegmentReader

    def tier(seg: Segment) -> int:
        n: int = max(seg.doc_count(), 1)
        t = 0
        while n >= _TIER:
            n //= _TIER
            t += 1
        return t

    tiers: dict[int, list[Segment]] = {}
    for seg in segments:
        tiers.setdefault(tier(seg), []).append(seg)
    full = [t for t, segs in tiers.items() if len(segs) >= _TIER]
    limit = max(full) if full else -1
    merge = [s for s in segments if tier(s) <= limit or
             s.deleted_count() > _MAX_DELETED * max(s.doc_count_all(), 1)]
    if len(merge) < 2 and not any(s.deleted_count() for s in merge):
        return segments
    for seg in merge:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in merge]
