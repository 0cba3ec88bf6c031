"""Cluster resolution at commit: which works the records of one writer session change.

Engine-neutral: an engine's writer hands over what the session added and deleted and a
read-only view of the index as it was (:class:`ClusterBase`); this module walks the match
keys (index/dedup.py) through the added records and their neighbours in the index and says
which records need which cluster key. Records already in the index whose key changes must
be rewritten by the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from index.dedup import key_term, match_keys, resolve_clusters
from index.record import Record

#: A record in the index: (record id, its stored cluster key, the record).
Stored = tuple[str, str, Record]


class ClusterBase(Protocol):
    """The index as it was when a writer session began."""

    def cluster_of(self, record_id: str) -> str | None:
        """The stored cluster key of ``record_id``, or None when it is not indexed."""
        ...

    def in_cluster(self, cluster: str) -> Iterable[Stored]:
        """Every record stored with cluster key ``cluster``."""
        ...

    def with_key(self, term: str) -> Iterable[Stored]:
        """Every record indexed under match-key term ``term`` (:func:`dedup.key_term`)."""
        ...


def resolve(pending: Mapping[str, Record], deleted: set[str], base: ClusterBase
            ) -> tuple[dict[str, str], dict[str, tuple[str, Record]]]:
    """New cluster key of every record whose cluster may change → (clusters, indexed
    records visited: id → (stored cluster key, record))."""
    return resolve_keys({rid: match_keys(r) for rid, r in pending.items()}, deleted, base)


def resolve_keys(pending_keys: Mapping[str, list[str]], deleted: set[str], base: ClusterBase
                 ) -> tuple[dict[str, str], dict[str, tuple[str, Record]]]:
    """:func:`resolve` given the match keys of the added records (a rebuild computes them
    in another process)."""
    removed = deleted | set(pending_keys)
    members: dict[str, list[str]] = {}
    base_docs: dict[str, tuple[str, Record]] = {}
    frontier: list[str] = []
    members.update(pending_keys)
    for keys in pending_keys.values():
        frontier.extend(keys)
    # Cluster mates of replaced or deleted records may have to split or be re-keyed.
    old_clusters = {c for rid in removed if (c := base.cluster_of(rid)) is not None}

    def visit(stored: Stored) -> None:
        rid, cluster, rec = stored
        if rid in removed or rid in members:
            return
        # Keys from the stored record, not a stored key field: indexes written before
        # key_term hold space-split fragments there, which would chain unrelated
        # records into one cluster.
        keys = match_keys(rec)
        members[rid] = keys
        base_docs[rid] = (cluster, rec)
        frontier.extend(keys)

    for c in sorted(old_clusters):
        for stored in base.in_cluster(c):
            visit(stored)
    seen: set[str] = set()
    while frontier:
        k = frontier.pop()
        if k in seen:
            continue
        seen.add(k)
        for stored in base.with_key(key_term(k)):
            visit(stored)
    return resolve_clusters(members), base_docs
