"""The consortium's own records that are the cited work, and what a restricted one offers.

The resolver looks a citation up in lienhop's own index (:func:`matching_records`). An open
record is an open copy (:mod:`resolver.linking.service`). A restricted one (rights not open,
no file the reader may be sent to) still says where the article lives: its record page in
the member repository it was harvested from, and its DOI (:func:`member_targets`).

Both come from harvested metadata, which no one at the consortium vouches for, so neither is
used as the record gives it: the record page only when its host is one the registry records
for that repository (the caller's ``owns`` test, which is
:func:`resolver.linking.service.may_redirect_to`), the DOI only as :mod:`index.identifiers`
normalises it, put into a ``https://doi.org/`` URL built here. A record page the rule turns
down becomes a note for library staff (:class:`Withheld`), so "why is there no repository
link?" has an answer on the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from index import Record, SearchIndex
from index.identifiers import normalise_doi
from resolver.kb.linktemplates import is_http_url, url_host
from resolver.kb.rows import fold_title
from resolver.linking.ranking import DoiLink, RecordPage
from resolver.openurl import Citation

__all__ = [
    "DOI_RESOLVER",
    "MAX_MEMBER_TARGETS",
    "MemberTargets",
    "Withheld",
    "doi_link",
    "handle_of",
    "matching_records",
    "member_targets",
]

log = logging.getLogger("lienhop.resolve")

#: Where a DOI is resolved: the DOI Foundation's proxy, the form Crossref asks for.
DOI_RESOLVER = "https://doi.org/"
#: The most record pages (and DOI links) offered for one citation.
MAX_MEMBER_TARGETS = 3
#: The most withheld record pages noted for one citation (a record may name any number).
MAX_WITHHELD = 5
#: Hosts of identifier resolvers: a record naming them names an identifier, not its page.
_RESOLVER_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org", "hdl.handle.net"})


def handle_of(citation: Citation) -> str | None:
    """The Handle a citation carries among its other identifiers, or None."""
    for other in citation.other_ids:
        m = re.search(r"(?:hdl\.handle\.net/|info:hdl/|^hdl:)(\d[\d.]*/\S+)", other)
        if m:
            return m.group(1)
    return None


def matching_records(ix: SearchIndex | None, citation: Citation,
                     limit: int = 10) -> list[Record]:
    """Records of our own index that are this work, open or not, in the index's order: same
    DOI/ISBN/handle, or the same title (exactly, after folding) and year.

    A title-only search returns namesakes; offering a namesake as "the open copy" is the
    OA false positive users complain about most, hence the exact-title check.
    """
    if ix is None:
        return []
    part_title = citation.atitle or (citation.title if citation.format != "journal" else None)
    handle = handle_of(citation)
    if not (citation.doi or citation.isbn or handle or part_title):
        return []
    try:
        records = ix.lookup(doi=citation.doi, isbn=citation.isbn, handle=handle,
                            title=part_title, year=citation.year, author=citation.aulast,
                            limit=limit)
    except Exception:  # the index is an optional source: a broken one must not break links
        log.exception("index lookup failed")
        return []
    want = fold_title(part_title) if part_title else None
    found = []
    for rec in records:
        same_id = (
            (citation.doi and rec.doi == citation.doi)
            or (citation.isbn and citation.isbn in rec.isbn)
            or (handle and rec.handle == handle)
        )
        same_title = want and fold_title(rec.title) == want and (
            citation.year is None or rec.year is None or rec.year == citation.year)
        if same_id or same_title:
            found.append(rec)
    return found


def doi_link(value: str | None) -> DoiLink | None:
    """The publisher's page of a DOI written any way :mod:`index.identifiers` reads
    (``DOI:10.1/ABC``, ``https://doi.org/10.1/abc``, ``10.1%2Fabc``): ``https://doi.org/``
    and the normalised DOI, percent-encoded but for its slashes (as the KB's DOI templates
    are, :func:`resolver.kb.linktemplates.fill_template`); None for anything else."""
    doi = normalise_doi(value)
    if doi is None:
        return None
    return DoiLink(DOI_RESOLVER + quote(doi, safe="/"), doi)


@dataclass(frozen=True, slots=True)
class Withheld:
    """A record page not offered: ``host`` is not one the registry records for
    ``repository`` (or the repository is not in the registry)."""

    record_id: str
    repository: str
    host: str

    def note(self) -> tuple[str, str]:
        """The staff note, in Vietnamese and English."""
        return (
            f"Không đưa trang biểu ghi {self.record_id}: máy chủ {self.host} không được ghi "
            f"trong sổ đăng ký cho kho {self.repository}",
            f"Record page of {self.record_id} not offered: the registry does not record the "
            f"host {self.host} for the repository {self.repository}",
        )


@dataclass(frozen=True, slots=True)
class MemberTargets:
    """What the restricted records of a citation offer, and the record pages turned down."""

    pages: tuple[RecordPage, ...] = ()
    dois: tuple[DoiLink, ...] = ()
    withheld: tuple[Withheld, ...] = ()


def _landing_candidates(record: Record) -> list[str]:
    """The record's http(s) URLs that may be its page (not an identifier resolver's)."""
    return [u for u in record.urls if is_http_url(u) and url_host(u) not in _RESOLVER_HOSTS]


def member_targets(
    records: Iterable[Record],
    *,
    citation_doi: str | None,
    owns: Callable[[str, str], bool],
    names: Callable[[str], tuple[str, str] | None],
) -> MemberTargets:
    """The record pages and DOI links of the restricted ``records`` (open ones are skipped:
    their copy is offered as open).

    ``owns(url, repository)`` says whether ``url`` is on a host the registry records for
    the repository; ``names(repository)`` gives its institution's Vietnamese and English
    names (None: the registry does not know the repository, which then vouches for no
    page). A record's DOI is offered only when the citation names no other DOI: a record
    found by its title and year with a different DOI is another version.
    """
    pages: list[RecordPage] = []
    dois: list[DoiLink] = []
    withheld: list[Withheld] = []
    for rec in records:
        if rec.access == "open":
            continue
        named = names(rec.repository)
        candidates = _landing_candidates(rec)
        page = next((u for u in candidates if named and owns(u, rec.repository)), None)
        if page is not None and named is not None:
            if len(pages) < MAX_MEMBER_TARGETS and all(p.url != page for p in pages):
                pages.append(RecordPage(page, named[0], named[1]))
        else:
            for url in candidates:
                # a host in doubt (user info, escapes) is shown as written, cut short
                host = url_host(url) or urlsplit(url).netloc[:100]
                if len(withheld) < MAX_WITHHELD and all(
                        (w.host, w.repository) != (host, rec.repository) for w in withheld):
                    withheld.append(Withheld(rec.id, rec.repository, host))
        if len(dois) >= MAX_MEMBER_TARGETS or not rec.doi:
            continue
        link = doi_link(rec.doi)
        if (link is not None and (citation_doi is None or citation_doi == link.doi)
                and all(d.url != link.url for d in dois)):
            dois.append(link)
    return MemberTargets(tuple(pages), tuple(dois), tuple(withheld))
