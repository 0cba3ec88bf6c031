"""OpenURL 0.1 / 1.0 (Z39.88-2004 KEV) and COinS → one normalised :class:`Citation`.

Real OpenURLs are messy (see ``docs/reference/openurl.md``); every repair leaves a note in
``Citation.warnings``. The package, one module per concept:

* :mod:`~resolver.openurl.citation` — the :class:`Citation` dataclass and its date bounds;
* :mod:`~resolver.openurl.parse` — the entry points :func:`parse_openurl`, :func:`parse_coins`;
* :mod:`~resolver.openurl.decoding` — query strings: percent-decoding, charsets, repairs;
* :mod:`~resolver.openurl.fields` — which KEV key fills which field (1.0 wins over 0.1);
* :mod:`~resolver.openurl.numbers` — DOI, ISBN, ISSN (the rules are :mod:`index.identifiers`');
* :mod:`~resolver.openurl.dates` — the date shapes OpenURLs use;
* :mod:`~resolver.openurl.kev` — writing a citation out as KEV or a JSON-ready dict.

Callers import from here: ``from resolver.openurl import Citation, parse_openurl``.
"""

from resolver.openurl.citation import Citation, CitationError
from resolver.openurl.dates import ParsedDate, parse_date
from resolver.openurl.kev import citation_to_dict, citation_to_kev
from resolver.openurl.numbers import StandardNumber, normalize_doi, normalize_isbn, normalize_issn
from resolver.openurl.parse import parse_coins, parse_openurl

__all__ = [
    "Citation",
    "CitationError",
    "ParsedDate",
    "StandardNumber",
    "citation_to_dict",
    "citation_to_kev",
    "normalize_doi",
    "normalize_isbn",
    "normalize_issn",
    "parse_coins",
    "parse_date",
    "parse_openurl",
]
