"""Simple Dublin Core (``oai_dc``), as DSpace, OJS, EPrints and Koha serve it.

Tolerates dc elements without a namespace or in dcterms, and CDATA-wrapped values (OJS).
"""

from __future__ import annotations

from lxml import etree

from harvesters.crosswalk._common import Draft, text_of
from harvesters.normalize import is_fulltext_url, normalise_url, split_values

NS_OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_DCTERMS = "http://purl.org/dc/terms/"
# Elements with no namespace or the oai_dc one turn up when a provider forgets the dc: prefix.
_ACCEPTED = {NS_DC, NS_DCTERMS, NS_OAI_DC, None}


def elements(metadata: etree._Element) -> list[tuple[str, str]]:
    """(local name, text) for every Dublin Core element of the record, in source order."""
    found = []
    for child in metadata.iter():
        if child is metadata or not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.namespace in _ACCEPTED:
            found.append((qname.localname, text_of(child)))
    return found


def to_draft(metadata: etree._Element) -> Draft:
    """Collect the oai_dc values of one record."""
    draft = Draft()
    for name, value in elements(metadata):
        if not value:
            continue
        if name in {"title", "alternative"}:
            draft.titles.append(value)
        elif name == "creator":
            draft.creators.append(value)
        elif name == "contributor":
            draft.contributors.append(value)
        elif name == "subject":
            draft.subjects.extend(split_values(value))
        elif name == "abstract":
            draft.abstracts.append(value)
        elif name == "description":
            draft.descriptions.append(value)
        elif name == "publisher":
            draft.publishers.append(value)
        elif name in {"date", "issued", "created"}:
            draft.dates.append(value)
        elif name == "type":
            draft.types.append(value)
        elif name == "language":
            draft.languages.append(value)
        elif name == "identifier":
            draft.identifiers.append(value)
        elif name in {"source", "bibliographicCitation"}:
            draft.citations.append(value)
        elif name == "relation":
            # OJS lists galley (PDF) links as dc:relation; other relations are other works.
            if _looks_like_galley(value):
                draft.fulltext.append(value)
        elif name in {"rights", "license", "accessRights"}:
            draft.rights.append(value)
    return draft


def _looks_like_galley(value: str) -> bool:
    url = normalise_url(value)
    return bool(url) and is_fulltext_url(url)
