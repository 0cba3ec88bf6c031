"""What every engine stores and indexes of a record, whatever its own document format.

One home for: the stored record (compressed JSON), the NFC applied on the way in, and the
text of each searchable group (index/features.py names the groups); the engines' schemas
(index/whoosh_engine/schema.py, index/tantivy_engine/schema.py) index exactly these texts
with :func:`index.analysis.index_forms`, so both match the same records.
"""

from __future__ import annotations

import json
import zlib

from index import analysis
from index.record import Record

# Joins the values of a multi-valued field: the last syllable of one title never pairs
# with the first of the next (analysis.gap_separator).
_VALUE_SEP = analysis.VALUE_SEP


def pack_record(record: Record) -> bytes:
    return zlib.compress(json.dumps(record.to_dict(), ensure_ascii=False).encode(), 6)


def unpack_record(blob: bytes) -> Record:
    return Record.from_dict(json.loads(zlib.decompress(blob)))


def _join(values: list[str]) -> str:
    return _VALUE_SEP.join(v for v in values if v)


def nfc_record(record: Record) -> Record:
    """NFC every string of a record (the only change made to what is displayed)."""
    data = record.to_dict()
    for k, v in data.items():
        if isinstance(v, str):
            data[k] = analysis.nfc(v)
        elif isinstance(v, list):
            data[k] = [analysis.nfc(x) if isinstance(x, str) else x for x in v]
    return Record.from_dict(data)


def texts(record: Record) -> dict[str, str]:
    """The text of each searchable group."""
    title = _join(record.titles)
    creators = _join(record.creators + record.contributors)
    subjects = _join(record.subjects)
    everything = _join([title, creators, subjects, record.abstract, record.publisher,
                        record.journal])
    return {"title": title, "creator": creators, "subject": subjects, "all": everything}


def index_terms(record: Record) -> dict[str, list[str]]:
    """The terms of each text field (``<group>_x|f|b``): what both engines index."""
    out: dict[str, list[str]] = {}
    for group, text in texts(record).items():
        if text:
            for suffix, terms in zip(("x", "f", "b"), analysis.index_forms(text), strict=True):
                if terms:
                    out[f"{group}_{suffix}"] = terms
    return out
