"""The Whoosh schema and the Record → index-document mapping (private to ``index``).

Text is indexed three ways per searchable group: ``*_x`` accent-exact syllables (tone
placement normalised), ``*_f`` folded syllables, ``*_b`` folded syllable bigrams. No field
stores positions: phrases and adjacency are answered by the bigram field, which keeps
the index small and avoids Whoosh's slow positional phrase matching.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from whoosh import fields
from whoosh.formats import Frequency

from index import analysis
from index.collation import sort_key
from index.dedup import key_term, match_keys
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn, normalise_issn
from index.record import Record

#: Single-valued facet/sort columns read straight from Whoosh column storage.
COLUMN_FIELDS = ("institution", "type", "language", "access", "cluster", "title_sort")
TEXT_GROUPS = ("title", "creator", "subject", "all")
# Joins the values of a multi-valued field: the last syllable of one title never pairs
# with the first of the next (analysis.gap_separator).
_VALUE_SEP = analysis.VALUE_SEP


def _text_field(tokenizer: analysis._VietTokenizer) -> fields.FieldType:
    field = fields.TEXT(analyzer=tokenizer, phrase=False)
    field.format = Frequency()  # term frequency only; no positions
    return field


def build_schema() -> fields.Schema:
    """The schema of a new generation. Whoosh pickles it into the index's TOC, so every
    class it names must keep its import path: Whoosh's own, and the tokenizers of
    index/analysis.py (whose docstring says why they never move)."""
    s = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        cluster=fields.ID(stored=True, sortable=True),
        mkey=fields.KEYWORD(stored=True, lowercase=False, commas=False, scorable=False),
        rec=fields.STORED(),
        institution=fields.ID(sortable=True),
        type=fields.ID(sortable=True),
        language=fields.ID(sortable=True),
        access=fields.ID(sortable=True),
        subject=fields.KEYWORD(commas=True, lowercase=False, scorable=False),
        year=fields.NUMERIC(int, bits=32, signed=True, sortable=True),
        has_year=fields.ID(),
        title_sort=fields.ID(sortable=True),
        doi=fields.ID(),
        isbn=fields.KEYWORD(),
        issn=fields.KEYWORD(),
        handle=fields.ID(),
    )
    for group in TEXT_GROUPS:
        s.add(f"{group}_x", _text_field(analysis.ExactTokenizer()))
        s.add(f"{group}_f", _text_field(analysis.FoldTokenizer()))
        s.add(f"{group}_b", _text_field(analysis.BigramTokenizer()))
    return s


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


def to_document(record: Record, cluster: str, keys: list[str] | None = None
                ) -> dict[str, Any]:
    """The Whoosh document for ``record`` (already NFC) in ``cluster``."""
    keys = match_keys(record) if keys is None else keys
    doc: dict[str, Any] = {
        "id": record.id,
        "cluster": cluster,
        "mkey": " ".join(key_term(k) for k in keys),
        "rec": pack_record(record),
        "institution": record.institution or "",
        "type": record.type or "other",
        "language": record.language or "",
        "access": record.access or "",
        "title_sort": sort_key(record.title),
    }
    if record.subjects:
        doc["subject"] = ",".join(s.replace(",", " ") for s in record.subjects if s)
    if record.year is not None:
        doc["year"] = int(record.year)
        doc["has_year"] = "y"
    # Identifiers are normalised again here: a crosswalk slip must not hide a record from
    # the resolver.
    if record.doi:
        doc["doi"] = normalise_doi(record.doi) or record.doi.lower()
    if isbns := [normalise_isbn(i) or i for i in record.isbn]:
        doc["isbn"] = " ".join(isbns)
    if issns := [normalise_issn(i) or i for i in record.issn]:
        doc["issn"] = " ".join(issns)
    if record.handle:
        doc["handle"] = normalise_handle(record.handle) or record.handle
    # Term lists, not text: Whoosh indexes a list as given, so each text is analysed once
    # (not once per form) and the tokenizers in the schema only serve old callers.
    for group, text in texts(record).items():
        if text:
            for suffix, terms in zip(("x", "f", "b"), analysis.index_forms(text), strict=True):
                if terms:
                    doc[f"{group}_{suffix}"] = terms
    return doc
