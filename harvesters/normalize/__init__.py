"""Pure helpers shared by the metadata crosswalks, one module per concept.

Everything here takes plain strings and returns plain values, so each rule can be tested on
its own and every crosswalk normalises the same way. Nothing strips diacritics: Vietnamese
text is only ever NFC-composed and whitespace-collapsed.

* :mod:`~harvesters.normalize.text` — cleaning, de-duplicating, ISBD punctuation, splitting;
* :mod:`~harvesters.normalize.identifiers` — DOI, ISBN, ISSN, Handle in metadata values
  (the rules themselves live in :mod:`index.identifiers`, their one home);
* :mod:`~harvesters.normalize.urls` — usable links and full-text links;
* :mod:`~harvesters.normalize.dates` — years and W3CDTF dates;
* :mod:`~harvesters.normalize.resource_types` — type strings → ``index.record.TYPES``;
* :mod:`~harvesters.normalize.languages` — ISO 639-3 codes and language guessing;
* :mod:`~harvesters.normalize.citations` — the host publication in a dc:source citation;
* :mod:`~harvesters.normalize.rights` — open access and Creative Commons licences.

The crosswalks import from this package (``from harvesters.normalize import clean_text``);
the names below are its public surface.
"""

from harvesters.normalize.citations import SourceCitation, parse_source_citation
from harvesters.normalize.dates import extract_year, normalise_date
from harvesters.normalize.identifiers import (
    Identifier,
    classify_identifier,
    is_doi,
    normalise_doi,
    normalise_handle,
    normalise_isbn,
    normalise_issn,
    one_link_per_handle,
)
from harvesters.normalize.languages import detect_language, map_language
from harvesters.normalize.resource_types import map_type
from harvesters.normalize.rights import (
    access_from_rights,
    is_access_term,
    licence_from_rights,
    rights_text,
)
from harvesters.normalize.text import clean_text, dedupe, split_values, trim_punctuation
from harvesters.normalize.urls import is_fulltext_url, normalise_url

__all__ = [
    "Identifier",
    "SourceCitation",
    "access_from_rights",
    "classify_identifier",
    "clean_text",
    "dedupe",
    "detect_language",
    "extract_year",
    "is_doi",
    "is_access_term",
    "is_fulltext_url",
    "licence_from_rights",
    "map_language",
    "map_type",
    "normalise_date",
    "normalise_doi",
    "normalise_handle",
    "normalise_isbn",
    "normalise_issn",
    "normalise_url",
    "one_link_per_handle",
    "parse_source_citation",
    "rights_text",
    "split_values",
    "trim_punctuation",
]
