"""Orders and identities as numbers tantivy can sort and read by document (pure).

tantivy sorts hits by one fast field and hands integer fast-field values back in bulk, but
not strings; so what the ranking in tantivy (index/tantivy_engine/ranking.py) and the work
counts (index/tantivy_engine/copies.py) need of a record are made numbers when it is
written (index/tantivy_engine/schema.py):

* :func:`shortest_key`: the tie-break of relevance, ``DocSets.rank("shortest")`` in
  index/docsets.py — title sort key length, then newest, then the sort key — as one
  integer that never orders two records the other way round. Records it cannot tell
  apart (the same length, year and first letters, or values out of its range) tie, and
  the ranking orders ties by the rule itself.
* :func:`cluster_number`: a cluster key (index/dedup.py: 16 hex digits) as a 64-bit
  integer, one to one.
"""

from __future__ import annotations

import hashlib

from index.docsets import NO_YEAR

_LEN_BITS, _YEAR_BITS, _CHAR_BITS, _CHARS = 12, 14, 6, 6
_PREFIX_BITS = _CHAR_BITS * _CHARS
_LEN_MAX = (1 << _LEN_BITS) - 1
_YEAR_MAX = (1 << _YEAR_BITS) - 1
#: The newest year told apart from later ones; year ``y`` in 0..this is ``_LAST_YEAR - y + 1``.
_LAST_YEAR = _YEAR_MAX - 3

# Code points of index/collation.py's sort keys, grouped in code-point order: a group of
# one character is exact; a group of several is a lower bound of its characters, after
# which nothing more of the key is encoded. (code point, first code, exact?)
_GROUPS: list[tuple[int, int, bool]] = [
    (0x00, 0, True), (0x01, 1, True), (0x02, 2, False),  # separators, word boundary
    *[(0x10 + d, 3 + d, True) for d in range(10)], (0x1A, 13, False),  # ASCII digits
    *[(0x100 + i, 14 + i, True) for i in range(33)],  # the Vietnamese alphabet
    (0x121, 47, False), (0x1000, 48, False),  # digits of other scripts, other scripts
]
_STARTS = [g[0] for g in _GROUPS]


def _char_code(ch: str) -> tuple[int, bool]:
    """(code, exact) of one character of a sort key: codes never decrease with the
    character; ``exact``: no other character has this code."""
    cp = ord(ch)
    lo, hi = 0, len(_STARTS) - 1
    while lo < hi:  # the last group starting at or before cp
        mid = (lo + hi + 1) // 2
        if _STARTS[mid] <= cp:
            lo = mid
        else:
            hi = mid - 1
    start, code, exact = _GROUPS[lo]
    return code, exact and start == cp


def _prefix(title_sort: str) -> int:
    out = 0
    used = 0
    for ch in title_sort[:_CHARS]:
        code, exact = _char_code(ch)
        out = (out << _CHAR_BITS) | code
        used += 1
        if not exact:
            break
    return out << (_CHAR_BITS * (_CHARS - used))


def shortest_key(title_sort: str, year: int) -> int:
    """A number whose order never contradicts (length of ``title_sort``, newest ``year``
    first, ``title_sort``) — the record's place in ``DocSets.rank("shortest")`` but for
    the cluster key and index order that break the last ties. ``year`` is ``NO_YEAR``
    for a record without one (it sorts after every year)."""
    n = len(title_sort)
    if n >= _LEN_MAX:  # too long to tell apart: ties with every other such title
        return (_LEN_MAX << (_YEAR_BITS + _PREFIX_BITS)) | ((1 << (_YEAR_BITS + _PREFIX_BITS)) - 1)
    head = n << (_YEAR_BITS + _PREFIX_BITS)
    if year == NO_YEAR:
        return head | (_YEAR_MAX << _PREFIX_BITS) | _prefix(title_sort)
    if year < 0:  # before every real year's place, after year 0: ties among themselves
        return head | ((_YEAR_MAX - 1) << _PREFIX_BITS) | ((1 << _PREFIX_BITS) - 1)
    if year > _LAST_YEAR:  # ahead of every year told apart: ties among themselves
        return head
    return head | ((_LAST_YEAR - year + 1) << _PREFIX_BITS) | _prefix(title_sort)


def cluster_number(cluster: str) -> int:
    """A cluster key as an unsigned 64-bit integer: the key itself when it is the 16 hex
    digits index/dedup.py makes (one to one), else a hash of it."""
    if len(cluster) == 16:
        try:
            return int(cluster, 16)
        except ValueError:
            pass
    return int.from_bytes(hashlib.blake2b(cluster.encode(), digest_size=8).digest(), "big")
