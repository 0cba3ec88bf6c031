"""A record's work: the copies other members hold, related records, which ids may be asked for.

The record page (``/record/<id>``) and the JSON API (``/api/records/<id>``) answer the same
questions about one record, so they ask them here (pure queries on the index, no Flask).
"""

from __future__ import annotations

import re

from index import Hit, Record, SearchIndex

#: What a record id may look like in a URL (``/record/<id>``, ``/api/records/<id>``): ids
#: such as ``tvu-ojs-flood`` are made of these; anything else is refused before it reaches
#: the index.
RECORD_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


def is_record_id(text: str) -> bool:
    """May ``text`` be looked up as a record id?

    >>> is_record_id("tvu-ojs-flood"), is_record_id("oai:repo.hue.edu.vn:123.45")
    (True, True)
    >>> is_record_id("../etc/passwd"), is_record_id("")
    (False, False)
    """
    return RECORD_ID_RE.match(text) is not None


def _phrase(text: str) -> str:
    return '"' + " ".join(text.replace('"', " ").split()) + '"'


def cluster_of(ix: SearchIndex, record: Record) -> list[Record]:
    """Every record of ``record``'s work (the copies other members hold), itself first.

    The index knows each record's work (``SearchIndex.cluster_of``, ordered by institution
    then id); the record page lists the record being shown before the other copies.
    """
    others = [r for r in ix.cluster_of(record.id) if r.id != record.id]
    return [record, *others]


def related(ix: SearchIndex, record: Record, exclude: set[str], limit: int = 5) -> list[Hit]:
    """Hits sharing a subject or an author with ``record`` (not its own work)."""
    parts = [f"subject:{_phrase(s)}" for s in record.subjects[:4] if s.strip('" ')]
    parts += [f"author:{_phrase(a)}" for a in record.creators[:2] if a.strip('" ')]
    if not parts:
        return []
    res = ix.search(" OR ".join(parts), size=limit + len(exclude), facets=False)
    return [h for h in res.hits if not exclude.intersection(h.member_ids)][:limit]
