"""The entry points: an OpenURL (KEV query, full URL, multi-dict) or a COinS → a Citation.

Pure functions only: the Flask layer hands over the raw query string (or the already
decoded multi-dict) and gets a dataclass back. Decoding lives in
:mod:`resolver.openurl.decoding`, filling the fields in :mod:`resolver.openurl.fields`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from resolver.openurl.citation import Citation, CitationError
from resolver.openurl.decoding import Notes, to_kev_dict
from resolver.openurl.fields import fill_citation

__all__ = ["parse_coins", "parse_openurl"]


def parse_openurl(query: str | bytes | Mapping[str, list[str]]) -> Citation:
    """Parse an OpenURL 0.1/1.0 KEV query (or full URL, or decoded multi-dict).

    Never raises on malformed input except :class:`CitationError` when no title and no
    identifier (DOI, PMID, ISSN, ISBN, OCLC number) can be found.
    """
    notes = Notes()
    if query is None:
        raise CitationError("empty OpenURL")
    d = to_kev_dict(query, notes)
    c = fill_citation(d, notes)
    c.warnings = list(notes)
    if not any((c.atitle, c.title, c.jtitle, c.btitle, c.stitle, c.doi, c.pmid, c.issn,
                c.eissn, c.isbn, c.oclcnum)):
        raise CitationError("no title and no identifier in the OpenURL")
    return c


def parse_coins(title_attr: str) -> Citation:
    """Parse a COinS ``title`` attribute (HTML-escaped KEV) or a whole ``<span>`` tag."""
    s = title_attr.strip()
    if s.startswith("<"):
        m = re.search(r"""\btitle\s*=\s*("([^"]*)"|'([^']*)')""", s, re.S)
        if not m:
            raise CitationError("COinS span without a title attribute")
        s = m.group(2) if m.group(2) is not None else m.group(3)
    # COinS escape '&' as '&amp;' (and Wikipedia adds &#32; / &nbsp;): unescape first.
    return parse_openurl(html.unescape(s).replace("\xa0", " "))
