"""Per-document values of a snapshot, for facet counts, sorting and collapsing clusters.

Read from Whoosh column storage one segment at a time; a segment never changes once
written, so its values are cached by segment id across snapshots and a commit only reads
the segments it made.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from index.docsets import COLUMN_FIELDS, NO_YEAR, Columns
from index.whoosh_engine.whoosh_types import Reader, Searcher

# segment id → that segment's columns; the values are lists (COLUMN_FIELDS, "year") and
# tuples of subjects, so Any: a TypedDict would name eight keys for one cache.
_SegmentColumns = dict[str, list[Any]]
_SEG_CACHE: dict[str, _SegmentColumns] = {}
_SEG_LOCK = threading.Lock()
_SEG_CACHE_MAX = 512


def _segment_columns(reader: Reader) -> _SegmentColumns:
    """Column values of one immutable segment."""
    n: int = reader.doc_count_all()
    cols: _SegmentColumns = {}
    for name in COLUMN_FIELDS:
        cols[name] = list(reader.column_reader(name)) if reader.has_column(name) else [""] * n
    years = list(reader.column_reader("year")) if reader.has_column("year") else [0] * n
    has_year = bytearray(n)
    if ("has_year", "y") in reader:
        for d in reader.postings("has_year", "y").all_ids():
            has_year[d] = 1
    cols["year"] = [y if has_year[i] else NO_YEAR for i, y in enumerate(years)]
    subjects: list[list[str]] = [[] for _ in range(n)]
    if "subject" in reader.indexed_field_names():
        for term in reader.lexicon("subject"):
            value = term.decode("utf-8") if isinstance(term, bytes) else term
            for d in reader.postings("subject", value).all_ids():
                subjects[d].append(value)
    cols["subject"] = [tuple(s) for s in subjects]
    return cols


def build_columns(searcher: Searcher) -> Columns:
    """The columns of every segment of ``searcher``, end to end in docnum order."""
    single: dict[str, list[str]] = {k: [] for k in COLUMN_FIELDS}
    subject: list[tuple[str, ...]] = []
    year: list[int] = []
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        seg = reader.segment() if hasattr(reader, "segment") else None
        seg_id: str | None = seg.segment_id() if seg is not None else None
        with _SEG_LOCK:
            cols = _SEG_CACHE.get(seg_id) if seg_id else None
        if cols is None:
            cols = _segment_columns(reader)
            if seg_id:
                with _SEG_LOCK:
                    if len(_SEG_CACHE) > _SEG_CACHE_MAX:  # merged-away segments: start afresh
                        _SEG_CACHE.clear()
                    _SEG_CACHE[seg_id] = cols
        for k in single:
            single[k].extend(cols[k])
        subject.extend(cols["subject"])
        year.extend(cols["year"])
    whole = searcher.reader()
    sizes = Counter(c for i, c in enumerate(single["cluster"]) if not whole.is_deleted(i))
    multi = bytearray(1 if sizes[c] > 1 else 0 for c in single["cluster"])
    return Columns(single, subject, year, multi, frozenset(d for d, m in enumerate(multi) if m))
