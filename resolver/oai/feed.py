"""Keep ``oai_item`` in step with the index: the sink wrapper of the harvest path, and sync.

:class:`OaiFeedSink` wraps the index sink; it is a :class:`harvesters.sinks.RecordSink` like
the sink it wraps, and buffers its changes like every sink there
(:class:`harvesters.sinks.BufferedSink`). Its ``commit`` hands the changes to the index sink
and commits it first, then upserts/tombstones ``oai_item`` rows in one SQL transaction.
Upserts are idempotent: a row whose content hash and liveness are unchanged is left alone,
so a page re-delivered after a crash, an unchanged re-harvest or an index rebuild never
bumps a datestamp. A crash between the index commit and the SQL commit is repaired by the
re-delivery of that batch (the runner's checkpoint has not moved) or by ``lienhop oai sync``.

One item per work
-----------------
Records that are the same work held by several members form a *cluster*: records linked,
transitively, by a shared :func:`index.dedup.match_keys` key (the index's own relation).
Each cluster is ONE OAI item:

* the *representative* of a cluster is its lowest record id; only representatives are
  listed. The item is the representative's record plus every other member
  (``record["members"]``): every holding's identifiers/URLs in the metadata, every holding
  institution in its sets (``inst:<code>``), one provenance per holding.
* a record that stops being a representative (a copy with a lower id arrived, or it joined
  a cluster) is served as ``status="deleted"`` from then on (deletions are persistent); a
  record that becomes one (its representative was deleted, or the cluster split) is listed
  with a new datestamp.
* any change of a cluster's merged content (a holding added or removed, a member edited)
  bumps the representative's datestamp, so downstream harvesters see holdings change.

Record ids are stable across re-harvests and rebuilds, so the rule is stable too: the
same records always give the same items, hashes and (unchanged) datestamps.

Clusters are computed here, with the same ``match_keys``/``resolve_clusters`` as the index
writer, over the changed records plus the live items that share a key with them or hold
one of them. Not asked of the index: its API has no call for a record's cluster key, the
harvest path builds this sink without an index handle, and ``oai sync`` works from the
archive; the table alone is enough, and a rebuild of the index cannot move an item. To find
"the items sharing these keys" with an indexed lookup and no new table, a live item's keys
and member ids are stored as hidden rows of ``oai_item_set`` (``#k:<sha1 of key>``,
``#m:<sha1 of id>``). ``#`` cannot occur in a setSpec, so no request can name them, and
the provider filters them out of headers; tombstones carry none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from harvesters.sinks import BufferedSink, Changes, RecordSink
from index.dedup import match_keys, resolve_clusters
from index.record import OPEN, Record
from resolver import db
from resolver.oai.models import OaiItem, OaiItemSet

log = logging.getLogger("lienhop.oai")

_CHUNK = 500
HIDDEN = "#"  # prefix of the bookkeeping specs; not a setSpec character


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


def is_hidden(spec: str) -> bool:
    return spec.startswith(HIDDEN)


def _sha1(text: str) -> str:
    # hashed: title+year+author keys and ids may exceed the spec column's 200 characters
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def key_spec(key: str) -> str:
    return f"{HIDDEN}k:{_sha1(key)}"


def member_spec(record_id: str) -> str:
    return f"{HIDDEN}m:{_sha1(record_id)}"


def payload_hash(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(rec: Record) -> str:
    return payload_hash(rec.to_dict())


def item_payload(members: list[Record]) -> dict[str, Any]:
    """The stored JSON of a cluster's item: the representative, the others under "members".

    A lone record stores exactly ``to_dict()``, so items written before clusters were
    folded keep their hashes (no mass datestamp bump on upgrade).
    """
    rep, others = members[0], members[1:]
    payload = rep.to_dict()
    if others:
        payload["members"] = [o.to_dict() for o in others]
    return payload


def members_of(payload: dict[str, Any]) -> list[Record]:
    """Every holding of an item, the representative first."""
    return [Record.from_dict(payload)] + [Record.from_dict(m)
                                          for m in payload.get("members", [])]


def item_specs(members: list[Record]) -> set[str]:
    """Public sets (the union over holdings) plus the hidden key and member rows."""
    specs = {s for m in members for s in set_specs(m)}
    specs |= {member_spec(m.id) for m in members}
    specs |= {key_spec(k) for m in members for k in match_keys(m)}
    return specs


def clusters(records: dict[str, Record]) -> list[list[Record]]:
    """The clusters among ``records``, each sorted by id (its representative first)."""
    keys = resolve_clusters({rid: match_keys(rec) for rid, rec in records.items()})
    groups: dict[str, list[Record]] = {}
    for rid in sorted(records):
        groups.setdefault(keys[rid], []).append(records[rid])
    return list(groups.values())


# ------------------------------------------------------------------------------ SQL helpers


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _existing(session: Session, ids: Iterable[str]) -> dict[str, OaiItem]:
    found: dict[str, OaiItem] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in session.scalars(select(OaiItem).where(OaiItem.record_id.in_(chunk))):
            found[row.record_id] = row
    return found


def _specs_of(session: Session, ids: Iterable[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = session.execute(select(OaiItemSet.record_id, OaiItemSet.spec)
                               .where(OaiItemSet.record_id.in_(chunk)))
        for rid, spec in rows:
            out.setdefault(rid, set()).add(spec)
    return out


def _items_with(session: Session, specs: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(specs))):
        found.update(session.scalars(select(OaiItemSet.record_id).distinct()
                                     .where(OaiItemSet.spec.in_(chunk))))
    return found


def _set_specs(session: Session, rid: str, specs: set[str]) -> None:
    session.execute(delete(OaiItemSet).where(OaiItemSet.record_id == rid))
    session.flush()
    session.add_all(OaiItemSet(record_id=rid, spec=s) for s in sorted(specs))


# ------------------------------------------------------------------------------ item writes


def _write_item(session: Session, row: OaiItem | None, members: list[Record],
                current: set[str], stamp: dt.datetime) -> bool:
    """Make ``members[0]``'s item list the cluster; True when its datestamp moved."""
    rep = members[0]
    payload = item_payload(members)
    digest = payload_hash(payload)
    specs = item_specs(members)
    if row is not None and not row.deleted and row.content_hash == digest:
        if current != specs:
            # Items written before clusters were folded lack the hidden rows; the content
            # is unchanged, so repair them without a new datestamp.
            _set_specs(session, rep.id, specs)
        return False
    if row is None:
        row = OaiItem(record_id=rep.id)
        session.add(row)
    row.datestamp, row.deleted, row.content_hash = stamp, False, digest
    row.record, row.source_prefix = payload, rep.metadata_prefix or "oai_dc"
    _set_specs(session, rep.id, specs)
    return True


def _retire(session: Session, row: OaiItem, current: set[str], stamp: dt.datetime) -> bool:
    """Tombstone an item that is no representative (any more); True when newly deleted."""
    hidden = sorted(s for s in current if is_hidden(s))
    if hidden:  # a tombstone must not be found as a cluster's item
        session.execute(delete(OaiItemSet).where(OaiItemSet.record_id == row.record_id,
                                                 OaiItemSet.spec.in_(hidden)))
    if row.deleted:
        return False
    # keeps its record and public sets: set-selective harvesters see the deletion too
    row.deleted, row.datestamp = True, stamp
    return True


def _affected(session: Session, changes: dict[str, Record | None]) -> tuple[dict[str, Record],
                                                                             set[str]]:
    """The records whose items may change, and the live items that held any of them.

    That is the changed live records, plus every member of each live item sharing a key
    with them or holding one of them, and so on until no new key turns up (live items
    never share a key, so this normally stops after one round).
    """
    pool = {rid: rec for rid, rec in changes.items() if rec is not None}
    wanted = {member_spec(rid) for rid in changes}
    wanted |= {key_spec(k) for rec in pool.values() for k in match_keys(rec)}
    asked: set[str] = set()
    items: set[str] = set()
    while wanted - asked:
        new = wanted - asked
        asked |= new
        found = _items_with(session, new) - items
        items |= found
        for row in _existing(session, found).values():
            for member in members_of(row.record):
                if member.id in changes or member.id in pool:
                    continue  # a change wins over the copy stored in its old item
                pool[member.id] = member
                wanted |= {key_spec(k) for k in match_keys(member)}
    return pool, items


def apply_changes(session: Session, changes: dict[str, Record | None],
                  stamp: dt.datetime | None = None) -> tuple[int, int]:
    """Fold upserts (Record) and deletions (None) into cluster items; (changed, unchanged)."""
    stamp = stamp or now_seconds()
    pool, old_items = _affected(session, changes)
    groups = clusters(pool)
    reps = {g[0].id for g in groups}
    touched = set(pool) | set(changes) | old_items
    rows = _existing(session, touched)
    specs = _specs_of(session, touched)
    changed = unchanged = 0
    for members in groups:
        rid = members[0].id
        if _write_item(session, rows.get(rid), members, specs.get(rid, set()), stamp):
            changed += 1
        else:
            unchanged += 1
    # Unknown ids were never exposed: nothing to tombstone for them.
    for rid, row in rows.items():
        if rid not in reps and _retire(session, row, specs.get(rid, set()), stamp):
            changed += 1
    return changed, unchanged


class OaiFeedSink(BufferedSink):
    """A :class:`harvesters.sinks.RecordSink` that feeds ``oai_item`` after the inner sink.

    The inner sink gets each commit's changes as one batch (the last change per id having
    won, so both see the same outcome) and commits before ``oai_item`` is written; a failed
    inner commit drops the batch from both (the harvest fetches it again)."""

    def __init__(self, inner: RecordSink, sessions: sessionmaker[Session]) -> None:
        super().__init__()
        self.inner = inner
        self.sessions = sessions

    def write(self, changes: dict[str, Record | None]) -> None:
        adds, deletes = Changes.split(changes)
        if adds:
            self.inner.add(adds)
        if deletes:
            self.inner.delete(deletes)
        self.inner.commit()  # the index first: oai_item never exposes what search lacks
        if not changes:
            return
        with db.transaction(self.sessions) as session:
            changed, unchanged = apply_changes(session, changes)
        log.debug("event=oai_feed changed=%d unchanged=%d", changed, unchanged)


# ------------------------------------------------------------------------------ sync

RecordSource = Iterable[Record] | Callable[[], Iterable[Record]]


def _replayable(records: RecordSource) -> Callable[[], Iterable[Record]]:
    """sync reads its records twice; a one-shot iterator is kept in memory for that."""
    if callable(records):
        return records
    if iter(records) is records:
        kept = list(records)
        return lambda: kept
    return lambda: records


def _cluster_sizes(records: Iterable[Record]) -> dict[str, tuple[str, int]]:
    """First pass: record id -> (cluster key, member count); ids and keys only in memory."""
    keys = resolve_clusters({rec.id: match_keys(rec) for rec in records})
    sizes = Counter(keys.values())
    return {rid: (ck, sizes[ck]) for rid, ck in keys.items()}


def _grouped(records: Iterable[Record], sizes: dict[str, tuple[str, int]]
             ) -> Iterator[list[Record]]:
    """Second pass: whole clusters; only the members of unfinished clusters wait in memory."""
    waiting: dict[str, list[Record]] = {}
    for rec in records:
        ck, size = sizes.get(rec.id, ("id:" + rec.id, 1))  # new since the first pass: alone
        if size == 1:
            yield [rec]
            continue
        group = waiting.setdefault(ck, [])
        group.append(rec)
        if len(group) == size:
            del waiting[ck]
            yield sorted(group, key=lambda r: r.id)
    for group in waiting.values():  # members gone since the first pass
        yield sorted(group, key=lambda r: r.id)


def sync(sessions: sessionmaker[Session], records: RecordSource, *,
         batch: int = 1000) -> dict[str, int]:
    """Make ``oai_item`` match ``records`` (every live record): one item per cluster, every
    other item tombstoned.

    ``records`` is read twice (clusters first, then items): pass a callable returning a
    fresh iterable for big sources. Idempotent: a second run changes nothing and bumps no
    datestamp.
    """
    source = _replayable(records)
    sizes = _cluster_sizes(source())
    stats = {"records": len(sizes), "changed": 0, "unchanged": 0, "deleted": 0}
    stamp = now_seconds()
    reps: set[str] = set()

    def flush(buf: list[list[Record]]) -> None:
        ids = [g[0].id for g in buf]
        with db.transaction(sessions) as session:
            rows, specs = _existing(session, ids), _specs_of(session, ids)
            for members in buf:
                rid = members[0].id
                moved = _write_item(session, rows.get(rid), members, specs.get(rid, set()),
                                    stamp)
                stats["changed" if moved else "unchanged"] += 1

    buf: list[list[Record]] = []
    for members in _grouped(source(), sizes):
        reps.add(members[0].id)
        buf.append(members)
        if len(buf) >= batch:
            flush(buf)
            buf = []
    if buf:
        flush(buf)
    stale = [rid for rid in _listed_ids(sessions) if rid not in reps]
    for chunk in range(0, len(stale), batch):
        ids = stale[chunk : chunk + batch]
        with db.transaction(sessions) as session:
            rows, specs = _existing(session, ids), _specs_of(session, ids)
            for rid, row in rows.items():
                if _retire(session, row, specs.get(rid, set()), stamp):
                    stats["deleted"] += 1
    return stats


def _listed_ids(sessions: sessionmaker[Session]) -> list[str]:
    """Live items, and any item still carrying hidden rows (all candidates for retiring)."""
    with sessions() as session:
        live = set(session.scalars(select(OaiItem.record_id).where(OaiItem.deleted.is_(False))))
        live |= set(session.scalars(select(OaiItemSet.record_id).distinct()
                                    .where(OaiItemSet.spec.startswith(HIDDEN))))
    return sorted(live)


def record_of(row: Any) -> Record:
    return Record.from_dict(row.record)
