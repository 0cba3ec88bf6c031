"""Work-level deduplication: which records are the same work held by several members.

Two records belong to one cluster when they share a DOI, an ISBN, a handle, or the same
normalised title + year + first author; clusters are the connected components of that
relation (A~B by DOI and B~C by title puts A, B, C together). The cluster key is derived
from the component's smallest match key, so it does not depend on harvest order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from index.analysis import fold
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn
from index.record import Record

_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


def normalised_title(title: str) -> str:
    """Folded, punctuation-free, single-spaced: case and accent variants compare equal."""
    return " ".join(_NON_WORD.sub(" ", fold(title)).split())


def normalised_person(name: str) -> str:
    """Order-free folded name tokens, footnote digits dropped: "Nguyễn, Văn A" = "Nguyen Van A"."""
    tokens = _NON_WORD.sub(" ", _DIGITS.sub("", fold(name))).split()
    return " ".join(sorted(tokens))


def match_keys(record: Record) -> list[str]:
    """The keys under which ``record`` may meet other copies of the same work."""
    keys: set[str] = set()
    if record.doi and (doi := normalise_doi(record.doi)):
        keys.add("doi:" + doi)
    for isbn in record.isbn:
        if norm := normalise_isbn(isbn):
            keys.add("isbn:" + norm)
    if record.handle and (hdl := normalise_handle(record.handle)):
        keys.add("hdl:" + hdl)
    title = normalised_title(record.title)
    first = normalised_person(record.creators[0]) if record.creators else ""
    # All three parts are required: a bare "Báo cáo tổng kết" with no year or author is
    # not evidence of being the same work.
    if title and record.year and first:
        keys.add(f"tya:{title}|{record.year}|{first}")
    return sorted(keys)


# The ``mkey`` index field is whitespace-tokenised, and title+year+author keys contain
# spaces: indexed as-is they split into fragments ("van", "2019|an") that match unrelated
# records, so every key is indexed with its spaces replaced (never in a normalised key).
_KEY_SPACE = "\x1f"


def key_term(key: str) -> str:
    """The single ``mkey`` index term of a match key."""
    return key.replace(" ", _KEY_SPACE)


def cluster_key_for(keys: Iterable[str], record_id: str) -> str:
    """Stable key of a component from its match keys (or of a lone record without keys)."""
    smallest = min(keys, default=None)
    basis = smallest if smallest is not None else "id:" + record_id
    return hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()[:16]


def resolve_clusters(members: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Connected components of records linked by shared keys → {record id: cluster key}."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for rid, keys in members.items():
        node = "id:" + rid
        parent.setdefault(node, node)
        for k in keys:
            parent.setdefault(k, k)
            union(node, k)
    groups: dict[str, list[str]] = {}
    for rid in members:
        groups.setdefault(find("id:" + rid), []).append(rid)
    out: dict[str, str] = {}
    for rids in groups.values():
        all_keys = [k for rid in rids for k in members[rid]]
        ck = cluster_key_for(all_keys, min(rids))
        for rid in rids:
            out[rid] = ck
    return out
