"""The docnums of a term in one Whoosh segment, as a bitmap, cached across snapshots.

A segment never changes once written (deletions are kept in the TOC, not in the
segment), so a term's postings in it are the same in every snapshot holding it, in every
thread: they are cached by (segment id, field, term) as a bitmap of the segment's own
docnums (index/docsets.py says why bitmaps), and a snapshot lays its segments' bitmaps end
to end (:meth:`Snapshot.term_bits` in index/whoosh_engine/snapshot.py). After a commit only
the segments it wrote are read again. Caches here are bounded by bytes, the least recently
used out first (:class:`BitmapCache`): at 100k records a whole-index bitmap is 12.5 kB.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable
from itertools import accumulate

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.structfile import BufferFile
from whoosh.matching.wrappers import FilterMatcher

from index.docsets import bitmap
from index.whoosh_engine.whoosh_types import Reader


class BitmapCache:
    """Bitmaps by key, at most ``budget`` bytes of them, safe to share between threads."""

    def __init__(self, budget: int):
        self.budget = budget
        self._items: OrderedDict[Hashable, tuple[int, int]] = OrderedDict()  # (bits, size)
        self._lock = threading.Lock()
        self._used = 0

    def get(self, key: Hashable) -> int | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, bits: int) -> None:
        size = sys.getsizeof(bits) + 200  # the int, and roughly its key and entry
        with self._lock:
            if key in self._items:  # another thread read it meanwhile
                return
            self._items[key] = (bits, size)
            self._used += size
            while self._used > self.budget and len(self._items) > 1:
                _key, (_bits, old) = self._items.popitem(last=False)
                self._used -= old

    def used(self) -> int:
        """The bytes held now."""
        with self._lock:
            return self._used


#: Every segment's term bitmaps, for all the indexes a process reads.
SEGMENTS = BitmapCache(32 << 20)


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
    bits = SEGMENTS.get(key)
    if bits is None:
        bits = bitmap(posting_ids(reader, fieldname, text))
        SEGMENTS.put(key, bits)
    return bits
