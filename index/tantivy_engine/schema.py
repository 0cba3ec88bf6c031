"""The tantivy schema of a generation, opening one, and the Record → document mapping.

Field names are the Whoosh engine's (index/whoosh_engine/schema.py), so the engine-neutral
modules ask both engines for the same (field, term) pairs. Text fields hold the terms of
index/documents.py joined by spaces and split again by a whitespace tokenizer (registered
on every open: tantivy does not persist custom tokenizers); no positions are stored,
because phrases are answered by the bigram fields. Keyword fields (ids, facet values,
identifiers) use tantivy's ``raw`` tokenizer: one term per value, as given. The stored
record (``rec``) is its JSON, which tantivy's document store compresses in blocks (smaller
than compressing each record, and no zlib per record); generations written before hold it
zlib-compressed, and both read (index/documents.py, ``unpack_record``).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import tantivy

from index.collation import sort_key
from index.dedup import key_term, match_keys
from index.docsets import NO_YEAR
from index.documents import index_terms, record_json, unpack_record
from index.facets import subject_values
from index.features import TEXT_GROUPS
from index.identifiers import normalise_doi, normalise_handle, normalise_isbn, normalise_issn
from index.record import Record
from index.tantivy_engine.order import cluster_number, shortest_key

#: The tokenizer of the text fields: terms are made by lienhop's analysis, not tantivy.
WS = "lienhop_ws"
#: The fast field holding when the writer committed a record.
INDEXED = "indexed"
#: Keyword fields kept as fast (columnar) fields: facets (counted by tantivy,
#: index/tantivy_engine/query.py), sorting, clusters. ``subject`` holds several values.
FAST_KEYWORDS = ("cluster", "institution", "type", "language", "access", "title_sort",
                 "subject")
#: Other keyword fields (term lookups only).
KEYWORDS = ("id", "mkey", "doi", "isbn", "issn", "handle")
#: Fast fields for discovery inside tantivy (index/tantivy_engine/order.py): the record's
#: place in the relevance tie-break, and, on records in a cluster of several, the cluster's
#: number. Indexes made before them lack them (searched by set algebra instead).
SHORTEST = "shortest"
COPIES = "copies"


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in KEYWORDS:
        sb.add_text_field(name, stored=name == "id", tokenizer_name="raw",
                          index_option="basic")
    for name in FAST_KEYWORDS:
        sb.add_text_field(name, stored=name == "cluster", fast=True, tokenizer_name="raw",
                          index_option="basic")
    sb.add_integer_field("year", indexed=True, fast=True)
    # When the writer committed the record (Unix seconds): "recently added". Indexes made
    # before it existed lack it (see has_field).
    sb.add_integer_field(INDEXED, fast=True)
    sb.add_unsigned_field(SHORTEST, fast=True)
    sb.add_unsigned_field(COPIES, fast=True)
    sb.add_bytes_field("rec", stored=True)
    for group in TEXT_GROUPS:
        for suffix in ("x", "f", "b"):
            # Frequencies: known-item lookup scores with BM25 (index/tantivy_engine/lookup.py).
            sb.add_text_field(f"{group}_{suffix}", tokenizer_name=WS, index_option="freq")
    return sb.build()


def _register(ix: tantivy.Index) -> tantivy.Index:
    ix.register_tokenizer(WS, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    return ix


def create(gen: Path) -> None:
    """An empty index in directory ``gen``."""
    _register(tantivy.Index(build_schema(), path=str(gen), reuse=False))


def open_dir(gen: Path) -> tantivy.Index:
    """The index in directory ``gen``, with lienhop's tokenizer registered."""
    return _register(tantivy.Index.open(str(gen)))


def has_field(ix: tantivy.Index, name: str) -> bool:
    """Does this index's schema have fast field ``name``? (tantivy's Python schema cannot
    be asked; ordering by a missing field raises.)"""
    try:
        ix.searcher().search(tantivy.Query.all_query(), limit=1, order_by_field=name)
    except ValueError:
        return False
    return True


class Prepared(NamedTuple):
    """A record's tantivy document but for its cluster and commit time: everything the
    record alone decides, so it can be made in another process (index/tantivy_engine/
    prepare.py) and sent back cheaply (a tuple of strings)."""

    id: str
    #: match keys (index/dedup.py), for cluster resolution
    keys: list[str]
    #: (field, value) of every other text field, in order; a text field's value is its
    #: terms joined by spaces
    text: list[tuple[str, str]]
    year: int
    rec: bytes
    #: the relevance tie-break as a number (order.shortest_key)
    shortest: int = 0


def prepare(record: Record) -> Prepared:
    """What :func:`document` needs of ``record`` (already NFC)."""
    keys = match_keys(record)
    text = [("mkey", key_term(k)) for k in keys]
    title_sort = sort_key(record.title)
    text += [("institution", record.institution or ""), ("type", record.type or "other"),
             ("language", record.language or ""), ("access", record.access or ""),
             ("title_sort", title_sort)]
    text += [("subject", s) for s in subject_values(record.subjects)]
    # Identifiers are normalised again here: a crosswalk slip must not hide a record from
    # the resolver (the same rule as the Whoosh schema).
    if record.doi:
        text.append(("doi", normalise_doi(record.doi) or record.doi.lower()))
    text += [("isbn", normalise_isbn(i) or i) for i in record.isbn]
    text += [("issn", normalise_issn(i) or i) for i in record.issn]
    if record.handle:
        text.append(("handle", normalise_handle(record.handle) or record.handle))
    text += [(name, " ".join(terms)) for name, terms in index_terms(record).items()]
    year = int(record.year) if record.year is not None else NO_YEAR
    return Prepared(record.id, keys, text, year, record_json(record),
                    shortest_key(title_sort, year))


def document(p: Prepared, cluster: str, indexed_at: int | None = None,
             copies: bool = False) -> tantivy.Document:
    """The tantivy document of a prepared record in ``cluster``; ``indexed_at`` only when
    the index's schema has the ``indexed`` field (:func:`has_field`); ``copies``: the
    cluster holds other records too (fields an index's schema lacks are dropped)."""
    d = tantivy.Document()
    d.add_text("id", p.id)
    d.add_text("cluster", cluster)
    d.add_bytes("rec", p.rec)
    add = d.add_text
    for name, value in p.text:
        add(name, value)
    d.add_integer("year", p.year)
    if indexed_at is not None:
        d.add_integer(INDEXED, indexed_at)
    d.add_unsigned(SHORTEST, p.shortest)
    if copies:
        d.add_unsigned(COPIES, cluster_number(cluster))
    return d


def to_document(record: Record, cluster: str, indexed_at: int | None = None,
                copies: bool = False) -> tantivy.Document:
    """The tantivy document for ``record`` (already NFC) in ``cluster``."""
    return document(prepare(record), cluster, indexed_at, copies)


def stored_record(doc: tantivy.Document) -> Record:
    """The record stored in a document (every document stores one)."""
    blob = doc.get_first("rec")
    if not isinstance(blob, bytes):
        raise ValueError("document without a stored record")
    return unpack_record(blob)
