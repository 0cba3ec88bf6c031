"""Keep ``oai_item`` in step with the index: the sink wrapper of the harvest path, and sync.

:class:`OaiFeedSink` wraps the index sink. Its ``commit`` commits the index first, then
upserts/tombstones ``oai_item`` rows in one SQL transaction. Upserts are idempotent: a row
whose content hash and liveness are unchanged is left alone, so a page re-delivered after a
crash, an unchanged re-harvest or an index rebuild never bumps a datestamp. A crash between
the index commit and the SQL commit is repaired by the re-delivery of that batch (the
runner's checkpoint has not moved) or by ``lienhop oai sync``.

Items are per record (one OAI item per harvested record id); clusters are not folded here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from harvesters.runner import RecordSink
from index.record import OPEN, Record
from resolver import db
from resolver.oai_models import OaiItem, OaiItemSet

log = logging.getLogger("lienhop.oai")

_CHUNK = 500


def now_seconds() -> dt.datetime:
    """Our change time: UTC, naive, truncated to the provider's granularity (seconds)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def type_spec(rtype: str) -> str:
    # setSpec allows no spaces: "conference paper" -> "conference_paper"
    return "type:" + rtype.replace(" ", "_")


def set_specs(rec: Record) -> list[str]:
    """Every set the record belongs to, ancestors included (``set=inst`` lists all members)."""
    specs = {"inst", "inst:" + rec.institution, "type", type_spec(rec.type or "other")}
    if rec.access == OPEN:
        specs.add("open")
    return sorted(specs)


def content_hash(rec: Record) -> str:
    payload = json.dumps(rec.to_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _existing(session: Session, ids: list[str]) -> dict[str, OaiItem]:
    found: dict[str, OaiItem] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        for row in session.scalars(select(OaiItem).where(OaiItem.record_id.in_(chunk))):
            found[row.record_id] = row
    return found


def apply_changes(session: Session, changes: dict[str, Record | None],
                  stamp: dt.datetime | None = None) -> tuple[int, int]:
    """Upsert (Record) or tombstone (None) items; returns (changed, unchanged)."""
    stamp = stamp or now_seconds()
    rows = _existing(session, list(changes))
    changed = unchanged = 0
    for rid, rec in changes.items():
        row = rows.get(rid)
        if rec is None:
            # Unknown ids were never exposed: nothing to tombstone.
            if row is None or row.deleted:
                unchanged += 1
                continue
            row.deleted, row.datestamp = True, stamp
            changed += 1
            continue
        digest = content_hash(rec)
        if row is not None and not row.deleted and row.content_hash == digest:
            unchanged += 1
            continue
        if row is None:
            row = OaiItem(record_id=rid)
            session.add(row)
        row.datestamp, row.deleted, row.content_hash = stamp, False, digest
        row.record, row.source_prefix = rec.to_dict(), rec.metadata_prefix or "oai_dc"
        session.execute(delete(OaiItemSet).where(OaiItemSet.record_id == rid))
        session.flush()
        session.add_all(OaiItemSet(record_id=rid, spec=s) for s in set_specs(rec))
        changed += 1
    return changed, unchanged


class OaiFeedSink:
    """A :class:`harvesters.runner.RecordSink` that feeds ``oai_item`` after the inner sink."""

    def __init__(self, inner: RecordSink, sessions: sessionmaker[Session]) -> None:
        self.inner = inner
        self.sessions = sessions
        # id -> record or None (deleted); in call order, the last change winning
        self._pending: dict[str, Record | None] = {}

    def add(self, records: list[Record]) -> None:
        self.inner.add(records)
        for rec in records:
            self._pending.pop(rec.id, None)
            self._pending[rec.id] = rec

    def delete(self, ids: list[str]) -> None:
        self.inner.delete(ids)
        for rid in ids:
            self._pending.pop(rid, None)
            self._pending[rid] = None

    def commit(self) -> None:
        self.inner.commit()  # the index first: oai_item never exposes what search lacks
        pending, self._pending = self._pending, {}
        if not pending:
            return
        with db.transaction(self.sessions) as session:
            changed, unchanged = apply_changes(session, pending)
        log.debug("event=oai_feed changed=%d unchanged=%d", changed, unchanged)


def sync(sessions: sessionmaker[Session], records: Iterable[Record], *,
         batch: int = 1000) -> dict[str, int]:
    """Make ``oai_item`` match ``records`` (every live record): upsert them, tombstone the rest.

    Idempotent: a second run changes nothing and bumps no datestamp.
    """
    seen: set[str] = set()
    stats = {"records": 0, "changed": 0, "unchanged": 0, "deleted": 0}

    def flush(buf: dict[str, Record | None]) -> None:
        with db.transaction(sessions) as session:
            changed, unchanged = apply_changes(session, buf)
        stats["changed"] += changed
        stats["unchanged"] += unchanged

    buf: dict[str, Record | None] = {}
    for rec in records:
        seen.add(rec.id)
        stats["records"] += 1
        buf[rec.id] = rec
        if len(buf) >= batch:
            flush(buf)
            buf = {}
    if buf:
        flush(buf)
    gone = [rid for rid in _live_ids(sessions) if rid not in seen]
    for i in range(0, len(gone), batch):
        with db.transaction(sessions) as session:
            changed, _ = apply_changes(session, dict.fromkeys(gone[i : i + batch]))
        stats["deleted"] += changed
    return stats


def _live_ids(sessions: sessionmaker[Session]) -> Iterator[str]:
    with sessions() as session:
        yield from list(session.scalars(
            select(OaiItem.record_id).where(OaiItem.deleted.is_(False))))


def record_of(row: Any) -> Record:
    return Record.from_dict(row.record)
