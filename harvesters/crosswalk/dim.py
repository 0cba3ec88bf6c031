"""DSpace Intermediate Metadata (``dim``): ``<dim:field mdschema element qualifier>``.

:func:`add_field` is the qualified-DC mapping; the ``xoai`` crosswalk reuses it because the
lyncode tree carries the same schema.element.qualifier values.
"""

from __future__ import annotations

from lxml import etree

from harvesters.crosswalk._common import Draft, text_of
from harvesters.normalize import split_values

NS_DIM = "http://www.dspace.org/xmlns/dspace/dim"

_CONTRIBUTOR_ROLES = {
    "advisor", "editor", "illustrator", "translator", "other", "supervisor", "committeemember",
    "sponsor", "reviewer",
}
_SKIPPED_DATES = {"accessioned", "available", "updated", "embargo", "embargoend"}
_SKIPPED_SUBJECTS = {"ddc", "udc", "lcc", "classification", "other"}
# dc.citation.* / oaire.citation.* qualifiers → the Draft list they fill.
_CITATION_PARTS = {
    "title": "journal", "jtitle": "journal", "journaltitle": "journal",
    "volume": "volume", "issue": "issue",
    "spage": "pages", "startpage": "pages", "epage": "end_pages", "endpage": "end_pages",
}


def add_field(
    draft: Draft, schema: str, element: str, qualifier: str | None, value: str
) -> None:
    """Put one qualified-DC value (e.g. dc.contributor.advisor) where it belongs in the draft."""
    schema, element = schema.lower(), element.lower()
    qualifier = (qualifier or "").lower() or None
    if not value:
        return
    if element == "citation" and qualifier in _CITATION_PARTS:
        getattr(draft, _CITATION_PARTS[qualifier]).append(value)
    elif schema in {"dc", "dcterms"}:
        _add_dc(draft, element, qualifier, value)
    elif schema == "thesis" and element == "degree" and qualifier in {"level", "name"}:
        draft.types.append(value)


def _add_dc(draft: Draft, element: str, qualifier: str | None, value: str) -> None:
    if element == "title":
        draft.titles.append(value)
    elif element in {"creator", "author"}:
        draft.creators.append(value)
    elif element == "contributor":
        if qualifier in _CONTRIBUTOR_ROLES:
            draft.contributors.append(value)
        else:  # author, none, and the home-grown qualifiers some repositories invent
            draft.creators.append(value)
    elif element == "subject" and qualifier not in _SKIPPED_SUBJECTS:
        draft.subjects.extend(split_values(value))
    elif element == "description":
        if qualifier == "abstract":
            draft.abstracts.append(value)
        elif qualifier is None:
            draft.descriptions.append(value)
    elif element == "publisher":
        draft.publishers.append(value)
    elif element == "date" and qualifier not in _SKIPPED_DATES:
        (draft.issued if qualifier == "issued" else draft.dates).append(value)
    elif element == "type":
        draft.types.append(value)
    elif element == "language":
        draft.languages.append(value)
    elif element == "identifier":
        _add_identifier(draft, qualifier, value)
    elif element == "source" or (element == "relation" and qualifier == "ispartof"):
        draft.citations.append(value)
    elif element in {"rights", "accessrights"}:
        draft.rights.append(value)


def _add_identifier(draft: Draft, qualifier: str | None, value: str) -> None:
    target = {
        "doi": draft.dois,
        "isbn": draft.isbns,
        "issn": draft.issns,
        "eissn": draft.issns,
        "citation": draft.citations,
    }.get(qualifier or "")
    if target is not None:
        target.append(value)
    elif qualifier in {None, "uri", "other", "url", "handle"}:
        draft.identifiers.append(value)


def to_draft(metadata: etree._Element) -> Draft:
    """Collect the values of one ``<dim:dim>`` record."""
    draft = Draft()
    for field_el in metadata.iterfind(f"{{{NS_DIM}}}field"):
        add_field(
            draft,
            field_el.get("mdschema") or "dc",
            field_el.get("element") or "",
            field_el.get("qualifier"),
            text_of(field_el),
        )
    return draft
