"""What every crosswalk shares: a format-neutral draft and the one way it becomes a Record.

Format modules only *collect* raw strings into a :class:`Draft`; all cleaning, identifier
normalisation, type/language mapping and access decisions happen once, in :func:`finish`, so the
five formats cannot drift apart.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field

from lxml import etree

from harvesters.normalize import (
    access_from_rights,
    classify_identifier,
    clean_text,
    dedupe,
    detect_language,
    extract_year,
    is_fulltext_url,
    licence_from_rights,
    map_language,
    map_type,
    normalise_date,
    normalise_doi,
    normalise_handle,
    normalise_isbn,
    normalise_issn,
    normalise_url,
    one_link_per_handle,
    parse_source_citation,
    rights_text,
    split_values,
)
from index.record import Record, make_record_id

log = logging.getLogger("lienhop.harvest")


#: The most one harvested value may hold, in characters. A repository that pasted a whole
#: thesis into dc:description made a 6.5 MB record page; no real title, name or abstract
#: comes near these. Longer text is cut (and the cut logged).
TEXT_LIMITS: dict[str, int] = {
    "titles": 2_000, "creators": 500, "contributors": 500, "subjects": 500,
    "abstract": 20_000, "publisher": 500, "journal": 500, "volume": 100, "issue": 100,
    "pages": 100, "dates": 100, "rights": 2_000, "licence": 200, "sets": 500,
}
#: Links and identifiers longer than this are dropped, never cut: half a URL leads nowhere.
LINK_LIMITS: dict[str, int] = {"urls": 2_000, "fulltext_links": 2_000, "doi": 300,
                               "handle": 300, "isbn": 13, "issn": 9}
#: The most values one repeated field may hold.
MAX_VALUES: dict[str, int] = {
    "titles": 20, "creators": 200, "contributors": 200, "subjects": 200, "dates": 50,
    "isbn": 200, "issn": 200, "urls": 200, "fulltext_links": 200, "sets": 200,
}
_ZWJ = "\u200d"


class CrosswalkError(Exception):
    """The metadata cannot be turned into a Record (no metadata, unknown format, empty)."""


class NoUsableMetadata(CrosswalkError):
    """The source's current version of the record says nothing a reader could use: no
    payload at all, nothing to show or link, or a placeholder such as DSpace's and Dryad's
    "Item is not available".  Such a record is *withdrawn* at the source, not broken: the
    harvester removes it from search instead of keeping its old version."""


#: whole titles that stand for "there is no record here" in real repositories, folded
WITHDRAWN_TITLES: frozenset[str] = frozenset({
    "item is not available", "item not available", "this item is not available",
    "item withdrawn", "withdrawn", "this item has been withdrawn", "withdrawn item",
    "tài liệu không tồn tại", "tài liệu đã bị rút",
})


def is_placeholder_title(title: str) -> bool:
    """Whether ``title`` is a repository's stand-in for a withdrawn item.

    >>> is_placeholder_title("Item is not available."), is_placeholder_title("Withdrawn species")
    (True, False)
    """
    folded = " ".join(title.casefold().strip(" .!\t\n[]()").split())
    return folded in WITHDRAWN_TITLES


@dataclass(frozen=True)
class Header:
    """What the OAI header of the record says."""

    identifier: str
    datestamp: str
    sets: tuple[str, ...] = ()
    deleted: bool = False


@dataclass
class Draft:
    """Raw values a crosswalk collected, in source order, not yet cleaned."""

    titles: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    abstracts: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)  # abstract fallback
    publishers: list[str] = field(default_factory=list)
    # Publication dates go in ``issued``; the year comes from them. Without any, the earliest
    # year of ``dates`` wins: oai_dc mixes dc.date.accessioned/available/issued unlabelled, and
    # an item is never published after it was deposited.
    issued: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    type: str = ""  # set by a crosswalk that knows better (MARC leader, 502 note)
    languages: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)  # untyped, classified in finish()
    dois: list[str] = field(default_factory=list)
    isbns: list[str] = field(default_factory=list)
    issns: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)  # "Journal; Vol 5, No 2 (2019); 10-20"
    journal: list[str] = field(default_factory=list)
    volume: list[str] = field(default_factory=list)
    issue: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    end_pages: list[str] = field(default_factory=list)
    rights: list[str] = field(default_factory=list)
    fulltext: list[str] = field(default_factory=list)


def text_of(element: etree._Element) -> str:
    """All text inside an element (CDATA sections and inline markup included), cleaned."""
    return clean_text(all_text(element))


def all_text(element: etree._Element) -> str:
    """All text inside an element, as it is.  (lxml yields ``str`` here; its stubs also allow
    ``bytes``, which the filter rules out for the type checker.)"""
    return "".join(t for t in element.itertext() if isinstance(t, str))


def xpath_elements(element: etree._Element, path: str,
                   namespaces: dict[str, str]) -> list[etree._Element]:
    """The elements an XPath selects.  lxml types ``xpath()`` as any XPath result (number,
    string, node list); the crosswalks' paths select elements, and this says so."""
    found = element.xpath(path, namespaces=namespaces)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def xpath_strings(element: etree._Element, path: str, namespaces: dict[str, str]) -> list[str]:
    """The text nodes an XPath selects (``.../text()``), as strings."""
    found = element.xpath(path, namespaces=namespaces)
    return [str(t) for t in found if isinstance(t, str)] if isinstance(found, list) else []


def _first(values: list[str]) -> str:
    return next((v for v in dedupe(values)), "")


def _abstract(draft: Draft) -> str:
    abstracts = dedupe(draft.abstracts)
    if abstracts:
        return abstracts[0]
    descriptions = dedupe(draft.descriptions)
    # Short descriptions are notes ("Orientador ...", "120 tr."), not abstracts.
    long_ones = [d for d in descriptions if len(d) >= 80]
    return (long_ones or descriptions or [""])[0]


def _year(draft: Draft, citation_years: list[int]) -> int | None:
    issued = [y for y in (extract_year(d) for d in draft.issued) if y is not None]
    if issued:
        return issued[0]
    years = [y for y in (extract_year(d) for d in draft.dates) if y is not None]
    if years:
        return min(years)
    return citation_years[0] if citation_years else None


def _pages(draft: Draft) -> str:
    start, end = _first(draft.pages), _first(draft.end_pages)
    if start and end and "-" not in start and end != start:
        return f"{start}-{end}"
    return start


def cut_text(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ending in "…" when shortened.

    Text is NFC, so a Vietnamese letter is one character; where a letter has no composed
    form (or an emoji is joined), the cut steps back over its marks and joiners rather than
    leave a mark on the wrong letter.

    >>> cut_text("Nghiên cứu thủy văn", 12)
    'Nghiên cứu…'
    >>> cut_text("Q\u0323\u0302 and more", 2)
    '…'
    """
    if len(text) <= limit:
        return text
    end = max(0, limit - 1)  # room for the ellipsis
    while end > 0 and (unicodedata.category(text[end]) in ("Mn", "Mc", "Me")
                       or text[end] == _ZWJ or text[end - 1] == _ZWJ):
        end -= 1
    return text[:end].rstrip() + "…"


def _cap_fields(record: Record) -> None:
    """Hold every field of ``record`` to the limits above, logging each field cut."""

    def cut(name: str, before: int, after: int, unit: str) -> None:
        log.warning("event=field_cut identifier=%s field=%s from=%d to=%d unit=%s",
                    record.oai_identifier, name, before, after, unit)

    for name, limit in TEXT_LIMITS.items():
        value = getattr(record, name)
        if isinstance(value, str):
            if len(value) > limit:
                setattr(record, name, cut_text(value, limit))
                cut(name, len(value), len(getattr(record, name)), "chars")
            continue
        most = MAX_VALUES[name]
        if len(value) > most:
            cut(name, len(value), most, "values")
            value = value[:most]
        longest = max(map(len, value), default=0)
        if longest > limit:
            value = [cut_text(v, limit) for v in value]
            cut(name, longest, max(map(len, value)), "chars")
        setattr(record, name, value)
    for name, limit in LINK_LIMITS.items():
        value = getattr(record, name)
        if isinstance(value, str) and len(value) > limit:
            setattr(record, name, None)
            cut(name, len(value), 0, "chars")
        elif isinstance(value, list):
            kept = [v for v in value if len(v) <= limit]
            if len(kept) < len(value):
                cut(name, len(value), len(kept), "values")
            if len(kept) > MAX_VALUES[name]:
                cut(name, len(kept), MAX_VALUES[name], "values")
                kept = kept[:MAX_VALUES[name]]
            setattr(record, name, kept)


def finish(
    draft: Draft,
    *,
    metadata_prefix: str,
    header: Header,
    repository: str,
    institution: str,
) -> Record:
    """Clean and normalise a draft into the Record the index stores."""
    titles = dedupe(draft.titles)
    creators = dedupe(draft.creators)
    creator_keys = {c.casefold() for c in creators}
    contributors = [c for c in dedupe(draft.contributors) if c.casefold() not in creator_keys]

    dois = [d for d in (normalise_doi(v) for v in draft.dois) if d]
    handles = [h for h in (normalise_handle(v) or clean_text(v) for v in draft.handles) if h]
    isbns = [i for i in (normalise_isbn(v) for v in draft.isbns) if i]
    issns = [i for i in (normalise_issn(v) for v in draft.issns) if i]
    urls = [u for u in (normalise_url(v) for v in draft.urls) if u]
    for raw in draft.identifiers:
        for ident in classify_identifier(raw):
            {"doi": dois, "handle": handles, "isbn": isbns, "issn": issns, "url": urls}.get(
                ident.kind, []
            ).append(ident.value)

    journal, volume, issue, pages = (
        _first(draft.journal), _first(draft.volume), _first(draft.issue), _pages(draft)
    )
    citation_years: list[int] = []
    loose_sources: list[str] = []
    for raw in draft.citations:
        for part in split_values(raw, "\n"):
            if normalise_url(part):
                continue
            issn = normalise_issn(part) if len(part) <= 20 else None
            if issn:  # OJS lists the journal ISSNs as extra dc:source values
                issns.append(issn)
                continue
            parsed = parse_source_citation(part)
            if not parsed.has_enumeration:
                loose_sources.append(parsed.journal)
                continue
            journal = journal or parsed.journal
            volume = volume or parsed.volume
            issue = issue or parsed.issue
            pages = pages or parsed.pages
            if parsed.year:
                citation_years.append(parsed.year)

    record_type = draft.type or map_type(draft.types)
    # A bare dc:source is only trusted as a journal title for articles: on theses it is
    # usually the faculty or a collection name.
    if not journal and record_type == "article" and loose_sources:
        journal = loose_sources[0]

    dates = dedupe(normalise_date(d) for d in draft.issued + draft.dates)
    abstract = _abstract(draft)
    language = next((c for c in (map_language(v) for v in draft.languages) if c), "")
    if not language:
        language = detect_language(" ".join(titles[:1] + [abstract]))

    rights_values = dedupe(draft.rights)
    url_list = one_link_per_handle(dedupe(urls))
    fulltext = dedupe([u for u in (normalise_url(v) for v in draft.fulltext) if u])
    fulltext += [u for u in url_list if is_fulltext_url(u) and u not in fulltext]

    record = Record(
        id=make_record_id(repository, header.identifier),
        oai_identifier=header.identifier,
        repository=repository,
        institution=institution,
        datestamp=header.datestamp,
        metadata_prefix=metadata_prefix,
        sets=list(header.sets),
        titles=titles,
        creators=creators,
        contributors=contributors,
        subjects=dedupe(draft.subjects),
        abstract=abstract,
        publisher=_first(draft.publishers),
        dates=dates,
        year=_year(draft, citation_years),
        type=record_type,
        language=language,
        doi=next(iter(dedupe(dois)), None),
        isbn=dedupe(isbns),
        issn=dedupe(issns),
        handle=next(iter(dedupe(handles)), None),
        urls=url_list,
        journal=journal,
        volume=volume,
        issue=issue,
        pages=pages,
        rights=rights_text(rights_values),
        licence=licence_from_rights(rights_values),
        access=access_from_rights(rights_values),
        fulltext_links=fulltext,
    )
    _cap_fields(record)
    if not (record.titles or record.creators or record.doi or record.handle or record.urls):
        raise NoUsableMetadata(f"{header.identifier}: metadata carries no title or identifier")
    if record.titles and all(is_placeholder_title(t) for t in record.titles):
        raise NoUsableMetadata(f"{header.identifier}: placeholder title {record.titles[0]!r}")
    return record
