"""What one writer session holds before its commit, the same for every engine.

Upserts and deletions are buffered by record id, the last change to an id winning, so a
record deleted and added again in one session is kept, and one added then deleted is never
written. At commit the engine resolves clusters over :attr:`pending` and :attr:`deleted`
(:func:`index.clustering.resolve`) and writes the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from index.documents import nfc_record
from index.record import Record


class SessionChanges:
    """The buffered upserts and deletions of one writer session (engines subclass it)."""

    def __init__(self) -> None:
        self._pending: dict[str, Record] = {}
        self._deleted: set[str] = set()

    def _in_base(self, record_id: str) -> bool:
        """Whether the index held ``record_id`` when the session began (engine-specific)."""
        raise NotImplementedError

    def add(self, records: Iterable[Record]) -> int:
        """Add or replace records (by id); returns how many were given."""
        n = 0
        for rec in records:
            rec = nfc_record(rec)
            self._pending[rec.id] = rec
            self._deleted.discard(rec.id)
            n += 1
        return n

    def delete(self, ids: Iterable[str]) -> int:
        """Delete by record id; returns how many of the ids existed."""
        n = 0
        for rid in ids:
            existed = rid in self._pending or (rid not in self._deleted and self._in_base(rid))
            self._pending.pop(rid, None)
            if existed:
                self._deleted.add(rid)
                n += 1
        return n
