"""The Whoosh schema and the Record → index-document mapping (private to ``index``).

Text is indexed three ways per searchable group: ``*_x`` accent-exact syllables (tone
placement normalised), ``*_f`` folded syllables, ``*_b`` folded syllable bigrams. No field
stores positions: phrases and adjacency are answered by the bigram field, which keeps
the index small and avoids Whoosh's slow positional phrase matching.
"""

from __future__ import annotations

from typing import Any

from whoosh import fields
from whoosh.formats import Frequency

from index import analysis
from index.collation import sort_key
from index.dedup import key_term, match_keys
from index.documents import index_terms, pack_record
from index.facets import subject_values
from index.features import TEXT_GROUPS
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn, normalise_issn
from index.record import Record


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
        # When the writer committed the record (Unix seconds): "recently added". Indexes
        # made before it existed lack it; index/whoosh_engine/writer.py checks.
        indexed=fields.NUMERIC(int, bits=64, signed=False, sortable=True),
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


def to_document(record: Record, cluster: str, keys: list[str] | None = None,
                indexed_at: int | None = None) -> dict[str, Any]:
    """The Whoosh document for ``record`` (already NFC) in ``cluster``; ``indexed_at``
    only when the index's schema has the ``indexed`` field."""
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
    if indexed_at is not None:
        doc["indexed"] = indexed_at
    if subjects := subject_values(record.subjects):  # no commas left in a value
        doc["subject"] = ",".join(subjects)
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
    doc.update(index_terms(record))
    return doc
