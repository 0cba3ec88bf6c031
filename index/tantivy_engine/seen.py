"""A set of strings that may answer "perhaps" but never wrongly "no" (a Bloom filter).

A rebuild asks, for every record, whether its id and match keys are already in the index
it is writing (index/clustering.py); nearly all are not, and a lookup in tantivy per
question costs more than the rest of the record's clustering. The filter answers those
"not" from a few megabytes, whatever the number of records; a "perhaps" is looked up.
"""

from __future__ import annotations

#: 2**26 bits (8 MB): under 1 % false "perhaps" up to about 5 million strings.
BITS = 1 << 26
HASHES = 3


class Seen:
    """Strings added so far (by ``hash``: valid in this process only)."""

    def __init__(self, bits: int = BITS):
        if bits & (bits - 1):
            raise ValueError("bits must be a power of two")
        self._mask = bits - 1
        self._bits = bytearray(bits // 8)

    def _positions(self, value: str) -> list[int]:
        h = hash(value)
        step = (h >> 32) | 1
        return [(h + i * step) & self._mask for i in range(HASHES)]

    def add(self, value: str) -> None:
        bits = self._bits
        for p in self._positions(value):
            bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        bits = self._bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(value))
