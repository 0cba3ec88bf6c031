"""What every engine stores and indexes of a record, whatever its own document format.

One home for: the stored record (JSON, compressed for Whoosh), the NFC applied on the way
in, and the text of each searchable group (index/features.py names the groups); the engines' schemas
(index/whoosh_engine/schema.py, index/tantivy_engine/schema.py) index exactly these texts
with :func:`index.analysis.index_forms`, so both match the same records.

This is the write path's hot loop (a rebuild runs it for every record), so
:func:`index_terms` analyses each value once: the values of a group are joined by
:data:`analysis.VALUE_SEP`, across which no syllables pair, so a group's terms are its
values' terms one after another, and the "all" group's are the other groups' followed by
the abstract's, publisher's and journal's. Names, subjects, publishers and journals
repeat from record to record: short ones are memoised. Equal to analysing :func:`texts`
group by group (tests/index/test_analysis.py).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from functools import lru_cache
from typing import Any

from index import analysis
from index.names import name_terms
from index.record import Record

# Joins the values of a multi-valued field: the last syllable of one title never pairs
# with the first of the next (analysis.gap_separator).
_VALUE_SEP = analysis.VALUE_SEP
_FIELDS = tuple(f.name for f in dataclasses.fields(Record))
#: Values up to this long are memoised (names, subjects, publishers, journals repeat;
#: titles and abstracts do not).
_MEMO_LEN = 120

_Forms = tuple[list[str], list[str], list[str]]


def _as_dict(record: Record) -> dict[str, object]:
    """``record.to_dict()`` without its deep copy: the values are str, int, None or lists
    of str, read only."""
    return {name: getattr(record, name) for name in _FIELDS}


def record_json(record: Record) -> bytes:
    """The stored record: its fields as JSON (for an engine that compresses what it stores,
    as tantivy does, block by block)."""
    return json.dumps(_as_dict(record), ensure_ascii=False).encode()


def pack_record(record: Record) -> bytes:
    """The stored record, compressed (for an engine that stores it as given: Whoosh)."""
    return zlib.compress(record_json(record), 6)


def unpack_record(blob: bytes) -> Record:
    """A stored record, from :func:`record_json` or :func:`pack_record` (a zlib stream
    never begins with the "{" of a JSON object)."""
    return Record.from_dict(json.loads(blob if blob[:1] == b"{" else zlib.decompress(blob)))


def _join(values: list[str]) -> str:
    return _VALUE_SEP.join(v for v in values if v)


def nfc_record(record: Record) -> Record:
    """NFC every string of a record (the only change made to what is displayed)."""
    nfc = analysis.nfc
    data: dict[str, Any] = {}
    for name in _FIELDS:
        v = getattr(record, name)
        if isinstance(v, str):
            v = nfc(v)
        elif isinstance(v, list):
            v = [nfc(x) if isinstance(x, str) else x for x in v]
        data[name] = v
    return Record(**data)


def texts(record: Record) -> dict[str, str]:
    """The text of each searchable group."""
    title = _join(record.titles)
    creators = _join(record.creators + record.contributors)
    subjects = _join(record.subjects)
    everything = _join([title, creators, subjects, record.abstract, record.publisher,
                        record.journal])
    return {"title": title, "creator": creators, "subject": subjects, "all": everything}


@lru_cache(maxsize=16_384)
def _memo_forms(value: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    x, f, b = analysis.index_forms(value)
    return tuple(x), tuple(f), tuple(b)


def _value_forms(values: list[str], memo: bool = False) -> _Forms:
    """The three forms of ``_join(values)``: each value's, one after another; memoised
    when ``memo`` (values that repeat from record to record) and short."""
    x: list[str] = []
    f: list[str] = []
    b: list[str] = []
    for v in values:
        if v:
            vx, vf, vb = (_memo_forms(v) if memo and len(v) <= _MEMO_LEN
                          else analysis.index_forms(v))
            x += vx
            f += vf
            b += vb
    return x, f, b


def _concat(*forms: _Forms) -> _Forms:
    return ([t for f in forms for t in f[0]], [t for f in forms for t in f[1]],
            [t for f in forms for t in f[2]])


def index_terms(record: Record) -> dict[str, list[str]]:
    """The terms of each text field (``<group>_x|f|b``): what both engines index. The
    creator pairs field also holds each creator's whole name (index/names.py)."""
    people = record.creators + record.contributors
    title, creator = _value_forms(record.titles), _value_forms(people, memo=True)
    subject = _value_forms(record.subjects, memo=True)
    rest = _concat(analysis.index_forms(record.abstract),
                   _value_forms([record.publisher, record.journal], memo=True))
    groups = {"title": title, "creator": creator, "subject": subject,
              "all": _concat(title, creator, subject, rest)}
    out: dict[str, list[str]] = {}
    for group, forms in groups.items():
        for suffix, terms in zip(("x", "f", "b"), forms, strict=True):
            if terms:
                out[f"{group}_{suffix}"] = terms
    names = [t for v in people if v for t in name_terms(v)]
    if names:
        out["creator_b"] = out.get("creator_b", []) + list(dict.fromkeys(names))
    return out
