"""Identifiers in harvested metadata: the harvester's input policy over ``index.identifiers``.

The rules (prefixes, percent-decoding, trailing punctuation, check digits, canonical forms)
live in :mod:`index.identifiers` alone, so a harvested DOI is the string the search box and
the resolver produce. What this module adds is how a harvester reads metadata: an
identifier may sit inside a longer value ("ISBN 0-306-40615-2 (pbk.)", "doi: 10.1/x."), a
wrong check digit means the value is dropped (a record is better without an ISBN than with
someone else's), and an untyped dc:identifier has to be classified first.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from harvesters.normalize.text import clean_text
from harvesters.normalize.urls import normalise_url
from index import identifiers as ids


def normalise_doi(value: str | None) -> str | None:
    """Return the bare lower-case DOI in a value, or None.

    >>> normalise_doi("https://doi.org/10.1234/ABC.5")
    '10.1234/abc.5'
    >>> normalise_doi("doi: 10.15625/0866-708X/55/1/8521.")
    '10.15625/0866-708x/55/1/8521'
    >>> normalise_doi("http://dx.doi.org/10.26459%2Fhueuni-jed.v130i5C.6123")
    '10.26459/hueuni-jed.v130i5c.6123'
    >>> normalise_doi("(see doi:10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O)")
    '10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o'
    >>> normalise_doi("ISBN 978-604-0-00000-0") is None
    True
    """
    return ids.find_doi(clean_text(value))


def is_doi(value: str | None) -> bool:
    """True when the value *is* a DOI (bare, "doi:" or resolver URL), not merely mentions one."""
    text = clean_text(value)
    return bool(text) and (
        bool(ids.DOI_PREFIX.match(text)) or ids.normalise_doi(text) is not None
    )


def normalise_isbn(value: str | None) -> str | None:
    """Return the ISBN-13 (digits only) in a value, converting ISBN-10; None when invalid.

    >>> normalise_isbn("ISBN 0-306-40615-2 (pbk.)")
    '9780306406157'
    >>> normalise_isbn("978-604-913-088-5")
    '9786049130885'
    >>> normalise_isbn("0-306-40615-3") is None
    True
    """
    return next((n.value for n in ids.find_isbns(clean_text(value)) if n.valid), None)


def normalise_issn(value: str | None) -> str | None:
    """Return "1234-567X" for the first ISSN in a value whose check digit is right, else None.

    >>> normalise_issn("ISSN: 1859-1388")
    '1859-1388'
    >>> normalise_issn("eISSN 2588-1205")
    '2588-1205'
    >>> normalise_issn("1859-1389") is None
    True
    """
    return next((n.value for n in ids.find_issns(clean_text(value)) if n.valid), None)


# DSpace item pages: https://repo.example.vn/handle/123456789/42 (what the handle is, is
# index.identifiers' rule; that a repository's /handle/ page names one is the harvester's).
_DSPACE_ITEM = re.compile(r"^https?://[^\s]+?/handle/([\w.-]+/\d[\w.-]*)", re.IGNORECASE)


def normalise_handle(value: str | None) -> str | None:
    """Return "prefix/suffix" for a Handle URL, hdl: URI or DSpace /handle/ item URL.

    A bare "prefix/suffix" is refused: in a dc:identifier it is too often a local path.

    >>> normalise_handle("http://hdl.handle.net/123456789/42")
    '123456789/42'
    >>> normalise_handle("hdl:1765/315")
    '1765/315'
    >>> normalise_handle("https://repository.vnu.edu.vn/handle/VNU_123/1501/")
    'VNU_123/1501'
    >>> normalise_handle("http://elib.hueuni.edu.vn/handle/123456789/4711")
    '123456789/4711'
    """
    text = clean_text(value)
    if ids.HANDLE_PREFIX.match(text):
        return ids.normalise_handle(text)
    if match := _DSPACE_ITEM.match(text):
        return ids.normalise_handle(match.group(1))
    return None


def one_link_per_handle(urls: list[str]) -> list[str]:
    """``urls`` less each Handle proxy URL (hdl.handle.net) whose handle another of them
    already names, such as the repository's own /handle/ item page: one link per landing page.

    A record served with its handle as a proxy URL beside its own links (lienhop's /oai does,
    resolver/oai/provider.py) so keeps the links it had.

    >>> one_link_per_handle(["http://hdl.handle.net/123/4", "https://repo.vn/handle/123/4"])
    ['https://repo.vn/handle/123/4']
    >>> one_link_per_handle(["http://hdl.handle.net/123/4", "https://repo.vn/files/4.pdf"])
    ['http://hdl.handle.net/123/4', 'https://repo.vn/files/4.pdf']
    """
    proxied = {u: normalise_handle(u) for u in urls if ids.HANDLE_PREFIX.match(u)}
    named = {normalise_handle(u) for u in urls if u not in proxied} - {None}
    return [u for u in urls if u not in proxied or proxied[u] not in named]


class Identifier(NamedTuple):
    """One identifier value classified by :func:`classify_identifier`."""

    kind: str  # "doi", "handle", "isbn", "issn", "url" or "other"
    value: str


_LABELLED_ISBN = re.compile(r"^\s*(?:urn:)?isbn\b", re.IGNORECASE)
_LABELLED_ISSN = re.compile(
    r"^\s*(?:urn:issn\b|(?:e-?|p-?|print\s+|online\s+)?issn\b)", re.IGNORECASE
)


def classify_identifier(value: str | None) -> list[Identifier]:
    """Say what an untyped identifier is (dc:identifier, MODS identifier without type ...).

    A Handle or DOI URL yields both the normalised id and, for Handles, the URL.

    >>> classify_identifier("doi:10.1234/X")
    [Identifier(kind='doi', value='10.1234/x')]
    >>> classify_identifier("http://hdl.handle.net/123456789/42")
    [Identifier(kind='handle', value='123456789/42'), Identifier(kind='url', value='http://hdl.handle.net/123456789/42')]
    >>> classify_identifier("0-306-40615-2")
    [Identifier(kind='isbn', value='9780306406157')]
    >>> classify_identifier("ISSN 1859-1388")
    [Identifier(kind='issn', value='1859-1388')]
    """  # noqa: E501
    # Soft hyphens and zero-width spaces would hide an ISBN from the shape tests below.
    text = clean_text(ids.INVISIBLE.sub("", value or ""))
    if not text:
        return []
    if is_doi(text):
        doi = normalise_doi(text)
        return [Identifier("doi", doi)] if doi else []
    found: list[Identifier] = []
    handle = normalise_handle(text)
    if handle:
        found.append(Identifier("handle", handle))
    url = normalise_url(text)
    if url:
        found.append(Identifier("url", url))
    if found:
        return found
    if _LABELLED_ISSN.match(text):
        issn = normalise_issn(text)
        return [Identifier("issn", issn)] if issn else []
    if _LABELLED_ISBN.match(text) or re.fullmatch(r"[\d\s-]{9,17}[\dXx]", text):
        isbn = normalise_isbn(text)
        if isbn:
            return [Identifier("isbn", isbn)]
    if re.fullmatch(r"\d{4}-\d{3}[\dXx]", text):
        issn = normalise_issn(text)
        if issn:
            return [Identifier("issn", issn)]
    return [Identifier("other", text)]
