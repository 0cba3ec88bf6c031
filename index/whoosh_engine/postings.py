"""The docnums of a term in one Whoosh segment, as a bitmap, cached across snapshots.

A segment never changes once written (deletions are kept in the TOC, not in the
segment), so a term's postings in it are the same in every snapshot holding it, in every
thread: they are cached by (segment id, field, term) as a bitmap of the segment's own
docnums (index/docsets.py says why bitmaps), and a snapshot lays its segments' bitmaps end
to end (:meth:`Snapshot.term_bits` in index/whoosh_engine/snapshot.py). After a commit only
the segments it wrote are read again. The cache is bounded by bytes, the least recently
used out first: at 100k records a bitmap is 12.5 kB, so the budget holds thousands of
terms.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from itertools import accumulate

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.structfile import BufferFile
from whoosh.matching.wrappers import FilterMatcher

from index.docsets import bitmap
from index.whoosh_engine.whoosh_types import Reader

#: Bytes of bitmaps kept for all segments together.
BUDGET = 32 << 20
_Key = tuple[str, str, str]  # segment id, field, term
_CACHE: OrderedDict[_Key, int] = OrderedDict()
_SIZES: dict[_Key, int] = {}
_LOCK = threading.Lock()
_used = 0


def posting_ids(reader: Reader, fieldname: str, text: str) -> list[int]:
    """Docnums of one term in one segment, read a block at a time (deletions included:
    callers keep the live ones). Whoosh's per-posting iterator costs ~1 µs a posting in
    Python; whole blocks are ~20x cheaper."""
    if (fieldname, text) not in reader:
        return []
    m = reader.postings(fieldname, text)
    if isinstance(m, FilterMatcher):
        m = m.child
    if not all(hasattr(m, a) for a in ("_read_ids", "_next_block", "_ids", "_i")):
        return list(m.all_ids())  # another codec or an inlined list: the slow, public way
    if isinstance(m, W3LeafMatcher):
        # The term's postings in one read, then its blocks from memory: Whoosh reads each
        # block's header with pickle from the file, ~20 small reads a block through a
        # Python-level file object when the segment is not memory-mapped
        # (index/whoosh_engine/storage.py says why it is not).
        # (Whoosh reads a term's stored length back as a 1-tuple.)
        length = m._length[0] if isinstance(m._length, tuple) else m._length
        data = m._postfile.get(m._startoffset, length)
        m = W3LeafMatcher(BufferFile(data), 0, length, m.format, term=m._term,
                          byteids=m._byteids)
    out: list[int] = []
    while m.is_active():
        if m._byteids:  # docnums stored as they are (Whoosh's term vectors)
            if m._ids is None:
                m._read_ids()
            out.extend(m._ids[m._i:])
        else:
            # A block's docnums are stored as gaps: summed in C (Whoosh sums them with a
            # Python generator, a third of the time a common term took).
            if m._data is None:
                m._read_data()
            out.extend(accumulate(m._data[0]))
        m._next_block()
    return out


def term_bits(reader: Reader, fieldname: str, text: str) -> int:
    """The bitmap of one term's docnums in the segment of ``reader`` (a leaf reader)."""
    seg = reader.segment() if hasattr(reader, "segment") else None
    if seg is None:  # not a stored segment: nothing to key a cache entry by
        return bitmap(posting_ids(reader, fieldname, text))
    key = (seg.segment_id(), fieldname, text)
    with _LOCK:
        bits = _CACHE.get(key)
        if bits is not None:
            _CACHE.move_to_end(key)
            return bits
    bits = bitmap(posting_ids(reader, fieldname, text))
    _remember(key, bits)
    return bits


def _remember(key: _Key, bits: int) -> None:
    global _used
    size = sys.getsizeof(bits) + 200  # the int, and roughly its key and entry
    with _LOCK:
        if key in _CACHE:  # another thread read it meanwhile
            return
        _CACHE[key] = bits
        _SIZES[key] = size
        _used += size
        while _used > BUDGET and len(_CACHE) > 1:
            old, _bits = _CACHE.popitem(last=False)
            _used -= _SIZES.pop(old)


def cached_bytes() -> int:
    """What the cache holds now, in bytes (for tests and benchmarks)."""
    with _LOCK:
        return _used
